package unit

import (
	"fmt"
	"net"
	"net/netip"
	"strings"
	"testing"
	"time"

	"failover/engine/dataplane"
)

// sent is a request a unit's dataplane was asked to send, with when.
type sent struct {
	at   time.Duration // since the test began
	what string        // "arp TARGET" or "ping DST"
}

// segment plays the inside segment behind one unit: the neighbours its
// kernel learned, and who answers what. It records what the unit sent
// there and timestamps its syslog lines.
type segment struct {
	n      *node
	clk    func() time.Duration
	answer func(what string) bool // does the segment answer this request?
	sent   []sent
	logs   []sent // syslog lines with their time
}

func newSegment(t *testing.T, p *pair, n *node, answer func(string) bool) *segment {
	t.Helper()
	start := p.clk.Now()
	s := &segment{n: n, clk: func() time.Duration { return p.clk.Now().Sub(start) }, answer: answer}
	var nbs []dataplane.Neighbor
	for i := range 3 {
		nbs = append(nbs, dataplane.Neighbor{
			IP:  netip.AddrFrom4([4]byte{203, 0, 113, byte(10 + i)}),
			MAC: net.HardwareAddr{2, 0xee, 0, 0, 0, byte(i)},
		})
	}
	if err := n.dp.SetNeighbors(hwIn, nbs); err != nil {
		t.Fatal(err)
	}
	n.dp.OnSend(func(link string, dst netip.Addr) {
		if link != hwIn {
			return
		}
		what := "arp " + dst.String()
		if dst.As4()[3] == 255 { // the inside subnet's broadcast address
			what = "ping " + dst.String()
		}
		s.sent = append(s.sent, sent{s.clk(), what})
		if s.answer != nil && s.answer(what) {
			if err := n.dp.AddRxPackets(link, 1); err != nil {
				t.Error(err)
			}
		}
	})
	n.u.o.Syslog = func(m string) {
		n.syslog = append(n.syslog, m)
		s.logs = append(s.logs, sent{s.clk(), m})
	}
	return s
}

// logAt returns when the first syslog line containing text was logged.
func (s *segment) logAt(t *testing.T, text string) time.Duration {
	t.Helper()
	for _, l := range s.logs {
		if strings.Contains(l.what, text) {
			return l.at
		}
	}
	t.Fatalf("%s never logged %q: %q", s.n.name, text, s.n.syslog)
	return 0
}

func (s *segment) requests() string {
	var out []string
	for _, r := range s.sent {
		out = append(out, r.what)
	}
	return strings.Join(out, ", ")
}

// cutInside stops the units hearing each other on the inside segment and
// runs until both have concluded their tests there (or limit passes).
func cutInside(t *testing.T, p *pair, a, b *node) {
	t.Helper()
	p.net.Cut(hwIn)
	done := func(n *node) bool {
		return n.logged("Testing on interface inside Passed.") || n.logged("Testing on interface inside Failed.")
	}
	if _, ok := p.until(2*time.Minute, func() bool { return done(a) && done(b) }); !ok {
		t.Fatalf("tests never concluded: A %q, B %q", a.syslog, b.syslog)
	}
	p.run(5 * time.Second) // let the conclusions reach the mate and be acted on
}

