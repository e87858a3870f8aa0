package uplink

import (
	"strings"
	"testing"
	"time"

	"failover/engine/probe"
)

// TestOverThresholdIsReachable: a slow answer is still an answer, so
// reachability stays Up, and show sla reports the threshold crossing.
func TestOverThresholdIsReachable(t *testing.T) {
	h := startOnPrimary(t)
	h.pr.SetResult(primaryTgt, probe.Result{OK: true, OverThreshold: true, RTT: 800 * time.Millisecond, Sent: 1, Recv: 1})
	h.advance(20 * time.Second)
	h.wantMain(viaPrimary)
	wantLogs(t, h.takeLogs())
	oper := h.m.ShowSLAOper(10)
	for _, want := range []string{"Over thresholds occurred: TRUE", "Latest RTT (milliseconds): 800", "Latest operation return code: Over threshold"} {
		if !strings.Contains(oper, want) {
			t.Errorf("show sla monitor operational-state lacks %q:\n%s", want, oper)
		}
	}
}

// TestStopEndsProbing: after Stop no probe runs and the kernel is left as
// it is, so a restart does not interrupt traffic.
func TestStopEndsProbing(t *testing.T) {
	h := startOnPrimary(t)
	h.m.Stop()
	calls := h.pr.Calls(primaryTgt)
	h.advance(10 * time.Second)
	if got := h.pr.Calls(primaryTgt); got != calls {
		t.Errorf("%d probes after Stop", got-calls)
	}
	h.wantMain(viaPrimary)
}
