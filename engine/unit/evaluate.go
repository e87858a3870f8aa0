package unit

import (
	"bytes"
	"time"

	"failover/engine/wire"
)

// look gathers the facts decide works on.
func (u *Unit) look() facts {
	now := u.o.Clock.Now()
	f := facts{
		participating: u.participating(),
		role:          u.role,
		inState:       now.Sub(u.stateSince),
		hold:          u.hold(),
		listened:      u.talking && now.Sub(u.listenSince) >= u.hold(),
		mateHeard:     u.mate.heard,
		mateShutdown:  u.mate.heard && u.mate.shutdown,
		ms:            u.mate.hello.State,
	}
	f.lanFresh = u.mate.heard && !u.mate.shutdown && now.Sub(u.mate.lastLAN) < u.hold()
	f.lanRecent = f.lanFresh && now.Sub(u.mate.lastLAN) <= u.fo.Poll*3/2+u.tickEvery
	for _, i := range u.ifs {
		if i.monitored && u.mateHeardOn(i, now, f.lanFresh) {
			f.dataHeard = true
		}
	}
	f.probing = !f.lanFresh && !f.dataHeard && u.probePending(now)
	f.mateServing = f.ms == wire.UnitActive || (f.ms == wire.UnitDisabled && u.mate.hello.Flags&wire.HelloServing != 0)
	f.conflict = f.lanFresh && u.mate.role == u.role
	me := u.sender.BootID()
	f.bootHigher = bytes.Compare(me[:], u.mate.boot[:]) > 0
	f.myBad = u.failedCount()
	f.mateBad = u.mateFailedCount()
	f.unhealthy = u.policyExceeded(f.myBad)
	f.noLink = u.policyExceeded(u.noLinkCount())
	f.mateUnhealthy = u.policyExceeded(f.mateBad)
	f.claimFree = u.claimState(now)
	f.conflictLogged = u.conflictLogged
	if u.switchover != nil {
		f.switchover = u.switchover.kind
	}
	f.splitBrain = u.splitBrain
	f.preempt = u.fo.Preempt && u.role == wire.RolePrimary && u.mate.role != u.role && !f.unhealthy && u.switchover == nil
	f.preemptArmed = !u.preemptAt.IsZero()
	f.preemptDue = f.preemptArmed && !now.Before(u.preemptAt)
	f.stateSynced = u.o.StateSync == nil || u.o.StateSync.Synced()
	return f
}

// evaluate decides and acts until the state settles (a join goes
// Negotiation -> Sync Config in one pass, for instance).
func (u *Unit) evaluate() {
	if u.stopped {
		return
	}
	for range 4 {
		if u.participating() {
			u.updateIfs()
			u.updateProbe(u.o.Clock.Now())
		}
		before := u.state
		f := u.look()
		u.noteMate(f)
		u.watchEvents(f)
		u.execute(decide(u.state, f))
		if u.state == before {
			return
		}
	}
}

// execute carries out a decision: the actions first (they belong to the
// state decided in), then the transition.
func (u *Unit) execute(d decision) {
	if d.acts&actLogConflict != 0 {
		u.conflictLogged = true
		u.syslog(1, 104005, "Mate has the same unit role ("+roleWord(u.role)+"); check failover lan unit")
	}
	if d.acts&actSplitBrain != 0 {
		u.splitBrain = true
	}
	if d.acts&actEndSplitBrain != 0 {
		u.splitBrain = false
	}
	if d.acts&actTookDone != 0 {
		u.switchover = nil
	}
	if d.acts&actAnnounce != 0 {
		u.reannounce()
	}
	if d.acts&actArmPreempt != 0 {
		u.preemptAt = u.o.Clock.Now().Add(time.Duration(u.fo.PreemptDelay) * time.Second)
	}
	if d.acts&actPreempt != 0 || (d.acts&actArmPreempt != 0 && !u.o.Clock.Now().Before(u.preemptAt)) {
		u.preemptAt = u.o.Clock.Now().Add(u.hold()) // retry later if the mate does not answer
		u.log.Info("preempting the active role")
		u.askActive("Preempt")
	}
	if d.acts&actClaim != 0 {
		u.startClaim(u.o.Clock.Now())
	}
	if d.next != u.state {
		u.setState(d.next, d.reason)
	}
}