func TestInterfaceTestStages(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	// The whole segment is dead: nobody answers either unit.
	sa := newSegment(t, p, a, nil)
	sb := newSegment(t, p, b, nil)
	cutInside(t, p, a, b)

	stage := a.u.testStage()
	if stage != 5*time.Second {
		t.Fatalf("stage lasts %v with the default 5 s interface poll, want 5s", stage)
	}
	start := sa.logAt(t, "%PIX-1-105008: (Primary) Testing interface inside.")
	failed := sa.logAt(t, "%PIX-1-105009: (Primary) Testing on interface inside Failed.")
	// Ticks are a second apart with the default timers.
	tick := a.u.tickEvery
	// The last interface hello got through up to a poll (5 s) before.
	if start < 20*time.Second || start > 25*time.Second+tick {
		t.Errorf("test began %v after the cut, want at the interface hold time (25s) after the last hello", start)
	}
	if got := failed - start; got < 3*stage || got > 3*stage+tick {
		t.Errorf("test failed after %v, want after the three stages (%v)", got, 3*stage)
	}
	// Network activity: nothing sent. ARP: the neighbours newest first,
	// spread over the stage. Then one broadcast ping.
	if got, want := sa.requests(), "arp 203.0.113.10, arp 203.0.113.11, arp 203.0.113.12, ping 203.0.113.255"; got != want {
		t.Fatalf("A sent %q, want %q", got, want)
	}
	for _, r := range sa.sent[:3] {
		if at := r.at - start; at < stage || at >= 2*stage {
			t.Errorf("%s sent %v into the test, outside the ARP stage [%v, %v)", r.what, at, stage, 2*stage)
		}
	}
	if at := sa.sent[3].at - start; at < 2*stage || at > 2*stage+tick {
		t.Errorf("ping sent %v into the test, want when the last stage begins (%v)", at, 2*stage)
	}
	arps := a.dp.ARPRequests()
	if len(arps) != 3 || arps[0].Src != netip.MustParseAddr("203.0.113.1") || arps[0].MAC.String() != "02:00:00:0a:00:03" {
		t.Errorf("A's ARP requests %+v, want from its inside address and MAC", arps)
	}
	if pings := a.dp.BroadcastPings(); len(pings) != 1 || pings[0].Src != netip.MustParseAddr("203.0.113.1") {
		t.Errorf("A's pings %+v", pings)
	}
	// The standby pings from its own (standby) address.
	if pings := b.dp.BroadcastPings(); len(pings) != 1 || pings[0].Src != netip.MustParseAddr("203.0.113.2") || pings[0].Dst != netip.MustParseAddr("203.0.113.255") {
		t.Errorf("B's pings %+v", pings)
	}
	sb.logAt(t, "%PIX-1-105009: (Secondary) Testing on interface inside Failed.")
	// Both sides failed: neither unit is the broken one.
	wantState(t, a, Active)
	wantState(t, b, Standby)
	if out := a.u.ShowFailover(); !strings.Contains(out, "Interface inside (203.0.113.1): Failed") {
		t.Errorf("show failover:\n%s", out)
	}
	// A failed interface passes on the first packet.
	_ = a.dp.AddRxPackets(hwIn, 1)
	p.run(2 * time.Second)
	sa.logAt(t, "%PIX-1-105009: (Primary) Testing on interface inside Passed.")
}

func TestInterfaceTestARPRepliesPass(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	// Only the hellos between the units are lost; the neighbours answer ARP.
	arpOnly := func(what string) bool { return strings.HasPrefix(what, "arp ") }
	sa := newSegment(t, p, a, arpOnly)
	sb := newSegment(t, p, b, arpOnly)
	cutInside(t, p, a, b)

	for _, s := range []*segment{sa, sb} {
		start := s.logAt(t, "Testing interface inside.")
		passed := s.logAt(t, "Testing on interface inside Passed.")
		stage := s.n.u.testStage()
		// The first ARP reply ends the test: nothing more is sent.
		if got := s.requests(); got != "arp 203.0.113.10" {
			t.Errorf("%s sent %q, want one ARP to the newest neighbour", s.n.name, got)
		}
		if got := passed - start; got < stage || got > stage+s.n.u.tickEvery {
			t.Errorf("%s passed %v into the test, want at the first ARP (%v)", s.n.name, got, stage)
		}
		if s.n.logged("Failed.") {
			t.Errorf("%s syslog %q", s.n.name, s.n.syslog)
		}
	}
	p.run(time.Minute)
	wantState(t, a, Active)
	wantState(t, b, Standby)
	if out := b.u.ShowFailover(); !strings.Contains(out, "Interface inside (203.0.113.2): Normal") {
		t.Errorf("show failover:\n%s", out)
	}
}

func TestInterfaceTestDeadActiveFailsOver(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	sa := newSegment(t, p, a, nil)
	// B's side still has a neighbour that answers, though only the
	// broadcast ping: the last stage is reached and decides.
	sb := newSegment(t, p, b, func(what string) bool { return strings.HasPrefix(what, "ping ") })
	cutInside(t, p, a, b)

	wantState(t, a, Failed)
	wantState(t, b, Active)
	sa.logAt(t, "%PIX-1-105009: (Primary) Testing on interface inside Failed.")
	sb.logAt(t, "%PIX-1-105009: (Secondary) Testing on interface inside Passed.")
	if got := sb.requests(); got != "arp 203.0.113.10, arp 203.0.113.11, arp 203.0.113.12, ping 203.0.113.255" {
		t.Errorf("B sent %q", got)
	}
	if !a.logged("%PIX-1-104003: (Primary) Switching to FAILED.") ||
		!b.logged("%PIX-1-104001: (Secondary) Switching to ACTIVE - Other unit Failed") {
		t.Errorf("syslog A %q\nB %q", a.syslog, b.syslog)
	}
}

