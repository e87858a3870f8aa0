package unit

import (
	"errors"
	"net/netip"
	"slices"
	"testing"
	"time"

	"failover/engine/dataplane"
	"failover/engine/wire"
)

// Both units of a pair keep a fence, renewed with every hello for one hold
// time (so that a takeover only renews it); only the active's hellos say
// HelloFenced, and a unit that stops drops it.
func TestFenceFollowsTheActiveRole(t *testing.T) {
	p, a, b := bootstrap(t)
	ttl, links, n0 := a.dp.Fenced()
	if ttl != a.u.hold() {
		t.Fatalf("active's fence ttl %v, want the hold time %v", ttl, a.u.hold())
	}
	if !slices.ContainsFunc(links, func(l dataplane.FencedLink) bool { return l.Name == hwOut }) ||
		slices.ContainsFunc(links, func(l dataplane.FencedLink) bool { return l.Name == hwFO }) {
		t.Errorf("fenced links %v: want the data interfaces, not the failover link", links)
	}
	if ttl, _, _ := b.dp.Fenced(); ttl <= 0 {
		t.Errorf("the standby has no fence to renew at a takeover")
	}
	if b.u.mate.hello.Flags&wire.HelloFenced == 0 {
		t.Error("the active's hellos do not say HelloFenced")
	}
	if a.u.mate.hello.Flags&wire.HelloFenced != 0 {
		t.Error("the standby's hellos say HelloFenced: its mate would count on a fence for addresses it does not hold")
	}
	p.run(5 * a.u.fo.Poll)
	if _, _, n := a.dp.Fenced(); n < n0+4 {
		t.Errorf("fence renewed %d times in 5 polls, want once per hello", n-n0)
	}

	// Planned switchover: the roles and the fence move together.
	if err := a.u.NoFailoverActive(); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.until(time.Minute, func() bool { return b.u.State() == Active && a.u.State() == Standby }); !ok {
		t.Fatalf("no switchover: A %s, B %s", a.u.State(), b.u.State())
	}
	p.run(time.Second)
	if b.u.mate.hello.Flags&wire.HelloFenced != 0 || a.u.mate.hello.Flags&wire.HelloFenced == 0 {
		t.Error("HelloFenced did not move with the active role")
	}
	if ttl, _, _ := b.dp.Fenced(); ttl <= b.u.hold()-b.u.fo.Poll || ttl > b.u.hold() {
		t.Errorf("the new active's fence ttl %v, want within a poll of %v", ttl, b.u.hold())
	}
	p.stop(b)
	if ttl, _, _ := b.dp.Fenced(); ttl != 0 {
		t.Errorf("a stopped unit left its fence (ttl %v)", ttl)
	}
}

// A unit whose fence cannot be armed does not claim one: its mate then
// waits for the addresses as for a box without a fence.
func TestFenceFailureIsNotAnnounced(t *testing.T) {
	p, a, b := bootstrap(t)
	dp := a.u.o.DP.(*traceDP)
	dp.fenceErr = errors.New("no nf_tables")
	p.run(2 * a.u.fo.Poll)
	if b.u.mate.hello.Flags&wire.HelloFenced != 0 {
		t.Error("hellos say HelloFenced although the fence could not be renewed")
	}
	if _, ok := b.u.mateFence(); ok {
		t.Error("standby counts on a fence the active does not have")
	}
	dp.fenceErr = nil
	p.run(2 * a.u.fo.Poll)
	if b.u.mate.hello.Flags&wire.HelloFenced == 0 {
		t.Error("hellos do not say HelloFenced again once the fence could be renewed")
	}
}

// kill -9 of the active daemon, links up: the dead box's kernel answers ARP
// for the system addresses until its fence trips, one hold time after its
// last renewal. The standby takes over after that moment, never before,
// and within its one short round of asking. The hold time is no multiple
// of the unit's tick, so only a wake-up at the hold time itself is on time.
func TestTakeoverAfterTheFenceTrips(t *testing.T) {
	p, a, b := bootstrapWith(t, fastTimers)
	p.run(time.Minute)
	waitARPWatch(t, b)
	// The daemon dies: no cleanup, the kernel keeps what it had.
	a.u.stopped = true
	a.u.stopTimers()
	ttl, _, _ := a.dp.Fenced()
	trips := b.u.mate.lastLAN.Add(ttl) // renewed just before its last hello
	b.dp.OnSend(func(link string, dst netip.Addr) {
		if !p.clk.Now().Before(trips) {
			return // the fence tripped: the kernel no longer answers
		}
		if as, _ := a.dp.Addrs(link); slices.ContainsFunc(as, func(x dataplane.Addr) bool { return x.Prefix.Addr() == dst }) {
			l, _ := a.dp.Link(link)
			b.dp.InjectARP(link, dst, l.MAC)
		}
	})
	for _, l := range allLinks {
		p.net.CutFrom(l, "A")
	}
	var took time.Time
	for limit := trips.Add(10 * time.Second); p.clk.Now().Before(limit); {
		p.clk.Advance(time.Millisecond)
		p.settle()
		if b.u.State() == Active {
			took = p.clk.Now()
			break
		}
	}
	if took.IsZero() {
		t.Fatalf("standby never took over; history:\n%s", b.u.ShowHistory())
	}
	if took.Before(trips) {
		t.Fatalf("standby took over %v before the dead box's fence tripped", trips.Sub(took))
	}
	// The fence slack and one short round, plus a millisecond of step.
	if late := took.Sub(trips); late > fenceSlack+claimWaitFenced+2*time.Millisecond {
		t.Errorf("takeover %v after the fence tripped, want within %v", late, fenceSlack+claimWaitFenced)
	}
	if !b.holdsSystem(t) {
		t.Errorf("new active holds %q", b.addrs(t))
	}
	if ttl, _, _ := b.dp.Fenced(); ttl == 0 {
		t.Error("the new active serves without a fence")
	}
}

