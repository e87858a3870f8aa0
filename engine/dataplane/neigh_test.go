//go:build linux

package dataplane

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/rand/v2"
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/mdlayher/packet"
)

// capture listens on link (in tn's namespace) for frames of etherType.
func (tn *testNS) capture(link string, etherType int) *packet.Conn {
	tn.t.Helper()
	l := tn.waitLink(link, func(l Link) bool { return l.Carrier })
	var conn *packet.Conn
	err := inNetns(tn.ns, func() error {
		var err error
		conn, err = packet.Listen(&net.Interface{Index: l.Index}, packet.Raw, etherType, nil)
		return err
	})
	if err != nil {
		tn.t.Fatalf("listen on %s: %v", link, err)
	}
	tn.t.Cleanup(func() { _ = conn.Close() })
	if err := conn.SetReadDeadline(time.Now().Add(5 * time.Second)); err != nil {
		tn.t.Fatal(err)
	}
	return conn
}

// next reads frames until match accepts one.
func next(t *testing.T, conn *packet.Conn, what string, match func([]byte) bool) []byte {
	t.Helper()
	buf := make([]byte, 1600)
	for {
		n, _, err := conn.ReadFrom(buf)
		if err != nil {
			t.Fatalf("no %s received: %v", what, err)
		}
		if match(buf[:n]) {
			return buf[:n]
		}
	}
}

// peerNS moves fo1 into a second namespace of its own, with addrs, so that
// fo0's neighbours are a separate host, and returns its name.
func (tn *testNS) peerNS(addrs ...string) string {
	tn.t.Helper()
	name := fmt.Sprintf("%s-peer-%04x", tn.name, rand.Uint32()&0xffff)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		tn.t.Fatalf("ip netns add %s: %v: %s", name, err, out)
	}
	tn.t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			tn.t.Errorf("ip netns del %s: %v: %s", name, err, out)
		}
	})
	tn.ip("link", "set", "fo1", "netns", name)
	peer := func(args ...string) {
		tn.t.Helper()
		if out, err := exec.Command("ip", append([]string{"-n", name}, args...)...).CombinedOutput(); err != nil {
			tn.t.Fatalf("ip -n %s %s: %v: %s", name, strings.Join(args, " "), err, out)
		}
	}
	for _, a := range addrs {
		peer("addr", "add", a, "dev", "fo1")
	}
	peer("link", "set", "fo1", "up")
	tn.waitLink("fo0", func(l Link) bool { return l.Carrier })
	return name
}

