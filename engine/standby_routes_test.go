package engine_test

import (
	"strings"
	"testing"
)

// The standby has the routes too, through its standby addresses (harmless:
// it holds no system address), so its own traffic can leave; show route
// says what is installed. A switchover swaps the addresses, which makes the
// kernel drop the routes through each subnet whose last address went: both
// units have them back at once.
func TestStandbyRoutes(t *testing.T) {
	clk, a, b := newPairOfBoxes(t)
	const viaPrimary = "route 0.0.0.0/0 via 198.51.100.1 dev outside table main"
	for name, bx := range map[string]*box{"active": a, "standby": b} {
		s := privSession(t, bx.e)
		r := s.Exec("show route")
		if !strings.Contains(r.Output, "Gateway of last resort is 198.51.100.1 to network 0.0.0.0\n") ||
			!strings.Contains(r.Output, "S*   0.0.0.0 0.0.0.0 [1/0] via 198.51.100.1, outside\n") {
			t.Errorf("%s: show route:\n%s", name, r.Output)
		}
		// The connected route is the subnet of the address really held.
		if !strings.Contains(r.Output, "C    192.0.2.0 255.255.255.240 is directly connected, inside\n") {
			t.Errorf("%s: show route lacks the inside subnet:\n%s", name, r.Output)
		}
	}
	mustExec(t, privSession(t, a.e), "no failover active")
	advanceUntil(t, clk, "the switchover", func() bool {
		return a.state() == "stby" && b.state() == "act" &&
			strings.Contains(a.dp.String(), viaPrimary) && strings.Contains(b.dp.String(), viaPrimary)
	})
	for name, bx := range map[string]*box{"old active": a, "new active": b} {
		if r := privSession(t, bx.e).Exec("show route"); !strings.Contains(r.Output, "Gateway of last resort is 198.51.100.1 to network 0.0.0.0\n") {
			t.Errorf("%s after the switchover: show route:\n%s", name, r.Output)
		}
	}
}
