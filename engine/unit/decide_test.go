package unit

import (
	"testing"
	"time"

	"failover/engine/wire"
)

// TestDecide has one row per branch of decide. base is a participating
// primary, 1 s in its state with a 3 s hold time, that hears a healthy
// standby secondary.
func TestDecide(t *testing.T) {
	base := func() facts {
		return facts{
			participating: true, role: wire.RolePrimary, inState: time.Second, hold: 3 * time.Second,
			mateHeard: true, lanFresh: true, lanRecent: true, ms: wire.UnitStandby,
		}
	}
	secondary := func(f *facts) { f.role = wire.RoleSecondary }
	off := func(f *facts) { f.participating = false }
	mate := func(s wire.UnitState, serving bool) func(*facts) {
		return func(f *facts) { f.ms, f.mateServing = s, serving }
	}
	silent := func(f *facts) { f.lanFresh, f.lanRecent = false, false }
	// lost: the mate is silent and nobody answers for its addresses.
	lost := func(f *facts) { f.lanFresh, f.lanRecent, f.claimFree = false, false, true }
	all := func(mods ...func(*facts)) func(*facts) {
		return func(f *facts) {
			for _, m := range mods {
				m(f)
			}
		}
	}
	rows := []struct {
		name   string
		state  State
		mod    func(*facts)
		next   State
		reason string
		acts   action
	}{
		// failover off: every unit keeps its role
		{"off: active keeps serving", Active, off, Disabled, rsConfig, 0},
		{"off: standby stays standby", Standby, off, PseudoStandby, rsConfig, 0},
		{"off: syncing stays standby", SyncConfig, off, PseudoStandby, rsConfig, 0},
		{"off: failed stays standby", Failed, off, PseudoStandby, rsConfig, 0},
		{"off: negotiating beside a serving mate", Negotiation, all(off, mate(wire.UnitActive, true)), PseudoStandby, rsConfig, 0},
		{"off: negotiating alone serves", Negotiation, all(off, silent), Disabled, rsConfig, 0},
		{"off: serving yields to an active mate", Disabled, all(off, mate(wire.UnitActive, true)), PseudoStandby, rsMateServes, 0},
		{"off: just took over, the old active still says Active", Disabled, all(off, mate(wire.UnitActive, true), func(f *facts) { f.switchover = swTook }), Disabled, "", 0},
		{"off: took over, the old active let go", Disabled, all(off, func(f *facts) { f.switchover = swTook }), Disabled, "", actTookDone | actAnnounce},
		{"off: serving secondary yields to a serving mate", Disabled, all(off, secondary, mate(wire.UnitDisabled, true)), PseudoStandby, rsMateServes, 0},
		{"off: serving primary stays beside a serving secondary", Disabled, all(off, mate(wire.UnitDisabled, true)), Disabled, "", 0},
		{"off: same role, higher boot id yields", Disabled, all(off, mate(wire.UnitDisabled, true), func(f *facts) { f.conflict, f.conflictLogged, f.bootHigher = true, true, true }), PseudoStandby, rsMateServes, 0},
		{"off: pseudo-standby stays", PseudoStandby, all(off, silent), PseudoStandby, "", 0},
		{"off: conflict logged once", Disabled, all(off, func(f *facts) { f.conflict = true }), Disabled, "", actLogConflict},

		// failover turned on
		{"on: beside an active mate", Disabled, mate(wire.UnitActive, true), SyncConfig, rsActiveMate, 0},
		{"on: beside a mate serving with failover off", PseudoStandby, mate(wire.UnitDisabled, true), Standby, rsServingMate, 0},
		{"on: serving, mate heard not serving", Disabled, mate(wire.UnitDisabled, false), Active, rsConfig, 0},
		{"on: serving, listened long enough", Disabled, all(silent, func(f *facts) { f.listened = true }), Active, rsConfig, 0},
		{"on: serving, nothing known yet", Disabled, silent, Negotiation, rsConfig, 0},
		{"on: pseudo-standby, no serving mate", PseudoStandby, mate(wire.UnitStandby, false), Negotiation, rsConfig, 0},

		// Negotiation
		{"negotiation: role conflict waits", Negotiation, all(mate(wire.UnitNegotiation, false), func(f *facts) { f.conflict = true; f.conflictLogged = true }), Negotiation, "", 0},
		{"negotiation: active mate", Negotiation, mate(wire.UnitActive, true), SyncConfig, rsActiveMate, 0},
		{"negotiation: both negotiating, primary", Negotiation, mate(wire.UnitNegotiation, false), Active, rsNoActive, 0},
		{"negotiation: both negotiating, secondary waits", Negotiation, all(secondary, mate(wire.UnitNegotiation, false)), Negotiation, "", 0},
		{"negotiation: mate failed", Negotiation, mate(wire.UnitFailed, false), Active, rsMateFailed, 0},
		{"negotiation: mate serving with failover off", Negotiation, mate(wire.UnitDisabled, true), Standby, rsServingMate, 0},
		{"negotiation: mate pseudo-standby", Negotiation, mate(wire.UnitDisabled, false), Active, rsNoActive, 0},
		{"negotiation: mate standby, before the hold time", Negotiation, nil, Negotiation, "", 0},
		{"negotiation: mate standby, hold time over", Negotiation, func(f *facts) { f.inState = f.hold }, Active, rsNoActive, 0},
		{"negotiation: heard on data only, primary", Negotiation, all(silent, func(f *facts) { f.dataHeard, f.inState = true, f.hold }), Active, rsNoActive, 0},
		{"negotiation: heard on data only, secondary", Negotiation, all(silent, secondary, func(f *facts) { f.dataHeard, f.inState = true, f.hold }), Negotiation, "", 0},
		{"negotiation: probing waits", Negotiation, all(silent, func(f *facts) { f.probing, f.inState = true, f.hold }), Negotiation, "", 0},
		{"negotiation: nobody by the hold time", Negotiation, all(silent, func(f *facts) { f.mateHeard, f.inState = false, f.hold }), Active, rsNoActive, 0},
		{"negotiation: nobody within a short hold, under a second", Negotiation, all(silent, func(f *facts) { f.mateHeard, f.hold, f.inState = false, 60*time.Millisecond, 500*time.Millisecond }), Negotiation, "", 0},
		{"negotiation: nobody for a second, short hold", Negotiation, all(silent, func(f *facts) { f.mateHeard, f.hold, f.inState = false, 60*time.Millisecond, time.Second }), Active, rsNoActive, 0},
		{"negotiation: nobody yet", Negotiation, all(silent, func(f *facts) { f.mateHeard = false }), Negotiation, "", 0},

		// Sync Config
		{"sync: mate lost", SyncConfig, lost, Active, rsHelloLost, 0},
		{"sync: mate lost, its addresses still answered", SyncConfig, silent, SyncConfig, "", actClaim},
		{"sync: mate powered off", SyncConfig, all(lost, func(f *facts) { f.mateShutdown = true }), Active, rsPoweredOff, 0},
		{"sync: mate no longer active", SyncConfig, mate(wire.UnitStandby, false), Negotiation, rsMateLostAct, 0},
		{"sync: receiving", SyncConfig, mate(wire.UnitActive, true), SyncConfig, "", 0},

		// Bulk Sync (connection table)
		{"bulk: mate lost", BulkSync, lost, Active, rsHelloLost, 0},
		{"bulk: mate lost, its addresses still answered", BulkSync, silent, BulkSync, "", actClaim},
		{"bulk: mate no longer active", BulkSync, mate(wire.UnitStandby, false), Negotiation, rsMateLostAct, 0},
		{"bulk: table in", BulkSync, all(mate(wire.UnitActive, true), func(f *facts) { f.stateSynced = true }), Standby, rsActiveMate, 0},
		{"bulk: no table by the limit", BulkSync, all(mate(wire.UnitActive, true), func(f *facts) { f.inState = bulkSyncLimit(f.hold) }), Standby, rsActiveMate, 0},
		{"bulk: receiving", BulkSync, mate(wire.UnitActive, true), BulkSync, "", 0},

		// Standby
		{"standby: mate lost", Standby, lost, Active, rsHelloLost, 0},
		{"standby: mate lost, its addresses still answered", Standby, silent, Standby, "", actClaim},
		{"standby: probing keeps it", Standby, all(silent, func(f *facts) { f.probing = true }), Standby, "", 0},
		{"standby: heard on data keeps it", Standby, all(silent, func(f *facts) { f.dataHeard = true }), Standby, "", 0},
		{"standby: no link", Standby, func(f *facts) { f.noLink = true }, Failed, rsIfCheck, 0},
		{"standby: failed test, mate's side works", Standby, func(f *facts) { f.unhealthy, f.myBad = true, 1 }, Failed, rsIfCheck, 0},
		{"standby: failed test, mate's fails too", Standby, all(mate(wire.UnitActive, true), func(f *facts) { f.unhealthy, f.myBad, f.mateBad = true, 1, 1 }), Standby, "", 0},
		{"standby: role conflict", Standby, all(mate(wire.UnitFailed, false), func(f *facts) { f.conflict, f.conflictLogged = true, true }), Standby, "", 0},
		{"standby: mate failed", Standby, mate(wire.UnitFailed, false), Active, rsMateFailed, 0},
		{"standby: mate negotiating", Standby, mate(wire.UnitNegotiation, false), Active, rsNoActive, 0},
		{"standby: mate pseudo-standby", Standby, mate(wire.UnitDisabled, false), Active, rsNoActive, 0},
		{"standby: mate serving with failover off", Standby, mate(wire.UnitDisabled, true), Standby, "", 0},
		{"standby: both standby, primary", Standby, mate(wire.UnitStandby, false), Active, rsNoActive, 0},
		{"standby: both standby, secondary", Standby, all(secondary, mate(wire.UnitStandby, false)), Standby, "", 0},
		{"standby: preempt arms", Standby, all(mate(wire.UnitActive, true), func(f *facts) { f.preempt, f.stateSynced = true, true }), Standby, "", actArmPreempt},
		{"standby: preempt waits", Standby, all(mate(wire.UnitActive, true), func(f *facts) { f.preempt, f.preemptArmed, f.stateSynced = true, true, true }), Standby, "", 0},
		{"standby: preempt due", Standby, all(mate(wire.UnitActive, true), func(f *facts) { f.preempt, f.preemptArmed, f.preemptDue, f.stateSynced = true, true, true, true }), Standby, "", actPreempt},
		{"standby: preempt waits for the connection table", Standby, all(mate(wire.UnitActive, true), func(f *facts) { f.preempt, f.preemptArmed, f.preemptDue = true, true, true }), Standby, "", 0},
		{"standby: active mate", Standby, mate(wire.UnitActive, true), Standby, "", 0},

		// Active
		{"active: both active, secondary yields", Active, all(secondary, mate(wire.UnitActive, true)), SyncConfig, rsBothActive, 0},
		{"active: both active, primary stays", Active, mate(wire.UnitActive, true), Active, "", actSplitBrain},
		{"active: both active, same role, higher boot yields", Active, all(mate(wire.UnitActive, true), func(f *facts) { f.conflict, f.conflictLogged, f.bootHigher = true, true, true }), Negotiation, rsSameRole, 0},
		{"active: both active, same role, lower boot stays", Active, all(mate(wire.UnitActive, true), func(f *facts) { f.conflict, f.conflictLogged = true, true }), Active, "", actSplitBrain},
		{"active: planned switchover, mate already active", Active, all(mate(wire.UnitActive, true), func(f *facts) { f.switchover = swTook }), Active, "", 0},
		{"active: planned takeover, the old active let go", Active, func(f *facts) { f.switchover = swTook }, Active, "", actTookDone | actAnnounce},
		{"active: the mate yielded", Active, func(f *facts) { f.splitBrain = true }, Active, "", actEndSplitBrain | actAnnounce},
		{"active: failed test, healthy standby", Active, func(f *facts) { f.unhealthy, f.myBad = true, 1 }, Failed, rsIfCheck, 0},
		{"active: failed test, unhealthy standby", Active, func(f *facts) { f.unhealthy, f.myBad, f.mateBad, f.mateUnhealthy = true, 2, 1, true }, Active, "", 0},
		{"active: failed test, stale report", Active, func(f *facts) { f.unhealthy, f.myBad, f.lanRecent = true, 1, false }, Active, "", 0},
		{"active: mate lost stays active", Active, silent, Active, "", 0},

		// Failed
		{"failed: interfaces back", Failed, nil, Negotiation, rsIfPassed, 0},
		{"failed: mate lost, partial service", Failed, all(lost, func(f *facts) { f.unhealthy = true }), Active, rsHelloLost, 0},
		{"failed: mate lost, its addresses still answered", Failed, all(silent, func(f *facts) { f.unhealthy = true }), Failed, "", actClaim},
		{"failed: both failed, mate worse", Failed, all(mate(wire.UnitFailed, false), func(f *facts) { f.unhealthy, f.myBad, f.mateBad = true, 1, 2 }), Active, rsNoActive, 0},
		{"failed: both failed alike, primary", Failed, all(mate(wire.UnitFailed, false), func(f *facts) { f.unhealthy, f.myBad, f.mateBad = true, 1, 1 }), Active, rsNoActive, 0},
		{"failed: both failed alike, secondary", Failed, all(secondary, mate(wire.UnitFailed, false), func(f *facts) { f.unhealthy, f.myBad, f.mateBad = true, 1, 1 }), Failed, "", 0},
		{"failed: mate active", Failed, all(mate(wire.UnitActive, true), func(f *facts) { f.unhealthy = true }), Failed, "", 0},
	}
	for _, r := range rows {
		t.Run(r.name, func(t *testing.T) {
			f := base()
			if r.mod != nil {
				r.mod(&f)
			}
			d := decide(r.state, f)
			if d.next != r.next || d.reason != r.reason || d.acts != r.acts {
				t.Errorf("decide(%s) = %s %q acts %b, want %s %q acts %b", r.state, d.next, d.reason, d.acts, r.next, r.reason, r.acts)
			}
		})
	}
}
