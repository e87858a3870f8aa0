package dataplanetest

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"failover/engine/dataplane"
)

func newTestFake(t *testing.T) *Fake {
	t.Helper()
	f := NewFake()
	must(t, f.AddLink("outside", "02:00:00:00:00:01"))
	must(t, f.AddLink("inside", "02:00:00:00:00:02"))
	return f
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func wantState(t *testing.T, f *Fake, want string) {
	t.Helper()
	got := f.String()
	want = strings.TrimLeft(want, "\n")
	if got != want {
		t.Errorf("state mismatch\n--- got\n%s--- want\n%s", got, want)
	}
}

func TestFakeString(t *testing.T) {
	f := newTestFake(t)
	must(t, f.AddLink("spare", ""))
	must(t, f.SetAdminUp("spare", false))
	must(t, f.SetCarrier("inside", false))
	must(t, f.SetMTU("outside", 9000))
	must(t, f.AddrReplace(dataplane.Addr{Link: "outside", Prefix: netip.MustParsePrefix("192.0.2.10/24")}))
	must(t, f.AddrReplace(dataplane.Addr{Link: "outside", Prefix: netip.MustParsePrefix("192.0.2.11/24"), ValidLft: 30 * time.Second}))
	must(t, f.AddrReplace(dataplane.Addr{Link: "inside", Prefix: netip.MustParsePrefix("198.51.100.1/24")}))
	must(t, f.RouteReplace(dataplane.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: netip.MustParseAddr("192.0.2.1"), Link: "outside", Table: 100}))
	must(t, f.RouteReplace(dataplane.Route{Dst: netip.MustParsePrefix("203.0.113.7/24"), Link: "inside", Metric: 10}))
	must(t, f.AddForeignRoute(dataplane.Route{Dst: netip.MustParsePrefix("203.0.113.0/24"), Link: "inside", Protocol: 4}))
	must(t, f.RuleAdd(dataplane.Rule{Priority: 100, Mark: 1, Table: 100}))
	must(t, f.AddForeignRule(dataplane.Rule{Priority: 50, Mark: 2, Table: 200}, 4))
	must(t, f.GratuitousARP("outside", netip.MustParseAddr("192.0.2.10")))
	must(t, f.GratuitousARP("outside", netip.MustParseAddr("192.0.2.10")))

	wantState(t, f, `
link inside index 2 up nocarrier mtu 1500 mac 02:00:00:00:00:02
link outside index 1 up carrier mtu 9000 mac 02:00:00:00:00:01
link spare index 3 down nocarrier mtu 1500 mac 02:00:00:00:00:03
addr inside 198.51.100.1/24 valid_lft forever
addr outside 192.0.2.10/24 valid_lft forever
addr outside 192.0.2.11/24 valid_lft 30s
route 203.0.113.0/24 dev inside table main metric 0 proto 4
route 203.0.113.0/24 dev inside table main metric 10 proto 250
route 0.0.0.0/0 via 192.0.2.1 dev outside table 100 metric 0 proto 250
rule 50: fwmark 0x2 lookup 200 proto 4
rule 100: fwmark 0x1 lookup 100 proto 250
garp outside 192.0.2.10 mac 02:00:00:00:00:01 count 2
`)
}

func TestFakeCarrierNeedsAdminUp(t *testing.T) {
	f := newTestFake(t)
	must(t, f.SetAdminUp("outside", false))
	l, err := f.Link("outside")
	must(t, err)
	if l.AdminUp || l.Carrier {
		t.Errorf("admin down link reports AdminUp=%t Carrier=%t, want both false", l.AdminUp, l.Carrier)
	}
	must(t, f.SetAdminUp("outside", true))
	if l, _ := f.Link("outside"); !l.Carrier {
		t.Error("carrier not back after admin up")
	}
	if _, err := f.Link("nope"); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("Link(nope) = %v, want dataplane.ErrNotFound", err)
	}
}

