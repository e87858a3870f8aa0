package uplink

import (
	"flag"
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"failover/engine/clock"
	"failover/engine/config"
	"failover/engine/dataplane"
	"failover/engine/dataplane/dataplanetest"
	"failover/engine/probe/probetest"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Documentation addresses: the primary ISP on outside (eth0), the backup ISP
// on backup (eth1), the LAN on inside (eth2). The SLA targets sit beyond the
// ISP gateways, so that a failure upstream of a gateway that still answers
// can be played.
const (
	primaryGw  = "198.51.100.1"
	backupGw   = "203.0.113.1"
	primaryTgt = "198.51.100.100"
	backupTgt  = "203.0.113.100"
)

// harness runs a Manager on a test-driven event loop: Post queues, and the
// test drains the queue (waiting for probes in flight) after every step of
// the fake clock, so every run is deterministic.
type harness struct {
	t    *testing.T
	clk  *clock.Fake
	dp   *dataplanetest.Fake
	pr   *probetest.Fake
	m    *Manager
	q    chan func()
	logs []string
	cfg  *config.Config
}

func newHarness(t *testing.T, cfg *config.Config) *harness {
	t.Helper()
	h := &harness{t: t, clk: clock.NewFake(), dp: dataplanetest.NewFake(), pr: probetest.NewFake(), q: make(chan func(), 1024), cfg: cfg}
	for _, l := range []struct{ name, addr string }{
		{"eth0", "198.51.100.2/28"}, {"eth1", "203.0.113.2/28"}, {"eth2", "192.0.2.1/25"},
	} {
		must(t, h.dp.AddLink(l.name, ""))
		must(t, h.dp.AddrReplace(dataplane.Addr{Link: l.name, Prefix: netip.MustParsePrefix(l.addr)}))
	}
	h.pr.Set(primaryTgt, true)
	h.pr.Set(backupTgt, true)
	h.m = New(Options{
		Log:    slog.New(slog.DiscardHandler),
		Clock:  h.clk,
		DP:     h.dp,
		Prober: h.pr,
		Post:   func(f func()) { h.q <- f },
		Syslog: func(msg string) { h.logs = append(h.logs, msg) },
	})
	t.Cleanup(h.m.Stop)
	return h
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func (h *harness) start() {
	h.t.Helper()
	h.m.Apply(h.cfg)
	must(h.t, h.m.Start())
	h.drain()
}

// drain runs queued functions until none is queued and no probe is in flight.
func (h *harness) drain() {
	h.t.Helper()
	for {
		select {
		case f := <-h.q:
			f()
			continue
		default:
		}
		if h.m.inflight == 0 {
			return
		}
		select {
		case f := <-h.q:
			f()
		case <-time.After(5 * time.Second):
			h.t.Fatal("probe result never posted")
		}
	}
}

// advance moves the clock in 100 ms steps, draining after each, so that
// timers re-armed by handlers fire at their own time.
func (h *harness) advance(d time.Duration) {
	h.t.Helper()
	const step = 100 * time.Millisecond
	for d > 0 {
		s := min(step, d)
		h.clk.Advance(s)
		h.drain()
		d -= s
	}
}

func (h *harness) setCarrier(link string, up bool) {
	h.t.Helper()
	must(h.t, h.dp.SetCarrier(link, up))
	l, err := h.dp.Link(link)
	must(h.t, err)
	h.m.LinkChanged(l)
	h.drain()
}

// mainRoutes is the Fake's main-table routes, one per line.
func (h *harness) mainRoutes() string {
	var out []string
	for _, line := range strings.Split(h.dp.String(), "\n") {
		if strings.HasPrefix(line, "route ") && strings.Contains(line, "table main") {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

const (
	viaPrimary = "route 0.0.0.0/0 via 198.51.100.1 dev eth0 table main metric 0 proto 250"
	viaBackup  = "route 0.0.0.0/0 via 203.0.113.1 dev eth1 table main metric 0 proto 250"
)

func (h *harness) wantMain(want string) {
	h.t.Helper()
	if got := h.mainRoutes(); got != want {
		h.t.Fatalf("at %s main table:\n%s\nwant:\n%s", h.clk.Now().Format("15:04:05.0"), got, want)
	}
}

// takeLogs returns the syslog lines since the last call.
func (h *harness) takeLogs() []string {
	l := h.logs
	h.logs = nil
	return l
}

// seedConfig is the usual dual-ISP configuration on documentation
// addresses: the primary tracked through SLA 10 with delay down 3 up 10,
// the backup at 254.
func seedConfig() *config.Config {
	c := config.New()
	c.Interfaces = []*config.Interface{
		{HW: "eth0", Name: "outside", Addr: netip.MustParsePrefix("198.51.100.2/28"), MTU: 1500},
		{HW: "eth1", Name: "backup", Addr: netip.MustParsePrefix("203.0.113.2/28"), MTU: 1500},
		{HW: "eth2", Name: "inside", Security: 100, Addr: netip.MustParsePrefix("192.0.2.1/25"), MTU: 1500},
	}
	c.SLAs[10] = &config.SLA{ID: 10, Typed: true, Target: primaryTgt, If: "outside", NumPackets: 1,
		Timeout: 1000, Threshold: 500, Frequency: 1000, DataSize: 28, Scheduled: true, Life: -1}
	c.Tracks[1] = &config.Track{ID: 1, SLA: 10, DelayDown: 3, DelayUp: 10}
	def := netip.MustParsePrefix("0.0.0.0/0")
	c.Routes = []config.Route{
		{If: "outside", Dst: def, Gw: netip.MustParseAddr(primaryGw), Distance: 1, Track: 1},
		{If: "backup", Dst: def, Gw: netip.MustParseAddr(backupGw), Distance: 254},
	}
	return c
}

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		must(t, os.WriteFile(path, []byte(got), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("failed to read golden file (run with -update): %v", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

type seedSLA = config.SLA

func mapsKeys[K comparable, V any](m map[K]V) func(func(K) bool) {
	return func(yield func(K) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}
