package unit

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"failover/engine/clock"
	"failover/engine/wire"
)

var errStopped = errors.New("failover unit stopped")

// switchover is a planned role change in progress.
type switchover struct {
	token    uint32
	deadline time.Time
	kind     int    // swGiving, swAsking, swTook
	reason   string // for the history when we step down
}

const (
	swNone   = iota
	swGiving // we serve, told the mate to take over, wait for its ack
	swAsking // we are standby and asked the serving mate to hand over
	swTook   // we just took over; the old active may still say Active
)

// Where a planned switchover leads: with failover off a unit keeps its
// failover off, and only trades serving for pseudo-standby and back.
func (u *Unit) serveState() State {
	if u.participating() {
		return Active
	}
	return Disabled
}

func (u *Unit) yieldState() State {
	switch {
	case !u.participating():
		return PseudoStandby
	case u.o.StateSync != nil && u.fo.Link != "" && u.mateReplicates():
		// Connections are replicated: the table comes to us whole
		// first, as to a joining unit, and Bulk Sync says so (a planned
		// switchover back is refused until then).
		return BulkSync
	}
	return Standby
}

// mateReplicates says whether the mate sends us its connection table: an
// active mate does; one that serves with failover off does not, so a
// standby beside it never holds the table from it.
func (u *Unit) mateReplicates() bool { return u.mate.hello.State == wire.UnitActive }

// tableReady says whether this unit may take over in a planned
// switchover as far as connections go: it holds the whole table, or the
// mate it takes over from sends none.
func (u *Unit) tableReady() bool { return u.stateComplete() || !u.mateReplicates() }

// NoFailoverActive makes this serving unit standby: the mate takes the
// addresses first, and we give them up when it says it is ready.
func (u *Unit) NoFailoverActive() error {
	if !u.talking {
		return errors.New("failed to switch over: failover is not configured")
	}
	if !u.state.serves() {
		return nil
	}
	v := u.look()
	if !v.lanFresh || v.conflict || v.mateServing || (v.ms != wire.UnitStandby && v.ms != wire.UnitDisabled) {
		return errors.New("failed to switch over: no standby unit is ready")
	}
	u.handOver(rsConfig)
	return nil
}

// FailoverActive makes this unit serve: through the mate when the mate
// serves, at once otherwise. With failover off this is ASA's way to make
// a pseudo-standby unit active.
func (u *Unit) FailoverActive() error {
	if !u.talking {
		if u.state.serves() {
			return nil
		}
		return errors.New("failed to switch over: failover is not configured")
	}
	switch u.state {
	case Active, Disabled:
		return nil
	case Failed:
		return errors.New("failed to switch over: this unit has failed; use failover reset first")
	}
	v := u.look()
	if v.lanFresh && v.mateServing {
		if v.conflict {
			return errors.New("failed to switch over: mate has the same unit role")
		}
		if !u.tableReady() {
			return errors.New("failed to switch over: this unit does not hold the whole connection table yet")
		}
		u.askActive(rsConfig)
		return nil
	}
	u.setState(u.serveState(), rsConfig)
	return nil
}

// askActive asks the active mate to hand over to us.
func (u *Unit) askActive(reason string) {
	u.nextToken++
	u.switchover = &switchover{token: u.nextToken, deadline: u.o.Clock.Now().Add(u.hold()), kind: swAsking, reason: reason}
	u.sendLAN(&wire.Control{Op: wire.OpBecomeStandby, Token: u.nextToken})
}

// handOver tells the standby mate to become active; we step down on its
// ack. Make before break: we mute our MACs first (muteMACs) and keep
// forwarding; the mate takes the MACs and addresses, announces them and
// only then acks; we change our MACs and release the addresses on the ack.
// So the mate's announcement is the last frame from each system MAC the
// switches see before ours stop arriving, and whatever they still send
// our way until then we still take and forward.
func (u *Unit) handOver(reason string) {
	u.nextToken++
	u.switchover = &switchover{token: u.nextToken, deadline: u.o.Clock.Now().Add(u.hold()), kind: swGiving, reason: reason}
	u.muteMACs()
	u.sendLAN(&wire.Control{Op: wire.OpBecomeActive, Token: u.nextToken})
}

func (u *Unit) switchoverAbort() {
	u.switchover = nil
	u.muteMACs()
}

