package main

import (
	"failover/engine"
	"failover/engine/conntrack"
	"failover/engine/dataplane"
	"failover/engine/stateguard"
	"failover/engine/statesync"
	"failover/engine/unit"
)

// newStateSync builds connection replication on the kernel's conntrack
// table. Without one (no netfilter netlink) the daemon runs without
// stateful failover rather than not at all.
func newStateSync(e *engine.Engine) engine.StateSync {
	log := e.Log().With("part", "statesync")
	tb, err := conntrack.Open(log)
	if err != nil {
		log.Warn("stateful failover unavailable", "err", err)
		return nil
	}
	return stateSync{statesync.New(statesync.Options{
		Log: log, Clock: e.Clock(), Post: e.Post, Table: tb, Send: e.SendState,
		Guard: stateguard.New(), Neigh: neighborTable(e),
	})}
}

// neighborTable is the dataplane's neighbour table, when it has one.
func neighborTable(e *engine.Engine) statesync.NeighborTable {
	if nt, ok := e.DP().(dataplane.NeighborTable); ok {
		return nt
	}
	return nil
}

// stateSync adapts the replicator to what the unit drives.
type stateSync struct{ *statesync.Replicator }

func (s stateSync) Stats() unit.StateStats {
	st := s.Replicator.Stats()
	row := func(c statesync.Counter) [4]uint64 { return [4]uint64{c.Xmit, c.Xerr, c.Rcv, c.Rerr} }
	return unit.StateStats{
		Xlate: row(st.Xlate), TCPConn: row(st.TCP), UDPConn: row(st.UDP), ARP: row(st.ARP),
		RecvQ: [3]uint64{st.RecvCur, st.RecvMax, st.RecvTotal},
		XmitQ: [3]uint64{st.XmitCur, st.XmitMax, st.XmitTotal},
	}
}

// unitStateSync hands the unit the replicator, or a true nil.
func unitStateSync(e *engine.Engine) unit.StateSync {
	if s, ok := e.StateSync().(stateSync); ok {
		return s
	}
	return nil
}
