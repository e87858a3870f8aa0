package unit

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"failover/engine/config"
	"failover/engine/dataplane"
	"failover/engine/transport"
	"failover/engine/wire"
)

func TestBootstrap(t *testing.T) {
	p, a, b := bootstrap(t)
	if got := p.clk.Now().Sub(time.Date(2026, 4, 26, 12, 0, 0, 0, time.UTC)); got > time.Second {
		t.Errorf("units started together took %v to pair; the primary should go active at once", got)
	}
	if len(b.hooks.replaced) != 1 || b.hooks.replaced[0] != a.running() {
		t.Errorf("standby got configs %q, want %q", b.hooks.replaced, a.running())
	}
	if !slices.Contains(a.hooks.console, "Beginning configuration replication: Sending to mate.") ||
		!slices.Contains(a.hooks.console, "End Configuration Replication to mate") {
		t.Errorf("active console: %q", a.hooks.console)
	}
	wantA := []string{"eth-fo 192.0.2.1/30", "eth-in 203.0.113.1/24", "eth-out 198.51.100.1/24"}
	wantB := []string{"eth-fo 192.0.2.2/30", "eth-in 203.0.113.2/24", "eth-out 198.51.100.2/24"}
	if got := a.addrs(t); !slices.Equal(got, wantA) {
		t.Errorf("active addresses %q, want %q", got, wantA)
	}
	if got := b.addrs(t); !slices.Equal(got, wantB) {
		t.Errorf("standby addresses %q, want %q", got, wantB)
	}
	// System addresses expire unless refreshed; the LAN link's never do.
	for _, d := range a.u.DesiredAddrs() {
		if (d.Link == hwFO) != (d.ValidLft == 0) {
			t.Errorf("lifetime of %s on %s: %v", d.Prefix, d.Link, d.ValidLft)
		}
	}
	p.run(3 * time.Second)
	n := 0
	for _, g := range a.dp.GARPs() {
		if g.IP == netip.MustParseAddr("198.51.100.1") {
			n++
		}
	}
	if n != garpCount {
		t.Errorf("%d gratuitous ARPs for the outside address, want %d", n, garpCount)
	}
	if !a.logged("%PIX-1-104001: (Primary) Switching to ACTIVE - No Active unit found") {
		t.Errorf("syslog: %q", a.syslog)
	}
	if !b.logged("709006") || !a.logged("709003") || !a.logged("105002") {
		t.Errorf("replication syslogs missing: A %q B %q", a.syslog, b.syslog)
	}
	if pr, st := b.u.PromptTags(); pr != "sec" || st != "stby" {
		t.Errorf("prompt tags %s/%s", pr, st)
	}
}

func TestAloneBecomesActiveAfterHold(t *testing.T) {
	p := newPair(t)
	a := p.add("A", testConfig("secondary"))
	p.run(30 * time.Second)
	wantState(t, a, Negotiation)
	if got := a.addrs(t); !slices.Equal(got, []string{"eth-fo 192.0.2.2/30"}) {
		t.Errorf("negotiating unit holds %q; want only its LAN address", got)
	}
	if _, ok := p.until(20*time.Second, func() bool { return a.u.State() == Active }); !ok {
		t.Fatal("lone unit never went active")
	}
}

func TestActiveStops(t *testing.T) {
	p, a, b := bootstrap(t)
	p.stop(a)
	p.run(100 * time.Millisecond) // one round of asking who has the addresses
	wantState(t, b, Active)
	out := b.u.ShowFailover()
	if !strings.Contains(out, "Cable status: Other side powered off") {
		t.Errorf("cable status after a clean stop:\n%s", out)
	}
	if !b.logged("Switching to ACTIVE - Other unit powered off") {
		t.Errorf("syslog: %q", b.syslog)
	}
}

func TestActiveDiesAllLinksCut(t *testing.T) {
	p, a, b := bootstrap(t)
	for _, l := range allLinks {
		p.net.Cut(l)
	}
	p.run(30 * time.Second)
	wantState(t, b, Standby)
	took, ok := p.until(time.Minute, func() bool { return b.u.State() == Active })
	if !ok {
		t.Fatal("standby never took over")
	}
	if took > 30*time.Second {
		t.Errorf("takeover %v after the hold time", took)
	}
	if !b.logged("(Secondary) Switching to ACTIVE - HELLO not heard from mate") {
		t.Errorf("syslog: %q", b.syslog)
	}
	if !strings.Contains(b.u.ShowFailover(), "        Other host: Primary - Not Detected\n") {
		t.Errorf("show failover:\n%s", b.u.ShowFailover())
	}
	if got := b.addrs(t); !slices.Contains(got, "eth-out 198.51.100.1/24") {
		t.Errorf("new active holds %q", got)
	}
	_ = a
}

