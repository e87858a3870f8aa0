//go:build linux

package dataplane

import (
	"net"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestNetlinkFence: fo0 (192.0.2.1, namespace A) is fenced; its peer fo1 is
// a port of a learning bridge in namespace B (192.0.2.2). While the fence
// is renewed in time, fo0's kernel answers ARP as usual; once it tripped,
// the kernel's ARP replies never leave (B cannot resolve 192.0.2.1), while
// IP still flows from a MAC of its own (B, told fo0's MAC statically, gets
// its echo replies, and its bridge learns the mute MAC); a renewal undoes
// the trip, and removing the fence leaves no table behind.
func TestNetlinkFence(t *testing.T) {
	tn := newTestNS(t)
	mac, as := net.HardwareAddr{0x02, 0, 0, 0, 0, 0x21}, net.HardwareAddr{0x06, 0, 0, 0, 0, 0x21}
	b := tn.name + "b"
	run := func(args ...string) (string, error) {
		out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
		return string(out), err
	}
	must := func(args ...string) {
		t.Helper()
		if out, err := run(args...); err != nil {
			t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	must("ip", "netns", "add", b)
	t.Cleanup(func() { _, _ = run("ip", "netns", "del", b) })
	must("ip", "netns", "exec", tn.name, "sysctl", "-qw", "net.ipv6.conf.fo0.disable_ipv6=1")
	tn.ip("link", "set", "fo0", "address", mac.String())
	tn.ip("addr", "add", "192.0.2.1/24", "dev", "fo0")
	tn.ip("link", "set", "fo1", "netns", b)
	must("ip", "-n", b, "link", "add", "br0", "type", "bridge")
	must("ip", "netns", "exec", b, "sysctl", "-qw", "net.ipv6.conf.br0.disable_ipv6=1")
	must("ip", "-n", b, "link", "set", "fo1", "master", "br0")
	must("ip", "-n", b, "link", "set", "fo1", "up")
	must("ip", "-n", b, "link", "set", "br0", "up")
	must("ip", "-n", b, "addr", "add", "192.0.2.2/24", "dev", "br0")

	ping := func() bool {
		_, err := run("ip", "netns", "exec", b, "ping", "-n", "-q", "-c", "1", "-W", "1", "192.0.2.1")
		return err == nil
	}
	// resolves says whether B can resolve 192.0.2.1 by ARP now.
	resolves := func() bool {
		must("ip", "-n", b, "neigh", "flush", "dev", "br0")
		return ping()
	}
	links := []FencedLink{{Name: "fo0", MuteAs: as}}

	const ttl = 1500 * time.Millisecond
	if err := tn.dp.Fence(ttl, links); err != nil {
		t.Fatal(err)
	}
	armed := time.Now()
	if !resolves() {
		t.Fatal("fo0 did not answer ARP while its fence was fresh")
	}
	time.Sleep(time.Until(armed.Add(ttl + 500*time.Millisecond)))
	if resolves() {
		t.Error("fo0 still answered ARP after its fence tripped")
	}
	must("ip", "-n", b, "neigh", "replace", "192.0.2.1", "lladdr", mac.String(), "dev", "br0", "nud", "permanent")
	if !ping() {
		t.Error("a tripped fence stopped IP: it must only mute the MAC")
	}
	fdb, err := run("bridge", "-n", b, "fdb", "show", "br", "br0")
	if err != nil {
		t.Fatalf("bridge fdb show: %v: %s", err, fdb)
	}
	if !strings.Contains(fdb, as.String()+" dev fo1") {
		t.Errorf("the bridge never learned the mute MAC %s from the tripped fo0:\n%s", as, fdb)
	}
	must("ip", "-n", b, "neigh", "del", "192.0.2.1", "dev", "br0")

	if err := tn.dp.Fence(ttl, links); err != nil {
		t.Fatal(err)
	}
	if !resolves() {
		t.Error("fo0 did not answer ARP after the fence was renewed")
	}
	// A renewal sets the timeout anew, longer or shorter.
	for _, r := range []struct {
		d   time.Duration
		nft string
	}{{7 * time.Second, "timeout 7s"}, {1200 * time.Millisecond, "timeout 1s200ms"}} {
		if err := tn.dp.Fence(r.d, links); err != nil {
			t.Fatal(err)
		}
		if out, _ := run("ip", "netns", "exec", tn.name, "nft", "list", "set", "netdev", FenceTable, fenceSet); !strings.Contains(out, r.nft) {
			t.Errorf("renewed for %v, the set says:\n%s", r.d, out)
		}
	}
	// Somebody flushed the ruleset: the next renewal builds it again.
	must("ip", "netns", "exec", tn.name, "nft", "flush", "ruleset")
	if err := tn.dp.Fence(ttl, links); err != nil {
		t.Fatalf("renewal after the table was removed: %v", err)
	}
	if out, _ := run("ip", "netns", "exec", tn.name, "nft", "list", "table", "netdev", FenceTable); !strings.Contains(out, "egress_fo0") {
		t.Errorf("the renewal did not rebuild the fence:\n%s", out)
	}

	if err := tn.dp.Fence(0, nil); err != nil {
		t.Fatal(err)
	}
	if err := tn.dp.Fence(0, nil); err != nil {
		t.Errorf("removing twice: %v", err)
	}
	if out, _ := run("ip", "netns", "exec", tn.name, "nft", "list", "tables"); strings.Contains(out, FenceTable) {
		t.Errorf("table left behind after removal:\n%s", out)
	}
	if !resolves() {
		t.Error("fo0 did not answer ARP after the fence was removed")
	}
	if err := tn.dp.Fence(ttl, []FencedLink{{Name: "fo0"}}); err == nil {
		t.Error("a fence without a mute MAC was accepted")
	}
}
