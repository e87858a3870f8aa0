package engine

import (
	"errors"
	"strings"

	"failover/engine/api"
	"failover/engine/config"
	"failover/grammar"
)

// What the operator sessions (engine/cli) use of the engine. Sessions
// keep their own state; they reach the model, the parts and the loop
// only through these methods.

// Do runs f on the event loop and waits for it. Configuration changes not
// yet handed to the parts are handed over first, so a session never sees
// the model ahead of the kernel.
func (e *Engine) Do(f func()) { e.do(f) }

// Batch runs f on the loop and waits for it, as a session batch: the
// configuration changes f makes are handed to the parts together, a moment
// after it (the next batch of a paste usually follows at once), or before
// anything else reads them. Changes of a paste still pending when f starts
// stay pending.
func (e *Engine) Batch(f func()) {
	e.doOnLoop(false, func() {
		e.batching = true
		defer func() {
			e.batching = false
			e.pastePause()
		}()
		f()
	})
}

// Done is closed when the event loop has ended.
func (e *Engine) Done() <-chan struct{} { return e.done }

// Flush hands pending changes of the model to the parts (loop only).
func (e *Engine) Flush() { e.flush() }

// SetMateShell sets the interpreter that runs the commands the mate asks
// with failover exec.
func (e *Engine) SetMateShell(run func(cmd string, done func(out string))) {
	e.mateShell.Store(&run)
}

// HardwareIDs are the names Tab offers for a hardware_id (loop only).
func (e *Engine) HardwareIDs() []string { return e.hardwareIDs() }

// PromptTags are the failover unit's priority and state for the prompt,
// or "" without failover (loop only).
func (e *Engine) PromptTags() (prio, state string) {
	if e.unit == nil {
		return "", ""
	}
	return e.unit.PromptTags()
}

// ErrNoFailover is the answer of the failover commands on an engine
// without a failover unit.
var ErrNoFailover = errors.New("failover is not available")

// ExecTarget says whether `failover exec active|standby|mate` runs here
// (local) or on the mate, or that the unit named is not there (loop only).
func (e *Engine) ExecTarget(which string) (local bool, err error) {
	if e.unit == nil {
		return false, ErrNoFailover
	}
	return e.unit.ExecTarget(which)
}

// ExecMate runs cmd on the mate; done gets its output or error on the loop
// (loop only).
func (e *Engine) ExecMate(cmd string, done func(out string, err error)) {
	if e.unit == nil {
		done("", ErrNoFailover)
		return
	}
	e.unit.ExecMate(cmd, done)
}

// Configure applies a configuration command a session typed in context x
// (loop only); on the active unit it is replicated to the standby with
// the lines that enter its sub-mode. who names the session in the event
// stream, logAttrs in the log.
func (e *Engine) Configure(inv *grammar.Invocation, line string, x *config.Ctx, who string, logAttrs []any) api.Reply {
	local := config.IsUnitLocal(e.cfg, inv.Decl, inv.Values)
	if e.unit != nil && !local {
		if refuse, warn := e.unit.RefuseConfig(); refuse {
			return api.Reply{Err: warn}
		}
	}
	ctxLines := config.ContextLines(e.cfg, inv.Mode, config.ObjFor(x.Mode, x.Obj, inv.Mode))
	if err := config.Change(e.cfg, inv, x); err != nil {
		return api.Reply{Err: api.ErrorText(err)}
	}
	masked := maskSecrets(inv, line)
	e.log.Info("configuration changed", append(logAttrs, "line", masked)...)
	e.changed()
	e.configEvent(who, masked)
	if e.unit != nil && !local {
		e.unit.ConfigReplicate(strings.Join(append(ctxLines, strings.TrimSpace(line)), "\n"))
	}
	return api.Reply{Output: joinLines(x.Warnings)}
}

// maskSecrets hides the password or key a configuration line carries, for
// the log.
func maskSecrets(inv *grammar.Invocation, line string) string {
	f := strings.Fields(line)
	for _, name := range []string{"password", "secret"} {
		v := inv.Values[name]
		if v == "" {
			continue
		}
		for i, w := range f {
			if w == v {
				f[i] = config.MaskedKey
			}
		}
	}
	return strings.Join(f, " ")
}

func joinLines(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return strings.Join(l, "\n") + "\n"
}
