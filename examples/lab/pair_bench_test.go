package lab

// Benchmarks of unit failover in the lab, against keepalived (VRRP) in the
// same lab:
//
//	go test -run XXX -bench 'Pair(Kill|Power|Planned|Keepalived)' -benchtime 1x -timeout 60m ./examples/lab/
//
// (BenchmarkPairSoak, soak_bench_test.go, runs only when -bench names it.)
//
// Each benchmark repeats its scenario PAIR_BENCH_RUNS times (default 10) in
// one lab and reports medians; every run is logged (-v shows them). The
// client pings 203.0.113.10 every 10 ms throughout.
//
// Scenarios:
//   - kill: kill -9 of the active unit's daemon, links left up.
//   - power: kill -9 and every link of the active unit cut, all at once (a
//     power failure).
//   - planned: `no failover active` on the active unit and `failover
//     active` on the standby, alternately, with TCP connections through
//     the pair (failoverd only); also counts retransmitted TCP segments.
//
// Metrics: takeover = until the other unit holds 192.0.2.1; reply = until
// the first reply after the longest silence (meaningless when there was no
// outage: the silence is then ping jitter); lost = echo requests without
// a reply. Each failure comes 1–2 s (random) after the pair is whole again. The old active is then restored (links, daemon restarted) and
// the next run fails whichever unit is active.

