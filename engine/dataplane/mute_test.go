//go:build linux

package dataplane

import (
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestNetlinkMuteMAC: fo1 is a port of a learning bridge. A muted fo0 sends
// its frames from the other MAC, so the bridge learns that one and never
// fo0's own; unmuted, the bridge learns fo0's own MAC again, and no table
// is left behind.
func TestNetlinkMuteMAC(t *testing.T) {
	tn := newTestNS(t)
	mac, as := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x11}, net.HardwareAddr{0x06, 0, 0, 0, 0, 0x11}
	// IPv6 would send MLD and DAD frames from the new MAC on its own,
	// before the mute is in place, and the bridge would learn them: not
	// what this test measures.
	if out, err := exec.Command("ip", "netns", "exec", tn.name, "sysctl", "-qw", "net.ipv6.conf.fo0.disable_ipv6=1").CombinedOutput(); err != nil {
		t.Fatalf("failed to disable IPv6 on fo0: %v: %s", err, out)
	}
	tn.ip("link", "set", "fo0", "address", mac.String())
	tn.ip("link", "add", "br0", "type", "bridge")
	tn.ip("link", "set", "fo1", "master", "br0")
	tn.ip("link", "set", "br0", "up")
	ip := netip.MustParseAddr("192.0.2.1")
	learned := func() string {
		out, err := exec.Command("bridge", "-n", tn.name, "fdb", "show", "br", "br0").CombinedOutput()
		if err != nil {
			t.Fatalf("bridge fdb show: %v: %s", err, out)
		}
		return string(out)
	}
	waitLearned := func(m net.HardwareAddr) string {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			if err := tn.dp.GratuitousARP("fo0", ip); err != nil {
				t.Fatal(err)
			}
			fdb := learned()
			if strings.Contains(fdb, m.String()+" dev fo1") {
				return fdb
			}
			if time.Now().After(deadline) {
				t.Fatalf("bridge never learned %s on fo1:\n%s", m, fdb)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}

	if err := tn.dp.MuteMAC("fo0", mac, as); err != nil {
		t.Fatal(err)
	}
	if fdb := waitLearned(as); strings.Contains(fdb, mac.String()) {
		t.Errorf("muted fo0 still sent from %s:\n%s", mac, fdb)
	}
	if err := tn.dp.MuteMAC("fo0", nil, nil); err != nil {
		t.Fatal(err)
	}
	if err := tn.dp.MuteMAC("fo0", nil, nil); err != nil {
		t.Errorf("unmuting twice: %v", err)
	}
	waitLearned(mac)
	out, err := exec.Command("ip", "netns", "exec", tn.name, "nft", "list", "tables").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list tables: %v: %s", err, out)
	}
	if strings.Contains(string(out), MuteTablePrefix) {
		t.Errorf("table left behind after unmuting:\n%s", out)
	}
	if err := tn.dp.MuteMAC("fo0", mac, nil); err == nil {
		t.Error("mute without a replacement MAC accepted")
	}
}
