package unit

import (
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"failover/engine/config"
	"failover/engine/transport"
	"failover/engine/wire"
)

// fastConfig is testConfig with `failover polltime unit msec POLL holdtime
// msec HOLD`; the interface timers stay at their defaults (5 s / 25 s), so
// a takeover that waited for them would show.
func fastConfig(unit string, poll, hold time.Duration) *config.Config {
	c := testConfig(unit)
	c.Failover.Poll, c.Failover.Hold = poll, hold
	c.Failover.PollMsec, c.Failover.HoldMsec = true, true
	return c
}

// fastPair forms a primary/secondary pair with msec timers.
func fastPair(t *testing.T, poll, hold time.Duration, key string) (*pair, *node, *node) {
	t.Helper()
	p := newPair(t)
	ca, cb := fastConfig("primary", poll, hold), fastConfig("secondary", poll, hold)
	ca.Failover.Key, cb.Failover.Key = key, key
	a := p.add("A", ca)
	b := p.add("B", cb)
	if _, ok := p.until(time.Minute, func() bool { return a.u.State() == Active && b.u.State() == Standby }); !ok {
		t.Fatalf("no active/standby pair: A %s, B %s", a.u.State(), b.u.State())
	}
	p.run(10 * time.Second) // past the interface poll: the mate is heard on every data interface
	return p, a, b
}

// fine advances the clock in steps of step (finer than pair.run, so that
// millisecond timers are measured, not the harness), until cond holds or
// limit passes, and returns the time taken.
func (p *pair) fine(step, limit time.Duration, cond func() bool) (time.Duration, bool) {
	start := p.clk.Now()
	for !cond() {
		if p.clk.Now().Sub(start) >= limit {
			return limit, false
		}
		p.clk.Advance(step)
		p.settle()
	}
	return p.clk.Now().Sub(start), true
}

// kill stops n's daemon without a word to the mate, as SIGKILL does: its
// links stay up, and the box drops whatever arrives for the dead socket.
func (p *pair) kill(n *node) {
	n.u.stopped = true
	n.u.stopTimers()
	_ = n.ep.Close()
	p.nodes = slices.DeleteFunc(p.nodes, func(o *node) bool { return o == n })
}

