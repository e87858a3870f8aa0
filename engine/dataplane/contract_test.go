package dataplane_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"failover/engine/dataplane"
	"failover/engine/dataplane/dataplanetest"
)

// The contract is what the engine relies on from any Dataplane. It runs
// against the in-memory fake and, as root, against the kernel in a fresh
// namespace, so that the fake the state-machine tests use cannot drift from
// what the kernel does.

// contractEnv is one implementation under test with two cabled links A and
// B, both admin up, with carrier and no addresses.
type contractEnv struct {
	dp   dataplane.Dataplane
	a, b string
	// unplug pulls the cable from link (the peer goes away), plug puts it
	// back.
	unplug, plug func(t *testing.T, link string)
	// delLink removes a link as a hot-unplugged NIC would.
	delLink func(t *testing.T, link string)
	// foreignRoute and foreignRule install objects with protocol "static"
	// (4), as an operator or another routing daemon would.
	foreignRoute func(t *testing.T, r dataplane.Route)
	foreignRule  func(t *testing.T, r dataplane.Rule)
}

func fakeEnv(t *testing.T) *contractEnv {
	f := dataplanetest.NewFake()
	for _, name := range []string{"ca", "cb"} {
		if err := f.AddLink(name, ""); err != nil {
			t.Fatal(err)
		}
	}
	carrier := func(up bool) func(t *testing.T, link string) {
		return func(t *testing.T, link string) {
			if err := f.SetCarrier(link, up); err != nil {
				t.Fatal(err)
			}
		}
	}
	return &contractEnv{
		dp: f, a: "ca", b: "cb",
		unplug: carrier(false), plug: carrier(true),
		delLink: func(t *testing.T, link string) {
			if err := f.DelLink(link); err != nil {
				t.Fatal(err)
			}
		},
		foreignRoute: func(t *testing.T, r dataplane.Route) {
			r.Protocol = 4
			if err := f.AddForeignRoute(r); err != nil {
				t.Fatal(err)
			}
		},
		foreignRule: func(t *testing.T, r dataplane.Rule) {
			if err := f.AddForeignRule(r, 4); err != nil {
				t.Fatal(err)
			}
		},
	}
}

// runContract runs every contract test against the environments newEnv
// makes, one fresh environment per test.
func runContract(t *testing.T, newEnv func(t *testing.T) *contractEnv) {
	tests := []struct {
		name string
		fn   func(t *testing.T, e *contractEnv)
	}{
		{"Links", contractLinks},
		{"AdminDown", contractAdminDown},
		{"Carrier", contractCarrier},
		{"Addrs", contractAddrs},
		{"Routes", contractRoutes},
		{"RouteChecks", contractRouteChecks},
		{"RoutesFollowLinks", contractRoutesFollowLinks},
		{"RoutesFollowAddrs", contractRoutesFollowAddrs},
		{"Rules", contractRules},
		{"WatchLinks", contractWatchLinks},
		{"Frames", contractFrames},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, newEnv(t)) })
	}
}

func TestContractFake(t *testing.T) {
	runContract(t, fakeEnv)
}

func mustDo(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// eventually polls cond, because the kernel reports carrier changes through
// its linkwatch work, after the call that caused them has returned.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 5s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func linkIs(e *contractEnv, name string, adminUp, carrier bool) func() bool {
	return func() bool {
		l, err := e.dp.Link(name)
		return err == nil && l.AdminUp == adminUp && l.Carrier == carrier
	}
}

