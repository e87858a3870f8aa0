// Package engine owns the device's state on one event loop: the
// configuration, the uplink route tracker, the failover unit and the
// operator sessions, which are clients of it. Only the engine talks to the
// kernel, through the dataplane interfaces.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"strings"
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
	SetActive(active bool)
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
	WriteStandby() error
	ExecMate(cmd string, done func(out string, err error))
	ShowFailover() string
	ShowHistory() string
	PromptTags() (prio, state string)
	// WriteMemory asks the mate to save its configuration too.
	WriteMemory() error
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

	// Everything below is touched only on the event loop.
	cfg      *config.Config
	uplink   Uplink
	unit     Unit
	logs     *logBuffer
	started  time.Time
	owned    map[string]dataplane.Addr // addresses this engine put on links
	links    map[string]dataplane.Link
	sessions int
	macs     *MACStore

	statePath string
	hw        hardware
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
		cfg: config.New(), logs: newLogBuffer(), owned: map[string]dataplane.Addr{},
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
	if o.NewUnit != nil {
		e.unit = o.NewUnit(e)
	}
	return e, nil
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

// do runs f on the event loop and waits for it.
func (e *Engine) do(f func()) {
	ch := make(chan struct{})
	e.Post(func() { f(); close(ch) })
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
	e.configChanged()
	if e.uplink != nil {
		if err := e.uplink.Start(); err != nil {
			e.log.Error("failed to start uplink tracking", "err", err)
		}
	}
	e.cleanTemps()
	refresh := time.NewTicker(time.Second)
	defer refresh.Stop()
	for {
		select {
		case <-ctx.Done():
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
			f()
		case <-refresh.C:
			// Address lifetimes of system addresses are refreshed here, and
			// any kernel drift (an address removed by hand) is repaired.
			e.reconcileInterfaces()
		}
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

// ConfigSnapshot returns the running configuration from any goroutine.
func (e *Engine) ConfigSnapshot() *config.Config {
	var c *config.Config
	e.do(func() { c = e.cfg })
	return c
}

// configChanged pushes a new configuration to every part of the engine.
func (e *Engine) configChanged() {
	e.reconcileInterfaces()
	if e.uplink != nil {
		e.uplink.Apply(e.cfg)
	}
	if e.unit != nil {
		e.unit.Apply(e.cfg)
	}
	e.logs.configure(e.cfg)
}

// RunningConfig renders the configuration for replication (no unit-local
// lines, secrets included).
func (e *Engine) RunningConfig() string {
	return config.Text(config.Render(e.cfg, config.RenderOpts{Secrets: true, SkipUnitLocal: true}))
}

// ApplyReplicated applies one command received from the active mate: the
// line, preceded by the lines that enter its sub-mode (config.ContextLines).
func (e *Engine) ApplyReplicated(line string) error {
	c, errs := config.ApplyLines(e.cfg, line)
	if len(errs) > 0 {
		return errs[0]
	}
	e.cfg = c
	e.configChanged()
	e.configEvent("mate", lastLine(line))
	return nil
}

// ReplaceConfig replaces everything but the unit-local lines with text
// (bulk synchronisation from the active mate).
func (e *Engine) ReplaceConfig(text string) error {
	c, errs := config.ApplyLines(config.New(), text)
	e.cfg = config.KeepLocal(e.cfg, c)
	e.configChanged()
	e.configEvent("mate", "(whole configuration)")
	if len(errs) > 0 {
		return fmt.Errorf("failed to apply %d replicated lines, first: %w", len(errs), errs[0])
	}
	return nil
}

// ExecShow runs a show command for the mate ("failover exec mate");
// done gets its output on the loop. A command that reads a file does so
// off the loop.
func (e *Engine) ExecShow(cmd string, done func(out string)) {
	if !strings.HasPrefix(strings.TrimSpace(cmd), "sh") {
		done("ERROR: only show commands can be run on the mate\n")
		return
	}
	s := e.newSessionOnLoop(true)
	s.priv = true // the mate's operator is already privileged, as on ASA
	r, wait := s.execOnLoop(cmd)
	if wait == nil {
		done(r.Output + r.Err)
		return
	}
	go func() {
		r := wait()
		e.Post(func() { done(r.Output + r.Err) })
	}()
}

// Console prints a console message (logged; the --console session shows
// the log).
func (e *Engine) Console(msg string) {
	e.log.Info("console", "msg", msg)
	e.logs.console(e.clk.Now(), msg)
}

// ActiveChanged tells the uplink tracker whether to install routes.
func (e *Engine) ActiveChanged(active bool) {
	if e.uplink != nil {
		e.uplink.SetActive(active)
	}
}

// MACs is the burned-in MAC store, or nil.
func (e *Engine) MACs() *MACStore { return e.macs }

// Reconcile applies the failover unit's desired addresses now.
func (e *Engine) Reconcile() { e.reconcileInterfaces() }
