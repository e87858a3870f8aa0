package engine_test

import (
	"context"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"failover/engine/clock"
	"failover/engine/config"
	"failover/engine/dataplane"
	"failover/engine/dataplane/dataplanetest"
	"failover/engine/probe/probetest"
	"failover/engine/transport"
	"failover/engine/unit"
	"failover/engine/uplink"

	. "failover/engine"
)

// countingDP counts the kernel calls made through it.
type countingDP struct {
	*dataplanetest.Fake
	mu sync.Mutex
	n  map[string]int
}

func (c *countingDP) count(method string) {
	c.mu.Lock()
	c.n[method]++
	c.mu.Unlock()
}

// take returns the counts so far and starts counting again from zero.
func (c *countingDP) take() map[string]int {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := c.n
	c.n = map[string]int{}
	return n
}

func (c *countingDP) Links() ([]dataplane.Link, error) { c.count("Links"); return c.Fake.Links() }
func (c *countingDP) Link(n string) (dataplane.Link, error) {
	c.count("Link")
	return c.Fake.Link(n)
}
func (c *countingDP) SetAdminUp(n string, up bool) error {
	c.count("SetAdminUp")
	return c.Fake.SetAdminUp(n, up)
}
func (c *countingDP) SetMTU(n string, mtu int) error { c.count("SetMTU"); return c.Fake.SetMTU(n, mtu) }
func (c *countingDP) SetMAC(n string, m net.HardwareAddr) error {
	c.count("SetMAC")
	return c.Fake.SetMAC(n, m)
}
func (c *countingDP) Addrs(n string) ([]dataplane.Addr, error) {
	c.count("Addrs")
	return c.Fake.Addrs(n)
}
func (c *countingDP) AddrReplace(a dataplane.Addr) error {
	c.count("AddrReplace")
	return c.Fake.AddrReplace(a)
}
func (c *countingDP) AddrDel(a dataplane.Addr) error { c.count("AddrDel"); return c.Fake.AddrDel(a) }
func (c *countingDP) OwnedRoutes() ([]dataplane.Route, error) {
	c.count("OwnedRoutes")
	return c.Fake.OwnedRoutes()
}
func (c *countingDP) RouteReplace(r dataplane.Route) error {
	c.count("RouteReplace")
	return c.Fake.RouteReplace(r)
}
func (c *countingDP) RouteDel(r dataplane.Route) error {
	c.count("RouteDel")
	return c.Fake.RouteDel(r)
}
func (c *countingDP) OwnedRules() ([]dataplane.Rule, error) {
	c.count("OwnedRules")
	return c.Fake.OwnedRules()
}
func (c *countingDP) RuleAdd(r dataplane.Rule) error { c.count("RuleAdd"); return c.Fake.RuleAdd(r) }
func (c *countingDP) RuleDel(r dataplane.Rule) error { c.count("RuleDel"); return c.Fake.RuleDel(r) }
func (c *countingDP) GratuitousARP(l string, ip netip.Addr) error {
	c.count("GratuitousARP")
	return c.Fake.GratuitousARP(l, ip)
}
func (c *countingDP) ARPRequest(l string, ip netip.Addr) error {
	c.count("ARPRequest")
	return c.Fake.ARPRequest(l, ip)
}
func (c *countingDP) BroadcastPing(l string, src, b netip.Addr) error {
	c.count("BroadcastPing")
	return c.Fake.BroadcastPing(l, src, b)
}
func (c *countingDP) Neighbors(l string) ([]dataplane.Neighbor, error) {
	c.count("Neighbors")
	return c.Fake.Neighbors(l)
}

// reentry watches the borders between the engine and its unit: the unit
// must never be called while it is itself calling the engine (a request
// answered synchronously), nor while another of its calls is running.
type reentry struct {
	mu     sync.Mutex
	inHook bool
	depth  int
	bad    []string
}

func (r *reentry) enterUnit(method string) func() {
	r.mu.Lock()
	if r.inHook {
		r.bad = append(r.bad, "unit."+method+" called from inside a unit request")
	}
	if r.depth > 0 {
		r.bad = append(r.bad, "unit."+method+" called from inside another unit call")
	}
	r.depth++
	r.mu.Unlock()
	return func() { r.mu.Lock(); r.depth--; r.mu.Unlock() }
}

func (r *reentry) hook(f func()) {
	r.mu.Lock()
	r.inHook = true
	r.mu.Unlock()
	f()
	r.mu.Lock()
	r.inHook = false
	r.mu.Unlock()
}

func (r *reentry) problems() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.bad...)
}

// guardedUnit is the real unit, entered through the reentry guard.
type guardedUnit struct {
	u *unit.Unit
	r *reentry
}

