//go:build linux

package dataplane

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netns"
)

// testNS is a throwaway network namespace holding the veth pair fo0 <-> fo1,
// both up, and a Netlink driving it.
type testNS struct {
	t    *testing.T
	name string
	ns   netns.NsHandle
	dp   *Netlink
}

func newTestNS(t *testing.T) *testNS {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create a network namespace and veth pair")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip command to set up the namespace")
	}
	tn := &testNS{t: t, name: fmt.Sprintf("fo-dp-%08x", rand.Uint32())}
	if out, err := exec.Command("ip", "netns", "add", tn.name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add %s: %v: %s", tn.name, err, out)
	}
	// Registered before anything else can fail, so the namespace (and the
	// veth pair inside it) always goes away.
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", tn.name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", tn.name, err, out)
		}
	})
	ns, err := netns.GetFromName(tn.name)
	if err != nil {
		t.Fatalf("open netns %s: %v", tn.name, err)
	}
	tn.ns = ns
	t.Cleanup(func() { _ = ns.Close() })

	tn.ip("link", "add", "fo0", "type", "veth", "peer", "name", "fo1")
	tn.ip("link", "set", "fo0", "up")
	tn.ip("link", "set", "fo1", "up")

	dp, err := NewNetlinkAt(ns, slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	tn.dp = dp
	t.Cleanup(func() {
		if err := dp.Close(); err != nil {
			t.Error(err)
		}
	})
	return tn
}

