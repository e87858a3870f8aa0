package lab

import (
	"os"
	"strings"
	"testing"
	"time"
)

// isp1Tracked is the usual single-router setup: ISP1 (outside) is primary,
// tracked by an SLA to 203.0.113.1 through outside; ISP2 (backup) is an
// untracked floating route.
//
// The routes come before the SLA: an SLA probes as soon as it is scheduled,
// and before the route on its interface exists the uplink's table holds an
// on-link default (engine/uplink/doc.go), so a first probe sent then fails
// (and with frequency 60 the next one is a minute later). Pasted in the
// usual order (sla, schedule, track, route) the first probe races the route
// line: seen once in the lab, a 60 s SLA left ISP1 unused for a minute.
func isp1Tracked(frequency, delay string) string {
	return baseInterfaces +
		"route outside 0.0.0.0 0.0.0.0 198.51.100.1 1 track 1\n" +
		"route backup 0.0.0.0 0.0.0.0 198.51.100.17 254\n" +
		slaConfig(10, "203.0.113.1", "outside", " timeout 1000\n threshold 500\n "+frequency) +
		"track 1 rtr 10 reachability\n " + delay + "\n"
}

// startConfigured brings up a lab, starts failoverd with an empty config,
// configures it through fosh and waits for the primary route.
func startConfigured(t *testing.T, config string) *Lab {
	t.Helper()
	l := NewLab(t)
	l.StartDaemon()
	if b, err := os.ReadFile(l.Cfg); err != nil || len(b) != 0 {
		t.Fatalf("startup-config should be empty: %q %v", b, err)
	}
	l.Configure(config)
	l.WaitRoute(viaISP1, 15*time.Second)
	if out, ok := l.Ping("-c", "3", "-W", "1"); !ok {
		t.Fatalf("client cannot reach the server through ISP1 before any fault:\n%s", out)
	}
	return l
}

// The failure a ping of the gateway misses: ISP1's upstream hop fails while its gateway
// still answers; the kernel sees nothing wrong, the probes do.
func TestUpstreamFailureMovesDefaultRouteToISP2(t *testing.T) {
	t.Parallel()
	l := startConfigured(t, isp1Tracked("frequency 1", "delay down 2 up 3"))

	cut := time.Now()
	l.MustRun("cut", "isp1-upstream")
	// The gateway still answers (the condition the kernel gets wrong).
	if out, err := l.Exec("pri", "ping", "-c", "1", "-W", "1", "198.51.100.1"); err != nil {
		t.Fatalf("ISP1's gateway should still answer after cutting the upstream: %v\n%s", err, out)
	}
	l.WaitRoute(viaISP2, 20*time.Second)
	moved := time.Since(cut)
	t.Logf("route moved to ISP2 %v after the cut", moved.Round(time.Millisecond))
	// Not before the down delay (2 s of failure after the first failed probe).
	if moved < 2*time.Second {
		t.Errorf("route moved after %v, before the 2 s down delay", moved)
	}

	isp2 := l.Stats("isp2", "backup")
	out, ok := l.Ping("-c", "3", "-W", "1")
	if !ok {
		t.Fatalf("client cannot reach the server through ISP2 with ISP1's upstream cut:\n%s", out)
	}
	if d := l.Stats("isp2", "backup").RxPackets - isp2.RxPackets; d < 3 {
		t.Errorf("ISP2's gateway received %d packets during 3 client pings, want >= 3", d)
	}

	show := l.Show("show route", "show track 1")
	for _, want := range []string{
		"Gateway of last resort is 198.51.100.17",
		"0.0.0.0 0.0.0.0 [254/0] via 198.51.100.17, backup",
		"Reachability is Down",
	} {
		if !strings.Contains(show, want) {
			t.Errorf("fosh show route/track: missing %q in\n%s", want, show)
		}
	}
}

