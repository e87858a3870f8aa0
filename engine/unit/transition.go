package unit

import (
	"fmt"
	"time"
)

// histEntry is one line of `show failover history`.
type histEntry struct {
	at       time.Time
	from, to string
	reason   string
}

// maxHistory bounds the history like ASA's ring of state changes.
const maxHistory = 64

// setState is the one place where the state changes: it logs "A -> B",
// records the history, keeps the active-time account, sends the syslog
// messages, moves the addresses and tells the mate at once. Taking over
// and releasing the system addresses are bracketed by the BeforeTakeover
// and AfterRelease hooks (connection state goes in before the addresses
// answer, and is dropped only once they are gone).
func (u *Unit) setState(to State, reason string) {
	from := u.state
	if from == to {
		return
	}
	now := u.o.Clock.Now()
	u.log.Info(fmt.Sprintf("%s -> %s", from, to), "reason", reason)
	u.record(from.String(), to.String(), reason)
	u.noteTransition(from, to, reason)
	if from == Active {
		u.activeAccum += now.Sub(u.activeSince)
	}
	if to == Active {
		u.activeSince = now
		if from != Disabled && from != Negotiation {
			u.lastFailover = now
		}
	}
	takeover, release := !from.serves() && to.serves(), from.serves() && !to.serves()
	if u.o.StateSync != nil {
		u.o.StateSync.SetRole(stateRole(to))
	}
	if takeover && u.o.BeforeTakeover != nil {
		u.o.BeforeTakeover()
	}
	u.state, u.stateSince = to, now
	if to != Active {
		// Not switchoverAbort: a muted unit unmutes only once its MACs
		// changed (applyMACs, below).
		u.switchover = nil
	}
	u.preemptAt = time.Time{}
	if u.claim != nil && to == Active {
		_, fenced := u.mateFence()
		u.log.Info("nobody answers for the system addresses: taking them", "silence", now.Sub(u.mate.lastLAN),
			"mate fenced", fenced, "quiet rounds", u.claimQuiet, "answered before", u.claimHeard)
	}
	u.claim, u.claimWarned, u.claimWaitLogged = nil, false, false

	switch {
	case to == Active:
		u.syslog(1, 104001, "Switching to ACTIVE - "+reason)
	case to == Failed:
		u.myFailure = failure{what: "Ifc Failure", at: now}
		u.syslog(1, 104003, "Switching to FAILED.")
	case from == Failed:
		u.syslog(1, 104004, "Switching to OK.")
		if to == Standby || to == SyncConfig || to == BulkSync {
			u.syslog(1, 104002, "Switching to STNDBY - "+reason)
		}
	case (to == Standby || to == SyncConfig || to == BulkSync) && from != SyncConfig && from != BulkSync:
		u.syslog(1, 104002, "Switching to STNDBY - "+reason)
	}
	if to != SyncConfig {
		u.bulk = nil
	}
	if to == Negotiation {
		u.synced = false
	}

	u.reconcile(true)
	if routing := to != Negotiation; routing != (from != Negotiation) {
		// Routes go through the data addresses, the standby's too.
		u.o.Hooks.RoutingChanged(routing)
	}
	if release && u.o.AfterRelease != nil {
		// Once the engine has taken the addresses away: the requests
		// are answered in order.
		u.o.Hooks.Reconcile(u.o.AfterRelease)
	}
	if u.talking && !u.stopped {
		u.sendHello(0)
	}
}

// record appends a history entry.
func (u *Unit) record(from, to, reason string) {
	if len(u.history) == maxHistory {
		u.history = append(u.history[:0], u.history[1:]...)
	}
	u.history = append(u.history, histEntry{at: u.o.Clock.Now(), from: from, to: to, reason: reason})
}

// syslog sends a PIX message with this unit's role prefix, e.g.
// "%PIX-1-104001: (Primary) Switching to ACTIVE - HELLO not heard from mate".
func (u *Unit) syslog(level, id int, text string) {
	u.o.Syslog(fmt.Sprintf("%%PIX-%d-%d: (%s) %s", level, id, roleWord(u.role), text))
}

// activeTime is the total time this unit has been active.
func (u *Unit) activeTime() time.Duration {
	d := u.activeAccum
	if u.state == Active {
		d += u.o.Clock.Now().Sub(u.activeSince)
	}
	return d
}
