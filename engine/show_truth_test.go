package engine_test

import (
	"net/netip"
	"strings"
	"testing"

	"failover/engine/dataplane"
)

// show ip address, show interface and show route say what the kernel
// holds, whether or not the unit wants it there: a system address left on
// the standby's interface (as a killed daemon leaves it for its lifetime)
// is listed, and a standby address gone from the kernel is not, nor its
// connected route.
func TestShowsListWhatTheKernelHolds(t *testing.T) {
	_, _, b := newPairOfBoxes(t)
	s := privSession(t, b.e)
	current := func() string {
		t.Helper()
		out := s.Exec("show ip address").Output
		i := strings.Index(out, "Current IP Addresses:\n")
		if i < 0 {
			t.Fatalf("show ip address:\n%s", out)
		}
		return out[i:]
	}
	if err := b.dp.Fake.AddrReplace(dataplane.Addr{Link: "inside", Prefix: netip.MustParsePrefix("192.0.2.1/28")}); err != nil {
		t.Fatal(err)
	}
	if got := current(); !strings.Contains(got, "        ip address inside 192.0.2.2 255.255.255.240\n        ip address inside 192.0.2.1 255.255.255.240\n") {
		t.Errorf("the standby's kernel holds the system address on inside too; show ip address:\n%s", got)
	}
	if err := b.dp.Fake.AddrDel(dataplane.Addr{Link: "outside", Prefix: netip.MustParsePrefix("198.51.100.3/28")}); err != nil {
		t.Fatal(err)
	}
	if got := current(); strings.Contains(got, "ip address outside") {
		t.Errorf("the standby's kernel lost its outside address; show ip address:\n%s", got)
	}
	if got := s.Exec("show interface outside").Output; !strings.Contains(got, "  IP address unassigned\n") {
		t.Errorf("show interface outside without its address:\n%s", got)
	}
	if got := s.Exec("show route").Output; strings.Contains(got, "directly connected, outside") {
		t.Errorf("show route lists outside's subnet with no address there:\n%s", got)
	}
}
