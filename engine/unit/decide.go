package unit

import (
	"bytes"
	"time"

	"failover/engine/wire"
)

// view is what evaluate decides on, computed once per pass.
type view struct {
	now       time.Time
	lanFresh  bool           // mate heard on the LAN link within the hold time
	lanRecent bool           // and its last hello is at most 1.5 polls old: its news is current
	dataHeard bool           // mate heard on a data interface within the interface hold time (since the probes, once they went out)
	probing   bool           // LAN link quiet, nothing heard on data yet, probes still within their window
	ms        wire.UnitState // mate's state (meaningful when lanFresh)
	conflict  bool           // mate has our role
	myBad     int            // our failed monitored interfaces
	mateBad   int            // the mate's, as it announced them
	unhealthy bool           // myBad exceeds the interface policy
}

func (u *Unit) look() view {
	now := u.o.Clock.Now()
	v := view{now: now}
	v.lanFresh = u.mate.heard && !u.mate.shutdown && now.Sub(u.mate.lastLAN) < u.hold()
	v.lanRecent = v.lanFresh && now.Sub(u.mate.lastLAN) <= u.fo.Poll*3/2+u.tickEvery
	for _, f := range u.ifs {
		if f.monitored && u.mateHeardOn(f, now, v.lanFresh) {
			v.dataHeard = true
		}
	}
	v.probing = !v.lanFresh && !v.dataHeard && u.probePending(now)
	v.ms = u.mate.hello.State
	v.conflict = v.lanFresh && u.mate.role == u.role
	v.myBad = u.failedCount()
	v.mateBad = u.mateFailedCount()
	v.unhealthy = u.policyExceeded(v.myBad)
	return v
}

// evaluate applies the rules of SPEC §5 until the state settles (a join
// goes Negotiation -> Sync Config in one pass, for instance).
func (u *Unit) evaluate() {
	if !u.enabled || u.stopped {
		return
	}
	for range 4 {
		u.updateIfs()
		u.updateProbe(u.o.Clock.Now())
		before := u.state
		u.step(u.look())
		if u.state == before {
			return
		}
	}
}

func (u *Unit) step(v view) {
	if v.conflict && !u.conflictLogged {
		u.conflictLogged = true
		u.syslog(1, 104005, "Mate has the same unit role ("+roleWord(u.role)+"); check failover lan unit")
	}
	// While the probes wait for an answer the mate is not lost yet: it
	// may only be the LAN link that failed (SPEC §5 Mate lost).
	mateLost := !v.lanFresh && !v.dataHeard && !v.probing
	lostReason := "HELLO not heard from mate"
	if u.mate.shutdown {
		lostReason = "Other unit powered off"
	}
	u.noteMate(!mateLost, lostReason)
	since := v.now.Sub(u.stateSince)

	switch u.state {
	case Negotiation:
		switch {
		case v.conflict:
			// Neither unit takes the other's addresses: wait for the
			// operator to fix the roles.
		case v.lanFresh:
			switch v.ms {
			case wire.UnitActive:
				u.setState(SyncConfig, "Detected an Active mate")
			case wire.UnitNegotiation:
				if u.role == wire.RolePrimary {
					u.setState(Active, "No Active unit found")
				}
			case wire.UnitFailed, wire.UnitDisabled:
				u.setState(Active, "Other unit Failed")
			default:
				// The mate is standby or syncing without an active unit:
				// it takes over itself; only if it does not do we.
				if since >= u.hold() {
					u.setState(Active, "No Active unit found")
				}
			}
		case v.dataHeard:
			// The LAN link is down but the mate is alive: only the primary
			// may go active, so at most one unit does.
			if u.role == wire.RolePrimary && since >= u.hold() {
				u.setState(Active, "No Active unit found")
			}
		case v.probing:
			// Wait for the answer before going active alone.
		case since >= u.hold():
			u.setState(Active, "No Active unit found")
		}

	case SyncConfig:
		switch {
		case mateLost && u.mate.heard:
			u.setState(Active, lostReason)
		case v.lanFresh && v.ms != wire.UnitActive:
			u.setState(Negotiation, "Active mate lost")
		}

	case Standby:
		switch {
		case mateLost:
			u.setState(Active, lostReason)
		case u.policyExceeded(u.noLinkCount()) || (v.unhealthy && v.lanRecent && v.mateBad < v.myBad):
			// No carrier is certain; a failed test only counts when the
			// mate's current report shows its side working.
			u.setState(Failed, "Interface check")
		case !v.lanFresh || v.conflict:
		case v.ms == wire.UnitFailed:
			u.setState(Active, "Other unit Failed")
		case v.ms == wire.UnitNegotiation:
			u.setState(Active, "No Active unit found")
		case v.ms == wire.UnitStandby && u.role == wire.RolePrimary:
			u.setState(Active, "No Active unit found")
		case v.ms == wire.UnitActive:
			u.maybePreempt(v)
		}

	case Active:
		switch {
		case v.lanFresh && v.ms == wire.UnitActive && u.switchover == nil:
			u.resolveSplitBrain(v)
		case v.lanFresh && v.ms != wire.UnitActive && u.splitBrain:
			// The mate yielded: announce again so every neighbour that
			// learned its MAC during the split comes back to us.
			u.splitBrain = false
			u.announce()
		case v.unhealthy && v.lanRecent && !v.conflict && v.ms == wire.UnitStandby &&
			v.mateBad < v.myBad && !u.policyExceeded(v.mateBad):
			u.setState(Failed, "Interface check")
		}

	case Failed:
		switch {
		case !v.unhealthy:
			u.setState(Negotiation, "Interface check passed")
		case mateLost && u.mate.heard:
			// Partial service beats none.
			u.setState(Active, lostReason)
		case v.lanFresh && !v.conflict && v.ms == wire.UnitFailed &&
			(v.mateBad > v.myBad || (v.mateBad == v.myBad && u.role == wire.RolePrimary)):
			u.setState(Active, "No Active unit found")
		}
	}
}

// resolveSplitBrain handles both units active while hearing each other:
// the primary stays, the secondary yields. With equal roles the unit with
// the higher boot id yields, so exactly one stays.
func (u *Unit) resolveSplitBrain(v view) {
	yield := u.role == wire.RoleSecondary
	if v.conflict {
		me := u.sender.BootID()
		yield = bytes.Compare(me[:], u.mate.boot[:]) > 0
	}
	if yield {
		if v.conflict {
			u.setState(Negotiation, "Mate has the same unit role")
		} else {
			u.setState(SyncConfig, "Both units Active, Primary stays Active")
		}
		return
	}
	u.splitBrain = true
}

// maybePreempt lets a healthy standby primary take the active role back
// after the preempt delay, when `failover preempt` is configured.
func (u *Unit) maybePreempt(v view) {
	if !u.fo.Preempt || u.role != wire.RolePrimary || u.mate.role == u.role || v.unhealthy || u.switchover != nil {
		return
	}
	if u.preemptAt.IsZero() {
		u.preemptAt = v.now.Add(time.Duration(u.fo.PreemptDelay) * time.Second)
	}
	if v.now.Before(u.preemptAt) {
		return
	}
	u.preemptAt = v.now.Add(u.hold()) // retry later if the mate does not answer
	u.log.Info("preempting the active role")
	u.askActive("Preempt")
}