func TestOldActiveReturnsAsStandby(t *testing.T) {
	p, a, b := bootstrap(t)
	p.stop(a)
	p.run(100 * time.Millisecond) // one round of asking who has the addresses
	wantState(t, b, Active)
	changed := testConfig("secondary")
	changed.Logging.On = true
	b.u.Apply(changed)
	p.run(time.Minute)
	a = p.add("A", testConfig("primary"))
	if _, ok := p.until(time.Minute, func() bool { return a.u.State() == Standby }); !ok {
		t.Fatalf("returning primary is %s", a.u.State())
	}
	p.run(2 * time.Minute)
	wantState(t, b, Active)
	wantState(t, a, Standby)
	if len(a.hooks.replaced) != 1 || a.hooks.replaced[0] != b.running() {
		t.Errorf("returning unit got %q", a.hooks.replaced)
	}
	// No preemption: the MACs follow the role, the primary's stays with the active unit.
	l, _ := b.dp.Link(hwOut)
	if l.MAC.String() != "02:00:00:0a:00:02" {
		t.Errorf("active secondary's outside MAC %s, want the primary's", l.MAC)
	}
	l, _ = a.dp.Link(hwOut)
	if l.MAC.String() != "02:00:00:0b:00:02" {
		t.Errorf("standby primary's outside MAC %s, want the secondary's", l.MAC)
	}
}

func TestFailoverLinkCutOnly(t *testing.T) {
	p, a, b := bootstrap(t)
	p.net.Cut(hwFO)
	p.run(3 * time.Minute)
	wantState(t, a, Active)
	wantState(t, b, Standby)
	for _, n := range []*node{a, b} {
		if out := n.u.ShowFailover(); !strings.Contains(out, "Cable status: Other side is not connected\n") {
			t.Errorf("%s show failover:\n%s", n.name, out)
		}
	}
	// The link comes back: all normal again, still no failover.
	p.net.Restore(hwFO)
	p.run(time.Minute)
	wantState(t, a, Active)
	wantState(t, b, Standby)
	if out := b.u.ShowFailover(); !strings.Contains(out, "Cable status: Normal\n") {
		t.Errorf("after restore:\n%s", out)
	}
}

func TestCarrierLossFailsOverAtOnce(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	if err := a.dp.SetCarrier(hwIn, false); err != nil {
		t.Fatal(err)
	}
	l, _ := a.dp.Link(hwIn)
	a.u.LinkChanged(l)
	p.settle()
	wantState(t, a, Failed)
	wantState(t, b, Active)
	if !a.logged("%PIX-1-104003: (Primary) Switching to FAILED.") {
		t.Errorf("syslog: %q", a.syslog)
	}
	if !strings.Contains(a.u.ShowFailover(), "Interface inside (203.0.113.2): No Link") {
		t.Errorf("show failover:\n%s", a.u.ShowFailover())
	}
	// Cable back: the failed unit recovers as standby.
	if err := a.dp.SetCarrier(hwIn, true); err != nil {
		t.Fatal(err)
	}
	l, _ = a.dp.Link(hwIn)
	a.u.LinkChanged(l)
	if _, ok := p.until(time.Minute, func() bool { return a.u.State() == Standby }); !ok {
		t.Fatalf("recovered unit is %s", a.u.State())
	}
	wantState(t, b, Active)
	if !a.logged("104004") {
		t.Errorf("no Switching to OK: %q", a.syslog)
	}
}

func TestStandbyCarrierLossNoFailover(t *testing.T) {
	p, a, b := bootstrap(t)
	_ = b.dp.SetCarrier(hwOut, false)
	l, _ := b.dp.Link(hwOut)
	b.u.LinkChanged(l)
	p.run(time.Minute)
	wantState(t, a, Active)
	wantState(t, b, Failed)
}