func TestInterfaceTestDeadStandbyNoFailover(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	// The active still hears the segment's own traffic; the standby's
	// side is dead.
	sa := newSegment(t, p, a, nil)
	sb := newSegment(t, p, b, nil)
	p.net.Cut(hwIn)
	var rx uint64
	_, ok := p.until(2*time.Minute, func() bool {
		rx += 10
		_ = a.dp.SetStats(hwIn, dataplane.LinkStats{RxPackets: rx})
		return b.logged("Testing on interface inside Failed.")
	})
	if !ok {
		t.Fatalf("B's test never failed: %q", b.syslog)
	}
	p.run(5 * time.Second)
	wantState(t, a, Active)
	wantState(t, b, Failed)
	start, passed := sa.logAt(t, "Testing interface inside."), sa.logAt(t, "Testing on interface inside Passed.")
	if passed-start > a.u.tickEvery {
		t.Errorf("A passed %v into the test, want at the first look at its counters", passed-start)
	}
	if got := sa.requests(); got != "" {
		t.Errorf("A sent %q, want nothing: traffic was seen at once", got)
	}
	if got := sb.requests(); !strings.HasSuffix(got, "ping 203.0.113.255") {
		t.Errorf("B sent %q, want every stage run", got)
	}
	if !b.logged("%PIX-1-104003: (Secondary) Switching to FAILED.") || a.logged("104002") || a.logged("104003") {
		t.Errorf("syslog A %q\nB %q", a.syslog, b.syslog)
	}
}

func TestInterfaceTestNoNeighbours(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	sa := newSegment(t, p, a, nil)
	_ = newSegment(t, p, b, nil)
	if err := a.dp.SetNeighbors(hwIn, nil); err != nil {
		t.Fatal(err)
	}
	if err := a.dp.FailNext("BroadcastPing", fmt.Errorf("injected")); err != nil {
		t.Fatal(err)
	}
	cutInside(t, p, a, b)
	// An empty ARP cache skips to the ping; a failed send is only logged.
	if got := sa.requests(); got != "" {
		t.Errorf("A sent %q", got)
	}
	sa.logAt(t, "Testing on interface inside Failed.")
	wantState(t, a, Active)
}

func TestBroadcastAddr(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"203.0.113.1/24", "203.0.113.255"},
		{"10.1.2.3/8", "10.255.255.255"},
		{"192.0.2.5/30", "192.0.2.7"},
		{"192.0.2.5/31", "255.255.255.255"},
		{"192.0.2.5/32", "255.255.255.255"},
		{"0.0.0.0/0", "255.255.255.255"},
		{"::ffff:192.0.2.1/120", "192.0.2.255"},
		{"2001:db8::1/64", ""},
	} {
		p := netip.MustParsePrefix(c.in)
		if p.Addr().Is4In6() {
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		got, ok := broadcastAddr(p)
		if (c.want == "") == ok || (ok && got.String() != c.want) {
			t.Errorf("broadcastAddr(%s) = %v, %t; want %q", c.in, got, ok, c.want)
		}
	}
	if _, ok := broadcastAddr(netip.Prefix{}); ok {
		t.Error("broadcast of an invalid prefix")
	}
}

// A dead segment comes back: the standby's side happens to receive first
// and passes. The active's side, whose test failed while the mate's did
// too, is tested again before it counts as the broken one: it passes on
// its first packet and the roles stay. One that still receives nothing
// by the end of that test is failed, and the pair fails over.
func TestInterfaceTestSegmentBackRetests(t *testing.T) {
	for _, c := range []struct {
		name     string
		aHears   bool
		wantA, b State
	}{
		{"both sides back", true, Active, Standby},
		{"only the standby's side back", false, Failed, Active},
	} {
		t.Run(c.name, func(t *testing.T) {
			p, a, b := bootstrap(t)
			p.run(time.Minute)
			newSegment(t, p, a, nil)
			newSegment(t, p, b, nil)
			cutInside(t, p, a, b)
			wantState(t, a, Active)
			wantState(t, b, Standby)
			_ = b.dp.AddRxPackets(hwIn, 1)
			p.run(2 * time.Second)
			wantState(t, a, Active) // tested again first
			if c.aHears {
				_ = a.dp.AddRxPackets(hwIn, 1)
			}
			p.run(time.Minute)
			wantState(t, a, c.wantA)
			wantState(t, b, c.b)
		})
	}
}
