package lab

import (
	"os/exec"
	"strings"
	"testing"
	"time"
)

// defaultVia says whether unit's kernel routes by default via gw.
func (l *pairLab) defaultVia(unit, gw string) bool {
	out, _ := exec.Command("ip", "-n", l.unitNS(unit), "-4", "route", "show", "default").CombinedOutput()
	return strings.Contains(string(out), "default via "+gw+" ")
}

// waitRoutes waits until both units route by default via ISP1, and checks
// that show route says so on each.
func (l *pairLab) waitRoutes(what string) {
	l.tb.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !l.defaultVia("primary", "198.51.100.1") || !l.defaultVia("secondary", "198.51.100.1") {
		if time.Now().After(deadline) {
			l.tb.Fatalf("%s: not both units route via 198.51.100.1", what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	for _, u := range []string{"primary", "secondary"} {
		if out := l.mustFosh(u, "show route"); !strings.Contains(out, "Gateway of last resort is 198.51.100.1 to network 0.0.0.0") {
			l.tb.Errorf("%s: %s's show route:\n%s", what, u, out)
		}
	}
}

// The standby has the routes too (through its standby addresses, which is
// harmless), so its own traffic leaves; a switchover keeps both routed.
func TestPairStandbyRoutes(t *testing.T) {
	l := newPairLab(t, "")
	l.waitPair("primary", "secondary", 20*time.Second)
	l.waitRoutes("after bootstrap")
	// The standby's own traffic reaches the Internet, from its standby address.
	if out, err := exec.Command("ip", "netns", "exec", l.unitNS("secondary"), "ping", "-n", "-c", "2", "-W", "1", pairServer).CombinedOutput(); err != nil {
		t.Errorf("the standby cannot reach %s: %v\n%s", pairServer, err, out)
	}
	start := time.Now()
	l.mustFosh("primary", "no failover active")
	l.waitState("secondary", "Active", start, 10*time.Second)
	l.waitState("primary", "Standby", start, 10*time.Second)
	l.waitRoutes("after the switchover")
	l.waitClientPing(5 * time.Second)
}