// The active's side of a segment where the mate has no link is not shown
// failed: with the mate's side down there is nothing to compare its test
// with, so it waits for the mate (a quiet segment fails the test on its
// own, and the active is not the broken one).
func TestActiveWaitsBesideMateWithoutLink(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	_ = b.dp.SetCarrier(hwOut, false)
	l, _ := b.dp.Link(hwOut)
	b.u.LinkChanged(l)
	p.net.CutFrom(hwOut, "B") // nothing leaves a link without carrier
	p.run(2 * time.Minute)
	wantState(t, a, Active)
	wantState(t, b, Failed)
	if out := a.u.ShowFailover(); !strings.Contains(out, "                Interface outside (198.51.100.1): Waiting\n") {
		t.Errorf("the active's outside beside a mate without link:\n%s\n%q", out, a.syslog)
	}
	if a.logged("Testing on interface outside Failed") {
		t.Errorf("the active failed its outside test beside a mate without link: %q", a.syslog)
	}
}

func TestInterfaceTestFindsTheDeadSide(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	// The inside segment stops carrying our hellos; B still sees traffic
	// there, A sees none: A's side is the broken one.
	p.net.Cut(hwIn)
	var rx uint64
	took, ok := p.until(2*time.Minute, func() bool {
		rx += 10
		_ = b.dp.SetStats(hwIn, dataplane.LinkStats{RxPackets: rx})
		return b.u.State() == Active
	})
	if !ok {
		t.Fatalf("no failover: A %s B %s\n%s", a.u.State(), b.u.State(), a.u.ShowFailover())
	}
	if took < 20*time.Second {
		t.Errorf("failover after %v, before the interface hold time", took)
	}
	wantState(t, a, Failed)
	if !a.logged("%PIX-1-105008: (Primary) Testing interface inside.") || !a.logged("Testing on interface inside Failed.") {
		t.Errorf("syslog: %q", a.syslog)
	}
	if !b.logged("Testing on interface inside Passed.") {
		t.Errorf("B syslog: %q", b.syslog)
	}
}

func TestNoFailoverActiveOrdering(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(10 * time.Second)
	p.ev.list = nil
	if err := a.u.NoFailoverActive(); err != nil {
		t.Fatal(err)
	}
	p.settle()
	wantState(t, a, Standby)
	wantState(t, b, Active)
	took, released := p.ev.index("B reconcile Active"), p.ev.index("A reconcile Standby")
	if took < 0 || released < 0 || took > released {
		t.Errorf("events %q: the new active must take the addresses before the old one releases them", p.ev.list)
	}
	if got := a.addrs(t); !slices.Contains(got, "eth-out 198.51.100.2/24") {
		t.Errorf("old active holds %q", got)
	}
	// And back with `failover active` on the new standby.
	if err := a.u.FailoverActive(); err != nil {
		t.Fatal(err)
	}
	p.settle()
	wantState(t, a, Active)
	wantState(t, b, Standby)
	if !b.logged("Switching to STNDBY - Other unit wants me Standby") {
		t.Errorf("B syslog %q", b.syslog)
	}
}

func TestNoFailoverActiveWithoutMate(t *testing.T) {
	p := newPair(t)
	a := p.add("A", testConfig("primary"))
	p.run(time.Minute)
	wantState(t, a, Active)
	if err := a.u.NoFailoverActive(); err == nil {
		t.Error("switchover without a standby accepted")
	}
	wantState(t, a, Active)
}

func TestWrongKeyAndReplayIgnored(t *testing.T) {
	p := newPair(t)
	ca, cb := testConfig("primary"), testConfig("secondary")
	ca.Failover.Key, cb.Failover.Key = "s3cret", "s3cret"
	a := p.add("A", ca)
	b := p.add("B", cb)
	if _, ok := p.until(time.Minute, func() bool { return b.u.State() == Standby }); !ok {
		t.Fatal("keyed pair did not form")
	}
	before := b.u.stats.general.rerr
	// A forged hello from a "secondary" claiming to be active, with the wrong key.
	forger := wire.NewSender(wire.NewCodec([]byte("wrong")), wire.RolePrimary, wire.NewBootID())
	msg, err := forger.Encode(&wire.Hello{State: wire.UnitFailed})
	if err != nil {
		t.Fatal(err)
	}
	p.net.Inject(hwFO, transport.Frame{From: "attacker", Dst: broadcast, Packet: transport.Packet{Src: netip.MustParseAddr("192.0.2.1"), Data: msg}})
	// Replay the pair's own recent traffic (hellos, bulk lines, everything).
	hist := len(p.net.History(hwFO))
	p.net.Replay(hwFO, hist)
	p.settle()
	wantState(t, a, Active)
	wantState(t, b, Standby)
	got := b.u.stats.general.rerr - before
	if got < 2 {
		t.Errorf("rerr grew by %d, want the forged and replayed messages counted", got)
	}
	if !strings.Contains(b.u.ShowFailover(), "        General ") {
		t.Fatal("no statistics")
	}
	// A unit without the key hears nobody and goes active alone: it
	// cannot tell the mate is there (the cable status says so).
	p.run(time.Minute)
	wantState(t, b, Standby)
}