// An active daemon that stalls past its own fence (its loop stuck for more
// than the hold time) finds on waking that its mate took over: it must not
// renew the fence, which would make its box answer beside the new active,
// before the two have settled who serves.
func TestStalledActiveDoesNotUnmuteBesideTheNewActive(t *testing.T) {
	p, a, b := bootstrapWith(t, fastTimers)
	p.run(10 * time.Second)
	// A's loop stops: no timers, and its packets wait in its socket.
	a.u.stopped = true
	a.u.stopTimers()
	p.nodes = slices.DeleteFunc(p.nodes, func(n *node) bool { return n == a })
	_, _, renewed := a.dp.Fenced()
	if _, ok := p.until(10*time.Second, func() bool { return b.u.State() == Active }); !ok {
		t.Fatalf("B did not take over from the stalled A: %s", b.u.State())
	}
	p.run(100 * time.Millisecond)
	// A wakes up: first what queued (B's hellos: B serves), then its tick.
	a.u.stopped = false
	p.nodes = append(p.nodes, a)
	p.settle()
	a.u.startTimers()
	for range 50 {
		p.clk.Advance(10 * time.Millisecond)
		p.settle()
		_, _, n := a.dp.Fenced()
		if n > renewed && a.u.State().serves() && b.u.State().serves() {
			t.Fatalf("A renewed its fence while B serves too: A %s, B %s", a.u.State(), b.u.State())
		}
	}
	if a.u.State().serves() == b.u.State().serves() {
		t.Errorf("the two did not settle: A %s, B %s", a.u.State(), b.u.State())
	}
}

// A daemon killed while active leaves its fence behind, tripped: the box
// would send no ARP, and its frames would leave from the mute MAC. A unit
// that starts again as standby renews it once the engine has removed the
// killed run's addresses.
func TestLeftoverFenceRemovedAtStart(t *testing.T) {
	p, a, b := bootstrap(t)
	// B's box as a killed active left it.
	if err := b.dp.Fence(3*time.Second, []dataplane.FencedLink{{Name: hwOut, MuteAs: negotiationMAC(b.u.ifs[1].ownMAC)}}); err != nil {
		t.Fatal(err)
	}
	p.kill(b)
	p.nodes = append(p.nodes, b) // so that the restarted B gets the same box
	b2 := p.add("B", testConfig("secondary"))
	if b2.dp != b.dp {
		t.Fatal("the restarted B runs on another box")
	}
	if _, ok := p.until(time.Minute, func() bool { return b2.u.State() == Standby }); !ok {
		t.Fatalf("restarted B is %s, want Standby", b2.u.State())
	}
	if end := b2.u.o.DP.(*traceDP).fenceEnd; !end.After(p.clk.Now()) {
		t.Errorf("the restarted standby's fence is tripped (ended %v), its box sends no ARP", end)
	}
	wantState(t, a, Active)
}

// Whenever the active renews its fence (with a hello, or with the
// periodic refresh of its addresses between hellos), the fence trips no
// later than one hold time after the last hello its mate heard: the mate
// counts from that hello.
func TestFenceNeverOutlastsTheLastHello(t *testing.T) {
	p, a, b := bootstrapWith(t, fastTimers)
	dp := a.u.o.DP.(*traceDP)
	checked := 0
	for range 2000 { // 20 s in 10 ms steps: refreshes fall between hellos
		p.clk.Advance(10 * time.Millisecond)
		p.settle()
		if dp.fenceEnd.IsZero() || !b.u.mate.heard {
			continue
		}
		checked++
		if limit := b.u.mate.lastLAN.Add(a.u.hold()); dp.fenceEnd.After(limit) {
			t.Fatalf("A's fence trips %v after its last hello + hold time", dp.fenceEnd.Sub(limit))
		}
	}
	if checked == 0 {
		t.Fatal("A never had a fence")
	}
}

// A live unit's fence never trips, however its hellos are timed: planned
// switchovers in quick succession send hellos at every state change, which
// postpone the periodic one.
func TestFenceNeverTripsOnALiveUnit(t *testing.T) {
	p, a, b := bootstrapWith(t, fastTimers)
	p.run(5 * time.Second)
	switches := 0
	for step := range 3000 { // 30 s in 10 ms steps
		if step%25 == 0 { // a switchover every 250 ms
			for _, n := range []*node{a, b} {
				if n.u.State() == Active && n.u.mate.hello.State == wire.UnitStandby {
					if err := n.u.NoFailoverActive(); err == nil {
						switches++
					}
					break
				}
			}
		}
		p.clk.Advance(10 * time.Millisecond)
		p.settle()
		for _, n := range []*node{a, b} {
			if end := n.u.o.DP.(*traceDP).fenceEnd; !end.After(p.clk.Now()) {
				t.Fatalf("after %d switchovers %s's fence tripped although its daemon runs (%s, ended %v ago)",
					switches, n.name, n.u.State(), p.clk.Now().Sub(end))
			}
		}
	}
	if switches < 20 {
		t.Fatalf("only %d switchovers: the test did not exercise them", switches)
	}
}
