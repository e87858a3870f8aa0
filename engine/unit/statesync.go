package unit

import (
	"failover/engine/wire"
)

// StateSync is stateful failover's connection replication as the unit
// drives it (engine/statesync behind an adapter). All calls are on the
// event loop.
type StateSync interface {
	// SetRole is called on every state change, before any address or MAC
	// moves: a unit leaving the active role must stop sending before the
	// kernel flushes the masqueraded connections of the addresses it
	// releases.
	SetRole(active, standby bool)
	// Received hands over a StateUpdate from the mate. fromActive: the
	// unit is standby and believes the sender is the active mate;
	// fromStandby: the unit is active and the sender its standby mate.
	Received(kind uint8, payload []byte, fromActive, fromStandby bool)
	// Stats are the replicated objects for `show failover`.
	Stats() StateStats
	// Synced says whether a standby holds the whole connection table (or
	// replication is off): Bulk Sync ends then.
	Synced() bool
}

// StateStats are the stateful rows of `show failover`: xmit, xerr, rcv,
// rerr per row, and cur, max, total of the logical update queues.
type StateStats struct {
	Xlate, TCPConn, UDPConn, ARP [4]uint64
	RecvQ, XmitQ                 [3]uint64
}

// stateRole maps a unit state to what replication does in it.
func stateRole(s State) (active, standby bool) {
	return s == Active, s == Standby || s == SyncConfig || s == BulkSync
}

// stateLinkIf is the interface state updates travel on: the stateful
// failover link, which may be the LAN failover interface itself.
func (u *Unit) stateLinkIf() *ifc {
	for _, f := range u.ifs {
		if f.cfg.Name == u.fo.Link && (f.lan || f.stateLink) {
			return f
		}
	}
	return nil
}

// SendState sends a StateUpdate to the mate on the stateful failover link.
func (u *Unit) SendState(kind uint8, payload []byte) bool {
	f := u.stateLinkIf()
	if f == nil || u.o.Transport == nil || !u.listening[f.cfg.HW] || !u.mate.heard {
		return false
	}
	dst := u.mateAddr(f)
	if !dst.IsValid() {
		return false
	}
	return u.send(f.cfg.HW, dst, &wire.StateUpdate{Kind: kind, Payload: payload})
}

// fromStandbyMate says whether state acknowledgements may be believed:
// this unit is active and the mate is its standby.
func (u *Unit) fromStandbyMate() bool {
	if !u.mate.heard || u.mate.role == u.role || u.state != Active {
		return false
	}
	s := u.mate.hello.State
	return s == wire.UnitStandby || s == wire.UnitSyncConfig || s == wire.UnitBulkSync
}

// handleStateUpdate passes a StateUpdate that arrived on the stateful
// failover link to replication.
func (u *Unit) handleStateUpdate(hw string, b *wire.StateUpdate) {
	f := u.stateLinkIf()
	if u.o.StateSync == nil || f == nil || f.cfg.HW != hw {
		return
	}
	u.o.StateSync.Received(b.Kind, b.Payload, u.fromActiveMate(), u.fromStandbyMate())
}
