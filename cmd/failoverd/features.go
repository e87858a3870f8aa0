package main

import (
	"failover/engine"
	"failover/engine/transport"
	"failover/engine/unit"
	"failover/engine/uplink"
	"failover/engine/wire"
)

// The state machines are wired here so the engine package stays free of
// their construction details.
func newUplink(e *engine.Engine) engine.Uplink {
	return uplink.New(uplink.Options{
		Log: e.Log().With("part", "uplink"), Clock: e.Clock(), DP: e.DP(), Prober: e.Prober(),
		Post: e.Post, Syslog: e.Syslog, Events: e.Events(),
	})
}

func newUnit(e *engine.Engine) engine.Unit {
	return unit.New(unit.Options{
		Log: e.Log().With("part", "unit"), Clock: e.Clock(), DP: e.DP(),
		Transport: transport.NewUDP(wire.Port, e.Log().With("part", "transport")),
		Post:      e.Post, Syslog: e.Syslog, Hooks: e.UnitRequests(),
		MACs: macStore(e), StateSync: unitStateSync(e), Events: e.Events(),
	})
}

// macStore avoids handing the unit a typed nil interface.
func macStore(e *engine.Engine) unit.MACStore {
	if m := e.MACs(); m != nil {
		return m
	}
	return nil
}
