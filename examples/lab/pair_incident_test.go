package lab

import (
	"regexp"
	"strings"
	"testing"
	"time"
)

// The commands an operator types during an incident, between two real
// daemons: failover exec active from the standby configures the active unit
// (which replicates the line back), failover exec standby is refused there,
// failover reload-standby makes the standby synchronise again, and the ASA
// views answer on both units.
func TestPairIncidentCommands(t *testing.T) {
	l := newPairLab(t, "")
	l.waitPair("primary", "secondary", 20*time.Second)
	l.waitSameConfig("primary", "secondary", 10*time.Second)

	out := l.mustFosh("secondary", "failover exec active hostname fwexec")
	t.Logf("failover exec active: %q", out)
	deadline := time.Now().Add(10 * time.Second)
	for !strings.Contains(strings.Join(l.runningConfig("primary"), "\n"), "hostname fwexec") ||
		!strings.Contains(strings.Join(l.runningConfig("secondary"), "\n"), "hostname fwexec") {
		if time.Now().After(deadline) {
			t.Fatalf("hostname typed through failover exec active did not reach both units")
		}
		time.Sleep(200 * time.Millisecond)
	}
	if out, err := l.foshRun("secondary", "failover exec standby hostname rogue"); err == nil || !strings.Contains(out, "not applied") {
		t.Errorf("failover exec standby with a configuration line: err %v, %q", err, out)
	}
	if out := l.mustFosh("secondary", "failover exec mate show failover state"); !strings.Contains(out, "This host  -   Primary\n               Active") {
		t.Errorf("failover exec mate show failover state:\n%s", out)
	}

	normal := regexp.MustCompile(`(?m)^                Interface inside \(192\.0\.2\.[12]\): Normal \(Monitored\)$`)
	for _, u := range []string{"primary", "secondary"} {
		// Interface hellos make the interfaces Normal within the
		// interface hold time.
		deadline := time.Now().Add(pairIfHold + 5*time.Second)
		for out := l.mustFosh(u, "show monitor-interface"); len(normal.FindAllString(out, -1)) != 2; out = l.mustFosh(u, "show monitor-interface") {
			if time.Now().After(deadline) {
				t.Errorf("%s: show monitor-interface:\n%s", u, out)
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if out := l.mustFosh(u, "show failover interface"); !strings.Contains(out, "        interface failover failover\n                System IP Address: 192.0.2.17 255.255.255.248\n") {
			t.Errorf("%s: show failover interface:\n%s", u, out)
		}
		if out := l.mustFosh(u, "show failover statistics"); !regexp.MustCompile(`^    tx:\d+\n    rx:\d+\n$`).MatchString(strings.TrimPrefix(out, "\n")) {
			t.Errorf("%s: show failover statistics: %q", u, out)
		}
	}

	start := time.Now()
	l.mustFosh("primary", "failover reload-standby")
	l.waitState("secondary", "Standby", start, 20*time.Second)
	if h := l.mustFosh("secondary", "show failover history"); !strings.Contains(h, "Reload requested by the active unit") {
		t.Errorf("secondary's history after reload-standby:\n%s", h)
	}
	l.waitSameConfig("primary", "secondary", 10*time.Second)
	if p := l.mustFailover("primary"); p.this != "Active" {
		t.Errorf("primary is %q after reload-standby", p.this)
	}
}