func TestFakeAddLinkErrors(t *testing.T) {
	f := newTestFake(t)
	if err := f.AddLink("outside", ""); err == nil {
		t.Error("duplicate AddLink succeeded")
	}
	if err := f.AddLink("bad", "not-a-mac"); err == nil {
		t.Error("AddLink with bad MAC succeeded")
	}
	must(t, f.AddLink("next", ""))
	if l, _ := f.Link("next"); l.Index != 3 {
		t.Errorf("index after failed AddLink = %d, want 3", l.Index)
	}
}

func TestFakeRouteReplaceKeepsOne(t *testing.T) {
	f := newTestFake(t)
	must(t, f.AddrReplace(dataplane.Addr{Link: "outside", Prefix: netip.MustParsePrefix("192.0.2.10/24")}))
	dst := netip.MustParsePrefix("0.0.0.0/0")
	must(t, f.RouteReplace(dataplane.Route{Dst: dst, Gw: netip.MustParseAddr("192.0.2.1"), Link: "outside"}))
	must(t, f.RouteReplace(dataplane.Route{Dst: dst, Gw: netip.MustParseAddr("192.0.2.2"), Link: "outside"}))
	rs, err := f.OwnedRoutes()
	must(t, err)
	if len(rs) != 1 || rs[0].Gw != netip.MustParseAddr("192.0.2.2") || rs[0].Protocol != dataplane.Proto {
		t.Errorf("OwnedRoutes = %+v, want one route via 192.0.2.2 proto %d", rs, dataplane.Proto)
	}
}

func TestFakeRouteChecks(t *testing.T) {
	f := newTestFake(t)
	gw := netip.MustParseAddr("192.0.2.1")
	def := dataplane.Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: gw, Link: "outside"}
	if err := f.RouteReplace(def); !errors.Is(err, syscall.ENETUNREACH) {
		t.Errorf("route via unconnected gateway: err = %v, want ENETUNREACH", err)
	}
	must(t, f.AddrReplace(dataplane.Addr{Link: "outside", Prefix: netip.MustParsePrefix("192.0.2.10/24")}))
	must(t, f.RouteReplace(def))

	// Going down flushes every route through the link, foreign ones too.
	must(t, f.AddForeignRoute(dataplane.Route{Dst: netip.MustParsePrefix("203.0.113.0/24"), Link: "outside", Protocol: 4}))
	must(t, f.SetAdminUp("outside", false))
	if err := f.RouteReplace(def); !errors.Is(err, syscall.ENETDOWN) {
		t.Errorf("route on down link: err = %v, want ENETDOWN", err)
	}
	if rs, _ := f.OwnedRoutes(); len(rs) != 0 {
		t.Errorf("routes survived admin down: %+v", rs)
	}
	if s := f.String(); strings.Contains(s, "route ") {
		t.Errorf("foreign route survived admin down:\n%s", s)
	}
	if err := f.RouteReplace(dataplane.Route{Dst: netip.MustParsePrefix("203.0.113.0/24")}); err == nil {
		t.Error("route without gateway or link accepted")
	}
}

func TestFakeOwnership(t *testing.T) {
	f := newTestFake(t)
	foreign := dataplane.Route{Dst: netip.MustParsePrefix("203.0.113.0/24"), Link: "inside", Protocol: 4}
	must(t, f.AddForeignRoute(foreign))
	if err := f.AddForeignRoute(dataplane.Route{Dst: foreign.Dst, Link: "inside", Protocol: dataplane.Proto}); err == nil {
		t.Error("AddForeignRoute accepted the engine's own protocol")
	}
	if rs, _ := f.OwnedRoutes(); len(rs) != 0 {
		t.Errorf("OwnedRoutes lists a foreign route: %+v", rs)
	}
	if err := f.RouteDel(dataplane.Route{Dst: foreign.Dst, Link: "inside"}); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("RouteDel of a foreign route: err = %v, want dataplane.ErrNotFound", err)
	}
	must(t, f.AddForeignRule(dataplane.Rule{Priority: 10, Mark: 1, Table: 100}, 0))
	if err := f.RuleDel(dataplane.Rule{Priority: 10, Mark: 1, Table: 100}); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("RuleDel of a foreign rule: err = %v, want dataplane.ErrNotFound", err)
	}
	if !strings.Contains(f.String(), "route 203.0.113.0/24 dev inside table main metric 0 proto 4\n") ||
		!strings.Contains(f.String(), "rule 10: fwmark 0x1 lookup 100 proto 0\n") {
		t.Errorf("foreign objects were removed:\n%s", f)
	}
}