// ISP1 recovers: the route returns after the up delay, and while on the
// backup only probes (never client traffic) left through ISP1.
func TestRecoveryReturnsToISP1WithoutTestingOnTraffic(t *testing.T) {
	t.Parallel()
	l := startConfigured(t, isp1Tracked("frequency 1", "delay down 2 up 4"))
	l.MustRun("cut", "isp1-upstream")
	l.WaitRoute(viaISP2, 20*time.Second)

	// A burst of client traffic while on the backup.
	const n = 200
	outside := l.Stats("pri", "outside")
	backup := l.Stats("pri", "backup")
	start := time.Now()
	out, ok := l.Ping("-c", "200", "-i", "0.01", "-W", "1", "-q")
	burst := time.Since(start)
	if !ok {
		t.Fatalf("client pings through ISP2 failed:\n%s", out)
	}
	dOut := l.Stats("pri", "outside").TxPackets - outside.TxPackets
	dBackup := l.Stats("pri", "backup").TxPackets - backup.TxPackets
	// frequency 1: about one probe per second (plus ARP); a generous margin.
	maxOut := uint64(burst.Seconds()+1)*2 + 5
	t.Logf("during %d client pings in %v: outside tx %d, backup tx %d", n, burst.Round(time.Millisecond), dOut, dBackup)
	if dOut > maxOut {
		t.Errorf("outside sent %d packets during the burst, want <= %d (probes only, no client traffic)", dOut, maxOut)
	}
	if dBackup < n {
		t.Errorf("backup sent %d packets during the burst, want >= %d", dBackup, n)
	}
	if !strings.Contains(l.Show("show track 1"), "Reachability is Down") {
		t.Errorf("track 1 should be Down while ISP1's upstream is cut")
	}

	restored := time.Now()
	l.MustRun("restore", "isp1-upstream")
	l.WaitRoute(viaISP1, 30*time.Second)
	back := time.Since(restored)
	t.Logf("route back on ISP1 %v after the restore", back.Round(time.Millisecond))
	if back < 4*time.Second {
		t.Errorf("route returned after %v, before the 4 s up delay", back)
	}
	if out, ok := l.Ping("-c", "3", "-W", "1"); !ok {
		t.Fatalf("client cannot reach the server after the switch back:\n%s", out)
	}
	if s := l.Show("show track 1"); !strings.Contains(s, "Reachability is Up") {
		t.Errorf("track 1 should be Up again:\n%s", s)
	}
}

// Carrier loss acts at once, whatever the SLA frequency.
func TestCarrierLossActsAtOnce(t *testing.T) {
	t.Parallel()
	l := startConfigured(t, isp1Tracked("frequency 60", "delay down 30 up 2"))
	cut := time.Now()
	l.MustRun("cut", "primary-outside")
	l.WaitRoute(viaISP2, 3*time.Second)
	t.Logf("route moved %v after carrier loss", time.Since(cut).Round(time.Millisecond))
	if out, ok := l.Ping("-c", "3", "-W", "1"); !ok {
		t.Errorf("client cannot reach the server through ISP2:\n%s", out)
	}
	// The table route of the uplink is kept while the link is admin up.
	if tbl := l.IP("pri", "route", "show", "table", "101"); !strings.Contains(tbl, viaISP1) {
		t.Errorf("table 101 lost its route on carrier loss:\n%s", tbl)
	}

	// Carrier back: probes at once, route after the up delay (2 s).
	l.MustRun("restore", "primary-outside")
	l.WaitRoute(viaISP1, 20*time.Second)
}

