package engine_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"
)

// benchConfig mirrors cmd/fosh's bigConfig: n lines of SLA operations and
// tracks, which touch no kernel object.
func benchConfig(n int) []string {
	lines := []string{"interface outside auto", "interface inside auto",
		"nameif outside outside security0", "nameif inside inside security100",
		"ip address outside 198.51.100.2 255.255.255.240", "ip address inside 192.0.2.1 255.255.255.240"}
	for id := 1; len(lines) < n; id++ {
		lines = append(lines, fmt.Sprintf("sla monitor %d", id),
			fmt.Sprintf(" type echo protocol ipIcmpEcho 203.0.113.%d interface outside", id%250+1),
			" num-packets 1", " timeout 1000", " threshold 500", " frequency 5")
		if id <= 500 {
			lines = append(lines, fmt.Sprintf("track %d rtr %d reachability", id, id), " delay down 1 up 2")
		}
	}
	return lines[:n]
}

// BenchmarkPasteInProcess pastes configuration lines into an engine with
// its real unit and uplink parts on a fake kernel, in batches as fosh
// sends them, and reports the kernel calls the lines after the interface
// lines made (link reads aside, there should be none).
func BenchmarkPasteInProcess(b *testing.B) {
	for _, n := range []int{10_000, 100_000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			lines := benchConfig(n)
			for b.Loop() {
				b.StopTimer()
				e, dp := newEngineOn(b, true, "outside", "inside")
				ctx, cancel := context.WithCancel(context.Background())
				go e.Publish(ctx, time.Second) // as failoverd runs it
				b.Cleanup(cancel)
				s := sessionsOf(e).NewSession(false)
				// The interface lines first: the rest must not touch the kernel.
				for _, r := range s.ExecBatch(append([]string{"enable", "configure terminal"}, lines[:6]...)) {
					if r.Failed() {
						b.Fatal(r.Err)
					}
				}
				e.Do(func() {})
				dp.take()
				b.StartTimer()
				for i := 6; i < len(lines); i += 1000 {
					for _, r := range s.ExecBatch(lines[i:min(i+1000, len(lines))]) {
						if r.Failed() {
							b.Fatal(r.Err)
						}
					}
				}
				e.Do(func() {})
				b.StopTimer()
				calls := 0
				n := dp.take()
				for m, c := range n {
					if !strings.HasPrefix(m, "Link") || m == "Links" {
						calls += c
					}
				}
				b.ReportMetric(float64(calls), "kernel-calls")
				if calls > 0 {
					b.Logf("kernel calls: %v", n)
				}
				b.StartTimer()
			}
		})
	}
}
