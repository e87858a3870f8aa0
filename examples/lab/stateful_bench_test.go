package lab

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkPairStateful: 100 TCP connections of each direction pattern
// and 20 UDP streams of each through the pair's masquerade, through a
// power failure or a kill -9 of the active, with connection replication on
// (the sample configuration) and off (baseline). Reported: the share of
// flows that survived, and the median and worst of each surviving flow's
// longest silence (its gap through the failover).
func BenchmarkPairStateful(b *testing.B) {
	noLink := func(b *testing.B) string {
		raw, err := os.ReadFile(filepath.Join(pairRoot(b), "examples", "primary.cfg"))
		if err != nil {
			b.Fatal(err)
		}
		return strings.Replace(string(raw), "\nfailover link failover\n", "\n", 1)
	}
	for _, m := range []struct {
		name     string
		stateful bool
		kill     bool
	}{{"on/power", true, false}, {"on/kill", true, true}, {"off/power", false, false}} {
		b.Run(m.name, func(b *testing.B) {
			var survived, total int
			var gaps []float64
			for range b.N {
				cfg := ""
				if !m.stateful {
					cfg = noLink(b)
				}
				l := newPairLabPrefixed(b, cfg, pairPrefix("fb"))
				flows := statefulSetupN(b, l, 100, 20)
				fail := powerFailure(l)
				if m.kill {
					fail = func() { l.mustLab("kill", "primary") }
				}
				dead := failOver(b, l, flows, "secondary", fail)
				for _, f := range flows {
					total++
					if _, ok := dead[f]; ok {
						continue
					}
					survived++
					gaps = append(gaps, float64(f.maxGap.Load())/float64(time.Millisecond))
				}
				b.Logf("%s: %d of %d flows survived", m.name, len(flows)-len(dead), len(flows))
			}
			b.ReportMetric(100*float64(survived)/float64(total), "%survived")
			if len(gaps) > 0 {
				slices.Sort(gaps)
				b.ReportMetric(gaps[len(gaps)/2], "ms-gap-median")
				b.ReportMetric(gaps[len(gaps)-1], "ms-gap-max")
			}
		})
	}
}