// (a) The active unit dies with all its links cut: the standby probes, hears
// nothing and takes over at the hold time, not the interface hold time.
func TestProbeActiveDiesFast(t *testing.T) {
	for _, tc := range []struct {
		poll, hold, limit time.Duration
	}{
		{200 * time.Millisecond, 800 * time.Millisecond, 1500 * time.Millisecond},
		{20 * time.Millisecond, 60 * time.Millisecond, 300 * time.Millisecond},
		// keepalived's master down interval at the same timers is 3 adverts
		// plus a skew: 0.33-0.36 s and 3.3-3.6 s.
		{100 * time.Millisecond, 300 * time.Millisecond, 350 * time.Millisecond},
		{time.Second, 3 * time.Second, 3300 * time.Millisecond},
	} {
		t.Run(tc.hold.String(), func(t *testing.T) {
			p, a, b := fastPair(t, tc.poll, tc.hold, "")
			for _, l := range allLinks {
				p.net.Cut(l)
			}
			p.kill(a)
			took, ok := p.fine(5*time.Millisecond, 10*time.Second, func() bool { return b.u.State() == Active })
			if !ok {
				t.Fatalf("standby never took over\n%s", b.u.ShowHistory())
			}
			t.Logf("takeover %v after the kill (hold %v, probe window %v)", took, tc.hold, b.u.probeWindow())
			if took < tc.hold || took > tc.limit {
				t.Errorf("takeover after %v, want between the hold time %v and %v", took, tc.hold, tc.limit)
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
		})
	}
}

// (b) Only the failover LAN link is cut: the probes are answered on the data
// interfaces, so neither unit moves, however many hold times pass.
func TestProbeLANCutNoFailover(t *testing.T) {
	p, a, b := fastPair(t, 200*time.Millisecond, 800*time.Millisecond, "k")
	p.net.Cut(hwFO)
	outBefore := p.net.Stats(hwOut).Sent
	p.fine(10*time.Millisecond, time.Minute, func() bool { return a.u.State() != Active || b.u.State() != Standby })
	wantState(t, a, Active)
	wantState(t, b, Standby)
	if b.u.probe == nil {
		t.Error("standby never probed the data interfaces")
	}
	// One round per outage, not one per hold time.
	if sent := p.net.Stats(hwOut).Sent - outBefore; sent > 60 {
		t.Errorf("%d messages on outside in a minute of LAN outage", sent)
	}
	for _, n := range []*node{a, b} {
		out := n.u.ShowFailover()
		if !strings.Contains(out, "Cable status: Other side is not connected\n") ||
			!strings.Contains(out, "Interface outside (198.51.100.") {
			t.Errorf("%s show failover:\n%s", n.name, out)
		}
	}
	if out := b.u.ShowFailover(); !strings.Contains(out, "        Other host: Primary - Active\n") {
		t.Errorf("standby no longer sees the active mate:\n%s", out)
	}
	// The link comes back: all normal, still no failover.
	p.net.Restore(hwFO)
	p.run(5 * time.Second)
	wantState(t, a, Active)
	wantState(t, b, Standby)
	if b.u.probe != nil {
		t.Error("probe round kept after the LAN link came back")
	}
	if out := b.u.ShowFailover(); !strings.Contains(out, "Cable status: Normal\n") {
		t.Errorf("after restore:\n%s", out)
	}
	// The mate dies during a later LAN outage: the interface hellos stop
	// too and the standby takes over after the interface hold time.
	p.net.Cut(hwFO)
	p.run(5 * time.Second)
	wantState(t, b, Standby)
	p.kill(a)
	if _, ok := p.until(time.Minute, func() bool { return b.u.State() == Active }); !ok {
		t.Fatalf("standby never took over from a mate that died during a LAN outage\n%s", b.u.ShowHistory())
	}
}

// (c) The active unit's daemon is killed but its box and links stay up:
// the data links are silent to the probes, so the standby takes over at
// the hold time.
func TestProbeDaemonKilledLinksUp(t *testing.T) {
	p, a, b := fastPair(t, 200*time.Millisecond, 800*time.Millisecond, "k")
	p.kill(a)
	took, ok := p.fine(10*time.Millisecond, 10*time.Second, func() bool { return b.u.State() == Active })
	if !ok {
		t.Fatalf("standby never took over\n%s", b.u.ShowHistory())
	}
	t.Logf("takeover %v after the kill", took)
	if took > 1500*time.Millisecond {
		t.Errorf("takeover after %v", took)
	}
	if !b.logged("Switching to ACTIVE - HELLO not heard from mate") {
		t.Errorf("syslog: %q", b.syslog)
	}
}

// (d) Probe replies are authenticated: a forged reply (wrong key, or no key)
// and a replay of the mate's own earlier data-interface traffic do not keep
// a dead mate alive, and are counted as rejected.
func TestProbeForgedReplyIgnored(t *testing.T) {
	p, a, b := fastPair(t, 200*time.Millisecond, 800*time.Millisecond, "s3cret")
	recorded := len(p.net.History(hwOut))
	p.kill(a)
	before := b.u.stats.general.rerr
	injected := false
	took, ok := p.fine(10*time.Millisecond, 10*time.Second, func() bool {
		if pr := b.u.probe; pr != nil && !injected {
			injected = true
			src := netip.MustParseAddr("198.51.100.1")
			for _, key := range []string{"wrong", ""} {
				forger := wire.NewSender(wire.NewCodec([]byte(key)), wire.RolePrimary, a.u.sender.BootID())
				msg, err := forger.Encode(&wire.Control{Op: wire.OpProbeReply, Token: pr.token})
				if err != nil {
					t.Fatal(err)
				}
				p.net.Inject(hwOut, transport.Frame{From: "attacker", Dst: broadcast, Packet: transport.Packet{Src: src, Data: msg}})
			}
			p.net.Replay(hwOut, recorded)
			p.settle()
		}
		return b.u.State() == Active
	})
	if !injected {
		t.Fatal("standby never probed")
	}
	if !ok || took > 1500*time.Millisecond {
		t.Fatalf("forged replies kept the dead mate alive: B %s after %v\n%s", b.u.State(), took, b.u.ShowHistory())
	}
	if got := b.u.stats.general.rerr - before; got < 3 {
		t.Errorf("rerr grew by %d, want the forged and replayed messages counted", got)
	}
}

// The mate answers a probe at once whatever its state, on the interface it
// came from, with the probe's token.
// A unit in Negotiation sends nothing on its data interfaces: no probe
// reply (a mate that probes it must be free to take over) and no interface
// hello (it may wear the MAC the active mate wears now).
func TestNegotiationIsSilentOnDataLinks(t *testing.T) {
	p := newPair(t)
	a := p.add("A", testConfig("secondary"))
	wantState(t, a, Negotiation)
	var got []wire.Control
	p.net.SetFilter(hwIn, func(f transport.Frame) bool {
		if f.From == "A" {
			m, err := wire.NewCodec(nil).Decode(f.Data)
			if c, ok := m.Body.(*wire.Control); err == nil && ok {
				got = append(got, *c)
			}
		}
		return true
	})
	prober := wire.NewSender(wire.NewCodec(nil), wire.RolePrimary, wire.NewBootID())
	msg, err := prober.Encode(&wire.Control{Op: wire.OpProbe, Token: 77})
	if err != nil {
		t.Fatal(err)
	}
	sent := 0
	p.net.SetFilter(hwOut, func(f transport.Frame) bool {
		if f.From == "A" {
			sent++
		}
		return true
	})
	p.net.Inject(hwIn, transport.Frame{From: "prober", Dst: broadcast, Packet: transport.Packet{Data: msg}})
	p.settle()
	p.run(2 * time.Second)
	wantState(t, a, Negotiation)
	if len(got) != 0 || sent != 0 {
		t.Errorf("a negotiating unit sent on data links: %d control messages on inside %+v, %d frames on outside", len(got), got, sent)
	}
}

// Only the LAN link is cut and the mate's first probe and first reply on
// each data interface are lost: the repeated probes still find it alive.
func TestProbeLostReplyNoFailover(t *testing.T) {
	p, a, b := fastPair(t, 200*time.Millisecond, 800*time.Millisecond, "")
	for _, l := range []string{hwOut, hwIn} {
		lost := 0
		p.net.SetFilter(l, func(f transport.Frame) bool {
			m, err := wire.NewCodec(nil).Decode(f.Data)
			if err != nil || f.From != "A" {
				return true
			}
			if _, ok := m.Body.(*wire.Control); ok && lost < 2 {
				lost++
				return false
			}
			return true
		})
	}
	p.net.Cut(hwFO)
	p.run(30 * time.Second)
	wantState(t, a, Active)
	wantState(t, b, Standby)
	if pr := b.u.probe; pr == nil || pr.sends < 2 {
		t.Errorf("probe round %+v: the probes were not repeated", pr)
	}
}

// A primary that starts while an active secondary may be wearing its MAC
// wears a temporary MAC until it knows; alone after the hold time it takes
// its own MAC as the active unit. A negotiating secondary wears its own.
func TestNegotiatingPrimaryWearsATemporaryMAC(t *testing.T) {
	p := newPair(t)
	a := p.add("A", testConfig("primary"))
	wantState(t, a, Negotiation)
	own := a.u.ifByHW(hwIn).ownMAC
	l, err := a.dp.Link(hwIn)
	if err != nil {
		t.Fatal(err)
	}
	if l.MAC.String() == own.String() || l.MAC[0]&0x02 == 0 || l.MAC[0]&0x01 != 0 {
		t.Fatalf("negotiating primary wears %v (own %v), want a different locally administered unicast MAC", l.MAC, own)
	}
	p.run(50 * time.Second) // the default hold time is 45 s
	wantState(t, a, Active)
	if l, _ := a.dp.Link(hwIn); l.MAC.String() != own.String() {
		t.Fatalf("active primary wears %v, want its own %v", l.MAC, own)
	}
	b := p.add("B", testConfig("secondary"))
	if l, _ := b.dp.Link(hwIn); l.MAC.String() != b.u.ifByHW(hwIn).ownMAC.String() {
		t.Fatalf("negotiating secondary wears %v, want its own", l.MAC)
	}
}