// kill -9 on the backup, restart from the saved config: nothing changes in
// the kernel, nothing is duplicated, foreign routes are untouched.
func TestRestartAfterKillKeepsKernelState(t *testing.T) {
	t.Parallel()
	l := startConfigured(t, isp1Tracked("frequency 1", "delay down 2 up 3"))
	if out, err := l.Fosh("", "-c", "enable", "-c", "write memory"); err != nil {
		t.Fatalf("write memory: %v\n%s", err, out)
	}
	if b, _ := os.ReadFile(l.Cfg); !strings.Contains(string(b), "track 1") {
		t.Fatalf("write memory did not save the configuration:\n%s", b)
	}
	l.MustRun("cut", "isp1-upstream")
	l.WaitRoute(viaISP2, 20*time.Second)

	const foreign = "203.0.113.128/25 via 198.51.100.17 dev backup proto static"
	l.IP("pri", "route", "add", "203.0.113.128/25", "via", "198.51.100.17", "proto", "static")
	rulesBefore := l.IP("pri", "rule", "show")
	table101 := l.IP("pri", "route", "show", "table", "101")

	l.KillDaemon()
	l.HoldRoute(viaISP2, 500*time.Millisecond) // kill -9 leaves the kernel as it is
	l.StartDaemon()
	// While the restarted daemon re-learns the uplinks, the route must stay.
	l.HoldRoute(viaISP2, 6*time.Second)

	if rules := l.IP("pri", "rule", "show"); rules != rulesBefore {
		t.Errorf("ip rule changed over the restart:\nbefore:\n%s\nafter:\n%s", rulesBefore, rules)
	}
	rules := l.IP("pri", "rule", "show")
	if n := strings.Count(rules, "fwmark 0x4f01 lookup 101"); n != 1 {
		t.Errorf("fwmark rule present %d times, want once:\n%s", n, rules)
	}
	if got := l.IP("pri", "route", "show", "table", "101"); got != table101 || len(nonEmptyLines(got)) != 1 {
		t.Errorf("table 101 changed over the restart or is not one route:\nbefore:\n%s\nafter:\n%s", table101, got)
	}
	if main := l.IP("pri", "route", "show"); !strings.Contains(main, foreign) {
		t.Errorf("the static route was touched:\n%s", main)
	}
	if n := len(l.DefaultRoutes()); n != 1 {
		t.Errorf("%d default routes in main, want 1", n)
	}

	// The restarted daemon still works: recovery and failure again.
	l.MustRun("restore", "isp1-upstream")
	l.WaitRoute(viaISP1, 20*time.Second)
	if main := l.IP("pri", "route", "show"); !strings.Contains(main, foreign) {
		t.Errorf("the static route was touched by the switch back:\n%s", main)
	}
}

// Both ISPs down with both uplinks tracked: no usable route means no default
// route (engine/uplink/doc.go); when both return the primary wins.
func TestBothUplinksDownThenPrimaryWins(t *testing.T) {
	t.Parallel()
	config := baseInterfaces +
		slaConfig(10, "203.0.113.1", "outside", " timeout 1000\n threshold 500\n frequency 1") +
		slaConfig(20, "203.0.113.2", "backup", " timeout 1000\n threshold 500\n frequency 1") +
		"track 1 rtr 10 reachability\n delay down 2 up 3\n" +
		"track 2 rtr 20 reachability\n delay down 2 up 3\n" +
		"route outside 0.0.0.0 0.0.0.0 198.51.100.1 1 track 1\n" +
		"route backup 0.0.0.0 0.0.0.0 198.51.100.17 254 track 2\n"
	l := startConfigured(t, config)
	if rules := l.IP("pri", "rule", "show"); !strings.Contains(rules, "fwmark 0x4f02 lookup 102") {
		t.Errorf("no rule for the backup uplink's probes:\n%s", rules)
	}

	l.MustRun("cut", "isp1-upstream")
	l.WaitRoute(viaISP2, 20*time.Second)
	l.MustRun("cut", "isp2-upstream")
	l.WaitRoute("", 20*time.Second)
	s := l.Show("show track", "show route")
	if n := strings.Count(s, "Reachability is Down"); n != 2 {
		t.Errorf("want both tracks Down, got %d:\n%s", n, s)
	}
	if strings.Contains(s, "S*") || !strings.Contains(s, "Gateway of last resort is not set") {
		t.Errorf("show route should have no default route:\n%s", s)
	}
	if out, ok := l.Ping("-c", "1", "-W", "1"); ok {
		t.Errorf("client reached the server with both upstreams cut:\n%s", out)
	}

	l.MustRun("restore", "isp2-upstream")
	l.MustRun("restore", "isp1-upstream")
	l.WaitRoute(viaISP1, 30*time.Second)
	l.HoldRoute(viaISP1, 3*time.Second)
	if out, ok := l.Ping("-c", "3", "-W", "1"); !ok {
		t.Errorf("client cannot reach the server after both uplinks returned:\n%s", out)
	}
	if n := strings.Count(l.Show("show track"), "Reachability is Up"); n != 2 {
		t.Errorf("want both tracks Up")
	}
}
