package unit

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"failover/engine/clock"
	"failover/engine/config"
	"failover/engine/dataplane"
	"failover/engine/dataplane/dataplanetest"
	"failover/engine/transport"
)

// Link names are the same on both boxes, as in the lab.
const (
	hwFO  = "eth-fo"
	hwOut = "eth-out"
	hwIn  = "eth-in"
)

var allLinks = []string{hwFO, hwOut, hwIn}

// events is a log shared by both units' hooks, to check ordering across
// units (who took the addresses first).
type events struct{ list []string }

func (e *events) add(s string) { e.list = append(e.list, s) }

func (e *events) index(s string) int { return slices.Index(e.list, s) }

// fakeHooks plays the engine for one unit. It answers every request at
// once: the unit must cope with that too.
type fakeHooks struct {
	name     string
	dp       *dataplanetest.Fake
	u        *Unit
	ev       *events
	applied  []string
	replaced []string
	console  []string
	writes   int
	routing  []bool
}

func (h *fakeHooks) ApplyReplicated(line string) { h.applied = append(h.applied, line) }
func (h *fakeHooks) ReplaceConfig(text string)   { h.replaced = append(h.replaced, text) }
func (h *fakeHooks) WriteMemory()                { h.writes++ }
func (h *fakeHooks) ExecShow(cmd string, reply func(string)) {
	reply(h.name + " ran " + cmd + "\n")
}
func (h *fakeHooks) RoutingChanged(on bool) {
	h.routing = append(h.routing, on)
	h.ev.add(h.name + " routing " + map[bool]string{true: "on", false: "off"}[on])
}
func (h *fakeHooks) Console(msg string) { h.console = append(h.console, msg) }

// Reconcile applies DesiredAddrs to the fake kernel, as the engine does:
// stale addresses go first, because deleting a subnet's primary address
// takes the secondaries added after it along.
func (h *fakeHooks) Reconcile(done func()) {
	defer func() {
		if done != nil {
			done()
		}
	}()
	desired := h.u.DesiredAddrs()
	want := map[dataplane.Addr]bool{}
	for _, a := range desired {
		a.ValidLft = 0
		want[a] = true
	}
	for _, l := range allLinks {
		have, _ := h.dp.Addrs(l)
		for _, a := range have {
			a.ValidLft = 0
			if !want[a] {
				_ = h.dp.AddrDel(a)
			}
		}
	}
	for _, a := range desired {
		if err := h.dp.AddrReplace(a); err != nil {
			panic(err)
		}
	}
	h.ev.add(h.name + " reconcile " + h.u.State().String())
}

// node is one unit under test with its fake kernel.
type node struct {
	name   string
	u      *Unit
	ep     *transport.MemEndpoint
	dp     *dataplanetest.Fake
	hooks  *fakeHooks
	ss     *fakeStateSync
	syslog []string
	cfg    *config.Config
}

type pair struct {
	stateful bool // units get a fakeStateSync
	trace    bool // MAC changes, mutes, gratuitous ARPs and control messages go to ev too (switchover_test.go)
	t        *testing.T
	net      *transport.MemNetwork
	clk      *clock.Fake
	ev       *events
	nodes    []*node
}

func newPair(t *testing.T) *pair {
	return &pair{t: t, net: transport.NewMemNetwork(), clk: clock.NewFake(), ev: &events{}}
}

// testConfig is a pair's configuration; unit is "primary" or "secondary".
func testConfig(unit string) *config.Config {
	c := config.New()
	mk := func(hw, name, sys, stby string) *config.Interface {
		return &config.Interface{HW: hw, Name: name, Security: 100, MTU: 1500,
			Addr: netip.MustParsePrefix(sys), StandbyIP: netip.MustParseAddr(stby)}
	}
	c.Interfaces = []*config.Interface{
		mk(hwOut, "outside", "198.51.100.1/24", "198.51.100.2"),
		mk(hwIn, "inside", "203.0.113.1/24", "203.0.113.2"),
		mk(hwFO, "failover", "192.0.2.1/30", "192.0.2.2"),
	}
	c.Failover.Enabled = true
	c.Failover.Unit = unit
	c.Failover.LanIf = "failover"
	c.Failover.Link = "failover"
	return c
}

