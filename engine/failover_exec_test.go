package engine_test

import (
	"strings"
	"testing"
)

// failover exec active|standby|mate as on ASA: a configuration command sent
// from the standby to the active unit is applied there and replicated back;
// one aimed at the standby is refused there; each target keeps a command
// mode of its own, global configuration mode at first.
func TestFailoverExecTargets(t *testing.T) {
	_, a, b := newPairOfBoxes(t)
	sb := privSession(t, b.e)

	// From the standby to the active: applied on the active, replicated back.
	mustExec(t, sb, "failover exec active hostname fw-exec")
	waitReal(t, "the line to reach both units", func() bool {
		return a.hostname() == "fw-exec" && b.hostname() == "fw-exec"
	})
	// The terminal's own mode did not move.
	if r := sb.Exec("show curpriv"); !strings.Contains(r.Output, "Current Mode/s : P_PRIV\n") {
		t.Errorf("the terminal left privileged EXEC: %q", r.Output)
	}

	// Aimed at the standby (this unit): refused, and nothing changes.
	r := sb.Exec("failover exec standby hostname rogue")
	if !r.Failed() || !strings.Contains(r.Err, "not applied") {
		t.Errorf("configuration on the standby through failover exec: %+v", r)
	}
	if a.hostname() != "fw-exec" || b.hostname() != "fw-exec" {
		t.Errorf("hostnames %q / %q after a refused line", a.hostname(), b.hostname())
	}

	// Show commands run where they are sent.
	if r := sb.Exec("failover exec mate show failover state"); r.Failed() || !strings.Contains(r.Output, "This host  -   Primary\n               Active") {
		t.Errorf("failover exec mate show failover state: %+v", r)
	}
	if r := sb.Exec("failover exec standby show failover state"); r.Failed() || !strings.Contains(r.Output, "This host  -   Secondary\n               Standby Ready") {
		t.Errorf("failover exec standby show failover state: %+v", r)
	}

	// The mode is kept between calls, apart from the terminal's.
	mustExec(t, sb, "failover exec active end")
	if r := sb.Exec("failover exec active hostname fw-nope"); !r.Failed() {
		t.Errorf("a configuration line in the active's EXEC mode was accepted: %+v", r)
	}
	mustExec(t, sb, "failover exec active configure terminal", "failover exec active hostname fw-back")
	waitReal(t, "the second line", func() bool { return a.hostname() == "fw-back" && b.hostname() == "fw-back" })

	// On the active, "active" is this unit.
	sa := privSession(t, a.e)
	mustExec(t, sa, "failover exec active hostname fw-local")
	waitReal(t, "the local line", func() bool { return a.hostname() == "fw-local" && b.hostname() == "fw-local" })
	if r := sa.Exec("failover exec mate failover exec mate show version"); !r.Failed() {
		t.Errorf("failover exec inside failover exec: %+v", r)
	}
}
