// Package engine owns the device's state on one event loop: the
// configuration, the uplink route tracker and the failover unit, and runs
// the commands about them. The operator sessions (engine/cli) are clients
// of it. Only the engine talks to the kernel, through the dataplane
// interfaces.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"reflect"
	"runtime"
	"sync/atomic"
	"time"

	"failover/engine/clock"
	"failover/engine/config"
	"failover/engine/dataplane"
	"failover/engine/probe"
	"failover/engine/version"
)

// Version is the product version shown by show version.
var Version = version.Number

// Uplink is the route-tracking manager (engine/uplink).
type Uplink interface {
	Start() error
	Apply(c *config.Config)
	LinkChanged(l dataplane.Link)
	SetRouting(on bool)
	AddrsChanged()
	Stop()
	ShowRoute(c *config.Config, held func(hw string) netip.Prefix) string
	ShowTrack(id int) string
	ShowSLAConfig(c *config.Config, id int) string
	ShowSLAOper(id int) string
}

// Unit is the failover unit (engine/unit).
type Unit interface {
	Apply(c *config.Config)
	LinkChanged(l dataplane.Link)
	DesiredAddrs() []dataplane.Addr
	ConfigReplicate(line string)
	RefuseConfig() (bool, string)
	FailoverActive() error
	NoFailoverActive() error
	Reset() error
	ReloadStandby() error
	WriteStandby() error
	ExecMate(cmd string, done func(out string, err error))
	// ExecTarget says whether `failover exec active|standby|mate` runs
	// here (local) or on the mate, or that the unit named is not there.
	ExecTarget(which string) (local bool, err error)
	ShowFailover() string
	ShowHistory() string
	// Show renders the other failover views: "state", "interface",
	// "statistics", "monitor-interface" (and "" or "history").
	Show(what string) string
	PromptTags() (prio, state string)
	// WriteMemory asks the mate to save its configuration too.
	WriteMemory() error
	// SendState sends a connection-state message to the mate.
	SendState(kind uint8, payload []byte) bool
	Stop()
}

// StateSync is stateful failover's connection replication
// (engine/statesync): it takes the configuration and answers the table
// size shows; the unit drives its roles.
type StateSync interface {
	Apply(c *config.Config)
	ShowConnCount() string
	ShowXlateCount() string
	Stop()
}

// Options configure an engine.
type Options struct {
	Log        *slog.Logger
	Clock      clock.Clock
	ConfigPath string // startup-config; "" = none (tests)
	DP         dataplane.Dataplane
	Prober     probe.Prober
	// NewUplink and NewUnit build the state machines; nil leaves the
	// feature out (unit tests of sessions).
	NewUplink func(e *Engine) Uplink
	NewUnit   func(e *Engine) Unit
	// NewStateSync builds connection replication; it is built before the
	// unit, which drives it (nil: none).
	NewStateSync func(e *Engine) StateSync
	// StatePath is where volatile state (burned-in MACs) is kept; put it on
	// tmpfs beside the socket. "" keeps it in memory only.
	StatePath string
}

