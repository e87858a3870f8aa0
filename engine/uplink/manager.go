package uplink

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"net/netip"
	"slices"
	"time"

	"failover/engine/clock"
	"failover/engine/config"
	"failover/engine/dataplane"
	"failover/engine/event"
	"failover/engine/probe"
)

// Options are the Manager's dependencies.
type Options struct {
	Log   *slog.Logger
	Clock clock.Clock
	DP    interface {
		dataplane.Links
		dataplane.Routes
	}
	Prober probe.Prober
	// Post runs a function on the engine's event loop. Probe results and
	// timer expiries come back through it and never touch state from
	// other goroutines.
	Post func(func())
	// Syslog receives PIX-style messages such as
	// "%PIX-6-622001: Adding tracked route ...".
	Syslog func(msg string)
	// Events receives track and route changes (nil: none).
	Events *event.Bus
}

// Manager runs SLAs, tracks and routes. See the package documentation.
type Manager struct {
	o   Options
	log *slog.Logger

	cfg     *config.Config
	started bool
	stopped bool
	routing bool // main-table routes wanted (SetRouting)

	ctx    context.Context // cancelled by Stop; probes run under it
	cancel context.CancelFunc

	links  map[string]dataplane.Link // by Linux name
	slas   map[int]*slaRun
	tracks map[int]*trackRun

	// selected is the route chosen per destination, as last logged;
	// installed is what the kernel holds as far as the last reconcile
	// knows (show route and the start-up hold read it).
	selected  map[netip.Prefix]config.Route
	installed map[netip.Prefix]config.Route

	// probeReady holds the links (HW names) whose probe table route and
	// rule the last reconcile saw in the kernel: until then a probe
	// through that uplink has no way out and its failure says nothing.
	probeReady map[string]bool

	// gateways is each uplink's probe-table next hop as last applied; a
	// change makes what its SLAs measured before meaningless.
	gateways map[string]netip.Addr

	// doneRoutes and doneRules are the probe tables and rules of the last
	// successful reconcile: a configuration change that keeps them and the
	// selected routes needs no look at the kernel.
	doneRoutes []dataplane.Route
	doneRules  []dataplane.Rule

	dirty    bool // the kernel may differ from what is desired
	retry    slot
	inflight int // probes started and not yet posted back (tests wait on it)
}

// New returns a Manager that does nothing until Start.
func New(o Options) *Manager {
	if o.Log == nil {
		o.Log = slog.New(slog.DiscardHandler)
	}
	if o.Clock == nil {
		o.Clock = clock.Real{}
	}
	if o.Syslog == nil {
		o.Syslog = func(string) {}
	}
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{
		o:         o,
		log:       o.Log,
		cfg:       config.New(),
		routing:   true,
		ctx:       ctx,
		cancel:    cancel,
		links:     map[string]dataplane.Link{},
		slas:      map[int]*slaRun{},
		tracks:    map[int]*trackRun{},
		selected:  map[netip.Prefix]config.Route{},
		installed: map[netip.Prefix]config.Route{},

		probeReady: map[string]bool{},
	}
}

// Start learns the links and the routes the engine already owns (a
// previous run may have left them), starts the SLAs and converges the
// kernel. Reconcile errors are retried, not returned; Start fails only
// when it cannot read the kernel's state at all.
func (m *Manager) Start() error {
	if m.started || m.stopped {
		return nil
	}
	links, err := m.o.DP.Links()
	if err != nil {
		return fmt.Errorf("failed to list links: %w", err)
	}
	for _, l := range links {
		m.links[l.Name] = l
	}
	owned, err := m.o.DP.OwnedRoutes()
	if err != nil {
		return fmt.Errorf("failed to list owned routes: %w", err)
	}
	m.learnInstalled(owned)
	m.started = true
	m.applyConfig()
	m.refresh(true)
	return nil
}

// learnInstalled maps owned main-table routes back to configured routes,
// so that the routes a previous run installed count as installed (no
// spurious "Adding" message, and the start-up hold can keep them).
func (m *Manager) learnInstalled(owned []dataplane.Route) {
	for _, o := range owned {
		if o.Table != 0 {
			continue
		}
		for _, r := range m.cfg.Routes {
			if f := m.cfg.IfByName(r.If); f != nil && r.Dst == o.Dst && r.Gw == o.Gw && f.HW == o.Link {
				m.installed[r.Dst] = r
				m.selected[r.Dst] = r
				break
			}
		}
	}
}