func contractLinks(t *testing.T, e *contractEnv) {
	eventually(t, "A up with carrier", linkIs(e, e.a, true, true))
	ls, err := e.dp.Links()
	mustDo(t, err)
	var names []string
	for _, l := range ls {
		names = append(names, l.Name)
	}
	if !slices.Contains(names, e.a) || !slices.Contains(names, e.b) {
		t.Errorf("Links() = %v, want %s and %s among them", names, e.a, e.b)
	}
	if !slices.IsSortedFunc(ls, func(x, y dataplane.Link) int { return x.Index - y.Index }) {
		t.Errorf("Links() = %v, want index order", names)
	}
	a, err := e.dp.Link(e.a)
	mustDo(t, err)
	if a.Name != e.a || a.Index <= 0 || a.MTU != 1500 || len(a.MAC) != 6 || a.MAC[0]&1 != 0 {
		t.Errorf("Link(%s) = %+v, want its name, an index, mtu 1500 and a unicast MAC", e.a, a)
	}

	for name, err := range map[string]error{
		"Link":       func() error { _, err := e.dp.Link("nope0"); return err }(),
		"SetAdminUp": e.dp.SetAdminUp("nope0", true),
		"SetMTU":     e.dp.SetMTU("nope0", 1400),
		"SetMAC":     e.dp.SetMAC("nope0", net.HardwareAddr{2, 0, 0, 0, 0, 1}),
		"Addrs":      func() error { _, err := e.dp.Addrs("nope0"); return err }(),
		"Neighbors":  func() error { _, err := e.dp.Neighbors("nope0"); return err }(),
	} {
		if !errors.Is(err, dataplane.ErrNotFound) {
			t.Errorf("%s on a missing link: err = %v, want ErrNotFound", name, err)
		}
	}

	mustDo(t, e.dp.SetMTU(e.a, 1400))
	mac := net.HardwareAddr{0x02, 0, 0x5e, 0, 0x02, 0x0a}
	mustDo(t, e.dp.SetMAC(e.a, mac))
	for _, bad := range []int{10, 70000} {
		if err := e.dp.SetMTU(e.a, bad); err == nil {
			t.Errorf("SetMTU(%d) accepted", bad)
		}
	}
	for _, bad := range []net.HardwareAddr{
		{0x01, 0, 0x5e, 0, 0, 1}, // multicast
		{0, 0, 0, 0, 0, 0},
		{0xff, 0xff, 0xff, 0xff, 0xff, 0xff},
	} {
		if err := e.dp.SetMAC(e.a, bad); err == nil {
			t.Errorf("SetMAC(%s) accepted", bad)
		}
	}
	a, err = e.dp.Link(e.a)
	mustDo(t, err)
	if a.MTU != 1400 || !bytes.Equal(a.MAC, mac) {
		t.Errorf("after the changes and the refused ones: mtu %d mac %s, want 1400 %s", a.MTU, a.MAC, mac)
	}
	// Setting what is already set is not an error.
	mustDo(t, e.dp.SetMAC(e.a, mac))
	mustDo(t, e.dp.SetMTU(e.a, 1400))
	mustDo(t, e.dp.SetAdminUp(e.a, true))
}

func contractAdminDown(t *testing.T, e *contractEnv) {
	eventually(t, "A up with carrier", linkIs(e, e.a, true, true))
	mustDo(t, e.dp.SetAdminUp(e.a, false))
	// An admin-down link never reports carrier, whatever the cable says.
	eventually(t, "A down without carrier", linkIs(e, e.a, false, false))
	mustDo(t, e.dp.SetAdminUp(e.a, false))
	mustDo(t, e.dp.SetAdminUp(e.a, true))
	eventually(t, "A up with carrier again", linkIs(e, e.a, true, true))
}

func contractCarrier(t *testing.T, e *contractEnv) {
	eventually(t, "A up with carrier", linkIs(e, e.a, true, true))
	e.unplug(t, e.a)
	eventually(t, "A up without carrier", linkIs(e, e.a, true, false))
	if l, err := e.dp.Link(e.b); err != nil || !l.Carrier {
		t.Errorf("B after unplugging A: %+v, %v; want carrier", l, err)
	}
	e.plug(t, e.a)
	eventually(t, "A up with carrier again", linkIs(e, e.a, true, true))
}

// v4Addrs is link's IPv4 addresses: the kernel adds IPv6 link-local
// addresses by itself, which the engine ignores.
func v4Addrs(t *testing.T, e *contractEnv, link string) []dataplane.Addr {
	t.Helper()
	as, err := e.dp.Addrs(link)
	mustDo(t, err)
	if !slices.IsSortedFunc(as, dataplane.CompareAddr) {
		t.Errorf("Addrs(%s) = %v, want CompareAddr order", link, as)
	}
	return slices.DeleteFunc(as, func(a dataplane.Addr) bool { return !a.Prefix.Addr().Is4() })
}