func (g guardedUnit) Apply(c *config.Config) { defer g.r.enterUnit("Apply")(); g.u.Apply(c) }
func (g guardedUnit) LinkChanged(l dataplane.Link) {
	defer g.r.enterUnit("LinkChanged")()
	g.u.LinkChanged(l)
}
func (g guardedUnit) DesiredAddrs() []dataplane.Addr {
	defer g.r.enterUnit("DesiredAddrs")()
	return g.u.DesiredAddrs()
}
func (g guardedUnit) ConfigReplicate(line string) {
	defer g.r.enterUnit("ConfigReplicate")()
	g.u.ConfigReplicate(line)
}
func (g guardedUnit) RefuseConfig() (bool, string) {
	defer g.r.enterUnit("RefuseConfig")()
	return g.u.RefuseConfig()
}
func (g guardedUnit) FailoverActive() error {
	defer g.r.enterUnit("FailoverActive")()
	return g.u.FailoverActive()
}
func (g guardedUnit) NoFailoverActive() error {
	defer g.r.enterUnit("NoFailoverActive")()
	return g.u.NoFailoverActive()
}
func (g guardedUnit) Reset() error { defer g.r.enterUnit("Reset")(); return g.u.Reset() }
func (g guardedUnit) ReloadStandby() error {
	defer g.r.enterUnit("ReloadStandby")()
	return g.u.ReloadStandby()
}
func (g guardedUnit) ExecTarget(which string) (bool, error) {
	defer g.r.enterUnit("ExecTarget")()
	return g.u.ExecTarget(which)
}
func (g guardedUnit) Show(what string) string {
	defer g.r.enterUnit("Show")()
	return g.u.Show(what)
}
func (g guardedUnit) WriteStandby() error {
	defer g.r.enterUnit("WriteStandby")()
	return g.u.WriteStandby()
}
func (g guardedUnit) ExecMate(cmd string, done func(string, error)) {
	defer g.r.enterUnit("ExecMate")()
	g.u.ExecMate(cmd, done)
}
func (g guardedUnit) ShowFailover() string {
	defer g.r.enterUnit("ShowFailover")()
	return g.u.ShowFailover()
}
func (g guardedUnit) ShowHistory() string {
	defer g.r.enterUnit("ShowHistory")()
	return g.u.ShowHistory()
}
func (g guardedUnit) PromptTags() (string, string) {
	defer g.r.enterUnit("PromptTags")()
	return g.u.PromptTags()
}
func (g guardedUnit) WriteMemory() error {
	defer g.r.enterUnit("WriteMemory")()
	return g.u.WriteMemory()
}
func (g guardedUnit) SendState(kind uint8, payload []byte) bool {
	defer g.r.enterUnit("SendState")()
	return g.u.SendState(kind, payload)
}
func (g guardedUnit) Stop() { defer g.r.enterUnit("Stop")(); g.u.Stop() }

// guardedHooks are the engine's unit requests, marked while they run.
type guardedHooks struct {
	h UnitRequests
	r *reentry
}

func (g guardedHooks) ApplyReplicated(l string) { g.r.hook(func() { g.h.ApplyReplicated(l) }) }
func (g guardedHooks) ReplaceConfig(t string)   { g.r.hook(func() { g.h.ReplaceConfig(t) }) }
func (g guardedHooks) WriteMemory()             { g.r.hook(g.h.WriteMemory) }
func (g guardedHooks) ExecShow(cmd string, reply func(string)) {
	g.r.hook(func() { g.h.ExecShow(cmd, reply) })
}
func (g guardedHooks) RoutingChanged(on bool) { g.r.hook(func() { g.h.RoutingChanged(on) }) }
func (g guardedHooks) Console(m string)       { g.r.hook(func() { g.h.Console(m) }) }
func (g guardedHooks) Reconcile(done func())  { g.r.hook(func() { g.h.Reconcile(done) }) }

// box is one engine of a pair with real unit and uplink parts.
type box struct {
	e    *Engine
	dp   *countingDP
	r    *reentry
	ep   *transport.MemEndpoint
	stop context.CancelFunc
	done chan struct{}
}

var boxLinks = []string{"outside", "backup", "inside", "failover"}

