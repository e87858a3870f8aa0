package unit

import (
	"time"

	"failover/engine/wire"
)

// facts is everything decide looks at: what the unit knows at one instant,
// gathered by look. decide reads nothing else, so every rule can be tested
// with a literal facts value (decide_test.go).
type facts struct {
	participating bool          // failover on, with a unit role and a LAN interface
	role          wire.Role     // our unit role
	inState       time.Duration // time spent in the current state
	hold          time.Duration // unit hold time
	listened      bool          // we have listened on the LAN link for a hold time: a mate would have been heard

	mateHeard    bool           // mate heard on the LAN link since we started listening
	mateShutdown bool           // its last hello announced a clean shutdown
	lanFresh     bool           // mate heard on the LAN link within the hold time
	lanRecent    bool           // and its last hello is at most 1.5 polls old: its news is current
	dataHeard    bool           // mate heard on a data interface (since the probes, once they went out)
	probing      bool           // LAN link quiet, nothing heard on data yet, probes still within their window
	ms           wire.UnitState // mate's state (meaningful when lanFresh)
	mateServing  bool           // mate holds the system addresses (Active, or failover off and serving)
	conflict     bool           // mate has our role
	bootHigher   bool           // our boot id is above the mate's: we yield when the roles conflict

	myBad         int  // our failed monitored interfaces (no link or failed test)
	mateBad       int  // the mate's, as it announced them
	unhealthy     bool // myBad exceeds the interface policy
	noLink        bool // interfaces without carrier alone exceed the policy
	mateUnhealthy bool // mateBad exceeds the policy

	claimFree bool // nobody answered for a system address since the mate went silent (claim.go)

	conflictLogged bool // 104005 already sent for this conflict
	switchover     int  // swNone, or the kind of planned switchover in progress
	splitBrain     bool // we stayed active while the mate was active too
	preempt        bool // `failover preempt` applies to us now
	preemptArmed   bool // the preempt delay is running
	preemptDue     bool // and it has run out
	stateSynced    bool // connection replication holds the whole table (or is off)
}

// action is a side effect decide asks for besides a state change; the
// executor (evaluate) performs them in the order of the constants.
type action uint8

const (
	actLogConflict   action = 1 << iota // syslog 104005 once per conflict
	actSplitBrain                       // remember that both were active
	actEndSplitBrain                    // the mate yielded: forget it and ...
	actAnnounce                         // ... announce our addresses again (gratuitous ARPs)
	actArmPreempt                       // start the preempt delay
	actPreempt                          // ask the active mate to hand over
	actClaim                            // ask who still answers for the system addresses
	actTookDone                         // a planned takeover is complete: the old active let go
)

// decision is decide's answer: the next state (the current one for no
// change), the reason for the history and the syslog, and the actions.
type decision struct {
	next   State
	reason string
	acts   action
}

// Reasons, as ASA words them in `show failover history` where it has one.
const (
	rsConfig      = "Set by the config command"
	rsNoActive    = "No Active unit found"
	rsActiveMate  = "Detected an Active mate"
	rsMateFailed  = "Other unit Failed"
	rsHelloLost   = "HELLO not heard from mate"
	rsPoweredOff  = "Other unit powered off"
	rsIfCheck     = "Interface check"
	rsIfPassed    = "Interface check passed"
	rsMateLostAct = "Active mate lost"
	rsServingMate = "Mate passes traffic with failover off"
	rsBothActive  = "Both units Active, Primary stays Active"
	rsSameRole    = "Mate has the same unit role"
	rsMateServes  = "Mate is Active"
)

// bulkSyncLimit is how long Bulk Sync waits for the connection table.
func bulkSyncLimit(hold time.Duration) time.Duration { return max(10*time.Second, 3*hold) }

// aloneAfter is how long a negotiating unit that hears nobody waits before
// it goes active: the hold time, but at least a second. A restarted unit
// hears its active mate only once the mate's boot is proven (a round trip)
// and its own loop has turned; with holds of tens of milliseconds on a
// loaded box it went active beside an active mate, and the split brain
// that followed swapped the roles (there is no preemption by default).
func aloneAfter(hold time.Duration) time.Duration { return max(hold, time.Second) }