func TestConfigReplication(t *testing.T) {
	p, a, b := bootstrap(t)
	a.u.ConfigReplicate("logging on")
	a.u.ConfigReplicate("hostname edge")
	p.settle()
	if !slices.Equal(b.hooks.applied, []string{"logging on", "hostname edge"}) {
		t.Errorf("standby applied %q", b.hooks.applied)
	}
	// Lines lost on the wire: the standby's version lags and the active
	// sends the whole configuration again.
	p.net.DropNext(hwFO, 1)
	a.u.ConfigReplicate("pager lines 10")
	a.u.ConfigReplicate("mtu inside 1400")
	p.settle()
	if len(b.hooks.applied) != 2 {
		t.Errorf("out-of-order line applied: %q", b.hooks.applied)
	}
	p.run(2 * time.Minute)
	if len(b.hooks.replaced) < 2 {
		t.Errorf("no resync after a lost line (replaced %d times)", len(b.hooks.replaced))
	}
	if b.u.cfgVersion != a.u.cfgVersion {
		t.Errorf("versions A %d B %d", a.u.cfgVersion, b.u.cfgVersion)
	}
	// write memory on the active saves on both.
	if err := a.u.WriteMemory(); err != nil {
		t.Fatal(err)
	}
	p.settle()
	if b.hooks.writes != 1 {
		t.Errorf("standby wrote memory %d times", b.hooks.writes)
	}
	// write standby forces a copy.
	n := len(b.hooks.replaced)
	if err := a.u.WriteStandby(); err != nil {
		t.Fatal(err)
	}
	p.settle()
	if len(b.hooks.replaced) != n+1 {
		t.Error("write standby sent nothing")
	}
	if err := b.u.WriteStandby(); err == nil {
		t.Error("write standby accepted on the standby")
	}
}

func TestRefuseConfigOnStandby(t *testing.T) {
	_, a, b := bootstrap(t)
	if refuse, _ := a.u.RefuseConfig(); refuse {
		t.Error("active unit refuses configuration")
	}
	refuse, msg := b.u.RefuseConfig()
	if !refuse || msg != RefuseWarning || strings.Contains(msg, "no longer synchronized") || !strings.Contains(msg, "not applied") {
		t.Errorf("standby: %v %q", refuse, msg)
	}
	// The standby never replicates.
	b.u.ConfigReplicate("hostname x")
	if len(a.hooks.applied) != 0 {
		t.Error("standby replicated a line")
	}
}

func TestBothPrimary(t *testing.T) {
	p := newPair(t)
	a := p.add("A", testConfig("primary"))
	b := p.add("B", testConfig("primary"))
	p.run(2 * time.Minute)
	if a.u.State() == Active && b.u.State() == Active {
		t.Fatal("both active")
	}
	for _, n := range []*node{a, b} {
		if !n.logged("%PIX-1-104005: (Primary) Mate has the same unit role (Primary)") {
			t.Errorf("%s syslog %q", n.name, n.syslog)
		}
		if out := n.u.ShowFailover(); !strings.Contains(out, "Unit role conflict: both units are configured as Primary\n") ||
			!strings.Contains(out, "        Other host: Primary - ") {
			t.Errorf("%s show failover:\n%s", n.name, out)
		}
		for _, d := range n.u.DesiredAddrs() {
			if d.Link != hwFO {
				t.Errorf("%s holds %s on %s during a role conflict", n.name, d.Prefix, d.Link)
			}
		}
	}
}