func (u *Unit) expireSwitchover(now time.Time) {
	if s := u.switchover; s != nil && !now.Before(s.deadline) {
		if s.kind != swTook {
			u.log.Warn("planned switchover timed out: no answer from the mate")
		}
		u.switchoverAbort()
	}
}

// stateComplete says whether this unit holds every replicated connection
// (or replication is off): only then may a planned switchover make it
// active.
func (u *Unit) stateComplete() bool { return u.o.StateSync == nil || u.o.StateSync.Synced() }

// Reset clears a failed state on this unit and on the mate.
func (u *Unit) Reset() error {
	if !u.participating() {
		return errors.New("failed to reset failover: failover is not enabled")
	}
	u.clearFailures()
	if u.mate.heard {
		u.sendLAN(&wire.Control{Op: wire.OpReset})
	}
	if u.state == Failed {
		u.setState(Negotiation, "Set by the config command")
	}
	u.evaluate()
	return nil
}

func (u *Unit) clearFailures() {
	now := u.o.Clock.Now()
	for _, f := range u.ifs {
		f.failed, f.testing, f.passed = false, false, false
		f.nextTest = now.Add(u.ifHold())
	}
}

func (u *Unit) handleControl(c *wire.Control) {
	if !u.mate.heard || u.mate.role == u.role {
		return
	}
	switch c.Op {
	case wire.OpBecomeStandby:
		if u.state.serves() && (u.switchover == nil || u.switchover.kind != swGiving) {
			u.handOver("Other unit wants me Standby")
		}
	case wire.OpBecomeActive:
		refuse := func(op wire.Op) {
			u.log.Warn("refusing to become active: " + refusalWhy(op))
			u.sendLAN(&wire.Control{Op: op, Token: c.Token})
		}
		if u.state.serves() {
			return // already took over: an old request
		}
		if u.state != Standby && u.state != SyncConfig && u.state != BulkSync && u.state != PseudoStandby {
			refuse(wire.OpRefusedState)
			return
		}
		if u.policyExceeded(u.failedCount()) {
			refuse(wire.OpRefusedFailed)
			return
		}
		if !u.tableReady() {
			// The old active keeps serving: nothing is lost.
			refuse(wire.OpRefusedIncomplete)
			return
		}
		reason := "Other unit wants me Active"
		if s := u.switchover; s != nil && s.kind == swAsking {
			reason = s.reason
		}
		u.setState(u.serveState(), reason)
		// The old active still says Active until it has our ack: that is
		// not a split brain.
		u.switchover = &switchover{kind: swTook, deadline: u.o.Clock.Now().Add(u.hold())}
		// The ack goes once the addresses are held and the first
		// gratuitous ARPs are out (setState's reconcile is answered
		// first): the old active changes its MACs on it, and until the
		// switches have our announcement it must still take what they
		// send to its port.
		token := c.Token
		u.o.Hooks.Reconcile(func() {
			if !u.stopped && u.state.serves() {
				u.sendLAN(&wire.Control{Op: wire.OpAckReady, Token: token})
			}
		})
	case wire.OpRefusedFailed, wire.OpRefusedIncomplete, wire.OpRefusedState:
		if s := u.switchover; s != nil && s.kind == swGiving && s.token == c.Token && u.state.serves() {
			u.log.Warn("planned switchover refused by the mate", "why", refusalWhy(c.Op))
			u.o.Hooks.Console("Switchover refused by mate: " + refusalWhy(c.Op))
			u.switchoverAbort()
		}
	case wire.OpAckReady:
		if s := u.switchover; s != nil && s.kind == swGiving && s.token == c.Token && u.state.serves() {
			u.switchover = nil
			u.setState(u.yieldState(), s.reason)
			u.evaluate() // Bulk Sync ends at once if the table is in
		}
	case wire.OpReset:
		u.clearFailures()
		if u.state == Failed {
			u.setState(Negotiation, "Set by the mate's failover reset")
		}
	case wire.OpReloadStandby:
		if u.participating() && !u.state.serves() && u.mate.hello.State == wire.UnitActive {
			u.reloadAsStandby()
		}
	case wire.OpWriteMemory:
		if u.state == Standby || u.state == SyncConfig || u.state == BulkSync {
			u.o.Hooks.WriteMemory()
		}
	}
}