func contractAddrs(t *testing.T, e *contractEnv) {
	p1 := netip.MustParsePrefix("192.0.2.10/24")
	p2 := netip.MustParsePrefix("192.0.2.9/24")
	mustDo(t, e.dp.AddrReplace(dataplane.Addr{Link: e.a, Prefix: p1, ValidLft: 60 * time.Second}))
	mustDo(t, e.dp.AddrReplace(dataplane.Addr{Link: e.a, Prefix: p2}))
	as := v4Addrs(t, e, e.a)
	if len(as) != 2 || as[0].Prefix != p2 || as[1].Prefix != p1 || as[0].Link != e.a || as[1].Link != e.a {
		t.Fatalf("Addrs(%s) = %+v, want %s then %s", e.a, as, p2, p1)
	}
	if as[0].ValidLft != 0 || as[1].ValidLft <= 50*time.Second || as[1].ValidLft > 60*time.Second {
		t.Errorf("lifetimes %v and %v, want forever (0) and (50s, 60s]", as[0].ValidLft, as[1].ValidLft)
	}
	if as := v4Addrs(t, e, e.b); len(as) != 0 {
		t.Errorf("Addrs(%s) = %+v, want none", e.b, as)
	}

	// A replace without lifetime makes the address permanent.
	mustDo(t, e.dp.AddrReplace(dataplane.Addr{Link: e.a, Prefix: p1}))
	if as := v4Addrs(t, e, e.a); len(as) != 2 || as[1].ValidLft != 0 {
		t.Errorf("after refresh without lifetime Addrs = %+v, want %s forever", as, p1)
	}

	// p1, added first, is the subnet's primary; p2 a secondary.
	mustDo(t, e.dp.AddrDel(dataplane.Addr{Link: e.a, Prefix: p2}))
	if as := v4Addrs(t, e, e.a); len(as) != 1 || as[0].Prefix != p1 {
		t.Errorf("after AddrDel Addrs = %+v, want only %s", as, p1)
	}
	if err := e.dp.AddrDel(dataplane.Addr{Link: e.a, Prefix: p2}); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("second AddrDel: err = %v, want ErrNotFound", err)
	}
	if err := e.dp.AddrReplace(dataplane.Addr{Link: "nope0", Prefix: p1}); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("AddrReplace on a missing link: err = %v, want ErrNotFound", err)
	}
	if err := e.dp.AddrReplace(dataplane.Addr{Link: e.a}); err == nil {
		t.Error("AddrReplace without a prefix accepted")
	}
}

var (
	anyV4  = netip.MustParsePrefix("0.0.0.0/0")
	netB   = netip.MustParsePrefix("198.51.100.0/24")
	netC   = netip.MustParsePrefix("203.0.113.0/24")
	gw1    = netip.MustParseAddr("192.0.2.1")
	gw2    = netip.MustParseAddr("192.0.2.2")
	addrA  = netip.MustParsePrefix("192.0.2.10/24")
	addrB  = netip.MustParsePrefix("198.51.100.10/24")
	ownRts = func(t *testing.T, e *contractEnv) string {
		t.Helper()
		rs, err := e.dp.OwnedRoutes()
		mustDo(t, err)
		return fmt.Sprint(rs)
	}
)

