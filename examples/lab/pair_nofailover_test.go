package lab

import (
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"
)

// watchSingle samples both units for d and fails if both hold the system
// address at once.
func (l *pairLab) watchSingle(d time.Duration, what string) {
	l.tb.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if l.holds("primary", "inside", pairSystem) && l.holds("secondary", "inside", pairSystem) {
			l.tb.Fatalf("%s: both units hold %s", what, pairSystem)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// tellsKernel checks that unit's show ip address and show route list the
// inside address and connected route exactly when the kernel has them.
func (l *pairLab) tellsKernel(unit, addr string) {
	l.tb.Helper()
	kernel := l.holds(unit, "inside", addr)
	ipOut := l.mustFosh(unit, "show ip address")
	cur := ipOut[strings.Index(ipOut, "Current IP Addresses:"):]
	shown := strings.Contains(cur, "ip address inside "+addr+" ")
	if kernel != shown {
		l.tb.Errorf("%s: kernel holds %s: %v; show ip address lists it as current: %v\n%s", unit, addr, kernel, shown, ipOut)
	}
	routes, _ := exec.Command("ip", "-n", l.unitNS(unit), "-4", "route", "show", "192.0.2.0/28").CombinedOutput()
	kernelRoute := strings.Contains(string(routes), "192.0.2.0/28")
	showRoute := regexp.MustCompile(`(?m)^C +192\.0\.2\.0 255\.255\.255\.240 is directly connected, inside$`).MatchString(l.mustFosh(unit, "show route"))
	if kernelRoute != showRoute {
		l.tb.Errorf("%s: kernel has the inside connected route: %v; show route lists it: %v", unit, kernelRoute, showRoute)
	}
}

// `no failover` keeps each unit's role, in either order and back: the
// standby stays pseudo-standby, the active keeps its addresses and keeps
// routing (no silent expiry), and at no moment do both hold the system
// address; the show commands say what the kernel holds.
func TestPairNoFailover(t *testing.T) {
	l := newPairLab(t, "")
	l.waitPair("primary", "secondary", 20*time.Second)
	l.waitClientPing(10 * time.Second)
	settle := 2*pairHold + time.Second

	l.mustFosh("secondary", "configure terminal", "no failover")
	l.watchSingle(settle, "no failover on the standby")
	if f := l.mustFailover("secondary"); !strings.HasPrefix(f.text, "Failover Off\n") {
		t.Errorf("secondary after no failover:\n%s", f.text)
	}
	if !regexp.MustCompile(`(?m)^Standby +Pseudo-Standby `).MatchString(l.mustFosh("secondary", "show failover history")) {
		t.Errorf("secondary history lacks Standby -> Pseudo-Standby:\n%s", l.mustFosh("secondary", "show failover history"))
	}
	if l.holds("secondary", "inside", pairSystem) || !l.holds("secondary", "inside", "192.0.2.2") {
		t.Errorf("pseudo-standby secondary must keep 192.0.2.2 and not hold %s", pairSystem)
	}
	if p := l.mustFailover("primary"); p.this != "Active" {
		t.Errorf("primary is %q after no failover on the standby", p.this)
	}

	l.mustFosh("primary", "configure terminal", "no failover")
	l.watchSingle(settle, "no failover on both")
	if !l.holds("primary", "inside", pairSystem) {
		t.Errorf("primary dropped %s after no failover", pairSystem)
	}
	l.tellsKernel("primary", pairSystem)
	l.tellsKernel("secondary", "192.0.2.2")
	if !l.clientPing(3) {
		t.Errorf("client lost its gateway with failover off on both units")
	}

	// Back on, the other way round: the secondary first, beside a primary
	// that still serves with failover off.
	l.mustFosh("secondary", "configure terminal", "failover")
	l.watchSingle(settle, "failover on the secondary only")
	if s := l.mustFailover("secondary"); s.this == "Active" {
		t.Errorf("secondary went Active beside a serving primary:\n%s", s.text)
	}
	l.mustFosh("primary", "configure terminal", "failover")
	l.waitPair("primary", "secondary", 20*time.Second)
	l.watchSingle(settle, "failover on both again")
	l.tellsKernel("primary", pairSystem)
	l.waitClientPing(5 * time.Second)

	// And the active first.
	l.mustFosh("primary", "configure terminal", "no failover")
	l.watchSingle(settle, "no failover on the active")
	l.tellsKernel("primary", pairSystem)
	if !l.holds("primary", "inside", pairSystem) || l.holds("secondary", "inside", pairSystem) {
		t.Errorf("after no failover on the active: primary must keep %s alone", pairSystem)
	}
	l.mustFosh("secondary", "configure terminal", "no failover")
	l.watchSingle(settle, "no failover on both, active first")
	if !l.clientPing(3) {
		t.Errorf("client lost its gateway")
	}
}