// refusalWhy says in words why a mate refused to become active.
func refusalWhy(op wire.Op) string {
	switch op {
	case wire.OpRefusedFailed:
		return "its own interfaces failed"
	case wire.OpRefusedIncomplete:
		return "it does not hold the whole connection table yet"
	case wire.OpRefusedState:
		return "it is not a standby unit"
	}
	return "unknown reason"
}

// execReq is a `failover exec mate` waiting for its output.
type execReq struct {
	out   strings.Builder
	done  func(string, error)
	timer clock.Timer
}

func (e *execReq) finish(out string, err error) {
	if e.timer != nil {
		e.timer.Stop()
	}
	if e.done != nil {
		e.done(out, err)
		e.done = nil
	}
}

// ExecMate runs a show command on the mate; done is called once, on the
// event loop, with its output or an error (mate not heard, timeout).
func (u *Unit) ExecMate(cmd string, done func(out string, err error)) {
	if !u.talking || u.stopped {
		done("", errors.New("failed to run on mate: failover is not configured"))
		return
	}
	if !u.look().lanFresh {
		done("", errors.New("failed to run on mate: mate not detected"))
		return
	}
	u.nextExec++
	id := u.nextExec
	e := &execReq{done: done}
	u.execs[id] = e
	if !u.sendLAN(&wire.ExecRequest{ID: id, Command: cmd}) {
		delete(u.execs, id)
		e.finish("", errors.New("failed to run on mate: send failed"))
		return
	}
	wait := max(u.hold(), 5*time.Second)
	e.timer = u.o.Clock.AfterFunc(wait, func() {
		u.o.Post(func() {
			if u.execs[id] == e {
				delete(u.execs, id)
				e.finish("", fmt.Errorf("failed to run on mate: no answer within %v", wait))
			}
		})
	})
}

func (u *Unit) handleExecRequest(r *wire.ExecRequest) {
	if !u.mate.heard {
		return
	}
	u.o.Hooks.ExecShow(r.Command, func(out string) {
		if u.stopped {
			return
		}
		for _, rep := range wire.SplitExecOutput(r.ID, out) {
			if !u.sendLAN(&rep) {
				return
			}
		}
	})
}

func (u *Unit) handleExecReply(r *wire.ExecReply) {
	e := u.execs[r.ID]
	if e == nil {
		return
	}
	e.out.WriteString(r.Output)
	if !r.More {
		delete(u.execs, r.ID)
		e.finish(e.out.String(), nil)
	}
}

// ExecTarget resolves the unit `failover exec` names: "active" and
// "standby" are this unit when it has that role, else the mate when it has
// it; "mate" is always the mate. The mate must be heard.
func (u *Unit) ExecTarget(which string) (local bool, err error) {
	switch {
	case which == "active" && u.state.serves(), which == "standby" && !u.state.serves():
		return true, nil
	}
	v := u.look()
	if !u.talking || !v.lanFresh {
		return false, fmt.Errorf("failed to run on the %s unit: mate not detected", which)
	}
	if (which == "active" && !v.mateServing) || (which == "standby" && v.mateServing) {
		return false, fmt.Errorf("failed to run on the %s unit: there is no %s unit", which, which)
	}
	return false, nil
}

// ReloadStandby is `failover reload-standby` on the active unit: the
// standby starts over, as a reloaded ASA would (negotiation, then a full
// configuration copy from us).
func (u *Unit) ReloadStandby() error {
	if !u.participating() || u.state != Active {
		return errors.New("failed to reload the standby: this unit is not the active unit")
	}
	if v := u.look(); !v.lanFresh || v.conflict || v.mateServing {
		return errors.New("failed to reload the standby: no standby unit detected")
	}
	if !u.sendLAN(&wire.Control{Op: wire.OpReloadStandby}) {
		return errors.New("failed to reload the standby: send failed")
	}
	return nil
}

// reloadAsStandby forgets what this standby unit learned (failures, the
// configuration version) and negotiates again; the active mate then sends
// the whole configuration.
func (u *Unit) reloadAsStandby() {
	u.clearFailures()
	u.cfgVersion = 0
	u.setState(Negotiation, "Reload requested by the active unit")
	u.evaluate()
}