func contractRoutes(t *testing.T, e *contractEnv) {
	mustDo(t, e.dp.AddrReplace(dataplane.Addr{Link: e.a, Prefix: addrA}))
	mustDo(t, e.dp.RouteReplace(dataplane.Route{Dst: netB, Gw: gw1, Link: e.a}))
	// Same destination, table and metric: the second replaces the first.
	mustDo(t, e.dp.RouteReplace(dataplane.Route{Dst: netB, Gw: gw2, Link: e.a}))
	// Without a link the kernel picks the one the gateway is on; the
	// destination is stored masked.
	mustDo(t, e.dp.RouteReplace(dataplane.Route{Dst: netip.MustParsePrefix("0.0.0.7/0"), Gw: gw1, Table: 100, Metric: 5}))
	mustDo(t, e.dp.RouteReplace(dataplane.Route{Dst: netC, Link: e.a, Metric: 10}))
	e.foreignRoute(t, dataplane.Route{Dst: netC, Link: e.a})

	want := fmt.Sprint([]dataplane.Route{
		{Dst: netB, Gw: gw2, Link: e.a, Protocol: dataplane.Proto},
		{Dst: netC, Link: e.a, Metric: 10, Protocol: dataplane.Proto},
		{Dst: anyV4, Gw: gw1, Link: e.a, Table: 100, Metric: 5, Protocol: dataplane.Proto},
	})
	if got := ownRts(t, e); got != want {
		t.Errorf("OwnedRoutes =\n%s\nwant\n%s", got, want)
	}

	// A delete without metric, gateway or link matches ours only.
	mustDo(t, e.dp.RouteDel(dataplane.Route{Dst: netC}))
	if err := e.dp.RouteDel(dataplane.Route{Dst: netC}); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("RouteDel of the foreign route: err = %v, want ErrNotFound", err)
	}
	// A delete that names another gateway or metric matches nothing.
	if err := e.dp.RouteDel(dataplane.Route{Dst: netB, Gw: gw1}); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("RouteDel with another gateway: err = %v, want ErrNotFound", err)
	}
	if err := e.dp.RouteDel(dataplane.Route{Dst: anyV4, Table: 100, Metric: 6}); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("RouteDel with another metric: err = %v, want ErrNotFound", err)
	}
	// Nor one in another table.
	if err := e.dp.RouteDel(dataplane.Route{Dst: anyV4}); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("RouteDel in the main table: err = %v, want ErrNotFound", err)
	}
	mustDo(t, e.dp.RouteDel(dataplane.Route{Dst: netB, Gw: gw2, Link: e.a}))
	mustDo(t, e.dp.RouteDel(dataplane.Route{Dst: anyV4, Table: 100}))
	if got := ownRts(t, e); got != "[]" {
		t.Errorf("after the deletes OwnedRoutes = %s, want none", got)
	}
}

func contractRouteChecks(t *testing.T, e *contractEnv) {
	mustDo(t, e.dp.AddrReplace(dataplane.Addr{Link: e.a, Prefix: addrA}))
	for _, bad := range []dataplane.Route{
		{},          // no destination
		{Dst: netB}, // no gateway, no link
		{Dst: netB, Gw: netip.MustParseAddr("203.0.113.1"), Link: e.a}, // gateway not on a connected subnet
		{Dst: netB, Gw: gw1, Link: e.b},                                // gateway connected, but on another link
		{Dst: netB, Gw: netip.MustParseAddr("2001:db8::1")},            // gateway of another family
		{Dst: netB, Link: "nope0"},
	} {
		if err := e.dp.RouteReplace(bad); err == nil {
			t.Errorf("RouteReplace(%+v) accepted", bad)
		}
	}
	if err := e.dp.RouteReplace(dataplane.Route{Dst: netB, Link: "nope0"}); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("route on a missing link: err = %v, want ErrNotFound", err)
	}
	mustDo(t, e.dp.SetAdminUp(e.b, false))
	if err := e.dp.RouteReplace(dataplane.Route{Dst: netB, Link: e.b}); err == nil {
		t.Error("route on an admin-down link accepted")
	}
	if got := ownRts(t, e); got != "[]" {
		t.Errorf("after refused routes OwnedRoutes = %s, want none", got)
	}
}

// contractRoutesFollowLinks: the kernel drops every route through a link
// that goes admin down, and keeps them through carrier loss.
func contractRoutesFollowLinks(t *testing.T, e *contractEnv) {
	mustDo(t, e.dp.AddrReplace(dataplane.Addr{Link: e.a, Prefix: addrA}))
	mustDo(t, e.dp.AddrReplace(dataplane.Addr{Link: e.b, Prefix: addrB}))
	mustDo(t, e.dp.RouteReplace(dataplane.Route{Dst: anyV4, Gw: gw1, Link: e.a, Table: 100}))
	mustDo(t, e.dp.RouteReplace(dataplane.Route{Dst: netC, Link: e.b}))
	want := fmt.Sprint([]dataplane.Route{
		{Dst: netC, Link: e.b, Protocol: dataplane.Proto},
		{Dst: anyV4, Gw: gw1, Link: e.a, Table: 100, Protocol: dataplane.Proto},
	})
	e.unplug(t, e.a)
	eventually(t, "A without carrier", linkIs(e, e.a, true, false))
	if got := ownRts(t, e); got != want {
		t.Errorf("after carrier loss OwnedRoutes =\n%s\nwant them kept:\n%s", got, want)
	}
	e.plug(t, e.a)

	mustDo(t, e.dp.SetAdminUp(e.a, false))
	want = fmt.Sprint([]dataplane.Route{{Dst: netC, Link: e.b, Protocol: dataplane.Proto}})
	if got := ownRts(t, e); got != want {
		t.Errorf("after A went down OwnedRoutes =\n%s\nwant\n%s", got, want)
	}
	// Coming back up does not restore them, but keeps the address.
	mustDo(t, e.dp.SetAdminUp(e.a, true))
	if got := ownRts(t, e); got != want {
		t.Errorf("after A came back OwnedRoutes =\n%s\nwant\n%s", got, want)
	}
	if as := v4Addrs(t, e, e.a); len(as) != 1 || as[0].Prefix != addrA {
		t.Errorf("after A came back Addrs = %+v, want %s", as, addrA)
	}

	e.delLink(t, e.b)
	if got := ownRts(t, e); got != "[]" {
		t.Errorf("after B was removed OwnedRoutes = %s, want none", got)
	}
}