// Engine is the daemon's core.
type Engine struct {
	log    *slog.Logger
	clk    clock.Clock
	path   string
	dp     dataplane.Dataplane
	prober probe.Prober

	ops   chan func()
	done  chan struct{}
	files *fileIO // file reads and writes, off the loop
	// later holds requests made on the loop (by the parts, through
	// UnitRequests): they run after the current turn, in order, so no part
	// is ever re-entered from inside its own call.
	later []func()

	// Everything below is touched only on the event loop.
	// cfg is the model: configuration lines change it in place. pub is
	// the copy last handed to the parts, never changed; dirty says cfg has
	// changes pub lacks (a batch, replicated lines), handed over once the
	// batch ends or the loop has nothing else queued.
	cfg      *config.Config
	pub      *config.Config
	dirty    bool
	batching bool // a session batch is running: publish at its end
	// pasting holds the changes of a session batch back for a moment:
	// the next batch of the same paste usually follows at once, and one
	// hand-over for all of them keeps a paste linear in its length.
	pasting     bool
	pasteTimer  clock.Timer
	publishCost time.Duration // how long the last hand-over took
	uplink      Uplink
	unit        Unit
	// stateSync replicates connections; it stops before the addresses
	// are released, so the kernel's flush of their masqueraded
	// connections never reaches the mate.
	stateSync StateSync
	logs      *logBuffer
	started   time.Time
	owned     map[string]dataplane.Addr // addresses this engine put on links
	adopted   map[string]bool           // links whose leftover addresses were adopted (adoptLeftovers)
	links     map[string]dataplane.Link
	ifsSeen   []ifaceKey // interface settings as the kernel was last reconciled with
	recGen    uint64     // counts interface reconciles (queued requests skip when one ran since)
	macs      *MACStore
	// mateShell runs the commands the mate asks with failover exec: the
	// sessions' interpreter (engine/cli), set before the loop runs them.
	mateShell atomic.Pointer[func(cmd string, done func(out string))]

	statePath string
	hw        hardware
	turns     uint64   // functions run on the loop, for tests of its cost
	obs       observer // event stream and published status (observe.go)
}

// New builds an engine and loads the startup-config. Lines of the
// startup-config that fail are logged and skipped: a device boots with
// what it can apply.
func New(o Options) (*Engine, error) {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	e := &Engine{
		log: o.Log, clk: o.Clock, path: o.ConfigPath, dp: o.DP, prober: o.Prober,
		ops: make(chan func(), 256), done: make(chan struct{}),
		cfg: config.New(), logs: newLogBuffer(o.Log), owned: map[string]dataplane.Addr{}, adopted: map[string]bool{},
		links: map[string]dataplane.Link{}, statePath: o.StatePath,
	}
	e.started = e.clk.Now()
	e.obs = newObserver(e.clk)
	e.files = startFileIO()
	e.hw = readHardware()
	if o.StatePath != "" {
		e.macs = NewMACStore(o.StatePath, o.Log)
		e.macs.submit = e.files.submit
	}
	if o.ConfigPath != "" {
		b, err := readRegular(o.ConfigPath)
		switch {
		case errors.Is(err, os.ErrNotExist):
			e.log.Info("no startup-config, starting with an empty configuration", "path", o.ConfigPath)
		case err != nil:
			return nil, fmt.Errorf("failed to read startup-config: %w", err)
		default:
			c, errs := config.ApplyLines(e.cfg, string(b))
			logRejected(e.log, errs)
			e.cfg = c
		}
	}
	if o.NewUplink != nil {
		e.uplink = o.NewUplink(e)
	}
	if o.NewStateSync != nil {
		e.stateSync = o.NewStateSync(e)
	}
	if o.NewUnit != nil {
		e.unit = o.NewUnit(e)
	}
	return e, nil
}

// StateSync returns connection replication, or nil (for the unit to drive).
func (e *Engine) StateSync() StateSync { return e.stateSync }

// SendState sends a connection-state message to the mate through the unit
// (loop only). Like the unit's requests it is queued, so that neither part
// is re-entered from inside a call of the other; failed, if not nil, runs
// when the message could not be sent.
func (e *Engine) SendState(kind uint8, payload []byte, failed func()) {
	e.queue(func() {
		if (e.unit == nil || !e.unit.SendState(kind, payload)) && failed != nil {
			failed()
		}
	})
}

// Clock returns the engine's clock (for the state machines it builds).
func (e *Engine) Clock() clock.Clock { return e.clk }

// Log returns the engine's logger.
func (e *Engine) Log() *slog.Logger { return e.log }

// DP returns the dataplane.
func (e *Engine) DP() dataplane.Dataplane { return e.dp }

// Prober returns the ICMP prober.
func (e *Engine) Prober() probe.Prober { return e.prober }

// Post runs f on the event loop without waiting. State machines use it
// to hand back results from their goroutines and timers.
func (e *Engine) Post(f func()) {
	select {
	case e.ops <- f:
	case <-e.done:
	}
}

// do runs f on the event loop and waits for it. Configuration changes not
// yet handed to the parts are handed over first, so a session (or a test)
// never sees the model ahead of the kernel.
func (e *Engine) do(f func()) {
	e.doOnLoop(true, f)
}