// Apply takes a new configuration: SLAs whose definition changed restart,
// tracks whose definition is unchanged keep their state, and routes are
// recomputed. c is the engine's published copy: the manager only reads it.
// A configuration whose interfaces, SLAs, tracks and routes are those
// already applied costs nothing, not even a look at the kernel.
func (m *Manager) Apply(c *config.Config) {
	if m.stopped {
		return
	}
	same := sameInputs(m.cfg, c)
	m.cfg = c
	if !m.started || same {
		return
	}
	m.applyConfig()
	m.refresh(m.uplinksChanged())
}

// sameInputs says whether two configurations agree on everything the
// manager reads.
func sameInputs(a, b *config.Config) bool {
	if a == b {
		return true
	}
	return slices.EqualFunc(a.Interfaces, b.Interfaces, func(x, y *config.Interface) bool { return *x == *y }) &&
		slices.Equal(a.Routes, b.Routes) &&
		maps.EqualFunc(a.SLAs, b.SLAs, func(x, y *config.SLA) bool { return *x == *y }) &&
		maps.EqualFunc(a.Tracks, b.Tracks, func(x, y *config.Track) bool {
			return x.ID == y.ID && x.SLA == y.SLA && x.List == y.List && slices.Equal(x.Objects, y.Objects) &&
				x.DelayDown == y.DelayDown && x.DelayUp == y.DelayUp
		})
}

func (m *Manager) applyConfig() {
	m.applySLAs()
	m.applyTracks()
	m.relearnChangedUplinks()
	m.evalTracks(nil)
}

// LinkChanged takes a link report. Carrier loss on an uplink withdraws its
// routes and fails its SLAs at once; carrier back makes them probe at once.
func (m *Manager) LinkChanged(l dataplane.Link) {
	if m.stopped {
		return
	}
	old, known := m.links[l.Name]
	m.links[l.Name] = l
	if !m.started {
		return
	}
	if known && old.Carrier == l.Carrier {
		m.refresh(true) // admin state or a kernel flush: check the kernel
		return
	}
	m.log.Info("link carrier", "link", l.Name, "carrier", l.Carrier)
	forced := map[int]bool{}
	for _, f := range m.cfg.Interfaces {
		if f.HW != l.Name || f.Name == "" {
			continue
		}
		for _, rt := range m.sortedSLAs() {
			if rt.cfg.If != f.Name {
				continue
			}
			if l.Carrier {
				m.carrierBack(rt)
			} else if m.carrierLost(rt, f.Name) {
				forced[rt.cfg.ID] = true
			}
		}
	}
	m.evalTracks(forced)
	m.refresh(true)
}

// SetRouting installs main-table routes only while on: while the failover
// unit holds its data addresses (active or standby alike: the standby's
// own traffic leaves from its standby addresses, which is harmless). A
// negotiating unit holds none, and a route through them cannot be
// installed. Probe tables and rules stay either way.
func (m *Manager) SetRouting(on bool) {
	if m.stopped || m.routing == on {
		return
	}
	m.log.Info("routing", "transition", fmt.Sprintf("%s -> %s", onOff(m.routing), onOff(on)))
	m.routing = on
	if m.started {
		m.refresh(true)
	}
}

// AddrsChanged tells the manager that addresses were removed from links:
// the kernel drops the routes through a subnet whose last address goes (a
// role change swaps the system and standby addresses), so the main table
// is compared with the kernel again and repaired.
func (m *Manager) AddrsChanged() {
	if m.started && !m.stopped {
		m.refresh(true)
	}
}

func onOff(on bool) string {
	if on {
		return "on"
	}
	return "off"
}

// Stop ends probing and timers. The kernel is left as it is so that a
// daemon restart does not interrupt traffic.
func (m *Manager) Stop() {
	if m.stopped {
		return
	}
	m.stopped = true
	m.cancel()
	m.disarm(&m.retry)
	for _, rt := range m.slas {
		m.stopSLA(rt)
	}
	for _, t := range m.tracks {
		m.disarm(&t.delay)
	}
}

func (m *Manager) now() time.Time { return m.o.Clock.Now() }

// slot holds at most one pending timer. Arming replaces it; an expiry that
// was already posted when the slot was re-armed or disarmed is dropped by
// the generation check, since clock timers cannot be recalled once fired.
type slot struct {
	t   clock.Timer
	gen uint64
}

func (m *Manager) arm(s *slot, d time.Duration, fn func()) {
	m.disarm(s)
	g := s.gen
	s.t = m.o.Clock.AfterFunc(d, func() {
		m.o.Post(func() {
			if m.stopped || s.gen != g {
				return
			}
			s.t = nil
			fn()
		})
	})
}

func (m *Manager) disarm(s *slot) {
	if s.t != nil {
		s.t.Stop()
		s.t = nil
	}
	s.gen++
}

func (s *slot) armed() bool { return s.t != nil }