func newBox(t *testing.T, name, cfgFile string, net *transport.MemNetwork, clk clock.Clock) *box {
	t.Helper()
	fake := dataplanetest.NewFake()
	for i, l := range boxLinks {
		if err := fake.AddLink(l, "02:00:00:"+name+":00:0"+string(rune('1'+i))); err != nil {
			t.Fatal(err)
		}
	}
	b := &box{dp: &countingDP{Fake: fake, n: map[string]int{}}, r: &reentry{}, ep: net.Endpoint(name), done: make(chan struct{})}
	pr := probetest.NewFake()
	pr.Set("203.0.113.1", true)
	pr.Set("203.0.113.2", true)
	src, err := os.ReadFile(filepath.Join("..", "examples", cfgFile))
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "startup-config")
	if err := os.WriteFile(path, src, 0o600); err != nil {
		t.Fatal(err)
	}
	e, err := New(Options{
		Clock: clk, ConfigPath: path, DP: b.dp, Prober: pr,
		NewUplink: func(e *Engine) Uplink {
			return uplink.New(uplink.Options{Clock: clk, DP: b.dp, Prober: pr, Post: e.Post, Syslog: e.Syslog})
		},
		NewUnit: func(e *Engine) Unit {
			u := unit.New(unit.Options{Clock: clk, DP: b.dp, Transport: b.ep, Post: e.Post, Syslog: e.Syslog,
				Hooks: guardedHooks{e.UnitRequests(), b.r}})
			return guardedUnit{u, b.r}
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	b.e = e
	sessionsOf(e) // the mate's failover exec runs in the box's sessions
	ctx, cancel := context.WithCancel(context.Background())
	b.stop = func() { cancel(); <-b.done }
	go func() { _ = e.Run(ctx); close(b.done) }()
	t.Cleanup(func() { b.stop(); _ = b.ep.Close() })
	return b
}

func (b *box) state() string {
	var s string
	b.e.Do(func() { _, s = b.e.PromptTags() })
	return s
}

func (b *box) hostname() string { return b.e.ConfigSnapshot().Hostname }

// waitFor advances the fake clock in small steps until ok holds.
func advanceUntil(t *testing.T, clk *clock.Fake, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		clk.Advance(50 * time.Millisecond)
		time.Sleep(time.Millisecond)
	}
}

func newPairOfBoxes(t *testing.T) (*clock.Fake, *box, *box) {
	t.Helper()
	clk := clock.NewFake()
	mem := transport.NewMemNetwork()
	a := newBox(t, "0a", "primary.cfg", mem, clk)
	b := newBox(t, "0b", "secondary.cfg", mem, clk)
	// Both units route (the standby from its standby addresses): the
	// pair has settled when both have the primary uplink's default route.
	const viaPrimary = "route 0.0.0.0/0 via 198.51.100.1 dev outside table main"
	advanceUntil(t, clk, "the pair to form", func() bool {
		return a.state() == "act" && b.state() == "stby" && b.hostname() == "fw" &&
			strings.Contains(a.dp.String(), viaPrimary) && strings.Contains(b.dp.String(), viaPrimary)
	})
	return clk, a, b
}

// A configuration line that touches neither interfaces nor routes costs no
// kernel call, on the unit where it is typed or on the standby it is
// replicated to.
func TestHostnameCostsNoKernelCall(t *testing.T) {
	_, a, b := newPairOfBoxes(t)
	s := privSession(t, a.e)
	mustExec(t, s, "configure terminal")
	a.e.Do(func() {})
	a.dp.take()
	b.dp.take()
	mustExec(t, s, "hostname fw2")
	// Replication needs no clock: the clock stands still, so no timer
	// (hello, address refresh) adds kernel calls of its own.
	waitReal(t, "the standby to take the line", func() bool { return b.hostname() == "fw2" })
	b.e.Do(func() {})
	for name, bx := range map[string]*box{"active": a, "standby": b} {
		if n := bx.dp.take(); len(n) != 0 {
			t.Errorf("%s: hostname made kernel calls %v, want none", name, n)
		}
	}
}

func waitReal(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// The engine never calls the unit while the unit is calling the engine:
// through bootstrap (bulk copy), replicated lines, a command run on the
// mate and a takeover, every unit request is queued and answered later.
func TestUnitNotReentered(t *testing.T) {
	clk, a, b := newPairOfBoxes(t)
	s := privSession(t, a.e)
	mustExec(t, s, "configure terminal", "hostname fw3", "interface inside", " shutdown", " no shutdown", "exit")
	waitReal(t, "the standby to take the lines", func() bool { return b.hostname() == "fw3" })
	r := s.Exec("failover exec mate show failover")
	if r.Failed() || !strings.Contains(r.Output, "This host: Secondary - Standby") {
		t.Fatalf("failover exec mate: %+v", r)
	}
	a.stop()
	advanceUntil(t, clk, "the standby to take over", func() bool { return b.state() == "act" })
	if addrs, _ := b.dp.Addrs("outside"); len(addrs) != 1 || addrs[0].Prefix.String() != "198.51.100.2/28" {
		t.Errorf("new active holds %v on outside", addrs)
	}
	for name, bx := range map[string]*box{"A": a, "B": b} {
		if p := bx.r.problems(); len(p) > 0 {
			t.Errorf("%s: unit re-entered: %s", name, strings.Join(p, "; "))
		}
	}
}
