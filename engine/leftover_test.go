package engine_test

import (
	"net/netip"
	"slices"
	"testing"
	"time"

	"failover/engine/dataplane"
)

// Addresses of the configuration left on a link by a previous run (killed
// with -9, their lifetime still running) are the engine's: one it does not
// want now is removed at once, rather than answering until it expires.
// Addresses that are not the configuration's stay untouched.
func TestLeftoverAddressesAdopted(t *testing.T) {
	e, dp := newFakeEngine(t, "eth0")
	leftover := dataplane.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("192.0.2.2/24"), ValidLft: 4 * time.Second}
	foreign := dataplane.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("198.51.100.7/24")}
	for _, a := range []dataplane.Addr{leftover, foreign} {
		if err := dp.AddrReplace(a); err != nil {
			t.Fatal(err)
		}
	}
	s := privSession(t, e)
	mustExec(t, s, "configure terminal", "interface eth0", "nameif inside", "ip address 192.0.2.1 255.255.255.0 standby 192.0.2.2")
	deadline := time.Now().Add(5 * time.Second)
	for {
		as, err := dp.Addrs("eth0")
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, a := range as {
			got = append(got, a.Prefix.String())
		}
		slices.Sort(got)
		if slices.Equal(got, []string{"192.0.2.1/24", "198.51.100.7/24"}) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("eth0 holds %v, want the system address and the foreign one only", got)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
