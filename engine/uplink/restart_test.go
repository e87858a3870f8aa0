package uplink

import (
	"net/netip"
	"testing"

	"failover/engine/dataplane"
)

func route(dst, gw, link string, table, metric int) dataplane.Route {
	return dataplane.Route{Dst: netip.MustParsePrefix(dst), Gw: netip.MustParseAddr(gw), Link: link, Table: table, Metric: metric}
}

// TestRestartReconciles starts on a kernel a killed daemon left behind:
// stale and duplicate owned routes and rules go, the desired ones are put
// in, and another daemon's route and rule stay.
func TestRestartReconciles(t *testing.T) {
	h := newHarness(t, seedConfig())
	for _, r := range []dataplane.Route{
		route("0.0.0.0/0", backupGw, "eth1", 0, 0),            // the old selection
		route("0.0.0.0/0", primaryGw, "eth0", 0, 7),           // a duplicate
		route("192.0.2.128/25", primaryGw, "eth0", 0, 0),      // no longer configured
		route("0.0.0.0/0", backupGw, "eth1", 105, 0),          // an old uplink's table
		route("0.0.0.0/0", "198.51.100.14", "eth0", 101, 0),   // an old gateway
		route("198.51.100.64/26", primaryGw, "eth0", 4242, 0), // outside our tables
	} {
		must(t, h.dp.RouteReplace(r))
	}
	must(t, h.dp.RuleAdd(dataplane.Rule{Priority: 105, Mark: 0x4f05, Table: 105}))
	foreign := route("0.0.0.0/0", backupGw, "eth1", 0, 100)
	foreign.Protocol = 4 // "static", e.g. from ifupdown
	must(t, h.dp.AddForeignRoute(foreign))
	must(t, h.dp.AddForeignRule(dataplane.Rule{Priority: 101, Mark: 0x4f01, Table: 101}, 4))

	h.start()
	golden(t, "restart_kernel.golden", h.dp.String())

	// Start again (a second restart): nothing changes.
	before := h.dp.String()
	h.m.Stop()
	h2 := *h
	h2.m = New(h.m.o)
	t.Cleanup(h2.m.Stop)
	h2.start()
	if got := h2.dp.String(); got != before {
		t.Errorf("second start changed the kernel:\n%s\nwant:\n%s", got, before)
	}
}

// TestRestartHoldsInstalledRoute restarts a daemon that was on the primary:
// the route stays while the first probe runs, and no route is logged.
func TestRestartHoldsInstalledRoute(t *testing.T) {
	h := newHarness(t, seedConfig())
	must(t, h.dp.RouteReplace(route("0.0.0.0/0", primaryGw, "eth0", 0, 0)))
	h.m.Apply(h.cfg)
	must(t, h.m.Start())
	h.wantMain(viaPrimary) // before the first result
	h.drain()
	h.wantMain(viaPrimary)
	wantLogs(t, h.takeLogs(), trackUpMsg)
}

// TestRestartOnFailedPrimaryMoves: the held route goes as soon as the first
// result says the primary is down (there is nothing to debounce yet).
func TestRestartOnFailedPrimaryMoves(t *testing.T) {
	h := newHarness(t, seedConfig())
	must(t, h.dp.RouteReplace(route("0.0.0.0/0", primaryGw, "eth0", 0, 0)))
	h.pr.Set(primaryTgt, false)
	h.start()
	h.wantMain(viaBackup)
	wantLogs(t, h.takeLogs(), delPrimary, addBackup)
}