func TestBothPrimaryWhenOneIsAlreadyActive(t *testing.T) {
	p := newPair(t)
	a := p.add("A", testConfig("primary"))
	p.run(time.Minute)
	wantState(t, a, Active)
	b := p.add("B", testConfig("primary"))
	p.run(time.Minute)
	wantState(t, a, Active)
	wantState(t, b, Negotiation)
}

func TestSplitBrain(t *testing.T) {
	p := newPair(t)
	for _, l := range allLinks {
		p.net.Cut(l)
	}
	a := p.add("A", testConfig("primary"))
	b := p.add("B", testConfig("secondary"))
	p.run(time.Minute)
	wantState(t, a, Active)
	wantState(t, b, Active)
	garpsA := len(a.dp.GARPs())
	garpsB := len(b.dp.GARPs())
	for _, l := range allLinks {
		p.net.Restore(l)
	}
	if _, ok := p.until(time.Minute, func() bool { return b.u.State() == Standby }); !ok {
		t.Fatalf("split brain not resolved: A %s B %s", a.u.State(), b.u.State())
	}
	p.run(5 * time.Second)
	wantState(t, a, Active)
	if len(a.dp.GARPs()) <= garpsA || len(b.dp.GARPs()) <= garpsB {
		t.Error("units did not re-announce after the split brain")
	}
	if got := b.addrs(t); !slices.Contains(got, "eth-out 198.51.100.2/24") || slices.Contains(got, "eth-out 198.51.100.1/24") {
		t.Errorf("secondary holds %q", got)
	}
}

func TestPreempt(t *testing.T) {
	p := newPair(t)
	cb := testConfig("secondary")
	cb.Failover.Preempt, cb.Failover.PreemptDelay = true, 30
	b := p.add("B", cb)
	p.run(time.Minute)
	wantState(t, b, Active)
	ca := testConfig("primary")
	ca.Failover.Preempt, ca.Failover.PreemptDelay = true, 30
	a := p.add("A", ca)
	if _, ok := p.until(10*time.Second, func() bool { return a.u.State() == Standby }); !ok {
		t.Fatalf("primary is %s", a.u.State())
	}
	p.run(20 * time.Second)
	wantState(t, a, Standby) // still within the delay
	if _, ok := p.until(30*time.Second, func() bool { return a.u.State() == Active }); !ok {
		t.Fatalf("no preemption: A %s B %s", a.u.State(), b.u.State())
	}
	p.settle()
	wantState(t, b, Standby)
}

func TestExecMate(t *testing.T) {
	p, a, b := bootstrap(t)
	var out string
	var err error
	called := 0
	a.u.ExecMate("show version", func(o string, e error) { out, err, called = o, e, called+1 })
	p.settle()
	if called != 1 || err != nil || out != "B ran show version\n" {
		t.Errorf("exec mate: %d calls, %q, %v", called, out, err)
	}
	p.net.Cut(hwFO)
	b.u.ExecMate("show failover", func(o string, e error) { err, called = e, called+1 })
	p.run(time.Minute)
	if called != 2 || err == nil {
		t.Errorf("exec over a cut link: %d calls, %v", called, err)
	}
}

func TestResetClearsFailed(t *testing.T) {
	p, a, b := bootstrap(t)
	_ = b.dp.SetCarrier(hwOut, false)
	l, _ := b.dp.Link(hwOut)
	b.u.LinkChanged(l)
	p.settle()
	wantState(t, b, Failed)
	_ = b.dp.SetCarrier(hwOut, true)
	l, _ = b.dp.Link(hwOut)
	b.u.LinkChanged(l)
	if err := a.u.Reset(); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.until(time.Minute, func() bool { return b.u.State() == Standby }); !ok {
		t.Fatalf("B is %s", b.u.State())
	}
}

