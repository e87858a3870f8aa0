package unit

import (
	"fmt"

	"failover/engine/wire"
)

// State is this unit's failover state. The String forms are the words
// `show failover` prints after "Primary - " (as PIX 6.3 prints it).
type State int

// States, in the order a joining unit normally passes through them.
const (
	// Disabled is failover off (`no failover`, or no unit role or LAN
	// interface yet) on a unit that serves: a standalone box, or the
	// active unit of a pair, which keeps its role and addresses.
	Disabled    State = iota
	Negotiation       // looking for the mate; holds no data addresses
	SyncConfig        // mate is active; receiving the bulk configuration
	Standby           // holds the standby addresses, ready to take over
	Active            // holds the system addresses and answers
	Failed            // own interfaces failed; holds the standby addresses
	// PseudoStandby is failover off on a unit that was standby: it keeps
	// the standby addresses and never takes over by itself, so the two
	// units never both pass traffic (ASA's pseudo-standby).
	PseudoStandby
	// BulkSync follows Sync Config when connections are replicated: the
	// mate is active and this unit receives its connection table; it
	// becomes Standby once it holds all of it.
	BulkSync
)

var stateNames = [...]string{
	Disabled:      "Disabled",
	Negotiation:   "Negotiation",
	SyncConfig:    "Sync Config",
	Standby:       "Standby",
	Active:        "Active",
	Failed:        "Failed",
	PseudoStandby: "Pseudo-Standby",
	BulkSync:      "Bulk Sync",
}

func (s State) String() string {
	if s >= 0 && int(s) < len(stateNames) {
		return stateNames[s]
	}
	return fmt.Sprintf("State(%d)", int(s))
}

// serves says whether a unit in state s holds the system addresses and
// passes traffic.
func (s State) serves() bool { return s == Active || s == Disabled }

// wireState is the code a hello carries for s; whether a unit whose
// failover is off serves travels in the HelloServing flag.
func (s State) wireState() wire.UnitState {
	switch s {
	case Negotiation:
		return wire.UnitNegotiation
	case SyncConfig:
		return wire.UnitSyncConfig
	case BulkSync:
		return wire.UnitBulkSync
	case Standby:
		return wire.UnitStandby
	case Active:
		return wire.UnitActive
	case Failed:
		return wire.UnitFailed
	case Disabled, PseudoStandby:
		return wire.UnitDisabled
	}
	return wire.UnitUnknown
}

// mateHelloWord is how `show failover` names the state in a mate's hello:
// failover off travels as Disabled for both a serving unit and a
// pseudo-standby one, told apart by the HelloServing flag, so a mate that
// holds only its standby addresses is not shown as one that serves.
func mateHelloWord(h wire.Hello) string {
	if h.State == wire.UnitDisabled && h.Flags&wire.HelloServing == 0 {
		return PseudoStandby.String()
	}
	return mateStateWord(h.State)
}

// mateStateWord is how `show failover` names a state the mate announced.
// An unknown code from a newer mate is shown as such rather than guessed.
func mateStateWord(s wire.UnitState) string {
	switch s {
	case wire.UnitNegotiation:
		return "Negotiation"
	case wire.UnitSyncConfig:
		return "Sync Config"
	case wire.UnitBulkSync:
		return "Bulk Sync"
	case wire.UnitStandby:
		return "Standby"
	case wire.UnitActive:
		return "Active"
	case wire.UnitFailed:
		return "Failed"
	case wire.UnitDisabled:
		return "Disabled"
	}
	return "Unknown"
}

// ifStatusWord is the `show failover` word for an interface status.
func ifStatusWord(s wire.IfStatus) string {
	switch s {
	case wire.IfNormal:
		return "Normal"
	case wire.IfWaiting:
		return "Waiting"
	case wire.IfTesting:
		return "Testing"
	case wire.IfFailed:
		return "Failed"
	case wire.IfNoLink:
		return "No Link"
	case wire.IfLinkDown:
		return "Link Down"
	}
	return "Unknown"
}

// roleWord is "Primary" or "Secondary".
func roleWord(r wire.Role) string {
	if r == wire.RoleSecondary {
		return "Secondary"
	}
	return "Primary"
}

func otherRole(r wire.Role) wire.Role {
	if r == wire.RoleSecondary {
		return wire.RolePrimary
	}
	return wire.RoleSecondary
}
