package engine

// UnitRequests is what the failover unit may ask of the engine. Every
// request is queued and runs after the unit's current call has returned
// (later in the same turn of the loop), so the unit is never re-entered
// from inside its own packet handler or timer, and the engine never runs
// half-way through a unit decision.
type UnitRequests struct{ e *Engine }

// UnitRequests returns the request queue to hand to the unit.
func (e *Engine) UnitRequests() UnitRequests { return UnitRequests{e} }

// ApplyReplicated applies a command the active mate replicated.
func (r UnitRequests) ApplyReplicated(line string) {
	r.e.queue(func() {
		if err := r.e.applyReplicated(line); err != nil {
			r.e.log.Warn("failed to apply replicated line", "line", line, "err", err)
		}
	})
}

// ReplaceConfig replaces the configuration with a bulk copy from the mate.
func (r UnitRequests) ReplaceConfig(text string) {
	r.e.queue(func() {
		if err := r.e.replaceConfig(text); err != nil {
			r.e.log.Warn("failed to apply the configuration from the mate", "err", err)
		}
	})
}

// WriteMemory saves the configuration because the active mate did.
func (r UnitRequests) WriteMemory() {
	r.e.queue(func() {
		if err := r.e.WriteMemory(); err != nil {
			r.e.log.Warn("failed to write memory for the mate", "err", err)
		}
	})
}

// ExecShow runs a show command for the mate and hands its output to reply.
func (r UnitRequests) ExecShow(cmd string, reply func(out string)) {
	r.e.queue(func() { r.e.execShow(cmd, reply) })
}

// RoutingChanged tells the uplink tracker whether to install routes.
func (r UnitRequests) RoutingChanged(on bool) {
	r.e.queue(func() {
		if r.e.uplink != nil {
			r.e.uplink.SetRouting(on)
		}
	})
}

// Reconcile makes the kernel hold the unit's DesiredAddrs, then calls done
// (which sends the gratuitous ARPs for addresses really held). A reconcile
// that already ran since the request, with the same desired addresses,
// serves it.
func (r UnitRequests) Reconcile(done func()) {
	gen := r.e.recGen
	r.e.queue(func() {
		if r.e.recGen == gen {
			r.e.reconcileInterfaces()
		}
		if done != nil {
			done()
		}
	})
}

// Console prints a console message.
func (r UnitRequests) Console(msg string) { r.e.console(msg) }