// decide is the unit's state machine: from the current state and what the
// unit knows, the next state, why, and what else to do. It is pure; the
// package documentation draws the transitions.
func decide(s State, f facts) decision {
	d := decision{next: s}
	if f.conflict && !f.conflictLogged {
		d.acts |= actLogConflict
	}
	to := func(n State, reason string) decision {
		d.next, d.reason = n, reason
		return d
	}
	// While the probes wait for an answer the mate is not lost yet: it may
	// only be the LAN link that failed.
	mateLost := !f.lanFresh && !f.dataHeard && !f.probing
	lost := rsHelloLost
	if f.mateShutdown {
		lost = rsPoweredOff
	}
	// A mate that passes traffic while we hear it: the one rule that keeps
	// two units from holding the system addresses at once, whatever the
	// order of `no failover` on either of them.
	servingMate := f.lanFresh && f.mateServing
	// Taking over from a lost mate waits until nobody answers for the
	// system addresses any more (its kernel may outlive its daemon).
	takeFromLost := func() decision {
		if !f.claimFree {
			d.acts |= actClaim
			return d
		}
		return to(Active, lost)
	}

	if !f.participating {
		switch s {
		case Active:
			// ASA: the units keep their roles until restarted.
			return to(Disabled, rsConfig)
		case Standby, SyncConfig, BulkSync, Failed:
			return to(PseudoStandby, rsConfig)
		case Negotiation:
			if servingMate {
				return to(PseudoStandby, rsConfig)
			}
			return to(Disabled, rsConfig)
		case Disabled:
			if f.switchover == swTook {
				// We just took over (`failover active` on a
				// pseudo-standby unit): the old active says Active
				// until it has our ack, which is no mate serving
				// beside us. Once it has let go, announce again, as
				// an active unit does after a planned takeover.
				if f.lanFresh && !f.mateServing {
					d.acts |= actTookDone | actAnnounce
				}
				return d
			}
			// Both serve (after a restart, or a healed LAN link): the one
			// with failover off yields to an active mate; between two with
			// failover off the secondary yields (with one role, the higher
			// boot id).
			if servingMate && (f.ms == wire.UnitActive ||
				(!f.conflict && f.role == wire.RoleSecondary) || (f.conflict && f.bootHigher)) {
				return to(PseudoStandby, rsMateServes)
			}
		}
		return d
	}

	switch s {
	case Disabled, PseudoStandby:
		// failover was just turned on (or completed).
		switch {
		case f.lanFresh && f.ms == wire.UnitActive && !f.conflict:
			return to(SyncConfig, rsActiveMate)
		case servingMate:
			return to(Standby, rsServingMate)
		case s == Disabled && (f.listened || (f.lanFresh && !f.conflict)):
			// A serving unit that has listened long enough to know
			// nobody else serves keeps its addresses.
			return to(Active, rsConfig)
		}
		return to(Negotiation, rsConfig)

	case Negotiation:
		switch {
		case f.conflict:
			// Neither unit takes the other's addresses: wait for the
			// operator to fix the roles.
		case f.lanFresh:
			switch f.ms {
			case wire.UnitActive:
				return to(SyncConfig, rsActiveMate)
			case wire.UnitNegotiation:
				if f.role == wire.RolePrimary {
					return to(Active, rsNoActive)
				}
			case wire.UnitFailed:
				return to(Active, rsMateFailed)
			case wire.UnitDisabled:
				if f.mateServing {
					return to(Standby, rsServingMate)
				}
				return to(Active, rsNoActive)
			default:
				// The mate is standby or syncing without an active unit:
				// it takes over itself; only if it does not do we.
				if f.inState >= f.hold {
					return to(Active, rsNoActive)
				}
			}
		case f.dataHeard:
			// The LAN link is down but the mate is alive: only the primary
			// may go active, so at most one unit does.
			if f.role == wire.RolePrimary && f.inState >= f.hold {
				return to(Active, rsNoActive)
			}
		case f.probing:
			// Wait for the answer before going active alone.
		case f.inState >= aloneAfter(f.hold):
			return to(Active, rsNoActive)
		}

	case SyncConfig:
		switch {
		case mateLost && f.mateHeard:
			return takeFromLost()
		case f.lanFresh && f.ms != wire.UnitActive:
			return to(Negotiation, rsMateLostAct)
		}

	case BulkSync:
		// As Sync Config, and Standby once the connection table is in
		// (or after a few hold times without it: a mate that does not
		// replicate must not keep us out of Standby for ever).
		switch {
		case mateLost && f.mateHeard:
			return takeFromLost()
		case f.lanFresh && f.ms != wire.UnitActive:
			return to(Negotiation, rsMateLostAct)
		case f.stateSynced || f.inState >= bulkSyncLimit(f.hold):
			return to(Standby, rsActiveMate)
		}

	case Standby:
		switch {
		case mateLost:
			return takeFromLost()
		case f.noLink || (f.unhealthy && f.lanRecent && f.mateBad < f.myBad):
			// No carrier is certain; a failed test only counts when the
			// mate's current report shows its side working.
			return to(Failed, rsIfCheck)
		case !f.lanFresh || f.conflict:
		case f.ms == wire.UnitFailed:
			return to(Active, rsMateFailed)
		case f.ms == wire.UnitNegotiation:
			return to(Active, rsNoActive)
		case f.ms == wire.UnitDisabled && !f.mateServing:
			// A pseudo-standby mate never takes over: nobody would serve.
			return to(Active, rsNoActive)
		case f.ms == wire.UnitStandby && f.role == wire.RolePrimary:
			return to(Active, rsNoActive)
		case f.ms == wire.UnitActive && f.preempt && f.stateSynced:
			// Not before the connection table is complete: a planned
			// switchover loses nothing.
			switch {
			case !f.preemptArmed:
				d.acts |= actArmPreempt
			case f.preemptDue:
				d.acts |= actPreempt
			}
		}

	case Active:
		switch {
		case f.lanFresh && f.ms == wire.UnitActive && f.switchover == swNone:
			// Both active while hearing each other: the primary stays, the
			// secondary yields; with one role the higher boot id yields.
			if f.conflict && f.bootHigher {
				return to(Negotiation, rsSameRole)
			}
			if !f.conflict && f.role == wire.RoleSecondary {
				return to(SyncConfig, rsBothActive)
			}
			d.acts |= actSplitBrain
		case f.lanFresh && f.ms != wire.UnitActive && f.switchover == swTook:
			// Make before break: we took the MAC and the addresses while
			// the old active still forwarded, and its frames may have
			// pulled the switches' entries for the shared MAC back to its
			// port. It has let go now (it wears its own MAC): announce
			// again at once rather than at the next gratuitous ARP.
			d.acts |= actTookDone | actAnnounce
		case f.lanFresh && f.ms != wire.UnitActive && f.splitBrain:
			// The mate yielded: announce again so every neighbour that
			// learned its MAC during the split comes back to us.
			d.acts |= actEndSplitBrain | actAnnounce
		case f.unhealthy && f.lanRecent && !f.conflict && f.ms == wire.UnitStandby &&
			f.mateBad < f.myBad && !f.mateUnhealthy:
			return to(Failed, rsIfCheck)
		}

	case Failed:
		switch {
		case !f.unhealthy:
			return to(Negotiation, rsIfPassed)
		case mateLost && f.mateHeard:
			// Partial service beats none.
			return takeFromLost()
		case f.lanFresh && !f.conflict && f.ms == wire.UnitFailed &&
			(f.mateBad > f.myBad || (f.mateBad == f.myBad && f.role == wire.RolePrimary)):
			return to(Active, rsNoActive)
		}
	}
	return d
}
