package uplink

import (
	"slices"
	"strings"
	"testing"
	"time"
)

const (
	trackDownMsg = "%PIX-5-622100: Track 1 reachability Up -> Down (SLA 10: Timeout)"
	trackUpMsg   = "%PIX-5-622100: Track 1 reachability Down -> Up (SLA 10: OK)"
	addPrimary   = "%PIX-6-622001: Adding tracked route 0.0.0.0 0.0.0.0 198.51.100.1, distance 1, table Default-IP-Routing-Table, on interface outside"
	delPrimary   = "%PIX-6-622001: Removing tracked route 0.0.0.0 0.0.0.0 198.51.100.1, distance 1, table Default-IP-Routing-Table, on interface outside"
	addBackup    = "%PIX-6-622001: Adding tracked route 0.0.0.0 0.0.0.0 203.0.113.1, distance 254, table Default-IP-Routing-Table, on interface backup"
	delBackup    = "%PIX-6-622001: Removing tracked route 0.0.0.0 0.0.0.0 203.0.113.1, distance 254, table Default-IP-Routing-Table, on interface backup"
)

func wantLogs(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Fatalf("syslog:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// startOnPrimary starts the sample configuration and checks that the first
// successful probe puts the default route on the primary at once.
func startOnPrimary(t *testing.T) *harness {
	t.Helper()
	h := newHarness(t, seedConfig())
	h.start()
	h.wantMain(viaPrimary)
	// Fresh boot: the backup is held back while the primary's first probe
	// runs, so no flow goes through it only to move again.
	wantLogs(t, h.takeLogs(), trackUpMsg, addPrimary)
	return h
}

func TestStartInstallsProbeTableAndRule(t *testing.T) {
	h := startOnPrimary(t)
	got := h.dp.String()
	for _, want := range []string{
		"route 0.0.0.0/0 via 198.51.100.1 dev eth0 table 101 metric 0 proto 250\n",
		"rule 101: fwmark 0x4f01 lookup 101 proto 250\n",
		viaPrimary + "\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("kernel lacks %q:\n%s", want, got)
		}
	}
	if n := strings.Count(got, "table main"); n != 1 {
		t.Errorf("%d main-table routes, want exactly 1:\n%s", n, got)
	}
}

func TestPrimaryFailsMovesAfterDelayDown(t *testing.T) {
	h := startOnPrimary(t)
	h.pr.Set(primaryTgt, false)
	// The probe at +1s fails: the track goes down 3s later, at +4s.
	h.advance(3900 * time.Millisecond)
	h.wantMain(viaPrimary)
	wantLogs(t, h.takeLogs())
	h.advance(100 * time.Millisecond)
	h.wantMain(viaBackup)
	wantLogs(t, h.takeLogs(), trackDownMsg, delPrimary, addBackup)
}

func TestFlappingWithinDelayChangesNothing(t *testing.T) {
	h := startOnPrimary(t)
	for range 10 {
		h.pr.Set(primaryTgt, false)
		h.advance(2 * time.Second) // two failures: 2s of down < delay down 3s
		h.pr.Set(primaryTgt, true)
		h.advance(time.Second)
	}
	h.wantMain(viaPrimary)
	wantLogs(t, h.takeLogs())
	if got := h.m.tracks[1].changes; got != 1 {
		t.Errorf("track changes = %d, want 1 (the first result)", got)
	}
}

func TestDelayCountsFromLastChange(t *testing.T) {
	h := startOnPrimary(t)
	h.pr.Set(primaryTgt, false)
	h.advance(time.Second) // +1s: down
	h.pr.Set(primaryTgt, true)
	h.advance(time.Second) // +2s: up again
	h.pr.Set(primaryTgt, false)
	h.advance(time.Second) // +3s: down again, the delay restarts here
	// Counting from the first failure would switch at +4s.
	h.advance(2900 * time.Millisecond)
	h.wantMain(viaPrimary)
	h.advance(100 * time.Millisecond) // +6s
	h.wantMain(viaBackup)
	wantLogs(t, h.takeLogs(), trackDownMsg, delPrimary, addBackup)
}

func TestRecoveryReturnsAfterDelayUp(t *testing.T) {
	h := startOnPrimary(t)
	h.pr.Set(primaryTgt, false)
	h.advance(4 * time.Second)
	h.wantMain(viaBackup)
	h.takeLogs()

	h.pr.Set(primaryTgt, true)
	// The probe at +5s succeeds: the track comes up 10s later, at +15s.
	h.advance(10900 * time.Millisecond)
	h.wantMain(viaBackup)
	wantLogs(t, h.takeLogs())
	h.advance(100 * time.Millisecond)
	h.wantMain(viaPrimary)
	wantLogs(t, h.takeLogs(), trackUpMsg, delBackup, addPrimary)
}

func TestPrimaryProbedWithItsMarkWhileOnBackup(t *testing.T) {
	h := startOnPrimary(t)
	h.pr.Set(primaryTgt, false)
	h.advance(4 * time.Second)
	h.wantMain(viaBackup)

	before := h.pr.Calls(primaryTgt)
	h.advance(5 * time.Second)
	if got := h.pr.Calls(primaryTgt) - before; got != 5 {
		t.Errorf("primary probed %d times in 5s on backup, want 5", got)
	}
	spec, ok := h.pr.LastSpec(primaryTgt)
	if !ok {
		t.Fatal("primary never probed")
	}
	if spec.Mark != 0x4f01 || spec.Timeout != time.Second || spec.Threshold != 500*time.Millisecond || spec.NumPackets != 1 || spec.Size != 28 {
		t.Errorf("probe spec = %+v, want mark 0x4f01 timeout 1s threshold 500ms 1 packet size 28", spec)
	}
	if !strings.Contains(h.dp.String(), "route 0.0.0.0/0 via 198.51.100.1 dev eth0 table 101") {
		t.Errorf("primary's probe table lost while on backup:\n%s", h.dp.String())
	}
}

func TestCarrierLossWithdrawsAtOnce(t *testing.T) {
	c := seedConfig()
	c.SLAs[10].Frequency, c.SLAs[10].Timeout, c.SLAs[10].Threshold = 60000, 5000, 5000
	h := newHarness(t, c)
	h.start()
	h.wantMain(viaPrimary)
	h.takeLogs()
	calls := h.pr.Calls(primaryTgt)

	h.setCarrier("eth0", false) // no clock advance at all
	h.wantMain(viaBackup)
	wantLogs(t, h.takeLogs(), "%PIX-5-622100: Track 1 reachability Up -> Down (SLA 10: No connection: carrier lost on outside)", delPrimary, addBackup)

	h.advance(2 * time.Minute) // no probes without carrier
	if got := h.pr.Calls(primaryTgt); got != calls {
		t.Errorf("probed %d times without carrier", got-calls)
	}

	// Carrier back: a probe at once, then the normal up delay (10s), not
	// the 60s frequency.
	h.setCarrier("eth0", true)
	if got := h.pr.Calls(primaryTgt); got != calls+1 {
		t.Errorf("carrier back: %d probes, want 1 at once", got-calls)
	}
	h.advance(9900 * time.Millisecond)
	h.wantMain(viaBackup)
	h.advance(100 * time.Millisecond)
	h.wantMain(viaPrimary)
}

func TestBothUplinksDown(t *testing.T) {
	h := startOnPrimary(t)
	// Primary's probes fail: the untracked backup carries traffic.
	h.pr.Set(primaryTgt, false)
	h.advance(4 * time.Second)
	h.wantMain(viaBackup)
	// Backup's cable pulled too: no usable route, so no default route.
	h.takeLogs()
	h.setCarrier("eth1", false)
	h.wantMain("")
	wantLogs(t, h.takeLogs(), delBackup)
	if !strings.Contains(h.m.ShowRoute(h.cfg, nil), "Gateway of last resort is not set") {
		t.Errorf("show route with no default:\n%s", h.m.ShowRoute(h.cfg, nil))
	}
	// Backup's cable back: an untracked route returns at once.
	h.setCarrier("eth1", true)
	h.wantMain(viaBackup)
}

func TestSetRoutingOffWithdraws(t *testing.T) {
	h := startOnPrimary(t)
	h.m.SetRouting(false)
	h.drain()
	h.wantMain("")
	wantLogs(t, h.takeLogs(), delPrimary)
	k := h.dp.String()
	if !strings.Contains(k, "table 101") || !strings.Contains(k, "rule 101:") {
		t.Errorf("standby lost its probe table or rule:\n%s", k)
	}
	h.advance(3 * time.Second) // the standby keeps probing
	h.wantMain("")
	h.m.SetRouting(true)
	h.drain()
	h.wantMain(viaPrimary)
}

func TestDataplaneErrorRetried(t *testing.T) {
	h := startOnPrimary(t)
	must(t, h.dp.FailNext("RouteReplace", errFake))
	h.setCarrier("eth0", false)
	h.wantMain(viaPrimary) // the replace failed
	h.advance(RetryInterval)
	h.wantMain(viaBackup)
}

type fakeErr string

func (e fakeErr) Error() string { return string(e) }

const errFake = fakeErr("injected failure")

func TestScheduleGatesProbing(t *testing.T) {
	cases := []struct {
		name   string
		set    func(c *seedSLA)
		probes map[time.Duration]int // probes made by then
	}{
		{"unscheduled", func(s *seedSLA) { s.Scheduled = false }, map[time.Duration]int{10 * time.Second: 0}},
		{"pending", func(s *seedSLA) { s.StartPending = true }, map[time.Duration]int{10 * time.Second: 0}},
		{"after 5s", func(s *seedSLA) { s.StartAfter = 5 }, map[time.Duration]int{4900 * time.Millisecond: 0, 5 * time.Second: 1, 7 * time.Second: 3}},
		{"life 3s", func(s *seedSLA) { s.Life = 3 }, map[time.Duration]int{2 * time.Second: 3, 10 * time.Second: 3}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := seedConfig()
			tc.set(c.SLAs[10])
			h := newHarness(t, c)
			h.start()
			var at time.Duration
			for _, d := range slices.Sorted(mapsKeys(tc.probes)) {
				h.advance(d - at)
				at = d
				if got := h.pr.Calls(primaryTgt); got != tc.probes[d] {
					t.Errorf("at +%s: %d probes, want %d", d, got, tc.probes[d])
				}
			}
		})
	}
}

// A pasted configuration schedules the SLA before its route line exists, so
// the first probe leaves through a table with no gateway and fails. When
// the route arrives the uplink is measured again at once and the track
// takes that result as its first, instead of staying Down for the up delay
// (or a whole frequency period).
func TestRouteAfterScheduleRelearns(t *testing.T) {
	full := seedConfig()
	partial := full.Clone()
	partial.Routes = nil
	h := newHarness(t, partial)
	h.pr.Set(primaryTgt, false) // no gateway in the probe table yet
	h.start()
	if calls := h.pr.Calls(primaryTgt); calls != 1 {
		t.Fatalf("%d probes before the route, want 1", calls)
	}
	h.pr.Set(primaryTgt, true)
	h.m.Apply(full)
	h.drain()
	if calls := h.pr.Calls(primaryTgt); calls != 2 {
		t.Fatalf("%d probes after the route arrived, want an immediate second one", calls)
	}
	h.wantMain(viaPrimary)
	if got := h.m.ShowTrack(1); !strings.Contains(got, "Reachability is Up") {
		t.Fatalf("track after relearning:\n%s", got)
	}
}
