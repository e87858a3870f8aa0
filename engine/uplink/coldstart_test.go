package uplink

import (
	"net/netip"
	"testing"
	"time"

	"failover/engine/dataplane"
	"failover/engine/probe"
)

// unsent is what the prober reports when this box has no way out yet.
var unsent = probe.Result{Err: "failed to send echo request: network is unreachable", Unsent: true}

// A failover unit at cold start: it probes while it negotiates, before it
// holds its addresses, so nothing can leave. Those probes are no result;
// when the unit becomes active and takes its addresses, the default route
// goes to the primary at its first answer and never to the backup.
func TestColdStartUnitGoesStraightToPrimary(t *testing.T) {
	h := newHarness(t, seedConfig())
	primaryAddr := dataplane.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("198.51.100.2/28")}
	must(t, h.dp.AddrDel(primaryAddr))
	h.pr.SetResult(primaryTgt, unsent)
	h.m.SetRouting(false)
	h.start()
	h.advance(5 * time.Second) // negotiating
	if h.pr.Calls(primaryTgt) < 4 {
		t.Fatalf("%d probes while negotiating, want one a second", h.pr.Calls(primaryTgt))
	}
	if h.m.tracks[1].decided {
		t.Fatalf("track 1 took a probe that was never sent as a result (state %s)", h.m.tracks[1].state)
	}

	// Active: the unit holds its addresses, then the uplink part is told.
	must(t, h.dp.AddrReplace(primaryAddr))
	h.pr.Set(primaryTgt, true)
	h.m.SetRouting(true)
	h.drain()
	h.wantMain("") // the primary's first answer is due within a second
	h.advance(time.Second)
	h.wantMain(viaPrimary)
	wantLogs(t, h.takeLogs(), trackUpMsg, addPrimary)
}

// A box that cannot use the primary at all (no address on its subnet)
// does not wait for it: the backup carries the traffic meanwhile.
func TestNoWayOutDoesNotHoldTheBackup(t *testing.T) {
	h := newHarness(t, seedConfig())
	must(t, h.dp.AddrDel(dataplane.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("198.51.100.2/28")}))
	h.pr.SetResult(primaryTgt, unsent)
	h.start()
	h.advance(3 * time.Second)
	h.wantMain(viaBackup)
	if h.m.tracks[1].decided {
		t.Errorf("track 1 took a probe that was never sent as a result (state %s)", h.m.tracks[1].state)
	}
}

// Once the uplink's probe table is in place, a probe that cannot leave is
// the uplink failing (its route or address went away), and counts.
func TestUnsentWithWayOutIsAFailure(t *testing.T) {
	h := startOnPrimary(t)
	h.pr.SetResult(primaryTgt, unsent)
	h.advance(4 * time.Second) // first failure at +1 s, delay down 3 s
	h.wantMain(viaBackup)
	wantLogs(t, h.takeLogs(),
		"%PIX-5-622100: Track 1 reachability Up -> Down (SLA 10: Error: failed to send echo request: network is unreachable)",
		delPrimary, addBackup)
}

// A probe that could not leave is tried again within a second, not a
// whole frequency later: at frequency 60 the first real result would
// otherwise come a minute after the box got its way out.
func TestUnsentRetriedSoon(t *testing.T) {
	c := seedConfig()
	c.SLAs[10].Frequency = 60000
	h := newHarness(t, c)
	primaryAddr := dataplane.Addr{Link: "eth0", Prefix: netip.MustParsePrefix("198.51.100.2/28")}
	must(t, h.dp.AddrDel(primaryAddr))
	h.pr.SetResult(primaryTgt, unsent)
	h.m.SetRouting(false)
	h.start()
	h.advance(3 * time.Second)
	if n := h.pr.Calls(primaryTgt); n < 2 {
		t.Fatalf("%d probes in 3 s after an unsent one, want a retry within a second", n)
	}
	must(t, h.dp.AddrReplace(primaryAddr))
	h.pr.Set(primaryTgt, true)
	h.m.SetRouting(true)
	h.drain()
	h.advance(2 * time.Second)
	h.wantMain(viaPrimary)
	calls := h.pr.Calls(primaryTgt)
	h.advance(30 * time.Second)
	if n := h.pr.Calls(primaryTgt); n != calls {
		t.Errorf("%d probes in 30 s after a real result, want none (frequency 60 s)", n-calls)
	}
}
