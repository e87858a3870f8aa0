package unit

import (
	"errors"
	"fmt"
	"strings"

	"failover/engine/config"
	"failover/engine/wire"
)

// RefuseWarning is printed when a configuration command is typed on the
// standby unit. ASA applies such a command and warns that the units now
// differ; here it is refused, so the warning says so instead.
const RefuseWarning = "**** WARNING **** Configuration Replication is NOT performed from Standby unit to Active unit.\n" +
	"ERROR: command not applied: this unit is the standby; enter it on the active unit, or here with failover exec active"

// bulkRx is a full configuration copy being received.
type bulkRx struct {
	version uint64
	lines   []string
}

// ConfigReplicate sends a configuration command accepted on the active
// unit to the standby, numbered so that it applies in order.
func (u *Unit) ConfigReplicate(line string) {
	if !u.participating() || u.stopped || u.state != Active {
		return
	}
	u.cfgVersion++
	if u.mate.heard {
		u.sendLAN(&wire.ConfigLine{Version: u.cfgVersion, Line: line})
	}
}

// RefuseConfig says whether configuration commands must be refused here
// (this unit is the standby), with the warning to print. Commands that are
// unit-local (failover lan unit, no failover, ...) are the engine's to
// exempt.
func (u *Unit) RefuseConfig() (bool, string) {
	if !u.participating() {
		return false, ""
	}
	switch u.state {
	case Standby, SyncConfig, BulkSync:
		return true, RefuseWarning
	case Failed:
		if v := u.look(); v.lanFresh && v.ms == wire.UnitActive {
			return true, RefuseWarning
		}
	}
	return false, ""
}

// WriteStandby sends the whole running configuration to the standby now.
func (u *Unit) WriteStandby() error {
	if !u.participating() {
		return errors.New("failed to write standby: failover is not enabled")
	}
	if u.state != Active {
		return errors.New("failed to write standby: this unit is not active")
	}
	if !u.look().lanFresh {
		return errors.New("failed to write standby: mate not detected")
	}
	return u.sendBulk()
}

// WriteMemory is called by the engine after `write memory` succeeded on
// the active unit: the standby saves its configuration too.
func (u *Unit) WriteMemory() error {
	if !u.participating() || u.state != Active || !u.mate.heard {
		return nil
	}
	if !u.sendLAN(&wire.Control{Op: wire.OpWriteMemory}) {
		return errors.New("failed to ask the standby to write memory: send failed")
	}
	return nil
}

// sendBulk copies the running configuration to the mate.
func (u *Unit) sendBulk() error {
	text := config.Text(config.Render(u.cfg, config.RenderOpts{Secrets: true, SkipUnitLocal: true}))
	var lines []string
	for l := range strings.SplitSeq(text, "\n") {
		if l = strings.TrimRight(l, "\r"); l != "" {
			lines = append(lines, l)
		}
	}
	u.lastBulkTx = u.o.Clock.Now()
	u.mate.mismatch = 0
	u.o.Hooks.Console("Beginning configuration replication: Sending to mate.")
	u.syslog(1, 709003, "Beginning configuration replication: Send to mate.")
	ok := u.sendLAN(&wire.BulkBegin{Version: u.cfgVersion})
	for _, l := range lines {
		if !ok {
			break
		}
		ok = u.sendLAN(&wire.BulkLine{Line: l})
	}
	if ok {
		ok = u.sendLAN(&wire.BulkEnd{Version: u.cfgVersion, Count: uint32(len(lines))})
	}
	u.o.Hooks.Console("End Configuration Replication to mate")
	u.syslog(1, 709004, "End Configuration Replication (ACT)")
	if !ok {
		return fmt.Errorf("failed to send the configuration to the mate")
	}
	return nil
}

// onMateHello decides, on the active unit, whether the mate needs a full
// copy: it asks by being in Sync Config, or its version drifted (a lost
// line, or the LAN link was down while we changed the configuration).
func (u *Unit) onMateHello(prev wire.UnitState) {
	if u.state != Active || u.mate.role == u.role || u.mate.shutdown {
		return
	}
	h := &u.mate.hello
	now := u.o.Clock.Now()
	switch h.State {
	case wire.UnitSyncConfig:
		if prev != wire.UnitSyncConfig || now.Sub(u.lastBulkTx) >= u.hold() {
			if err := u.sendBulk(); err != nil {
				u.log.Warn("bulk configuration copy failed", "err", err)
			}
		}
	case wire.UnitStandby:
		if h.ConfigVersion == u.cfgVersion {
			u.mate.mismatch = 0
			return
		}
		// Two hellos in a row, so a line still in flight is not mistaken
		// for drift.
		u.mate.mismatch++
		if u.mate.mismatch >= 2 && now.Sub(u.lastBulkTx) >= u.hold() {
			u.log.Info("standby configuration out of date", "mate", h.ConfigVersion, "ours", u.cfgVersion)
			if err := u.sendBulk(); err != nil {
				u.log.Warn("bulk configuration copy failed", "err", err)
			}
		}
	}
}

// fromActiveMate says whether replication traffic may be believed: only
// the active mate sends it, and only to a unit that is not active.
func (u *Unit) fromActiveMate() bool {
	return u.mate.heard && u.mate.role != u.role && u.mate.hello.State == wire.UnitActive &&
		(u.state == Standby || u.state == SyncConfig || u.state == BulkSync)
}

func (u *Unit) handleConfigLine(c *wire.ConfigLine) {
	if !u.fromActiveMate() || c.Version <= u.cfgVersion {
		return
	}
	if c.Version != u.cfgVersion+1 {
		// A line is missing: applying this one out of order could do
		// harm. The active unit sees our version and sends a full copy.
		u.log.Warn("configuration line out of order", "got", c.Version, "have", u.cfgVersion)
		return
	}
	u.cfgVersion = c.Version
	u.o.Hooks.ApplyReplicated(c.Line)
}

func (u *Unit) handleBulkBegin(b *wire.BulkBegin) {
	if !u.fromActiveMate() {
		return
	}
	u.bulk = &bulkRx{version: b.Version}
	u.syslog(1, 709005, "Beginning configuration replication: Receiving from mate.")
}

func (u *Unit) handleBulkLine(b *wire.BulkLine) {
	if u.bulk != nil {
		u.bulk.lines = append(u.bulk.lines, b.Line)
	}
}

func (u *Unit) handleBulkEnd(b *wire.BulkEnd) {
	bk := u.bulk
	u.bulk = nil
	if bk == nil || !u.fromActiveMate() {
		return
	}
	if int(b.Count) != len(bk.lines) || b.Version != bk.version {
		u.log.Warn("incomplete configuration copy", "lines", len(bk.lines), "want", b.Count)
		return
	}
	u.cfgVersion = b.Version
	u.synced = true
	u.syslog(1, 709006, "End Configuration Replication (STB)")
	if u.state == SyncConfig {
		if u.o.StateSync != nil {
			// The connection table comes next (decide moves on when
			// replication says it holds all of it).
			u.setState(BulkSync, rsActiveMate)
		} else {
			u.setState(Standby, "Configuration synchronized")
		}
	}
	text := strings.Join(bk.lines, "\n")
	if text != "" {
		text += "\n"
	}
	u.o.Hooks.ReplaceConfig(text)
}
