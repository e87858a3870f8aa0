package unit

import (
	"testing"
	"time"

	"failover/engine/transport"
)

// keyedPair starts a primary A and a secondary B with a shared key.
func keyedPair(t *testing.T, p *pair) (a, b *node) {
	t.Helper()
	ca, cb := testConfig("primary"), testConfig("secondary")
	ca.Failover.Key, cb.Failover.Key = "s3cret", "s3cret"
	a, b = p.add("A", ca), p.add("B", cb)
	if _, ok := p.until(time.Minute, func() bool { return a.u.State() == Active && b.u.State() == Standby }); !ok {
		t.Fatalf("no active/standby pair: A %s, B %s", a.u.State(), b.u.State())
	}
	return a, b
}

// recording is every frame seen so far on every link.
func recording(p *pair) map[string][]transport.Frame {
	rec := map[string][]transport.Frame{}
	for _, l := range []string{hwFO, hwOut, hwIn} {
		rec[l] = p.net.History(l)
	}
	return rec
}

// replay injects a recording, as an attacker on every link would.
func replay(p *pair, rec map[string][]transport.Frame) int {
	n := 0
	for l, frames := range rec {
		for _, f := range frames {
			f.From = "attacker"
			p.net.Inject(l, f)
			n++
		}
	}
	p.settle()
	return n
}

func rejected(ns ...*node) uint64 {
	var n uint64
	for _, x := range ns {
		n += x.u.stats.general.rerr
	}
	return n
}

// The split brain of old: datagrams recorded before both daemons restarted,
// replayed at both units on every link, made the standby follow a dead boot
// of its mate, refuse the live one and go active beside it. Now they are
// refused and counted, and nothing changes.
func TestRecordedDatagramsAfterRestartChangeNothing(t *testing.T) {
	p := newPair(t)
	a, b := keyedPair(t, p)
	p.run(5 * time.Second) // interface hellos, probes' flags, everything
	p.stop(b)
	p.stop(a) // clean shutdowns: the recording holds shutdown hellos too
	rec := recording(p)

	a, b = keyedPair(t, p)
	histA, histB := len(a.u.history), len(b.u.history)
	before := rejected(a, b)
	for range 3 {
		replay(p, rec)
		p.run(a.u.hold() + 2*time.Second)
		wantState(t, a, Active)
		wantState(t, b, Standby)
	}
	if len(a.u.history) != histA || len(b.u.history) != histB {
		t.Errorf("state changes during the replays:\nA:\n%s\nB:\n%s", a.u.ShowHistory(), b.u.ShowHistory())
	}
	if got := rejected(a, b) - before; got < 3 {
		t.Errorf("rerr grew by %d over three replays", got)
	}
	if peer, _ := b.u.recv.Peer(); peer != a.u.sender.BootID() {
		t.Errorf("B follows boot %s, want A's %s", peer, a.u.sender.BootID())
	}
}

// An old shutdown hello of the primary, replayed while the primary
// restarts: the pair must come back as one active and one standby that hear
// each other, not as two active units deaf to each other.
func TestOldShutdownHelloDuringPrimaryRestart(t *testing.T) {
	p := newPair(t)
	a, b := keyedPair(t, p)
	p.stop(a)
	rec := recording(p) // ends with A's shutdown hello
	if _, ok := p.until(10*time.Second, func() bool { return b.u.State() == Active }); !ok {
		t.Fatalf("B did not take over after A's shutdown: %s", b.u.State())
	}
	ca := testConfig("primary")
	ca.Failover.Key = "s3cret"
	a = p.add("A", ca) // A comes back: B stays active, A is standby
	if _, ok := p.until(time.Minute, func() bool { return a.u.State() == Standby }); !ok {
		t.Fatalf("restarted A is %s, want Standby", a.u.State())
	}
	p.stop(a)
	a = p.add("A", ca) // and restarts again, while the attacker replays
	for range 5 {
		replay(p, rec)
		p.run(time.Second)
		if a.u.State() == Active && b.u.State() == Active {
			t.Fatalf("both units active during the replays\nA:\n%s\nB:\n%s", a.u.ShowHistory(), b.u.ShowHistory())
		}
	}
	if _, ok := p.until(time.Minute, func() bool { return a.u.State() == Standby && b.u.State() == Active }); !ok {
		t.Fatalf("after the replays: A %s, B %s; want Standby, Active", a.u.State(), b.u.State())
	}
	histA, histB := len(a.u.history), len(b.u.history)
	replay(p, rec)
	p.run(b.u.hold() + 2*time.Second)
	wantState(t, a, Standby)
	wantState(t, b, Active)
	if len(a.u.history) != histA || len(b.u.history) != histB {
		t.Errorf("state changes during the replays:\nA:\n%s\nB:\n%s", a.u.ShowHistory(), b.u.ShowHistory())
	}
}

// A datagram that crossed a router (TTL below 255) is refused and counted,
// even when it is the mate's own, current and unseen message.
func TestRoutedDatagramRefused(t *testing.T) {
	p := newPair(t)
	a, b := keyedPair(t, p)
	// Hold A's next hellos back from B, then deliver them as a router
	// would: same bytes, TTL decremented.
	start := len(p.net.History(hwFO))
	p.net.CutFrom(hwFO, "A")
	p.run(2 * a.u.fo.Poll)
	p.net.Restore(hwFO)
	lastLAN := b.u.mate.lastLAN
	before := b.u.stats.general.rerr
	n := 0
	for _, f := range p.net.History(hwFO)[start:] {
		if f.From == "A" {
			f.From, f.TTL = "router", 254
			p.net.Inject(hwFO, f)
			n++
		}
	}
	p.settle()
	if n == 0 {
		t.Fatal("A sent nothing on the LAN link")
	}
	if got := b.u.stats.general.rerr - before; got != uint64(n) {
		t.Errorf("rerr grew by %d, want %d (every routed datagram)", got, n)
	}
	if !b.u.mate.lastLAN.Equal(lastLAN) {
		t.Errorf("B heard A on the LAN link through the router")
	}
}

// A secondary restarted while the failover LAN link is down hears its
// active mate only on the data interfaces, from a boot it cannot prove live
// (it must stay silent there, so it cannot challenge). It must still not go
// active beside the active primary.
func TestRestartWithLANDownHeldBackByUnprovenMate(t *testing.T) {
	p := newPair(t)
	a, b := keyedPair(t, p)
	p.net.Cut(hwFO)
	p.stop(b)
	cb := testConfig("secondary")
	cb.Failover.Key = "s3cret"
	b = p.add("B", cb)
	p.run(3 * b.u.hold())
	wantState(t, a, Active)
	if b.u.State() == Active {
		t.Fatalf("restarted secondary went active beside the active primary:\n%s", b.u.ShowHistory())
	}
	if _, ok := b.u.recv.Peer(); ok {
		t.Fatal("restarted secondary follows a boot it never proved live")
	}
}
