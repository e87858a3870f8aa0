//go:build linux

package dataplane

import (
	"context"
	"net"
	"net/netip"
	"testing"
	"time"
)

// WatchARP reports the sender of the ARP traffic on a link: here the
// answer of a peer that holds the address asked for, and nothing once the
// context ends.
func TestNetlinkWatchARP(t *testing.T) {
	tn := newTestNS(t)
	tn.ip("addr", "add", "192.0.2.10/24", "dev", "fo0")
	tn.peerNS("192.0.2.1/24")
	seen := make(chan netip.Addr, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- tn.dp.WatchARP(ctx, "fo0", func(ip netip.Addr, mac net.HardwareAddr) {
			if len(mac) == 6 {
				seen <- ip
			}
		})
	}()
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for got := false; !got; {
		select {
		case ip := <-seen:
			got = ip == netip.MustParseAddr("192.0.2.1")
		case <-tick.C:
			// Ask until the watcher is up and the peer's answer is seen.
			if err := tn.dp.ARPRequest("fo0", netip.MustParseAddr("192.0.2.1")); err != nil {
				t.Fatal(err)
			}
		case <-deadline:
			t.Fatal("the peer's ARP answer for 192.0.2.1 was not seen")
		}
	}
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("WatchARP ended with %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("WatchARP did not end with its context")
	}
	if err := tn.dp.WatchARP(context.Background(), "nope", func(netip.Addr, net.HardwareAddr) {}); err == nil {
		t.Error("WatchARP on a missing link accepted")
	}
}

// arpSender reads any frame without panicking, and accepts only Ethernet
// IPv4 ARP, whose sender it returns as written in the frame.
func FuzzArpSender(f *testing.F) {
	frame, err := garpFrame(net.HardwareAddr{2, 0, 0, 0, 0, 1}, netip.MustParseAddr("192.0.2.1"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(frame)
	f.Add(frame[:41])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		ip, mac, ok := arpSender(b)
		if !ok {
			return
		}
		if len(b) < 42 || len(mac) != 6 || !ip.Is4() || ip != netip.AddrFrom4([4]byte(b[28:32])) {
			t.Fatalf("accepted %x as ARP from %v %v", b, ip, mac)
		}
	})
}
