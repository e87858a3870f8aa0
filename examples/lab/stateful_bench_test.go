package lab

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Flows per run of the stateful benchmarks: of each TCP kind, of each UDP kind.
const statefulBenchTCP, statefulBenchUDP = 100, 20

// BenchmarkPairStateful: 100 TCP connections of each direction pattern
// and 20 UDP streams of each through the pair's masquerade, through a
// power failure or a kill -9 of the active, with connection replication on
// (the sample configuration) and off (baseline). Reported: the share of
// flows that survived, and the median and worst of each surviving flow's
// longest silence (its gap through the failover). The on/planned row is
// pairRuns() planned switchovers in one lab (`no failover active` on the
// active unit), with the lost echo requests of a 10 ms ping and the TCP
// segments retransmitted (stateful_planned_bench_test.go).
func BenchmarkPairStateful(b *testing.B) {
	noLink := func(b *testing.B) string {
		raw, err := os.ReadFile(filepath.Join(pairRoot(b), "examples", "primary.cfg"))
		if err != nil {
			b.Fatal(err)
		}
		return strings.Replace(string(raw), "\nfailover link failover\n", "\n", 1)
	}
	b.Run("on/planned", func(b *testing.B) {
		var t plannedTally
		eachLab(b, func(tb testing.TB) {
			l := newPairLabPrefixed(tb, "", pairPrefix("sb"))
			flows := statefulSetupN(tb, l, statefulBenchTCP, statefulBenchUDP)
			benchPlanned(b, "on/planned", l, flows, failoverdPlanned(l), &t)
		})
		t.report(b)
	})
	for _, m := range []struct {
		name     string
		stateful bool
		kill     bool
	}{{"on/power", true, false}, {"on/kill", true, true}, {"off/power", false, false}} {
		b.Run(m.name, func(b *testing.B) {
			var t flowTally
			eachLab(b, func(tb testing.TB) {
				cfg := ""
				if !m.stateful {
					cfg = noLink(b)
				}
				l := newPairLabPrefixed(tb, cfg, pairPrefix("fb"))
				flows := statefulSetupN(tb, l, statefulBenchTCP, statefulBenchUDP)
				fail := powerFailure(l)
				if m.kill {
					fail = func() { l.mustLab("kill", "primary") }
				}
				hellos := l.watchHellos("pri-failover")
				var failAt time.Time
				dead := failOver(tb, l, flows, "secondary", func() { failAt = time.Now(); fail() })
				hellos.stop()
				t.add(b, m.name, flows, dead)
				if last := hellos.lastBefore(time.Now()); !m.kill && !last.IsZero() {
					// The detection time of this failure: from the failure
					// to the dead unit's last hello plus the hold time.
					t.addExcess(flows, dead, last.Add(3*time.Second).Sub(failAt))
				}
			})
			t.report(b)
		})
	}
}

// eachLab runs f b.N times, each with a testing.TB whose Cleanup functions
// (a lab's teardown, its servers and flows) run when that run ends, also
// when it fails, instead of when the whole benchmark does: the labs of
// earlier runs would otherwise keep their daemons and flows running, and
// loading the machine, under the later runs.
func eachLab(b *testing.B, f func(tb testing.TB)) {
	for range b.N {
		func() {
			r := &labRun{TB: b}
			defer r.done()
			f(r)
		}()
	}
}

type labRun struct {
	testing.TB
	mu  sync.Mutex
	fns []func()
}

func (r *labRun) Cleanup(f func()) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.fns = append(r.fns, f)
}

// done runs the cleanups, last registered first (as testing does).
func (r *labRun) done() {
	r.mu.Lock()
	fns := r.fns
	r.fns = nil
	r.mu.Unlock()
	for i := len(fns) - 1; i >= 0; i-- {
		fns[i]()
	}
}

// flowTally pools the outcome of the runs of one benchmark row.
type flowTally struct {
	survived, total int
	gaps            []float64 // longest silence of each surviving flow, ms
	// excess: each surviving UDP flow's longest silence less the detection
	// time of its failure, ms (UDP sends every 20 ms whatever happens, so
	// its silence is the outage; TCP's adds its retransmission backoff).
	excess []float64
}

func (t *flowTally) addExcess(flows []*flow, dead map[*flow]string, detection time.Duration) {
	for _, f := range flows {
		if _, ok := dead[f]; ok || f.kind < udpEcho {
			continue
		}
		t.excess = append(t.excess, float64(time.Duration(f.maxGap.Load())-detection)/float64(time.Millisecond))
	}
}

func (t *flowTally) add(b *testing.B, name string, flows []*flow, dead map[*flow]string) {
	for _, f := range flows {
		t.total++
		if _, ok := dead[f]; ok {
			continue
		}
		t.survived++
		t.gaps = append(t.gaps, float64(f.maxGap.Load())/float64(time.Millisecond))
	}
	b.Logf("%s: %d of %d flows survived", name, len(flows)-len(dead), len(flows))
	if len(dead) > 0 {
		b.Logf("%s: dead by kind: %s", name, deadKinds(dead))
	}
}

// deadKinds counts the dead flows of each kind, with one reason of each.
func deadKinds(dead map[*flow]string) string {
	var n [numKinds]int
	var why [numKinds]string
	for f, w := range dead {
		n[f.kind]++
		why[f.kind] = w
	}
	var parts []string
	for k := range numKinds {
		if n[k] > 0 {
			parts = append(parts, k.String()+" "+strconv.Itoa(n[k])+" (e.g. "+why[k]+")")
		}
	}
	return strings.Join(parts, ", ")
}

func (t *flowTally) report(b *testing.B) {
	if t.total == 0 {
		return
	}
	b.ReportMetric(100*float64(t.survived)/float64(t.total), "%survived")
	if len(t.gaps) > 0 {
		slices.Sort(t.gaps)
		b.ReportMetric(t.gaps[len(t.gaps)/2], "ms-gap-median")
		b.ReportMetric(t.gaps[len(t.gaps)-1], "ms-gap-max")
	}
	if len(t.excess) > 0 {
		slices.Sort(t.excess)
		b.ReportMetric(t.excess[len(t.excess)/2], "ms-udp-gap-over-detection-median")
		b.ReportMetric(t.excess[len(t.excess)-1], "ms-udp-gap-over-detection-max")
		b.Logf("UDP flows' longest silence less the detection time (last hello + hold - failure): median %.0f ms, min %.0f, max %.0f (%d flows)",
			t.excess[len(t.excess)/2], t.excess[0], t.excess[len(t.excess)-1], len(t.excess))
	}
}
