package main

import "failover/engine"

// The state machines are wired here so the engine package stays free of
// their construction details.
func newUplink(e *engine.Engine) engine.Uplink { return nil }

func newUnit(e *engine.Engine) engine.Unit { return nil }
