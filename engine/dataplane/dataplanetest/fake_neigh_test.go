package dataplanetest

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"syscall"
	"testing"

	"failover/engine/dataplane"
)

func TestFakeNeighbors(t *testing.T) {
	f := newTestFake(t)
	if ns, err := f.Neighbors("outside"); err != nil || len(ns) != 0 {
		t.Fatalf("Neighbors = %+v, %v; want none", ns, err)
	}
	var set []dataplane.Neighbor
	for i := range 12 {
		set = append(set, dataplane.Neighbor{IP: netip.AddrFrom4([4]byte{192, 0, 2, byte(100 + i)}), MAC: net.HardwareAddr{2, 0, 0, 0, 1, byte(i)}})
	}
	must(t, f.SetNeighbors("outside", set))
	set[0].MAC[5] = 0xee // the Fake keeps its own copy
	ns, err := f.Neighbors("outside")
	if err != nil {
		t.Fatal(err)
	}
	if len(ns) != dataplane.MaxNeighbors || ns[0].IP.String() != "192.0.2.100" || ns[0].MAC.String() != "02:00:00:00:01:00" {
		t.Errorf("Neighbors = %+v, want the first %d as set", ns, dataplane.MaxNeighbors)
	}
	if ns, _ := f.Neighbors("inside"); len(ns) != 0 {
		t.Errorf("inside has %+v", ns)
	}
	must(t, f.SetNeighbors("outside", nil))
	if ns, _ := f.Neighbors("outside"); len(ns) != 0 {
		t.Errorf("after removal: %+v", ns)
	}
	if err := f.SetNeighbors("nope", set); !errors.Is(err, dataplane.ErrNotFound) {
		t.Errorf("SetNeighbors on a missing link: %v", err)
	}
	must(t, f.FailNext("Neighbors", syscall.EIO))
	if _, err := f.Neighbors("outside"); !errors.Is(err, syscall.EIO) {
		t.Errorf("injected error: %v", err)
	}
}

func TestFakeARPRequestAndPing(t *testing.T) {
	f := newTestFake(t)
	must(t, f.AddrReplace(dataplane.Addr{Link: "outside", Prefix: netip.MustParsePrefix("192.0.2.10/24")}))
	must(t, f.AddrReplace(dataplane.Addr{Link: "outside", Prefix: netip.MustParsePrefix("198.51.100.10/24")}))
	must(t, f.SetNeighbors("outside", []dataplane.Neighbor{{IP: netip.MustParseAddr("192.0.2.1"), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 9}}}))

	// A live segment: every request is answered with one packet.
	var hooked []string
	f.OnSend(func(link string, dst netip.Addr) {
		hooked = append(hooked, link+" "+dst.String())
		must(t, f.AddRxPackets(link, 1))
	})
	must(t, f.ARPRequest("outside", netip.MustParseAddr("192.0.2.1")))
	must(t, f.ARPRequest("outside", netip.MustParseAddr("192.0.2.1")))
	must(t, f.ARPRequest("outside", netip.MustParseAddr("198.51.100.1")))
	must(t, f.ARPRequest("inside", netip.MustParseAddr("203.0.113.1")))
	must(t, f.BroadcastPing("outside", netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.255")))

	if fmt.Sprint(hooked) != "[outside 192.0.2.1 outside 192.0.2.1 outside 198.51.100.1 inside 203.0.113.1 outside 192.0.2.255]" {
		t.Errorf("hook saw %q", hooked)
	}
	if l, _ := f.Link("outside"); l.Stats.RxPackets != 4 {
		t.Errorf("outside RxPackets %d, want 4", l.Stats.RxPackets)
	}
	a := f.ARPRequests()
	if len(a) != 4 || a[0].Src.String() != "192.0.2.10" || a[2].Src.String() != "198.51.100.10" ||
		!a[3].Src.IsUnspecified() || a[0].MAC.String() != "02:00:00:00:00:01" {
		t.Errorf("ARPRequests = %+v", a)
	}
	if p := f.BroadcastPings(); len(p) != 1 || p[0] != (BroadcastPing{Link: "outside", Src: netip.MustParseAddr("192.0.2.10"), Dst: netip.MustParseAddr("192.0.2.255")}) {
		t.Errorf("BroadcastPings = %+v", p)
	}
	wantState(t, f, `
link inside index 2 up carrier mtu 1500 mac 02:00:00:00:00:02
link outside index 1 up carrier mtu 1500 mac 02:00:00:00:00:01
addr outside 192.0.2.10/24 valid_lft forever
addr outside 198.51.100.10/24 valid_lft forever
neigh outside 192.0.2.1 lladdr 02:00:00:00:00:09
arp inside who-has 203.0.113.1 tell 0.0.0.0 mac 02:00:00:00:00:02 count 1
arp outside who-has 192.0.2.1 tell 192.0.2.10 mac 02:00:00:00:00:01 count 2
arp outside who-has 198.51.100.1 tell 198.51.100.10 mac 02:00:00:00:00:01 count 1
ping outside 192.0.2.10 > 192.0.2.255 count 1
`)

	// Refused requests are neither recorded nor hooked.
	hooked = nil
	if err := f.ARPRequest("outside", netip.MustParseAddr("2001:db8::1")); err == nil {
		t.Error("ARP request for IPv6 accepted")
	}
	if err := f.BroadcastPing("outside", netip.MustParseAddr("2001:db8::1"), netip.MustParseAddr("ff02::1")); err == nil {
		t.Error("IPv6 broadcast ping accepted")
	}
	must(t, f.FailNext("ARPRequest", syscall.EIO))
	if err := f.ARPRequest("outside", netip.MustParseAddr("192.0.2.1")); !errors.Is(err, syscall.EIO) {
		t.Errorf("injected error: %v", err)
	}
	must(t, f.SetAdminUp("outside", false))
	if err := f.ARPRequest("outside", netip.MustParseAddr("192.0.2.1")); !errors.Is(err, syscall.ENETDOWN) {
		t.Errorf("ARP request on a down link: %v", err)
	}
	if err := f.BroadcastPing("outside", netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.255")); !errors.Is(err, syscall.ENETDOWN) {
		t.Errorf("broadcast ping on a down link: %v", err)
	}
	if len(hooked) != 0 || len(f.ARPRequests()) != 4 || len(f.BroadcastPings()) != 1 {
		t.Errorf("refused requests left traces: hook %q, %d ARPs, %d pings", hooked, len(f.ARPRequests()), len(f.BroadcastPings()))
	}
	f.OnSend(nil)
}
