package lab

import (
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
	"time"
)

// routeWatch records every distinct default route of pri's main table,
// polled every 10 ms from before the daemon starts.
type routeWatch struct {
	mu   sync.Mutex
	seen []string // "none" or the route line, each change once
	stop chan struct{}
	done chan struct{}
}

func (l *Lab) watchRoutes() *routeWatch {
	w := &routeWatch{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(w.done)
		last := ""
		for {
			rs := nonEmptyLines(l.ipQuiet("pri", "route", "show", "default"))
			cur := "none"
			if len(rs) > 0 {
				cur = rs[0]
			}
			if cur != last {
				w.mu.Lock()
				w.seen = append(w.seen, cur)
				w.mu.Unlock()
				last = cur
			}
			select {
			case <-w.stop:
				return
			case <-time.After(10 * time.Millisecond):
			}
		}
	}()
	return w
}

func (w *routeWatch) Stop() []string {
	close(w.stop)
	<-w.done
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen
}

// A cold start of a box with a tracked ISP1 and a floating ISP2 route,
// from the lab's own sample configurations: the first probes leave before
// the box holds its addresses (a failover unit takes them only when it
// becomes active), and such a probe that could not be sent must not count
// as ISP1 failing. The default route goes to ISP1 as soon as ISP1 answers,
// without the track's 10 s up delay, and never to ISP2.
func TestColdStartGoesStraightToISP1(t *testing.T) {
	for _, tc := range []struct{ name, cfg string }{
		{"uplink only", "uplink.cfg"},
		{"failover primary alone", "primary.cfg"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			l := NewLab(t)
			b, err := os.ReadFile(filepath.Join(repoRoot, "examples", tc.cfg))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(l.Cfg, b, 0o600); err != nil {
				t.Fatal(err)
			}
			w := l.watchRoutes()
			start := time.Now()
			l.StartDaemon()
			l.WaitRoute(viaISP1, 9*time.Second)
			t.Logf("default route via ISP1 %v after the start", time.Since(start).Round(10*time.Millisecond))
			l.HoldRoute(viaISP1, time.Second)
			seen := w.Stop()
			for _, r := range seen {
				if r != "none" && !routeIs([]string{r}, viaISP1) {
					t.Errorf("the default route visited %q during the start (routes seen: %q)", r, seen)
				}
			}
		})
	}
}

// ipQuiet runs "ip -n NS ARGS..." from a goroutine that must not fail the
// test; an error reads as no output.
func (l *Lab) ipQuiet(ns string, args ...string) string {
	out, err := exec.Command("ip", append([]string{"-n", l.NS(ns)}, args...)...).Output()
	if err != nil {
		return ""
	}
	return string(out)
}