// doOnLoop is do; without flush, changes of a paste still pending stay
// pending (the next batch of the same paste).
func (e *Engine) doOnLoop(flush bool, f func()) {
	ch := make(chan struct{})
	e.Post(func() {
		if flush {
			e.flush()
		}
		f()
		close(ch)
	})
	select {
	case <-ch:
	case <-e.done:
	}
}

// Run is the event loop. It returns when ctx ends.
func (e *Engine) Run(ctx context.Context) error {
	defer close(e.done)
	if e.dp != nil {
		go func() {
			err := e.dp.WatchLinks(ctx, func(l dataplane.Link) { e.Post(func() { e.linkChanged(l) }) })
			if err != nil && ctx.Err() == nil {
				e.log.Error("failed to watch links", "err", err)
			}
		}()
		e.readLinks()
	}
	// The configuration goes in first: the uplink tracker reconciles the
	// kernel against it at Start, and must not see an empty one.
	e.publishConfig()
	if e.uplink != nil {
		if err := e.uplink.Start(); err != nil {
			e.log.Error("failed to start uplink tracking", "err", err)
		}
	}
	e.runLater()
	e.cleanTemps()
	// The refresh runs on the engine's clock, so that a test with a fake
	// clock decides when it happens.
	refresh := make(chan struct{}, 1)
	var refreshTimer clock.Timer
	arm := func() {
		refreshTimer = e.clk.AfterFunc(time.Second, func() {
			select {
			case refresh <- struct{}{}:
			default:
			}
		})
	}
	arm()
	defer func() { refreshTimer.Stop() }()
	for {
		select {
		case <-ctx.Done():
			if e.stateSync != nil {
				e.stateSync.Stop()
			}
			if e.unit != nil {
				e.unit.Stop()
			}
			e.releaseSystemAddrs()
			if e.uplink != nil {
				e.uplink.Stop()
			}
			if !e.files.stop(5 * time.Second) {
				e.log.Error("file writes still pending at exit: the disk does not answer")
			}
			return nil
		case f := <-e.ops:
			e.turns++
			t0 := time.Now()
			f()
			if d := time.Since(t0); d > 10*time.Millisecond {
				// Every turn delays the hellos and timers behind it.
				e.log.Debug("slow event loop turn", "took", d, "fn", runtime.FuncForPC(reflect.ValueOf(f).Pointer()).Name())
			}
		case <-refresh:
			// Address lifetimes of system addresses are refreshed here, and
			// any kernel drift (an address removed by hand) is repaired.
			e.reconcileInterfaces()
			arm()
		}
		e.runLater()
		if e.dirty && !e.pasting && len(e.ops) == 0 {
			e.publishConfig()
		}
	}
}

// queue runs f on the loop after the current turn (loop only). It never
// blocks, unlike Post, whose channel only the loop itself drains.
func (e *Engine) queue(f func()) { e.later = append(e.later, f) }

// runLater runs the queued requests, including those they queue.
func (e *Engine) runLater() {
	for len(e.later) > 0 {
		f := e.later[0]
		e.later[0] = nil
		e.later = e.later[1:]
		f()
	}
}

// Syslog records a PIX-style message ("%PIX-6-622001: ...") in the
// logging buffer and sends it to the configured syslog hosts.
func (e *Engine) Syslog(msg string) {
	e.log.Info("syslog", "msg", msg)
	e.logs.add(e.clk.Now(), msg, e.cfg)
}

// Config returns the running configuration (loop only).
func (e *Engine) Config() *config.Config { return e.cfg }

// ConfigSnapshot returns the running configuration from any goroutine: the
// published copy, which nobody changes.
func (e *Engine) ConfigSnapshot() *config.Config {
	var c *config.Config
	e.do(func() { c = e.pub })
	return c
}

// changed records a change of the model (loop only): it is handed to the
// parts now, or at the end of the session batch that made it.
func (e *Engine) changed() {
	e.dirty = true
	if !e.batching {
		e.publishConfig()
	}
}

