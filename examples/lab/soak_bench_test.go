package lab

// Soak of a healthy pair at tight timers with both cores busy: no false
// failover allowed. It runs only when the -bench pattern names it (not
// with -bench . or make bench):
//
//	go test -run XXX -bench PairSoak -benchtime 1x -timeout 30m -v ./examples/lab/
//
// The pair comes up with the sample configuration, the active unit is set to
// `failover polltime unit msec 200 holdtime msec 800` through fosh (the
// standby gets it by replication), one CPU burner per core runs
// (`sh -c 'while :; do :; done'`, killed at the end and bounded by a
// deadline), and the client pings the server every 100 ms. After PAIR_SOAK
// (a Go duration, default 10m) both units must show the same state as
// before and no new line in `show failover history`; the run fails at the
// first state change. The counters of `show failover` are logged.

import (
	"context"
	"flag"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"
)

func pairSoakDuration(b *testing.B) time.Duration {
	s := os.Getenv("PAIR_SOAK")
	if s == "" {
		return 10 * time.Minute
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		b.Fatalf("PAIR_SOAK=%q: want a positive Go duration (10m, 90s)", s)
	}
	return d
}

// pairBurners starts n busy loops that end at the latest after limit; stop
// kills them and waits.
func pairBurners(b *testing.B, n int, limit time.Duration) (stop func()) {
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	var cmds []*exec.Cmd
	for range n {
		c := exec.CommandContext(ctx, "sh", "-c", "while :; do :; done")
		if err := c.Start(); err != nil {
			cancel()
			b.Fatal(err)
		}
		cmds = append(cmds, c)
	}
	done := false
	stop = func() {
		if done {
			return
		}
		done = true
		cancel()
		for _, c := range cmds {
			_ = c.Wait()
		}
	}
	b.Cleanup(stop)
	return stop
}

// pairCPUBusy is the share of non-idle CPU time over d, from /proc/stat.
func pairCPUBusy(d time.Duration) float64 {
	read := func() (busy, total float64) {
		raw, err := os.ReadFile("/proc/stat")
		if err != nil {
			return 0, 0
		}
		f := strings.Fields(strings.SplitN(string(raw), "\n", 2)[0])
		for i, v := range f[1:] {
			var x float64
			for _, ch := range v {
				x = x*10 + float64(ch-'0')
			}
			total += x
			if i != 3 && i != 4 { // idle, iowait
				busy += x
			}
		}
		return busy, total
	}
	b0, t0 := read()
	time.Sleep(d)
	b1, t1 := read()
	if t1 <= t0 {
		return 0
	}
	return (b1 - b0) / (t1 - t0)
}

func BenchmarkPairSoak(b *testing.B) {
	if f := flag.Lookup("test.bench"); f == nil || !strings.Contains(f.Value.String(), "Soak") {
		b.Skip("10 minutes with both cores busy: run with -bench PairSoak")
	}
	soak := pairSoakDuration(b)
	for range b.N {
		l := newBenchLab(b, "")
		l.waitPair("primary", "secondary", 20*time.Second)
		l.waitClientPing(10 * time.Second)
		const poll = "Poll frequency 200 milliseconds, holdtime 800 milliseconds"
		l.mustFosh("primary", "configure terminal", "failover polltime unit msec 200 holdtime msec 800", "end")
		deadline := time.Now().Add(15 * time.Second)
		for _, u := range []string{"primary", "secondary"} {
			for !strings.Contains(l.mustFailover(u).text, poll) {
				if time.Now().After(deadline) {
					b.Fatalf("%s does not show %q:\n%s", u, poll, l.mustFailover(u).text)
				}
				time.Sleep(100 * time.Millisecond)
			}
		}
		time.Sleep(3 * time.Second) // both on the new timers for a while

		type snap struct {
			state, other, history string
			f                     pairFailover
		}
		take := func(u string) snap {
			f := l.mustFailover(u)
			return snap{state: f.this, other: f.other, history: l.mustFosh(u, "show failover history"), f: f}
		}
		before := map[string]snap{"primary": take("primary"), "secondary": take("secondary")}
		for u, s := range before {
			b.Logf("%s before: This host %s, Other host %s, General rcv %d rerr %d", u, s.state, s.other, s.f.rcv, s.f.rerr)
		}

		ping := l.startPing("0.1")
		n := runtime.NumCPU()
		stop := pairBurners(b, n, soak+2*time.Minute)
		b.Logf("%d CPU burners, CPU busy %.0f%% (1 s sample); soak %v", n, 100*pairCPUBusy(time.Second), soak)

		start := time.Now()
		end := start.Add(soak)
		for time.Now().Before(end) {
			time.Sleep(min(10*time.Second, time.Until(end)))
			for _, u := range []string{"primary", "secondary"} {
				f, err := l.failover(u)
				if err != nil {
					b.Fatalf("after %v: %v", time.Since(start).Round(time.Second), err)
				}
				if f.this != before[u].state || f.other != before[u].other {
					b.Fatalf("after %v: %s is %s (mate %s), was %s (mate %s):\n%s\nhistory:\n%s",
						time.Since(start).Round(time.Second), u, f.this, f.other, before[u].state, before[u].other,
						f.text, l.mustFosh(u, "show failover history"))
				}
			}
		}
		busy := pairCPUBusy(time.Second)
		stop()
		ping.stop()

		for _, u := range []string{"primary", "secondary"} {
			after := take(u)
			if after.state != before[u].state || after.other != before[u].other {
				b.Errorf("%s: state %s (mate %s), was %s (mate %s)", u, after.state, after.other, before[u].state, before[u].other)
			}
			if after.history != before[u].history {
				b.Errorf("%s: new failover history:\nbefore:\n%s\nafter:\n%s", u, before[u].history, after.history)
			}
			b.Logf("%s after %v: This host %s, Other host %s, cable %q; General rcv %d (+%d) rerr %d (+%d)\n%s",
				u, soak, after.state, after.other, after.f.cable, after.f.rcv, after.f.rcv-before[u].f.rcv,
				after.f.rerr, after.f.rerr-before[u].f.rerr, after.f.text)
		}
		o := pairSummarise(ping.snapshot(), start)
		b.Logf("client ping every 100 ms over the soak: %d replies, %d lost, longest silence %v; CPU busy at the end %.0f%%",
			len(ping.snapshot()), o.lost, o.gap.Round(time.Millisecond), 100*busy)
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(o.lost), "lost")
		b.ReportMetric(soak.Seconds(), "soak-s")
	}
}