// `no failover` on the active unit keeps its role and addresses: it goes
// on serving, with the address lifetime still refreshed (a mate may be
// there), and says so in its hellos.
func TestDisable(t *testing.T) {
	p, a, b := bootstrap(t)
	c := testConfig("primary")
	c.Failover.Enabled = false
	a.u.Apply(c)
	p.settle()
	wantState(t, a, Disabled)
	want := []string{"eth-fo 192.0.2.1/30", "eth-in 203.0.113.1/24", "eth-out 198.51.100.1/24"}
	if got := a.addrs(t); !slices.Equal(got, want) {
		t.Errorf("disabled active holds %q, want %q", got, want)
	}
	if !a.logged("%PIX-1-105001: (Primary) Disabling failover.") {
		t.Errorf("syslog %q", a.syslog)
	}
	if refuse, _ := a.u.RefuseConfig(); refuse {
		t.Error("disabled unit refuses configuration")
	}
	if err := a.u.FailoverActive(); err != nil {
		t.Errorf("failover active on a serving unit: %v", err)
	}
	if pr, st := a.u.PromptTags(); pr != "pri" || st != "act" {
		t.Errorf("prompt tags %s/%s, want pri/act", pr, st)
	}
	p.run(time.Minute)
	wantState(t, a, Disabled)
	wantState(t, b, Standby)
	if got := a.addrs(t); !slices.Equal(got, want) {
		t.Errorf("a minute later the disabled active holds %q, want %q", got, want)
	}
}

// TestGarbageNeverPanics feeds random datagrams and odd configurations.
func TestGarbageNeverPanics(t *testing.T) {
	p, a, _ := bootstrap(t)
	seed := uint64(1)
	for i := range 2000 {
		n := int(seed % 200)
		b := make([]byte, n)
		for j := range b {
			seed = seed*6364136223846793005 + 1442695040888963407
			b[j] = byte(seed >> 56)
		}
		if i%2 == 0 && n > 3 {
			copy(b, []byte{'F', 'O', 1})
		}
		a.u.handlePacket(transport.Packet{Iface: hwFO, Data: b}, 0)
	}
	a.u.Apply(config.New())
	a.u.Apply(nil)
	a.u.LinkChanged(dataplane.Link{Name: "nope"})
	_ = a.u.ShowFailover()
	p.settle()
	u := New(Options{})
	u.Apply(testConfig("primary"))
	_ = u.ShowFailover()
	u.Stop()
}

// failover reload-standby on the active unit: the standby starts over
// (negotiation, a full configuration copy) and is standby again; it is
// refused anywhere but on the active unit.
func TestReloadStandby(t *testing.T) {
	p, a, b := bootstrap(t)
	if err := b.u.ReloadStandby(); err == nil {
		t.Error("reload-standby accepted on the standby")
	}
	copies := len(b.hooks.replaced)
	if err := a.u.ReloadStandby(); err != nil {
		t.Fatal(err)
	}
	p.run(time.Minute)
	wantState(t, b, Standby)
	wantState(t, a, Active)
	if len(b.hooks.replaced) != copies+1 {
		t.Errorf("standby took %d configuration copies, want one more than %d", len(b.hooks.replaced), copies)
	}
	if h := b.u.ShowHistory(); !strings.Contains(h, "Reload requested by the active unit") {
		t.Errorf("history:\n%s", h)
	}
	for _, l := range allLinks {
		p.net.Cut(l)
	}
	p.run(5 * time.Minute)
	if err := b.u.ReloadStandby(); err == nil {
		t.Error("reload-standby accepted with no standby")
	}
}

// A planned switchover is make before break: the new active takes the MAC
// and the addresses and announces while the old one still forwards, and
// announces again as soon as the old one has let go (its own MAC back), so
// that switches which saw the old one's last frames learn the right port
// at once rather than at the next gratuitous ARP, 500 ms later.
func TestPlannedSwitchoverAnnouncesAfterRelease(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(5 * time.Second) // the bootstrap's announcements are over
	garps := func() int {
		n := 0
		for _, g := range b.dp.GARPs() {
			if g.IP == netip.MustParseAddr("198.51.100.1") {
				n++
			}
		}
		return n
	}
	before := garps()
	if err := a.u.NoFailoverActive(); err != nil {
		t.Fatal(err)
	}
	p.settle() // no time passes: only the exchange of the switchover
	wantState(t, b, Active)
	wantState(t, a, Standby)
	if got := garps() - before; got != 2 {
		t.Errorf("new active sent %d gratuitous ARPs for 198.51.100.1 during the switchover, want 2 (on taking over, and once the old active let go)", got)
	}
	if ev := p.ev.list; p.ev.index("A reconcile Standby") < 0 {
		t.Errorf("old active never released: %q", ev)
	}
}
