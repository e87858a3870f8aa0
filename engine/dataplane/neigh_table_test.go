//go:build linux

package dataplane

import (
	"net"
	"net/netip"
	"strings"
	"testing"
)

// A neighbour written STALE (as a replica from the active unit) is in the
// kernel's table and read back as learned, with its link's name.
func TestNeighborTableRoundTrip(t *testing.T) {
	tn := newTestNS(t)
	tn.ip("addr", "add", "192.0.2.1/24", "dev", "fo0")
	tn.ip("-6", "addr", "add", "2001:db8::1/64", "dev", "fo0", "nodad")
	want := []LinkNeighbor{
		{Link: "fo0", IP: netip.MustParseAddr("192.0.2.10"), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 10}},
		{Link: "fo0", IP: netip.MustParseAddr("2001:db8::10"), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 11}},
	}
	for i, err := range tn.dp.SetStaleNeighbors(append(want, LinkNeighbor{Link: "nosuch", IP: netip.MustParseAddr("192.0.2.11"), MAC: want[0].MAC})) {
		if (err != nil) != (i == 2) {
			t.Fatalf("neighbour %d: %v", i, err)
		}
	}
	got, err := tn.dp.LearnedNeighbors()
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if g.Link == w.Link && g.IP == w.IP && g.MAC.String() == w.MAC.String() {
				found = true
			}
		}
		if !found {
			t.Errorf("%+v not read back; got %+v", w, got)
		}
	}
	if out := tn.ip("neigh", "show", "192.0.2.10"); !strings.Contains(out, "STALE") {
		t.Errorf("kernel entry is not STALE: %q", out)
	}
}
