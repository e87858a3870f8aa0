// Package cli is the operator's side of the engine: sessions (mode,
// privilege, history, terminal settings, the enable password and its
// guard), the dispatch of the commands that belong to a session, and the
// control socket that serves sessions to fosh. It reaches the engine only
// through the Engine interface; the engine keeps the event loop, the
// model, the reconcile and the parts, and runs the commands about them.
package cli

import (
	"io"
	"log/slog"
	"net"

	"failover/engine/api"
	"failover/engine/config"
	"failover/grammar"
)

// Engine is what sessions need of the engine. Methods marked "loop only"
// are called from inside Do or Batch.
type Engine interface {
	// Do runs f on the event loop and waits for it, after the changes
	// not yet handed to the parts are handed over.
	Do(f func())
	// Batch runs f on the loop and waits for it, holding the changes f
	// makes back for a moment: the next batch of a paste usually follows.
	Batch(f func())
	// Post runs f on the loop without waiting.
	Post(f func())
	// Done is closed when the engine's loop has ended.
	Done() <-chan struct{}
	Log() *slog.Logger
	// Syslog records a PIX-style message (loop only).
	Syslog(msg string)
	// Config is the running configuration (loop only; read, never change).
	Config() *config.Config
	// Flush hands pending changes to the parts (loop only).
	Flush()
	// Configure applies a configuration command parsed in context x
	// (loop only): the model, the log and event stream naming who, and
	// replication to the standby. It sets x's next mode.
	Configure(inv *grammar.Invocation, line string, x *config.Ctx, who string, logAttrs []any) api.Reply
	// Command runs an EXEC command about the engine's state (loop only);
	// wait, when not nil, finishes it outside the loop.
	Command(inv *grammar.Invocation) (r api.Reply, wait func() api.Reply)
	// PromptTags are the failover tags of the prompt (loop only).
	PromptTags() (prio, state string)
	// HardwareIDs are the link names Tab offers (loop only).
	HardwareIDs() []string
	Status() *api.Status
	// ExecTarget says whether `failover exec active|standby|mate` runs
	// here or on the mate (loop only).
	ExecTarget(which string) (local bool, err error)
	// ExecMate runs a command on the mate; done runs on the loop (loop only).
	ExecMate(cmd string, done func(out string, err error))
	// StreamEvents turns a control connection into the event stream.
	StreamEvents(conn net.Conn, r io.Reader)
	// SetMateShell gives the engine the command interpreter that runs
	// what the mate asks with failover exec.
	SetMateShell(run func(cmd string, done func(out string)))
}

// CLI is one engine's sessions: they share the password guard, the
// session numbers and the session the mate's failover exec runs in.
type CLI struct {
	e   Engine
	lim Limits
	pw  *pwGuard
	// Loop only.
	sessions int
	mateExec *Session // commands the mate runs here with failover exec
}

// New attaches the operator sessions to e, with the control socket's
// limits (zero fields: DefaultLimits). One per engine.
func New(e Engine, lim Limits) *CLI {
	c := &CLI{e: e, lim: lim.withDefaults(), pw: newPWGuard()}
	e.SetMateShell(c.execForMate)
	return c
}

// execForMate runs a command for the mate (`failover exec` there); done
// gets its output on the loop (loop only). As on ASA the commands run in
// one command mode of their own, global configuration mode at first and
// kept between requests, so `failover exec active hostname x` typed on the
// standby configures the active unit, which replicates it as any other
// line; on the standby, configuration commands are refused as when typed
// here. A command that reads a file does so off the loop.
func (c *CLI) execForMate(cmd string, done func(out string)) {
	if isFailoverExec(cmd) {
		done("ERROR: failover exec cannot run failover exec\n")
		return
	}
	if c.mateExec == nil {
		c.mateExec = c.newExecSession(matePeer)
	}
	r, wait := c.mateExec.execOnLoop(cmd, "")
	if wait == nil {
		done(r.Output + r.Err)
		return
	}
	go func() {
		r := wait()
		c.e.Post(func() { done(r.Output + r.Err) })
	}()
}