// contractRoutesFollowAddrs: with promote_secondaries off (the kernel's
// default), deleting a subnet's primary address deletes its secondaries
// too; removing a link's last IPv4 address drops the routes through it.
func contractRoutesFollowAddrs(t *testing.T, e *contractEnv) {
	second := netip.MustParsePrefix("192.0.2.11/24")
	addrs := func() string {
		t.Helper()
		var out []string
		for _, a := range v4Addrs(t, e, e.a) {
			out = append(out, a.Prefix.String())
		}
		return strings.Join(out, " ")
	}
	mustDo(t, e.dp.AddrReplace(dataplane.Addr{Link: e.a, Prefix: addrA}))
	mustDo(t, e.dp.AddrReplace(dataplane.Addr{Link: e.a, Prefix: second}))
	mustDo(t, e.dp.AddrReplace(dataplane.Addr{Link: e.a, Prefix: addrB}))
	mustDo(t, e.dp.RouteReplace(dataplane.Route{Dst: anyV4, Gw: gw1, Link: e.a, Table: 100}))
	want := fmt.Sprint([]dataplane.Route{{Dst: anyV4, Gw: gw1, Link: e.a, Table: 100, Protocol: dataplane.Proto}})

	mustDo(t, e.dp.AddrDel(dataplane.Addr{Link: e.a, Prefix: second}))
	if got := addrs(); got != "192.0.2.10/24 198.51.100.10/24" {
		t.Errorf("after deleting a secondary Addrs = %s, want the primary and the other subnet", got)
	}
	mustDo(t, e.dp.AddrReplace(dataplane.Addr{Link: e.a, Prefix: second}))
	mustDo(t, e.dp.AddrDel(dataplane.Addr{Link: e.a, Prefix: addrA}))
	if got := addrs(); got != "198.51.100.10/24" {
		t.Errorf("after deleting the primary Addrs = %s, want only the other subnet", got)
	}
	if got := ownRts(t, e); got != want {
		t.Errorf("with an address left OwnedRoutes =\n%s\nwant\n%s", got, want)
	}
	mustDo(t, e.dp.AddrDel(dataplane.Addr{Link: e.a, Prefix: addrB}))
	if got := ownRts(t, e); got != "[]" {
		t.Errorf("with no address left OwnedRoutes = %s, want none", got)
	}
}

func contractRules(t *testing.T, e *contractEnv) {
	r := dataplane.Rule{Priority: 1000, Mark: 0x10, Table: 100}
	foreign := dataplane.Rule{Priority: 1001, Mark: 0x20, Table: 200}
	e.foreignRule(t, foreign)
	for range 2 { // adding an existing rule succeeds
		mustDo(t, e.dp.RuleAdd(r))
	}
	mustDo(t, e.dp.RuleAdd(dataplane.Rule{Priority: 999, Mark: 0x11, Table: 101}))
	rs, err := e.dp.OwnedRules()
	mustDo(t, err)
	if want := fmt.Sprint([]dataplane.Rule{{Priority: 999, Mark: 0x11, Table: 101}, r}); fmt.Sprint(rs) != want {
		t.Errorf("OwnedRules = %v, want %s", rs, want)
	}
	if err := e.dp.RuleDel(foreign); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("RuleDel of a foreign rule: err = %v, want ErrNotFound", err)
	}
	mustDo(t, e.dp.RuleDel(r))
	if err := e.dp.RuleDel(r); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("second RuleDel: err = %v, want ErrNotFound", err)
	}
}