func TestFakeRules(t *testing.T) {
	f := newTestFake(t)
	r := dataplane.Rule{Priority: 100, Mark: 0x10, Table: 100}
	must(t, f.RuleAdd(r))
	must(t, f.RuleAdd(r)) // idempotent, like the kernel wrapper
	must(t, f.RuleAdd(dataplane.Rule{Priority: 90, Mark: 0x20, Table: 200}))
	rs, err := f.OwnedRules()
	must(t, err)
	if len(rs) != 2 || rs[0].Priority != 90 || rs[1] != r {
		t.Errorf("OwnedRules = %+v", rs)
	}
	must(t, f.RuleDel(r))
	if err := f.RuleDel(r); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("second RuleDel: err = %v, want dataplane.ErrNotFound", err)
	}
}

func TestFakeAddrs(t *testing.T) {
	f := newTestFake(t)
	p := netip.MustParsePrefix("192.0.2.10/24")
	must(t, f.AddrReplace(dataplane.Addr{Link: "outside", Prefix: p, ValidLft: 10 * time.Second}))
	must(t, f.AddrReplace(dataplane.Addr{Link: "outside", Prefix: p, ValidLft: 20 * time.Second}))
	as, err := f.Addrs("outside")
	must(t, err)
	if len(as) != 1 || as[0].ValidLft != 20*time.Second {
		t.Errorf("Addrs after refresh = %+v, want one with 20s", as)
	}
	if err := f.AddrReplace(dataplane.Addr{Link: "nope", Prefix: p}); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("address on missing link: err = %v, want dataplane.ErrNotFound", err)
	}
	must(t, f.AddrDel(dataplane.Addr{Link: "outside", Prefix: p}))
	if err := f.AddrDel(dataplane.Addr{Link: "outside", Prefix: p}); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("second AddrDel: err = %v, want dataplane.ErrNotFound", err)
	}
}

func TestFakeFailNext(t *testing.T) {
	f := newTestFake(t)
	boom := errors.New("boom")
	must(t, f.FailNext("RuleAdd", boom))
	must(t, f.FailNext("RuleAdd", boom))
	r := dataplane.Rule{Priority: 100, Mark: 1, Table: 100}
	for i := range 2 {
		if err := f.RuleAdd(r); !errors.Is(err, boom) {
			t.Fatalf("RuleAdd #%d: err = %v, want boom", i, err)
		}
	}
	if rs, _ := f.OwnedRules(); len(rs) != 0 {
		t.Errorf("failed RuleAdd changed state: %+v", rs)
	}
	must(t, f.RuleAdd(r))
	if err := f.FailNext("RuleAdds", boom); err == nil {
		t.Error("FailNext accepted a misspelt method")
	}
	must(t, f.FailNext("WatchLinks", boom))
	if err := f.WatchLinks(context.Background(), func(dataplane.Link) {}); !errors.Is(err, boom) {
		t.Errorf("WatchLinks: err = %v, want boom", err)
	}
}