// published is the configuration the parts and the kernel were given
// (the model before the first hand-over), loop only: the kernel follows
// it, not changes still pending.
func (e *Engine) published() *config.Config {
	if e.pub != nil {
		return e.pub
	}
	return e.cfg
}

// flush hands pending changes of the model to the parts (loop only).
func (e *Engine) flush() {
	if e.dirty {
		e.publishConfig()
	}
}

// publishConfig copies the model once and hands the copy to every part.
func (e *Engine) publishConfig() {
	t0 := time.Now() // the cost in CPU time, whatever clock the engine runs on
	e.pub = e.cfg.Clone()
	e.dirty, e.pasting = false, false
	e.configChanged()
	e.publishCost = time.Since(t0)
}

// Bounds of the pause before the changes of a session batch are handed
// over: ten hand-overs' worth, so they take at most about a tenth of a
// paste's time however large the configuration grows.
const (
	minPastePause = 20 * time.Millisecond
	maxPastePause = time.Second
)

// pastePause hands the changes of a session batch over after a pause, or
// earlier when anything else needs them (loop only).
func (e *Engine) pastePause() {
	if !e.dirty {
		return
	}
	e.pasting = true
	if e.pasteTimer != nil {
		return
	}
	d := min(max(10*e.publishCost, minPastePause), maxPastePause)
	e.pasteTimer = e.clk.AfterFunc(d, func() {
		e.Post(func() {
			e.pasteTimer = nil
			e.flush()
		})
	})
}

// configChanged hands the configuration to each part once and then makes
// the kernel match it once: first the unit (which decides the addresses),
// then the interfaces (links, addresses), then the uplink's routes, which
// need the addresses in place for their gateways to be reachable. A part
// that needs something of the engine queues a request (UnitRequests); it
// runs after this turn, never from inside the part's own call.
func (e *Engine) configChanged() {
	// Logging first: the messages the parts send as they apply the change
	// ("Enabling failover.") go to the targets of the same configuration.
	e.logs.configure(e.pub)
	if e.stateSync != nil {
		e.stateSync.Apply(e.pub)
	}
	if e.unit != nil {
		e.unit.Apply(e.pub)
	}
	e.reconcileInterfacesIfChanged()
	if e.uplink != nil {
		e.uplink.Apply(e.pub)
	}
}

// applyReplicated applies one command received from the active mate: the
// line, preceded by the lines that enter its sub-mode (config.ContextLines).
// Lines arriving back to back are handed to the parts once, when the loop
// has caught up with them.
func (e *Engine) applyReplicated(line string) error {
	errs := config.ChangeLines(e.cfg, line)
	e.dirty = true
	if len(errs) > 0 {
		return errs[0]
	}
	e.configEvent("mate", lastLine(line))
	return nil
}

// replaceConfig replaces everything but the unit-local lines with text
// (bulk synchronisation from the active mate).
func (e *Engine) replaceConfig(text string) error {
	c, errs := config.ApplyLines(config.New(), text)
	e.cfg = config.KeepLocal(e.cfg, c)
	e.dirty = true
	e.configEvent("mate", "(whole configuration)")
	if len(errs) > 0 {
		return fmt.Errorf("failed to apply %d replicated lines, first: %w", len(errs), errs[0])
	}
	return nil
}

// execShow runs a command for the mate (`failover exec` there) in the
// sessions' interpreter; done gets its output on the loop.
func (e *Engine) execShow(cmd string, done func(out string)) {
	run := e.mateShell.Load()
	if run == nil {
		done("ERROR: failover exec is not available\n")
		return
	}
	(*run)(cmd, done)
}

// console prints a console message (logged; the --console session shows
// the log).
func (e *Engine) console(msg string) {
	e.log.Info("console", "msg", msg)
	e.logs.console(e.clk.Now(), msg, e.cfg)
}

// MACs is the burned-in MAC store, or nil.
func (e *Engine) MACs() *MACStore { return e.macs }

// Turns counts the functions run on the loop (loop only), for tests of
// what a line costs.
func (e *Engine) Turns() uint64 { return e.turns }