import (
	"fmt"
	mrand "math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

func pairRuns() int {
	if n, err := strconv.Atoi(os.Getenv("PAIR_BENCH_RUNS")); err == nil && n > 0 {
		return n
	}
	return 10
}

// newBenchLab is newPairLab with namespaces prefixed "fb" and 4 hex digits,
// so a benchmark's lab is never mistaken for one of the test suite's ("fp")
// while both run.
func newBenchLab(tb testing.TB, primaryCfg string) *pairLab {
	tb.Helper()
	return newPairLabPrefixed(tb, primaryCfg, pairPrefix("fb"))
}

var pairUnitLinks = []string{"outside", "backup", "inside", "failover"}

// pairTimers returns examples/primary.cfg with other unit/interface timers.
func pairTimers(b testing.TB, unit, iface string) string {
	cfg, err := os.ReadFile(filepath.Join(pairRoot(b), "examples", "primary.cfg"))
	if err != nil {
		b.Fatal(err)
	}
	s := strings.Replace(string(cfg), "failover polltime unit 1 holdtime 3", "failover polltime "+unit, 1)
	s = strings.Replace(s, "failover polltime interface 1 holdtime 5", "failover polltime interface "+iface, 1)
	if s == string(cfg) {
		b.Fatal("timer lines not found in examples/primary.cfg")
	}
	return s
}

type pairSample struct {
	takeover, reply, gap time.Duration
	lost                 int
	// overlap: ARP answers for the inside system address from the old
	// active's port after the new active's first one (both answering).
	overlap int
	// afterHold: the first reply after the longest silence, counted from
	// the old active's last hello plus the hold time (power failure: how
	// much the takeover adds to the detection time; negative when the
	// dying daemon saw its links go and announced it first).
	afterHold   time.Duration
	afterHoldOK bool
	// announced: the new active's first ARP for the inside system address,
	// counted from the same moment (the ping's 10 ms adds to afterHold).
	announced time.Duration
}

type pairStats struct{ samples []pairSample }

func (st *pairStats) add(b *testing.B, run int, s pairSample) {
	b.Logf("run %d: takeover %v, first reply %v (%v after last hello + hold; first ARP of the new active %v), longest silence %v, lost %d, old box answered after the takeover %d times",
		run, s.takeover.Round(time.Millisecond), s.reply.Round(time.Millisecond), s.afterHold.Round(time.Millisecond), s.announced.Round(time.Millisecond), s.gap.Round(time.Millisecond), s.lost, s.overlap)
	st.samples = append(st.samples, s)
}

func pairMedian(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	xs = slices.Clone(xs)
	slices.Sort(xs)
	if n := len(xs); n%2 == 1 {
		return xs[n/2]
	} else {
		return (xs[n/2-1] + xs[n/2]) / 2
	}
}

func (st *pairStats) report(b *testing.B) {
	var tk, rp, lost, ah, an []float64
	overlapRuns := 0
	for _, s := range st.samples {
		if s.afterHoldOK && s.afterHold > -500*time.Millisecond {
			// Only the runs that waited for the hold time.
			ah = append(ah, s.afterHold.Seconds()*1000)
			an = append(an, s.announced.Seconds()*1000)
		}
		tk = append(tk, s.takeover.Seconds()*1000)
		rp = append(rp, s.reply.Seconds()*1000)
		lost = append(lost, float64(s.lost))
		if s.overlap > 0 {
			overlapRuns++
		}
	}
	b.ReportMetric(float64(overlapRuns), "runs-both-answered")
	if len(ah) > 0 {
		b.ReportMetric(pairMedian(ah), "after-hold-ms")
		b.ReportMetric(pairMedian(an), "announced-after-hold-ms")
		b.Logf("after the last hello + hold time, in the %d runs that waited for it: new active's first ARP median %.0f ms (min %.0f max %.0f), first echo reply median %.0f ms (min %.0f max %.0f)",
			len(ah), pairMedian(an), slices.Min(an), slices.Max(an), pairMedian(ah), slices.Min(ah), slices.Max(ah))
	}
	b.ReportMetric(0, "ns/op")
	b.ReportMetric(pairMedian(tk), "takeover-ms")
	b.ReportMetric(pairMedian(rp), "reply-ms")
	b.ReportMetric(pairMedian(lost), "lost")
	b.ReportMetric(float64(len(st.samples)), "runs")
	b.Logf("medians over %d runs: takeover %.0f ms (min %.0f max %.0f), first reply %.0f ms, lost %.0f (min %.0f max %.0f); both answered in %d runs",
		len(st.samples), pairMedian(tk), slices.Min(tk), slices.Max(tk), pairMedian(rp), pairMedian(lost), slices.Min(lost), slices.Max(lost), overlapRuns)
}

// waitHolds polls until unit holds addr on inside; it returns the time from since.
func (l *pairLab) waitHolds(unit string, since time.Time, timeout time.Duration) time.Duration {
	l.tb.Helper()
	deadline := time.Now().Add(timeout)
	for !l.holds(unit, "inside", pairSystem) {
		if time.Now().After(deadline) {
			l.tb.Fatalf("%s does not hold %s %v after the failure", unit, pairSystem, timeout)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return time.Since(since)
}

// measure waits for the takeover and for traffic to come back, then
// summarises the ping from start.
func (l *pairLab) measure(ping *pairPinger, start time.Time, newActive string) pairSample {
	l.tb.Helper()
	took := l.waitHolds(newActive, start, 30*time.Second)
	if _, ok := ping.waitReplyAfter(start.Add(took), 15*time.Second); !ok {
		l.tb.Fatalf("client traffic did not resume after the takeover by %s", newActive)
	}
	time.Sleep(1500 * time.Millisecond) // late replies and any second blip
	o := pairSummarise(ping.snapshot(), start)
	return pairSample{takeover: took, reply: o.firstAfter.Sub(start), gap: o.gap, lost: o.lost}
}

func labErr(out string, err error) error {
	if err != nil {
		return fmt.Errorf("%v\n%s", err, out)
	}
	return nil
}

// powerOff is a power failure of unit: kill (its daemon) and the cuts of its
// four switch ports run at once, so that the dead box does not forward for
// the ~30 ms per lab.sh call that running them one after the other takes.
func (l *pairLab) powerOff(unit string, kill func() error) {
	l.tb.Helper()
	errs := make(chan error, 1+len(pairUnitLinks))
	go func() { errs <- kill() }()
	for _, ln := range pairUnitLinks {
		go func() { errs <- labErr(l.lab("cut", unit+"-"+ln)) }()
	}
	for range 1 + len(pairUnitLinks) {
		if err := <-errs; err != nil {
			l.tb.Fatalf("power failure of %s: %v", unit, err)
		}
	}
}

// pairPause waits 1 s plus a random part of a second before a failure. A
// fixed pause would fail the unit at the same point of its hello (or VRRP
// advert) cycle every run, since the cycle restarts when the pair forms:
// the active's last hello would always be just before the failure (the
// whole hold time to wait) or one poll before it.
func pairPause() {
	time.Sleep(time.Second + mrand.N(time.Second))
}

func pairOther(u string) string {
	if u == "primary" {
		return "secondary"
	}
	return "primary"
}

// benchFailoverd fails the active unit runs times (power: also cut its
// links); hold is the unit hold time cfg sets.
func benchFailoverd(b *testing.B, cfg string, power bool, hold time.Duration) {
	for range b.N {
		l := newBenchLab(b, cfg)
		l.waitPair("primary", "secondary", 20*time.Second)
		l.waitClientPing(10 * time.Second)
		ping := l.startPing("0.01")
		active := "primary"
		var st pairStats
		for run := 1; run <= pairRuns(); run++ {
			standby := pairOther(active)
			w := l.watchAnswers(netip.MustParseAddr(pairSystem), nil, insidePort(active), insidePort(standby))
			hellos := l.watchHellos(active[:3] + "-failover")
			pairPause() // the watchers see the last hellos before the failure
			start := time.Now()
			if power {
				l.powerOff(active, func() error { return labErr(l.lab("kill", active)) })
			} else {
				l.mustLab("kill", active)
			}
			s := l.measure(ping, start, standby)
			w.stop()
			hellos.stop()
			s.overlap = w.overlap(insidePort(active), insidePort(standby), start)
			// The dead unit's last hello may leave just after start,
			// before its links are cut: the last one seen at all.
			if last := hellos.lastBefore(time.Now()); power && !last.IsZero() {
				s.afterHold, s.afterHoldOK = start.Add(s.reply).Sub(last.Add(hold)), true
				if first := w.first(insidePort(standby), start); !first.IsZero() {
					s.announced = first.Sub(last.Add(hold))
				}
			}
			st.add(b, run, s)
			if power {
				for _, ln := range pairUnitLinks {
					l.mustLab("restore", active+"-"+ln)
				}
			}
			l.mustLab("start", active)
			l.waitState(standby, "Active", start, 20*time.Second)
			l.waitState(active, "Standby", time.Now(), 30*time.Second)
			l.waitClientPing(10 * time.Second)
			active = standby
		}
		st.report(b)
	}
}

func BenchmarkPairKill(b *testing.B)  { benchTimerRows(b, false) }
func BenchmarkPairPower(b *testing.B) { benchTimerRows(b, true) }

// benchTimerRows runs a failure (power: links cut too) at each unit timer
// setting measured in BENCHMARKS.md.
func benchTimerRows(b *testing.B, power bool) {
	b.Run("sample-1s-3s", func(b *testing.B) { benchFailoverd(b, "", power, 3*time.Second) })
	for _, r := range []struct {
		name, unit string
		hold       time.Duration
	}{
		{"msec200-800", "unit msec 200 holdtime msec 800", 800 * time.Millisecond},
		{"msec100-300", "unit msec 100 holdtime msec 300", 300 * time.Millisecond},
		{"msec20-60", "unit msec 20 holdtime msec 60", 60 * time.Millisecond},
	} {
		b.Run(r.name, func(b *testing.B) {
			benchFailoverd(b, pairTimers(b, r.unit, "msec 500 holdtime 5"), power, r.hold)
		})
	}
}

// BenchmarkPairPlanned: planned switchovers, alternately `no failover
// active` on the active unit and `failover active` on the standby, with
// TCP connections through the pair's NAT besides the ping (one of each
// kind of flow in stateful_test.go: client echo, server push, chatty, a
// message every 20 ms): the TCP segments both ends retransmitted during
// each run are counted too.
func BenchmarkPairPlanned(b *testing.B) {
	for range b.N {
		l := newBenchLab(b, "")
		flows := statefulSetupN(b, l, 1, 0)
		ping := l.startPing("0.01")
		active := "primary"
		var st pairStats
		var retrans []float64
		for run := 1; run <= pairRuns(); run++ {
			time.Sleep(time.Second)
			standby := pairOther(active)
			before := l.tcpRetrans()
			start := time.Now()
			l.switchOver(run-1, active)
			st.add(b, run, l.measure(ping, start, standby))
			l.waitState(standby, "Active", start, 10*time.Second)
			l.waitState(active, "Standby", start, 10*time.Second)
			r := l.tcpRetrans() - before
			b.Logf("run %d: %d TCP segments retransmitted", run, r)
			retrans = append(retrans, float64(r))
			active = standby
		}
		if dead := aliveFlows(flows, time.Now(), 5*time.Second); len(dead) > 0 {
			b.Errorf("%d TCP connections died: %v", len(dead), describe(dead))
		}
		st.report(b)
		b.ReportMetric(pairMedian(retrans), "retrans")
		b.Logf("TCP segments retransmitted per run: median %.0f, max %.0f", pairMedian(retrans), slices.Max(retrans))
	}
}

// tcpRetrans is the TCP segments retransmitted so far by the client and
// the server (RetransSegs of /proc/net/snmp in their namespaces).
func (l *pairLab) tcpRetrans() int {
	return l.snmpCounter("client", "Tcp:", "RetransSegs") + l.snmpCounter("inet", "Tcp:", "RetransSegs")
}

// snmpCounter is one counter of /proc/net/snmp or /proc/net/netstat in one
// of the lab's namespaces: proto is the line's label ("Tcp:", "Udp:",
// "TcpExt:"), name the column.
func (l *pairLab) snmpCounter(ns, proto, name string) int {
	l.tb.Helper()
	v, ok := l.netCounters(ns)[proto+name]
	if !ok {
		l.tb.Fatalf("no %s %s in /proc/net/snmp of %s", proto, name, ns)
	}
	return v
}

// netCounters is every counter of /proc/net/snmp and /proc/net/netstat in
// one of the lab's namespaces, by label and column ("Tcp:RetransSegs").
func (l *pairLab) netCounters(ns string) map[string]int {
	l.tb.Helper()
	out, err := exec.Command("ip", "netns", "exec", l.ns(ns), "cat", "/proc/net/snmp", "/proc/net/netstat").CombinedOutput()
	if err != nil {
		l.tb.Fatalf("read /proc/net/snmp in %s: %v: %s", ns, err, out)
	}
	m := map[string]int{}
	names := map[string][]string{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 {
			continue
		}
		if names[f[0]] == nil {
			names[f[0]] = f
			continue
		}
		for i, n := range names[f[0]] {
			if i == 0 || i >= len(f) {
				continue
			}
			if v, err := strconv.Atoi(f[i]); err == nil {
				m[f[0]+n] = v
			}
		}
		delete(names, f[0]) // a header and its values, per label
	}
	return m
}

// ---------------------------------------------------------------- keepalived

// pairKeepalived is keepalived running in both units of a lab built
// without failoverd: a VRRP sync group of the inside and outside segments
// with the lab's system addresses as virtual addresses, no preemption
// (like failoverd), the primary at the higher priority.
type pairKeepalived struct {
	l      *pairLab
	v3     bool
	notify string // keepalived notify_* lines of the sync group
	procs  map[string]*exec.Cmd
}

// Real (per-box) addresses for VRRP; the lab's system addresses are the VIPs.
var pairKAAddrs = map[string][2]string{
	"primary":   {"192.0.2.3/28", "198.51.100.4/28"},
	"secondary": {"192.0.2.4/28", "198.51.100.5/28"},
}

func newPairKeepalived(b *testing.B, v3 bool) *pairKeepalived {
	return newPairKeepalivedWith(b, v3, nil)
}

// newPairKeepalivedWith is newPairKeepalived with before run in each unit
// once its own addresses are set, before keepalived starts there; it
// returns the sync group's notify_* lines for that unit.
func newPairKeepalivedWith(b testing.TB, v3 bool, before func(l *pairLab, u string) string) *pairKeepalived {
	if _, err := exec.LookPath("keepalived"); err != nil {
		b.Skip("keepalived not installed (apt-get install -y keepalived)")
	}
	l := newBenchLab(b, "")
	for _, u := range []string{"primary", "secondary"} {
		l.mustLab("stop", u)
	}
	k := &pairKeepalived{l: l, v3: v3, procs: map[string]*exec.Cmd{}}
	for _, u := range []string{"primary", "secondary"} {
		ns := l.unitNS(u)
		// what the stopped daemon left, then the box's own addresses
		for _, dev := range pairUnitLinks {
			_ = exec.Command("ip", "-n", ns, "addr", "flush", "dev", dev).Run()
		}
		// failoverd leaves the MACs it moved (the standby may carry the
		// active's); give each box its own again, as on fresh hardware.
		for i, dev := range pairUnitLinks {
			mac := fmt.Sprintf("02:00:5e:00:%02x:%02x", len(u), i+1) // "primary" 7, "secondary" 9
			if out, err := exec.Command("ip", "-n", ns, "link", "set", "dev", dev, "address", mac).CombinedOutput(); err != nil {
				b.Fatalf("set MAC of %s in %s: %v\n%s", dev, ns, err, out)
			}
		}
		a := pairKAAddrs[u]
		for _, c := range [][]string{
			{"addr", "add", a[0], "dev", "inside"},
			{"addr", "add", a[1], "dev", "outside"},
			{"route", "replace", "default", "via", "198.51.100.1", "dev", "outside"},
		} {
			if out, err := exec.Command("ip", append([]string{"-n", ns}, c...)...).CombinedOutput(); err != nil {
				b.Fatalf("ip %v in %s: %v\n%s", c, ns, err, out)
			}
		}
		if before != nil {
			k.notify = before(l, u)
		}
		if err := os.WriteFile(k.cfgPath(u), []byte(k.config(u)), 0o644); err != nil {
			b.Fatal(err)
		}
		k.start(u)
	}
	b.Cleanup(func() {
		for u := range k.procs {
			k.kill(u)
		}
		if b.Failed() {
			for _, u := range []string{"primary", "secondary"} {
				if out, err := os.ReadFile(filepath.Join(l.dir, "keepalived-"+u+".log")); err == nil {
					b.Logf("keepalived-%s.log (tail):\n%s", u, tail(string(out), 40))
				}
			}
		}
	})
	return k
}

func (k *pairKeepalived) cfgPath(u string) string {
	return filepath.Join(k.l.dir, "keepalived-"+u+".conf")
}

func (k *pairKeepalived) config(u string) string {
	prio, version, advert := 100, 2, "1"
	if u == "primary" {
		prio = 150
	}
	if k.v3 {
		version, advert = 3, "0.1"
	}
	src, err := os.ReadFile(filepath.Join(pairRoot(k.l.tb), "examples", "lab", "keepalived", "keepalived.conf.in"))
	if err != nil {
		k.l.tb.Fatal(err)
	}
	return strings.NewReplacer(
		"@ROUTER_ID@", u,
		"@VERSION@", strconv.Itoa(version),
		"@ADVERT@", advert,
		"@PRIORITY@", strconv.Itoa(prio),
		"@NOTIFY@", k.notify,
	).Replace(string(src))
}

func (k *pairKeepalived) start(u string) {
	k.l.tb.Helper()
	d := k.l.dir
	cmd := exec.Command("ip", "netns", "exec", k.l.unitNS(u), "keepalived",
		"--dont-fork", "--log-console", "--vrrp", "--use-file", k.cfgPath(u),
		"--pid", filepath.Join(d, "ka-"+u+".pid"), "--vrrp_pid", filepath.Join(d, "ka-"+u+"-vrrp.pid"))
	logf, err := os.OpenFile(filepath.Join(d, "keepalived-"+u+".log"), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		k.l.tb.Fatal(err)
	}
	defer logf.Close()
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		k.l.tb.Fatal(err)
	}
	k.procs[u] = cmd
}

// kill SIGKILLs every process in u's namespace (keepalived's parent and its
// VRRP child). They are stopped first: a child whose parent dies gets
// SIGTERM (PR_SET_PDEATHSIG) and would resign cleanly with a priority 0
// advertisement, which is not a crash.
func (k *pairKeepalived) kill(u string) {
	out, _ := exec.Command("ip", "netns", "pids", k.l.unitNS(u)).Output()
	pids := strings.Fields(string(out))
	if len(pids) > 0 {
		_ = exec.Command("kill", append([]string{"-STOP"}, pids...)...).Run()
		_ = exec.Command("kill", append([]string{"-KILL"}, pids...)...).Run()
	}
	if c := k.procs[u]; c != nil {
		_ = c.Wait()
		delete(k.procs, u)
	}
}

// reboot is what the killed box looks like after a restart: the virtual
// addresses it held are gone, so are its pid files (a fresh /run; a stale
// one naming a pid reused since makes keepalived exit with "daemon is
// already running"), keepalived starts again.
func (k *pairKeepalived) reboot(u string) {
	ns := k.l.unitNS(u)
	for _, f := range []string{"ka-" + u + ".pid", "ka-" + u + "-vrrp.pid"} {
		_ = os.Remove(filepath.Join(k.l.dir, f))
	}
	_ = exec.Command("ip", "-n", ns, "addr", "del", pairSystem+"/28", "dev", "inside").Run()
	_ = exec.Command("ip", "-n", ns, "addr", "del", "198.51.100.2/28", "dev", "outside").Run()
	_ = exec.Command("ip", "-n", ns, "route", "replace", "default", "via", "198.51.100.1", "dev", "outside").Run()
	k.start(u)
}

func benchKeepalived(b *testing.B, v3, power bool) {
	for range b.N {
		k := newPairKeepalived(b, v3)
		l := k.l
		start := time.Now()
		l.waitHolds("primary", start, 20*time.Second)
		l.waitClientPing(10 * time.Second)
		ping := l.startPing("0.01")
		active := "primary"
		var st pairStats
		for run := 1; run <= pairRuns(); run++ {
			pairPause()
			standby := pairOther(active)
			w := l.watchAnswers(netip.MustParseAddr(pairSystem), nil, insidePort(active), insidePort(standby))
			start := time.Now()
			if power {
				l.powerOff(active, func() error { k.kill(active); return nil })
			} else {
				k.kill(active)
			}
			s := l.measure(ping, start, standby)
			w.stop()
			s.overlap = w.overlap(insidePort(active), insidePort(standby), start)
			st.add(b, run, s)
			if power {
				for _, ln := range pairUnitLinks {
					l.mustLab("restore", active+"-"+ln)
				}
			}
			k.reboot(active)
			time.Sleep(3 * time.Second) // the restarted box settles as BACKUP (nopreempt)
			if l.holds(active, "inside", pairSystem) || !l.holds(standby, "inside", pairSystem) {
				b.Fatalf("run %d: after the restart of %s the VIP is not on %s alone", run, active, standby)
			}
			l.waitClientPing(10 * time.Second)
			active = standby
		}
		st.report(b)
	}
}

func BenchmarkPairKeepalived(b *testing.B) {
	for _, c := range []struct {
		name      string
		v3, power bool
	}{
		{"v2-advert1s/kill", false, false},
		{"v2-advert1s/power", false, true},
		{"v3-advert100ms/kill", true, false},
		{"v3-advert100ms/power", true, true},
	} {
		b.Run(c.name, func(b *testing.B) { benchKeepalived(b, c.v3, c.power) })
	}
}
