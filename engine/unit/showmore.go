package unit

import (
	"fmt"
	"strings"
	"time"

	"failover/engine/wire"
	"failover/grammar"
)

// Show renders one of the failover show commands: "" (`show failover`),
// "history", "state", "interface", "statistics" or "monitor-interface".
func (u *Unit) Show(what string) string {
	switch what {
	case "history":
		return u.ShowHistory()
	case "state":
		return u.showState()
	case "interface":
		return u.showInterfaces()
	case "statistics":
		return u.showStatistics()
	case "monitor-interface":
		return u.showMonitored()
	}
	return u.ShowFailover()
}

// failure is the last failure of a unit, for `show failover state`.
type failure struct {
	what string // ASA's words: "Ifc Failure", "Comm Failure"
	at   time.Time
}

// asaStateWord is a state as `show failover state` and `show
// monitor-interface` name it: ASA calls a ready standby "Standby Ready".
func asaStateWord(h wire.Hello) string {
	if h.State == wire.UnitStandby {
		return "Standby Ready"
	}
	return mateHelloWord(h)
}

func ownStateWord(s State) string {
	if s == Standby {
		return "Standby Ready"
	}
	return s.String()
}

// showState renders `show failover state` as ASA does: each unit's state
// and its last failure, then the configuration and communication state.
func (u *Unit) showState() string {
	var b strings.Builder
	row := func(state string, f failure) {
		reason, at := "None", ""
		if f.what != "" {
			reason, at = f.what, f.at.UTC().Format("15:04:05 MST Jan 2 2006")
		}
		b.WriteString(strings.TrimRight(fmt.Sprintf("               %-15s%-25s%s", state, reason, at), " ") + "\n")
	}
	b.WriteString("               State          Last Failure Reason      Date/Time\n")
	fmt.Fprintf(&b, "This host  -   %s\n", roleWord(u.role))
	// A unit with failover off is Disabled, or Pseudo-Standby when it
	// kept the standby role: the state itself says which.
	row(ownStateWord(u.state), u.myFailure)
	v := u.look()
	role, state := u.mateHeadline(v, asaStateWord)
	fmt.Fprintf(&b, "Other host -   %s\n", roleWord(role))
	row(state, u.mateFailure)
	b.WriteString("\n====Configuration State===\n")
	switch {
	case u.state == Active && (!u.lastBulkTx.IsZero() || u.synced):
		b.WriteString("        Sync Done\n")
	case u.state == SyncConfig:
		b.WriteString("        Config Syncing - STANDBY\n")
	case u.synced && u.state != Active:
		b.WriteString("        Sync Done - STANDBY\n")
	default:
		b.WriteString("        Sync Skipped\n")
	}
	b.WriteString("====Communication State===\n")
	if u.mate.heard {
		b.WriteString("        Mac set\n")
	}
	return b.String()
}

// showInterfaces renders `show failover interface`: the failover LAN
// interface (and a separate stateful link) with the system address and
// each unit's address on it.
func (u *Unit) showInterfaces() string {
	var b strings.Builder
	for _, f := range u.ifs {
		if !f.lan && !f.stateLink {
			continue
		}
		fmt.Fprintf(&b, "        interface %s %s\n", f.cfg.Name, f.cfg.HW)
		sys := "0.0.0.0 0.0.0.0"
		if f.cfg.Addr.IsValid() {
			sys = f.cfg.Addr.Addr().String() + " " + grammar.MaskString(f.cfg.Addr.Bits())
		}
		fmt.Fprintf(&b, "                System IP Address: %s\n", sys)
		fmt.Fprintf(&b, "                My IP Address    : %s\n", addrText(lanAddr(f.cfg, u.role).Addr()))
		fmt.Fprintf(&b, "                Other IP Address : %s\n", addrText(lanAddr(f.cfg, otherRole(u.role)).Addr()))
	}
	if b.Len() == 0 {
		return "No failover interface configured\n"
	}
	return b.String()
}

// showStatistics renders `show failover statistics`: the messages sent and
// received on the failover links (every row of `show failover` is a part
// of these).
func (u *Unit) showStatistics() string {
	return fmt.Sprintf("    tx:%d\n    rx:%d\n", u.stats.general.xmit, u.stats.general.rcv)
}

// showMonitored renders `show monitor-interface`: the monitored interfaces
// of both units with their status.
func (u *Unit) showMonitored() string {
	var b strings.Builder
	v := u.look()
	monitored := func(word string) string {
		if word == "Waiting" {
			return "Normal (Waiting)"
		}
		return word + " (Monitored)"
	}
	own := ownStateWord(u.state)
	fmt.Fprintf(&b, "        This host: %s - %s\n", roleWord(u.role), own)
	for _, l := range u.ownIfLines() {
		if l.f.monitored {
			fmt.Fprintf(&b, "                Interface %s (%s): %s\n", l.f.cfg.Name, addrText(l.addr), monitored(l.word))
		}
	}
	role, state := u.mateHeadline(v, asaStateWord)
	fmt.Fprintf(&b, "        Other host: %s - %s\n", roleWord(role), state)
	for _, l := range u.mateIfLines(v) {
		if l.f.monitored {
			fmt.Fprintf(&b, "                Interface %s (%s): %s\n", l.f.cfg.Name, addrText(l.addr), monitored(l.word))
		}
	}
	return b.String()
}

// watchEvents sends the syslog messages of what changed since the last
// look: the failover LAN link going quiet (105005), the mate lost
// (103001, with ASA's reason code: 1 no hello on the LAN link, 4 the LAN
// link down as well), and each monitored interface waiting for the mate
// (105003) or back to normal (105004).
func (u *Unit) watchEvents(f facts) {
	if !f.participating {
		return
	}
	if f.lanFresh || !f.mateHeard || f.mateShutdown {
		u.lanQuiet, u.mateLost = false, false
	}
	lan := u.lanIf()
	if f.mateHeard && !f.mateShutdown && !f.lanFresh && !u.lanQuiet && lan != nil {
		u.lanQuiet = true
		u.syslog(1, 105005, "Lost Failover communications with mate on interface "+lan.cfg.Name)
	}
	if f.mateHeard && !f.mateShutdown && !f.lanFresh && !f.dataHeard && !f.probing && !u.mateLost {
		u.mateLost = true
		code := 1
		if lan == nil || !lan.adminUp || !lan.carrier {
			code = 4
		}
		u.syslog(1, 103001, fmt.Sprintf("No response from other firewall (reason code = %d).", code))
		u.mateFailure = failure{what: "Comm Failure", at: u.o.Clock.Now()}
	}
	for _, i := range u.ifs {
		if !i.monitored {
			continue
		}
		st := u.ifStatus(i)
		switch {
		case st == i.monStatus:
		case st == wire.IfWaiting:
			u.syslog(1, 105003, "Monitoring on interface "+i.cfg.Name+" waiting")
		case st == wire.IfNormal:
			u.syslog(1, 105004, "Monitoring on interface "+i.cfg.Name+" normal")
		}
		i.monStatus = st
	}
}