// ip runs "ip -n <ns> args..." and returns its output.
func (tn *testNS) ip(args ...string) string {
	tn.t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", tn.name}, args...)...).CombinedOutput()
	if err != nil {
		tn.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// waitLink polls until name satisfies cond, because carrier changes reach
// the link's flags through the kernel's linkwatch work, not synchronously.
func (tn *testNS) waitLink(name string, cond func(Link) bool) Link {
	tn.t.Helper()
	var l Link
	var err error
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if l, err = tn.dp.Link(name); err == nil && cond(l) {
			return l
		}
		time.Sleep(10 * time.Millisecond)
	}
	tn.t.Fatalf("link %s never reached the expected state: last %+v, err %v", name, l, err)
	return l
}

func TestNetlinkLinks(t *testing.T) {
	tn := newTestNS(t)
	dp := tn.dp

	ls, err := dp.Links()
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range ls {
		names = append(names, l.Name)
	}
	if got := strings.Join(names, " "); !strings.Contains(got, "lo") || !strings.Contains(got, "fo0") || !strings.Contains(got, "fo1") {
		t.Errorf("Links() = %q, want lo, fo0 and fo1 (and nothing from the host)", got)
	}
	if len(ls) != 3 {
		t.Errorf("Links() has %d links, want 3", len(ls))
	}

	l := tn.waitLink("fo0", func(l Link) bool { return l.Carrier })
	if !l.AdminUp || l.MTU != 1500 || len(l.MAC) != 6 || l.Index == 0 {
		t.Errorf("fo0 = %+v, want admin up, mtu 1500, a MAC and an index", l)
	}

	if err := dp.SetMTU("fo0", 1400); err != nil {
		t.Fatal(err)
	}
	mac := net.HardwareAddr{0x02, 0, 0x5e, 0, 0x02, 0x0a}
	if err := dp.SetMAC("fo0", mac); err != nil {
		t.Fatal(err)
	}
	if l, err = dp.Link("fo0"); err != nil {
		t.Fatal(err)
	}
	if l.MTU != 1400 || !bytes.Equal(l.MAC, mac) {
		t.Errorf("after SetMTU/SetMAC fo0 = mtu %d mac %s, want 1400 %s", l.MTU, l.MAC, mac)
	}
	if !strings.Contains(tn.ip("link", "show", "fo0"), "mtu 1400") {
		t.Error("ip link does not show mtu 1400")
	}

	if err := dp.SetAdminUp("fo0", false); err != nil {
		t.Fatal(err)
	}
	if l, err = dp.Link("fo0"); err != nil {
		t.Fatal(err)
	}
	if l.AdminUp || l.Carrier {
		t.Errorf("fo0 after admin down: AdminUp=%t Carrier=%t, want both false", l.AdminUp, l.Carrier)
	}
	// The peer loses carrier when fo0 goes down, and regains it with it.
	tn.waitLink("fo1", func(l Link) bool { return l.AdminUp && !l.Carrier })
	if err := dp.SetAdminUp("fo0", true); err != nil {
		t.Fatal(err)
	}
	tn.waitLink("fo1", func(l Link) bool { return l.Carrier })
	tn.waitLink("fo0", func(l Link) bool { return l.AdminUp && l.Carrier })

	if _, err := dp.Link("nope0"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Link(nope0) err = %v, want ErrNotFound", err)
	}
	if err := dp.SetAdminUp("nope0", true); !errors.Is(err, ErrNotFound) {
		t.Errorf("SetAdminUp(nope0) err = %v, want ErrNotFound", err)
	}
}

var validLftRE = regexp.MustCompile(`valid_lft (\S+)`)

// ipValidLft returns the valid_lft that "ip -d addr" shows for addr.
func (tn *testNS) ipValidLft(dev, addr string) string {
	tn.t.Helper()
	out := tn.ip("-d", "addr", "show", "dev", dev)
	_, rest, ok := strings.Cut(out, "inet "+addr+" ")
	if !ok {
		tn.t.Fatalf("address %s not on %s:\n%s", addr, dev, out)
	}
	m := validLftRE.FindStringSubmatch(rest)
	if m == nil {
		tn.t.Fatalf("no valid_lft for %s in:\n%s", addr, out)
	}
	return m[1]
}

func TestNetlinkAddrLifetime(t *testing.T) {
	tn := newTestNS(t)
	dp := tn.dp
	p := netip.MustParsePrefix("192.0.2.10/24")

	if err := dp.AddrReplace(Addr{Link: "fo0", Prefix: p, ValidLft: 60 * time.Second}); err != nil {
		t.Fatal(err)
	}
	as, err := dp.Addrs("fo0")
	if err != nil {
		t.Fatal(err)
	}
	var got *Addr
	for i := range as {
		if as[i].Prefix == p {
			got = &as[i]
		}
	}
	if got == nil {
		t.Fatalf("Addrs(fo0) = %+v, want %s", as, p)
	}
	if got.ValidLft <= 50*time.Second || got.ValidLft > 60*time.Second || got.Link != "fo0" {
		t.Errorf("address %+v, want ValidLft in (50s, 60s]", *got)
	}
	lft := tn.ipValidLft("fo0", "192.0.2.10/24")
	secs, err := strconv.Atoi(strings.TrimSuffix(lft, "sec"))
	if err != nil || secs <= 50 || secs > 60 {
		t.Errorf("ip shows valid_lft %s, want 51..60sec", lft)
	}

	// Calling again without a lifetime makes the address permanent.
	if err := dp.AddrReplace(Addr{Link: "fo0", Prefix: p}); err != nil {
		t.Fatal(err)
	}
	if lft := tn.ipValidLft("fo0", "192.0.2.10/24"); lft != "forever" {
		t.Errorf("after refresh without lifetime ip shows valid_lft %s, want forever", lft)
	}
	if as, _ := dp.Addrs("fo0"); len(as) == 0 || as[0].Prefix != p || as[0].ValidLft != 0 {
		t.Errorf("Addrs(fo0) = %+v, want %s with ValidLft 0 first", as, p)
	}

	if err := dp.AddrDel(Addr{Link: "fo0", Prefix: p}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(tn.ip("addr", "show", "dev", "fo0"), "192.0.2.10") {
		t.Error("address still present after AddrDel")
	}
	if err := dp.AddrDel(Addr{Link: "fo0", Prefix: p}); !errors.Is(err, ErrNotFound) {
		t.Errorf("second AddrDel err = %v, want ErrNotFound", err)
	}
}

func TestNetlinkRouteReplace(t *testing.T) {
	tn := newTestNS(t)
	dp := tn.dp
	tn.ip("addr", "add", "192.0.2.10/24", "dev", "fo0")
	dst := netip.MustParsePrefix("198.51.100.0/24")

	for _, gw := range []string{"192.0.2.1", "192.0.2.2"} {
		if err := dp.RouteReplace(Route{Dst: dst, Gw: netip.MustParseAddr(gw), Link: "fo0"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := dp.RouteReplace(Route{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: netip.MustParseAddr("192.0.2.1"), Table: 100, Metric: 5}); err != nil {
		t.Fatal(err)
	}

	if out := strings.TrimSpace(tn.ip("route", "show", "198.51.100.0/24")); out != "198.51.100.0/24 via 192.0.2.2 dev fo0 proto 250" {
		t.Errorf("ip route shows %q, want exactly one route via 192.0.2.2 proto 250", out)
	}
	rs, err := dp.OwnedRoutes()
	if err != nil {
		t.Fatal(err)
	}
	want := []Route{
		{Dst: dst, Gw: netip.MustParseAddr("192.0.2.2"), Link: "fo0", Protocol: Proto},
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gw: netip.MustParseAddr("192.0.2.1"), Link: "fo0", Table: 100, Metric: 5, Protocol: Proto},
	}
	if fmt.Sprint(rs) != fmt.Sprint(want) {
		t.Errorf("OwnedRoutes =\n%+v\nwant\n%+v", rs, want)
	}

	for _, r := range want {
		if err := dp.RouteDel(r); err != nil {
			t.Error(err)
		}
	}
	if rs, err := dp.OwnedRoutes(); err != nil || len(rs) != 0 {
		t.Errorf("after RouteDel OwnedRoutes = %+v, %v; want none", rs, err)
	}
}

func TestNetlinkForeignRoute(t *testing.T) {
	tn := newTestNS(t)
	dp := tn.dp
	tn.ip("addr", "add", "192.0.2.10/24", "dev", "fo0")
	tn.ip("route", "add", "203.0.113.0/24", "dev", "fo0", "proto", "static")
	dst := netip.MustParsePrefix("203.0.113.0/24")

	if rs, err := dp.OwnedRoutes(); err != nil || len(rs) != 0 {
		t.Errorf("OwnedRoutes = %+v, %v; want none (the static route is not ours)", rs, err)
	}
	if err := dp.RouteDel(Route{Dst: dst, Link: "fo0"}); !errors.Is(err, ErrNotFound) {
		t.Errorf("RouteDel of the static route: err = %v, want ErrNotFound", err)
	}
	if err := dp.RouteDel(Route{Dst: dst}); !errors.Is(err, ErrNotFound) {
		t.Errorf("RouteDel by destination only: err = %v, want ErrNotFound", err)
	}

	// Ours next to it with another metric: deleting ours spares the other.
	if err := dp.RouteReplace(Route{Dst: dst, Link: "fo0", Metric: 10}); err != nil {
		t.Fatal(err)
	}
	if err := dp.RouteDel(Route{Dst: dst, Link: "fo0"}); err != nil {
		t.Errorf("RouteDel of our route: %v", err)
	}
	if out := strings.TrimSpace(tn.ip("route", "show", "203.0.113.0/24")); out != "203.0.113.0/24 dev fo0 proto static scope link" {
		t.Errorf("ip route shows %q, want only the static route", out)
	}
}

func TestNetlinkRules(t *testing.T) {
	tn := newTestNS(t)
	dp := tn.dp
	tn.ip("rule", "add", "fwmark", "0x20", "lookup", "200", "prio", "1001")
	r := Rule{Priority: 1000, Mark: 0x10, Table: 100}

	for range 2 { // the second add must be a no-op, not EEXIST
		if err := dp.RuleAdd(r); err != nil {
			t.Fatal(err)
		}
	}
	rs, err := dp.OwnedRules()
	if err != nil {
		t.Fatal(err)
	}
	if len(rs) != 1 || rs[0] != r {
		t.Errorf("OwnedRules = %+v, want [%+v]", rs, r)
	}
	if out := tn.ip("rule", "show"); !strings.Contains(out, "1000:\tfrom all fwmark 0x10 lookup 100 proto 250") {
		t.Errorf("ip rule does not show our rule:\n%s", out)
	}

	foreign := Rule{Priority: 1001, Mark: 0x20, Table: 200}
	if err := dp.RuleDel(foreign); !errors.Is(err, ErrNotFound) {
		t.Errorf("RuleDel of a foreign rule: err = %v, want ErrNotFound", err)
	}
	if err := dp.RuleDel(r); err != nil {
		t.Fatal(err)
	}
	if err := dp.RuleDel(r); !errors.Is(err, ErrNotFound) {
		t.Errorf("second RuleDel: err = %v, want ErrNotFound", err)
	}
	if rs, err := dp.OwnedRules(); err != nil || len(rs) != 0 {
		t.Errorf("OwnedRules after delete = %+v, %v; want none", rs, err)
	}
	out := tn.ip("rule", "show")
	if !strings.Contains(out, "1001:\tfrom all fwmark 0x20 lookup 200") || strings.Contains(out, "1000:") {
		t.Errorf("ip rule after RuleDel:\n%s\nwant the foreign rule 1001 only", out)
	}
}

func TestNetlinkWatchLinks(t *testing.T) {
	tn := newTestNS(t)
	tn.waitLink("fo0", func(l Link) bool { return l.Carrier })

	var mu sync.Mutex
	var seen []Link
	saw := func(cond func(Link) bool) bool {
		mu.Lock()
		defer mu.Unlock()
		for _, l := range seen {
			if cond(l) {
				return true
			}
		}
		return false
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- tn.dp.WatchLinks(ctx, func(l Link) {
			mu.Lock()
			seen = append(seen, l)
			mu.Unlock()
		})
	}()

	waitFor(t, func() bool {
		return saw(func(l Link) bool { return l.Name == "fo0" && l.Carrier }) &&
			saw(func(l Link) bool { return l.Name == "lo" })
	})
	tn.ip("link", "set", "fo1", "down")
	waitFor(t, func() bool { return saw(func(l Link) bool { return l.Name == "fo0" && l.AdminUp && !l.Carrier }) })

	tn.ip("link", "del", "fo0")
	waitFor(t, func() bool { return saw(func(l Link) bool { return l.Name == "fo0" && !l.AdminUp && !l.Carrier }) })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WatchLinks returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchLinks did not return after cancel")
	}
}

func TestNetlinkGratuitousARP(t *testing.T) {
	tn := newTestNS(t)
	dp := tn.dp
	tn.waitLink("fo1", func(l Link) bool { return l.Carrier })
	fo0, err := dp.Link("fo0")
	if err != nil {
		t.Fatal(err)
	}
	fo1, err := dp.Link("fo1")
	if err != nil {
		t.Fatal(err)
	}

	var conn *packet.Conn
	err = inNetns(tn.ns, func() error {
		var err error
		conn, err = packet.Listen(&net.Interface{Index: fo1.Index}, packet.Raw, etherTypeARP, nil)
		return err
	})
	if err != nil {
		t.Fatalf("listen on fo1: %v", err)
	}
	defer conn.Close()
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		t.Fatal(err)
	}

	ip := netip.MustParseAddr("192.0.2.10")
	if err := dp.GratuitousARP("fo0", ip); err != nil {
		t.Fatal(err)
	}
	buf := make([]byte, 1500)
	n, _, err := conn.ReadFrom(buf)
	if err != nil {
		t.Fatalf("no ARP received on fo1: %v", err)
	}
	want, _ := garpFrame(fo0.MAC, ip)
	if !bytes.Equal(buf[:n], want) {
		t.Errorf("received frame\n% x\nwant\n% x", buf[:n], want)
	}
	// Spot-check the fields independently of garpFrame.
	f := buf[:n]
	if n < 42 || !bytes.Equal(f[0:6], ethBroadcast) || !bytes.Equal(f[6:12], fo0.MAC) ||
		f[12] != 0x08 || f[13] != 0x06 || f[21] != 2 ||
		!bytes.Equal(f[22:28], fo0.MAC) || !bytes.Equal(f[28:32], ip.AsSlice()) || !bytes.Equal(f[38:42], ip.AsSlice()) {
		t.Errorf("frame is not a broadcast ARP reply for %s from %s:\n% x", ip, fo0.MAC, f)
	}

	after, err := dp.Link("fo0")
	if err != nil {
		t.Fatal(err)
	}
	if after.Stats.TxPackets <= fo0.Stats.TxPackets {
		t.Errorf("fo0 TxPackets %d -> %d, want an increase", fo0.Stats.TxPackets, after.Stats.TxPackets)
	}
	if err := dp.GratuitousARP("fo0", netip.MustParseAddr("2001:db8::1")); err == nil {
		t.Error("gratuitous ARP for an IPv6 address accepted")
	}
}

func TestNetlinkClosed(t *testing.T) {
	tn := newTestNS(t)
	if err := tn.dp.Close(); err != nil {
		t.Fatal(err)
	}
	// A closed handle must not fall back to the host's namespace.
	if ls, err := tn.dp.Links(); err == nil {
		t.Errorf("Links after Close = %d links, want an error", len(ls))
	}
}

func TestNetlinkCurrentNamespace(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a fresh namespace to compare against")
	}
	dp, err := NewNetlink(slog.New(slog.NewTextHandler(t.Output(), nil)))
	if err != nil {
		t.Fatal(err)
	}
	defer dp.Close()
	// Read-only: this is the host's namespace.
	l, err := dp.Link("lo")
	if err != nil {
		t.Fatal(err)
	}
	if l.Index != 1 {
		t.Errorf("lo index = %d, want 1", l.Index)
	}
}

// TestNetlinkWatchLinksResubscribes overflows the subscription socket, which
// makes the library close its channel, and checks that WatchLinks comes back
// with a full listing that includes the links created meanwhile.
func TestNetlinkWatchLinksResubscribes(t *testing.T) {
	tn := newTestNS(t)
	tn.dp.watchRcvBuf = 1 // the kernel rounds this up to its minimum

	var mu sync.Mutex
	counts := map[string]int{}
	count := func(name string) int {
		mu.Lock()
		defer mu.Unlock()
		return counts[name]
	}
	release := make(chan struct{})
	var once sync.Once
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() {
		done <- tn.dp.WatchLinks(ctx, func(l Link) {
			// Stall on the first event so that the 64-slot channel and then
			// the socket buffer overflow.
			once.Do(func() { <-release })
			mu.Lock()
			counts[l.Name]++
			mu.Unlock()
		})
	}()
	time.Sleep(100 * time.Millisecond) // let the subscription start
	for i := range 60 {
		tn.ip("link", "add", fmt.Sprintf("v%da", i), "type", "veth", "peer", "name", fmt.Sprintf("v%db", i))
	}
	close(release)
	waitFor(t, func() bool { return count("lo") >= 2 && count("v59b") >= 1 })

	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WatchLinks returned %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchLinks did not return after cancel")
	}
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