// add starts a unit called name ("A", "B") with cfg. macBase makes the
// burned-in MACs of the two boxes differ.
func (p *pair) add(name string, cfg *config.Config) *node {
	p.t.Helper()
	n := &node{name: name, cfg: cfg}
	for _, old := range p.nodes {
		if old.name == name {
			n.dp = old.dp // a restarted unit keeps its box
		}
	}
	if n.dp == nil {
		n.dp = dataplanetest.NewFake()
		for i, l := range allLinks {
			mac := "02:00:00:0" + strings.ToLower(name[:1]) + ":00:0" + string(rune('1'+i))
			if err := n.dp.AddLink(l, mac); err != nil {
				p.t.Fatal(err)
			}
		}
	}
	n.ep = p.net.Endpoint(name)
	n.hooks = &fakeHooks{name: name, dp: n.dp, ev: p.ev}
	o := Options{
		Clock: p.clk, DP: &traceDP{Fake: n.dp, name: name, p: p}, Transport: n.ep,
		Post:       func(f func()) { f() },
		Syslog:     func(m string) { n.syslog = append(n.syslog, m) },
		Hooks:      n.hooks,
		manualRecv: true,
	}
	if p.stateful {
		n.ss = &fakeStateSync{name: name, ev: p.ev}
		o.StateSync = n.ss
	}
	n.u = New(o)
	n.hooks.u = n.u
	p.nodes = slices.DeleteFunc(p.nodes, func(o *node) bool { return o.name == name })
	p.nodes = append(p.nodes, n)
	n.u.Apply(cfg)
	p.settle()
	return n
}

// running is the configuration the unit copies to its mate.
func (n *node) running() string {
	return config.Text(config.Render(n.u.cfg, config.RenderOpts{Secrets: true, SkipUnitLocal: true}))
}

// stop stops a unit cleanly and unplugs it from the network.
func (p *pair) stop(n *node) {
	n.u.Stop()
	p.settle()
	_ = n.ep.Close()
	p.nodes = slices.DeleteFunc(p.nodes, func(o *node) bool { return o == n })
}

// settle delivers every queued packet, until nobody has anything to say.
func (p *pair) settle() {
	for range 10000 {
		progressed := false
		for _, n := range p.nodes {
			ch := n.ep.Recv()
			for more := true; more; {
				select {
				case pk, ok := <-ch:
					if !ok {
						more = false
						break
					}
					p.traceRecv(n.name, pk)
					n.u.handlePacket(pk, len(ch))
					progressed = true
				default:
					more = false
				}
			}
		}
		if !progressed {
			return
		}
	}
	p.t.Fatal("network never settled")
}

// run advances the clock by d in small steps, delivering as it goes.
func (p *pair) run(d time.Duration) {
	const step = 100 * time.Millisecond
	for d > 0 {
		s := min(step, d)
		p.clk.Advance(s)
		p.settle()
		d -= s
	}
}

// until runs until cond holds or limit passes, and returns the time taken.
func (p *pair) until(limit time.Duration, cond func() bool) (time.Duration, bool) {
	start := p.clk.Now()
	for !cond() {
		if p.clk.Now().Sub(start) >= limit {
			return limit, false
		}
		p.run(100 * time.Millisecond)
	}
	return p.clk.Now().Sub(start), true
}

func (n *node) addrs(t *testing.T) []string {
	t.Helper()
	out, err := n.dp.AddrList(allLinks...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (n *node) logged(id string) bool {
	for _, m := range n.syslog {
		if strings.Contains(m, id) {
			return true
		}
	}
	return false
}

// bootstrap starts a primary and a secondary together and waits for them
// to settle as active/standby.
func bootstrap(t *testing.T) (*pair, *node, *node) {
	t.Helper()
	return bootstrapWith(t, func(*config.Config) {})
}

// bootstrapWith is bootstrap with both configurations changed by edit.
func bootstrapWith(t *testing.T, edit func(*config.Config)) (*pair, *node, *node) {
	t.Helper()
	p := newPair(t)
	ca, cb := testConfig("primary"), testConfig("secondary")
	edit(ca)
	edit(cb)
	a := p.add("A", ca)
	b := p.add("B", cb)
	if _, ok := p.until(time.Minute, func() bool { return a.u.State() == Active && b.u.State() == Standby }); !ok {
		t.Fatalf("no active/standby pair: A %s, B %s", a.u.State(), b.u.State())
	}
	return p, a, b
}

// fastTimers sets unit timers of 300 ms / 1 s, a hold time that is no
// multiple of the unit's tick.
func fastTimers(c *config.Config) {
	c.Failover.Poll, c.Failover.Hold = 300*time.Millisecond, time.Second
	c.Failover.PollMsec, c.Failover.HoldMsec = true, true
}

// waitARPWatch waits until n watches ARP on the data links: the watchers
// are goroutines, so they get real time to start.
func waitARPWatch(t *testing.T, n *node) {
	t.Helper()
	for _, l := range []string{hwOut, hwIn} {
		deadline := time.Now().Add(5 * time.Second)
		for n.dp.ARPWatchers(l) == 0 {
			if time.Now().After(deadline) {
				t.Fatalf("%s does not watch ARP on %s", n.name, l)
			}
			time.Sleep(time.Millisecond)
		}
	}
}

func wantState(t *testing.T, n *node, s State) {
	t.Helper()
	if got := n.u.State(); got != s {
		t.Fatalf("%s: state %s, want %s\nhistory:\n%s", n.name, got, s, n.u.ShowHistory())
	}
}
