//go:build linux

package stateguard

import (
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"

	"github.com/vishvananda/netns"
)

func testNS(t *testing.T) (string, netns.NsHandle) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: network namespaces")
	}
	if _, err := exec.LookPath("nft"); err != nil {
		t.Skip("needs nft to read the table back")
	}
	name := fmt.Sprintf("fogd%06x", rand.Uint32()&0xffffff)
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() {
		if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
			t.Errorf("ip netns del: %v: %s", err, out)
		}
	})
	h, err := netns.GetFromName(name)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return name, h
}

func ruleset(t *testing.T, ns string) string {
	t.Helper()
	out, err := exec.Command("ip", "netns", "exec", ns, "nft", "list", "ruleset").CombinedOutput()
	if err != nil {
		t.Fatalf("nft list ruleset: %v: %s", err, out)
	}
	return regexp.MustCompile(`\s+`).ReplaceAllString(string(out), " ")
}

// The rules read back by nft as written in the package documentation,
// each mode replacing the last, Off removing the table, and nothing else
// of the firewall touched.
func TestModes(t *testing.T) {
	ns, h := testNS(t)
	other := exec.Command("ip", "netns", "exec", ns, "nft", "-f", "-")
	other.Stdin = strings.NewReader("table ip nat {\n chain post { type nat hook postrouting priority 100; masquerade; }\n}\n")
	if out, err := other.CombinedOutput(); err != nil {
		t.Fatalf("nft: %v: %s", err, out)
	}
	g := NewNS(h)
	if err := g.Set(Off); err != nil {
		t.Fatalf("Off without a table: %v", err)
	}
	invalid := "ct state invalid counter packets 0 bytes 0 drop"
	// nft 1.0.6's words for flags & (fin|syn|rst|ack) != syn and
	// flags & (syn|rst) == 0.
	syn := "ct state new tcp flags != syn / fin,syn,rst,ack counter packets 0 bytes 0 drop"
	input := "ct state new tcp flags ! syn,rst counter packets 0 bytes 0 drop"
	for _, c := range []struct {
		m          Mode
		want, nots []string
	}{
		{Strict, []string{"table inet failoverd_state", "hook forward", "hook input", invalid, syn, input}, nil},
		{Window, []string{invalid, input}, []string{syn}},
		{Strict, []string{invalid, syn, input}, nil},
		{Off, nil, []string{"failoverd_state"}},
	} {
		if err := g.Set(c.m); err != nil {
			t.Fatalf("%s: %v", c.m, err)
		}
		rs := ruleset(t, ns)
		for _, w := range c.want {
			if !strings.Contains(rs, w) {
				t.Errorf("%s: ruleset lacks %q:\n%s", c.m, w, rs)
			}
		}
		for _, n := range c.nots {
			if strings.Contains(rs, n) {
				t.Errorf("%s: ruleset has %q:\n%s", c.m, n, rs)
			}
		}
		if !strings.Contains(rs, "masquerade") {
			t.Fatalf("%s: the other table was touched:\n%s", c.m, rs)
		}
	}
}