func TestFakeGratuitousARP(t *testing.T) {
	f := newTestFake(t)
	ip := netip.MustParseAddr("192.0.2.10")
	must(t, f.GratuitousARP("outside", ip))
	must(t, f.SetMAC("outside", net.HardwareAddr{0x02, 0, 0, 0, 0, 0x99}))
	must(t, f.GratuitousARP("outside", ip))
	g := f.GARPs()
	if len(g) != 2 || g[0].MAC.String() != "02:00:00:00:00:01" || g[1].MAC.String() != "02:00:00:00:00:99" || g[1].IP != ip {
		t.Errorf("GARPs = %+v", g)
	}
	if err := f.GratuitousARP("outside", netip.MustParseAddr("2001:db8::1")); err == nil {
		t.Error("gratuitous ARP for IPv6 accepted")
	}
	must(t, f.SetAdminUp("outside", false))
	if err := f.GratuitousARP("outside", ip); !errors.Is(err, syscall.ENETDOWN) {
		t.Errorf("gratuitous ARP on down link: err = %v, want ENETDOWN", err)
	}
}

// linkRecorder collects what a WatchLinks subscriber saw.
type linkRecorder struct {
	mu  sync.Mutex
	got []string
}

func (r *linkRecorder) add(l dataplane.Link) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.got = append(r.got, l.Name+" "+pick(l.AdminUp, "up", "down")+" "+pick(l.Carrier, "carrier", "nocarrier"))
}

func (r *linkRecorder) take() string {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := strings.Join(r.got, "\n")
	r.got = nil
	return s
}

func TestFakeWatchLinks(t *testing.T) {
	f := newTestFake(t)
	ctx, cancel := context.WithCancel(context.Background())
	var rec linkRecorder
	done := make(chan error, 1)
	// The subscriber changes the Fake itself, as an engine reacting to
	// carrier loss might; that must not deadlock.
	go func() {
		done <- f.WatchLinks(ctx, func(l dataplane.Link) {
			rec.add(l)
			if l.Name == "inside" && !l.Carrier && l.AdminUp {
				_ = f.SetAdminUp("inside", false)
			}
		})
	}()
	waitFor(t, func() bool { return f.hasWatchers() })
	f.Flush()
	if got, want := rec.take(), "outside up carrier\ninside up carrier"; got != want {
		t.Errorf("initial listing:\n%s\nwant:\n%s", got, want)
	}

	must(t, f.SetCarrier("inside", false))
	f.Flush()
	if got, want := rec.take(), "inside up nocarrier\ninside down nocarrier"; got != want {
		t.Errorf("after carrier loss:\n%s\nwant:\n%s", got, want)
	}

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WatchLinks returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchLinks did not return after cancel")
	}
	must(t, f.SetCarrier("outside", false))
	f.Flush() // must not wait for the ended subscriber
	if got := rec.take(); got != "" {
		t.Errorf("event after cancel: %q", got)
	}
}

func (f *Fake) hasWatchers() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.watchers) > 0
}

func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatal("condition not met within 5s")
		}
		time.Sleep(time.Millisecond)
	}
}

// TestFakeConcurrent is for the race detector.
func TestFakeConcurrent(t *testing.T) {
	f := newTestFake(t)
	must(t, f.AddrReplace(dataplane.Addr{Link: "outside", Prefix: netip.MustParsePrefix("192.0.2.10/24")}))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() { _ = f.WatchLinks(ctx, func(dataplane.Link) {}) }()
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			for j := range 100 {
				_ = f.SetCarrier("outside", j%2 == 0)
				_ = f.RouteReplace(dataplane.Route{Dst: netip.MustParsePrefix("203.0.113.0/24"), Gw: netip.MustParseAddr("192.0.2.1"), Metric: i})
				_, _ = f.OwnedRoutes()
				_ = f.GratuitousARP("outside", netip.MustParseAddr("192.0.2.10"))
				_ = f.String()
			}
		})
	}
	wg.Wait()
	f.Flush()
	if rs, _ := f.OwnedRoutes(); len(rs) != 8 {
		t.Errorf("got %d routes, want one per metric (8)", len(rs))
	}
	if n := len(f.GARPs()); n != 800 {
		t.Errorf("got %d gratuitous ARPs, want 800", n)
	}
}