func contractWatchLinks(t *testing.T, e *contractEnv) {
	eventually(t, "A up with carrier", linkIs(e, e.a, true, true))
	var mu sync.Mutex
	var seen []string
	saw := func(want string) func() bool {
		return func() bool {
			mu.Lock()
			defer mu.Unlock()
			return slices.Contains(seen, want)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- e.dp.WatchLinks(ctx, func(l dataplane.Link) {
			mu.Lock()
			defer mu.Unlock()
			seen = append(seen, fmt.Sprintf("%s admin=%t carrier=%t mtu=%d", l.Name, l.AdminUp, l.Carrier, l.MTU))
		})
	}()
	// Every link first, as it is now.
	eventually(t, "initial A", saw(e.a+" admin=true carrier=true mtu=1500"))
	eventually(t, "initial B", saw(e.b+" admin=true carrier=true mtu=1500"))
	mustDo(t, e.dp.SetMTU(e.a, 1400))
	eventually(t, "A's new MTU", saw(e.a+" admin=true carrier=true mtu=1400"))
	e.unplug(t, e.a)
	eventually(t, "A's carrier loss", saw(e.a+" admin=true carrier=false mtu=1400"))
	mustDo(t, e.dp.SetAdminUp(e.a, false))
	eventually(t, "A going down", saw(e.a+" admin=false carrier=false mtu=1400"))
	e.delLink(t, e.b)
	eventually(t, "B's removal", saw(e.b+" admin=false carrier=false mtu=1500"))

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WatchLinks returned %v after cancel, want nil", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchLinks did not return after cancel")
	}
}

func contractFrames(t *testing.T, e *contractEnv) {
	mustDo(t, e.dp.AddrReplace(dataplane.Addr{Link: e.a, Prefix: addrA}))
	v6 := netip.MustParseAddr("2001:db8::1")
	mustDo(t, e.dp.GratuitousARP(e.a, addrA.Addr()))
	mustDo(t, e.dp.ARPRequest(e.a, gw1))
	mustDo(t, e.dp.BroadcastPing(e.a, addrA.Addr(), netip.MustParseAddr("192.0.2.255")))
	if ns, err := e.dp.Neighbors(e.b); err != nil || len(ns) != 0 {
		t.Errorf("Neighbors(%s) = %v, %v; want none on a silent segment", e.b, ns, err)
	}

	if err := e.dp.GratuitousARP(e.a, v6); err == nil {
		t.Error("gratuitous ARP for an IPv6 address accepted")
	}
	if err := e.dp.ARPRequest(e.a, v6); err == nil {
		t.Error("ARP request for an IPv6 address accepted")
	}
	if err := e.dp.BroadcastPing(e.a, addrA.Addr(), v6); err == nil {
		t.Error("broadcast ping to an IPv6 address accepted")
	}
	for name, err := range map[string]error{
		"GratuitousARP": e.dp.GratuitousARP("nope0", addrA.Addr()),
		"ARPRequest":    e.dp.ARPRequest("nope0", gw1),
		"BroadcastPing": e.dp.BroadcastPing("nope0", addrA.Addr(), netip.MustParseAddr("192.0.2.255")),
	} {
		if !errors.Is(err, dataplane.ErrNotFound) {
			t.Errorf("%s on a missing link: err = %v, want ErrNotFound", name, err)
		}
	}

	mustDo(t, e.dp.SetAdminUp(e.a, false))
	for name, err := range map[string]error{
		"GratuitousARP": e.dp.GratuitousARP(e.a, addrA.Addr()),
		"ARPRequest":    e.dp.ARPRequest(e.a, gw1),
		"BroadcastPing": e.dp.BroadcastPing(e.a, addrA.Addr(), netip.MustParseAddr("192.0.2.255")),
	} {
		if err == nil || !strings.Contains(err.Error(), e.a) {
			t.Errorf("%s on an admin-down link: err = %v, want an error naming %s", name, err, e.a)
		}
	}
}