// waitRx waits until fo0 has received more than rx0 packets.
func (tn *testNS) waitRx(rx0 uint64) bool {
	tn.t.Helper()
	deadline := time.Now().Add(3 * time.Second)
	for time.Now().Before(deadline) {
		l, err := tn.dp.Link("fo0")
		if err != nil {
			tn.t.Fatal(err)
		}
		if l.Stats.RxPackets > rx0 {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

func TestNetlinkARPRequest(t *testing.T) {
	tn := newTestNS(t)
	tn.ip("addr", "add", "192.0.2.10/24", "dev", "fo0")
	tn.ip("addr", "add", "198.51.100.10/24", "dev", "fo0")
	conn := tn.capture("fo1", etherTypeARP)
	fo0, err := tn.dp.Link("fo0")
	if err != nil {
		t.Fatal(err)
	}

	check := func(target, wantSrc string) {
		t.Helper()
		if err := tn.dp.ARPRequest("fo0", netip.MustParseAddr(target)); err != nil {
			t.Fatal(err)
		}
		tip := netip.MustParseAddr(target).AsSlice()
		f := next(t, conn, "ARP request for "+target, func(f []byte) bool {
			return len(f) >= 42 && f[21] == arpOpRequest && bytes.Equal(f[38:42], tip)
		})
		sip := netip.MustParseAddr(wantSrc).AsSlice()
		if !bytes.Equal(f[0:6], ethBroadcast) || !bytes.Equal(f[6:12], fo0.MAC) ||
			binary.BigEndian.Uint16(f[12:14]) != etherTypeARP ||
			binary.BigEndian.Uint16(f[14:16]) != 1 || binary.BigEndian.Uint16(f[16:18]) != etherTypeIPv4 ||
			!bytes.Equal(f[22:28], fo0.MAC) || !bytes.Equal(f[28:32], sip) ||
			!bytes.Equal(f[32:38], make([]byte, 6)) {
			t.Errorf("frame is not a broadcast who-has %s tell %s (%s):\n% x", target, wantSrc, fo0.MAC, f)
		}
	}
	// The sender is the address on the target's subnet.
	check("192.0.2.20", "192.0.2.10")
	check("198.51.100.20", "198.51.100.10")
	// Off every subnet: some address of ours still.
	check("203.0.113.1", "192.0.2.10")

	if err := tn.dp.ARPRequest("fo0", netip.MustParseAddr("2001:db8::1")); err == nil {
		t.Error("ARP request for an IPv6 address accepted")
	}
	if err := tn.dp.ARPRequest("nope", netip.MustParseAddr("192.0.2.20")); err == nil {
		t.Error("ARP request on a missing link accepted")
	}
}

func TestNetlinkARPRequestWithoutAddress(t *testing.T) {
	tn := newTestNS(t)
	conn := tn.capture("fo1", etherTypeARP)
	if err := tn.dp.ARPRequest("fo0", netip.MustParseAddr("192.0.2.20")); err != nil {
		t.Fatal(err)
	}
	f := next(t, conn, "ARP probe", func(f []byte) bool { return len(f) >= 42 && f[21] == arpOpRequest })
	if !bytes.Equal(f[28:32], []byte{0, 0, 0, 0}) {
		t.Errorf("sender %v, want 0.0.0.0 (an ARP probe):\n% x", f[28:32], f)
	}
}

func TestNetlinkARPRequestIsAnswered(t *testing.T) {
	tn := newTestNS(t)
	tn.ip("addr", "add", "192.0.2.10/24", "dev", "fo0")
	tn.peerNS("192.0.2.20/24")
	fo0, err := tn.dp.Link("fo0")
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.dp.ARPRequest("fo0", netip.MustParseAddr("192.0.2.20")); err != nil {
		t.Fatal(err)
	}
	// The reply is what the interface test counts.
	if !tn.waitRx(fo0.Stats.RxPackets) {
		t.Error("fo0 received nothing after an ARP request to a live neighbour")
	}
}

func TestNetlinkBroadcastPing(t *testing.T) {
	tn := newTestNS(t)
	conn := tn.capture("fo1", etherTypeIPv4)
	fo0, err := tn.dp.Link("fo0")
	if err != nil {
		t.Fatal(err)
	}
	src, dst := netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.255")
	if err := tn.dp.BroadcastPing("fo0", src, dst); err != nil {
		t.Fatal(err)
	}
	f := next(t, conn, "broadcast ping", func(f []byte) bool {
		return len(f) >= 42 && f[14+9] == ipProtoICMP && bytes.Equal(f[30:34], dst.AsSlice())
	})
	ip := f[14:34]
	icmp := f[34 : 34+8+len(pingPayload)]
	if !bytes.Equal(f[0:6], ethBroadcast) || !bytes.Equal(f[6:12], fo0.MAC) ||
		ip[0] != 0x45 || !bytes.Equal(ip[12:16], src.AsSlice()) ||
		int(binary.BigEndian.Uint16(ip[2:4])) != 20+len(icmp) ||
		icmp[0] != icmpEcho || icmp[1] != 0 || string(icmp[8:]) != pingPayload {
		t.Errorf("frame is not an ICMP echo %s -> %s from %s:\n% x", src, dst, fo0.MAC, f)
	}
	if inetChecksum(ip) != 0 || inetChecksum(icmp) != 0 {
		t.Errorf("bad checksums:\n% x", f)
	}
	if err := tn.dp.BroadcastPing("fo0", src, netip.MustParseAddr("ff02::1")); err == nil {
		t.Error("IPv6 broadcast ping accepted")
	}
}

func TestNetlinkBroadcastPingIsAnswered(t *testing.T) {
	tn := newTestNS(t)
	tn.ip("addr", "add", "192.0.2.10/24", "dev", "fo0")
	peer := tn.peerNS("192.0.2.20/24")
	if out, err := exec.Command("ip", "netns", "exec", peer, "sysctl", "-qw", "net.ipv4.icmp_echo_ignore_broadcasts=0").CombinedOutput(); err != nil {
		t.Skipf("cannot let the peer answer broadcast pings: %v: %s", err, out)
	}
	fo0, err := tn.dp.Link("fo0")
	if err != nil {
		t.Fatal(err)
	}
	if err := tn.dp.BroadcastPing("fo0", netip.MustParseAddr("192.0.2.10"), netip.MustParseAddr("192.0.2.255")); err != nil {
		t.Fatal(err)
	}
	if !tn.waitRx(fo0.Stats.RxPackets) {
		t.Error("fo0 received nothing after a broadcast ping to a host that answers them")
	}
}

func TestNetlinkNeighbors(t *testing.T) {
	tn := newTestNS(t)
	tn.ip("addr", "add", "192.0.2.10/24", "dev", "fo0")
	tn.peerNS("192.0.2.20/24", "192.0.2.21/24")
	if ns, err := tn.dp.Neighbors("fo0"); err != nil || len(ns) != 0 {
		t.Fatalf("Neighbors before any traffic = %+v, %v; want none", ns, err)
	}
	// Static and failed entries are not learned ones.
	tn.ip("neigh", "add", "192.0.2.99", "lladdr", "02:00:00:00:00:99", "dev", "fo0", "nud", "permanent")
	ping := func(ip string) {
		t.Helper()
		if out, err := exec.Command("ip", "netns", "exec", tn.name, "ping", "-c1", "-W2", ip).CombinedOutput(); err != nil {
			t.Fatalf("ping %s: %v: %s", ip, err, out)
		}
	}
	if _, err := exec.LookPath("ping"); err != nil {
		t.Skip("needs ping")
	}
	ping("192.0.2.20")
	// The kernel's ages count in hundredths of a second.
	time.Sleep(100 * time.Millisecond)
	ping("192.0.2.21")

	ns, err := tn.dp.Neighbors("fo0")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range ns {
		got = append(got, n.IP.String())
	}
	if strings.Join(got, " ") != "192.0.2.21 192.0.2.20" {
		t.Fatalf("Neighbors = %+v, want 192.0.2.21 then 192.0.2.20", ns)
	}
	own, err := tn.dp.Link("fo0")
	if err != nil {
		t.Fatal(err)
	}
	if len(ns[0].MAC) != 6 || bytes.Equal(ns[0].MAC, own.MAC) || ns[0].Age > 5*time.Second || ns[1].Age < ns[0].Age {
		t.Errorf("entries %+v: want the peer's MAC and ages newest first", ns)
	}
	if _, err := tn.dp.Neighbors("nope"); err == nil {
		t.Error("Neighbors of a missing link succeeded")
	}
}
