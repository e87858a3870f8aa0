package lab

// Fault-injection soak of the pair (make bench): for PAIR_FAULT_SOAK (a Go
// duration, default 3m) random faults hit the lab while the client pings
// the server every 10 ms:
//
//	go test -run XXX -bench PairFaultSoak -benchtime 1x -timeout 60m -v ./examples/lab/
//
// Faults: kill -9 of either daemon (restarted by the next event), cut and
// restore of one unit's failover, inside or outside cable or of the switch of
// one of those segments, `failover active`
// on either unit, `write memory`, recorded datagrams replayed and forged
// hellos sent with TTL 255 on the failover link and the outside segment.
// PAIR_FAULT_SEED fixes the sequence. After every event the invariants are
// checked (see faultSoak.check); every breach is logged and counted, and
// the benchmark fails if there is any. A background sampler checks every
// 100 ms that no system address is held by both units while they hear each
// other.

import (
	"fmt"
	mrand "math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"failover/engine/wire"
)

// faultSystem are the system addresses of the sample configuration, by
// interface: whoever is active holds them.
var faultSystem = []struct{ dev, addr string }{
	{"inside", "192.0.2.1"}, {"outside", "198.51.100.2"}, {"backup", "198.51.100.18"},
}

// faultRSSLimit bounds a daemon's resident memory.
const faultRSSLimit = 200 << 20

type faultSoak struct {
	l    *pairLab
	b    *testing.B
	rng  *mrand.Rand
	ping *pairPinger
	rec  [][]byte

	dead string // unit whose daemon was killed and awaits its restart
	cut  string // link cut and awaiting its restore

	mu         sync.Mutex
	violations []string
	maxRSS     map[string]int64

	events map[string]*faultStats
}

type faultStats struct {
	n, lost  int
	gap      time.Duration
	converge time.Duration // longest time to one holder per address
}

func (s *faultSoak) violate(format string, args ...any) {
	s.mu.Lock()
	defer s.mu.Unlock()
	msg := fmt.Sprintf(format, args...)
	s.violations = append(s.violations, msg)
	s.b.Logf("VIOLATION: %s", msg)
}

func faultEnvDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 {
		b.Fatalf("%s=%q: want a positive Go duration", name, v)
	}
	return d
}

// held returns, per unit, the system addresses its namespace holds now.
func (s *faultSoak) held() map[string]map[string]bool {
	out := map[string]map[string]bool{}
	for _, u := range []string{"primary", "secondary"} {
		out[u] = map[string]bool{}
		raw, err := exec.Command("ip", "-n", s.l.unitNS(u), "-o", "-4", "addr", "show").CombinedOutput()
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(raw), "\n") {
			for _, a := range faultSystem {
				// "3: inside    inet 192.0.2.1/28 ..."
				if f := strings.Fields(line); len(f) > 3 && f[1] == a.dev && strings.HasPrefix(f[3], a.addr+"/") {
					out[u][a.addr] = true
				}
			}
		}
	}
	return out
}

// hearEachOther says whether both daemons answer and each shows its mate.
func (s *faultSoak) hearEachOther() (bool, string) {
	var texts []string
	for _, u := range []string{"primary", "secondary"} {
		f, err := s.l.failover(u)
		if err != nil || f.other == "" || f.other == "Not Detected" {
			return false, ""
		}
		texts = append(texts, u+": This host "+f.this+", Other host "+f.other)
	}
	return true, strings.Join(texts, "; ")
}

// sampler checks, until stop, that no system address is held by both
// units while they hear each other.
func (s *faultSoak) sampler(stop <-chan struct{}, wg *sync.WaitGroup) {
	defer wg.Done()
	for {
		select {
		case <-stop:
			return
		case <-time.After(100 * time.Millisecond):
		}
		h := s.held()
		var both []string
		for _, a := range faultSystem {
			if h["primary"][a.addr] && h["secondary"][a.addr] {
				both = append(both, a.addr)
			}
		}
		if len(both) == 0 {
			continue
		}
		if hear, who := s.hearEachOther(); hear && slices.Equal(both, s.bothHeldStill()) {
			s.violate("both units hold %v while they hear each other (%s)", both, who)
		}
	}
}

// bothHeldStill re-reads the addresses held by both units, so that a
// switchover caught half-way (one adds as the other removes) is not taken
// for a split.
func (s *faultSoak) bothHeldStill() []string {
	h := s.held()
	var both []string
	for _, a := range faultSystem {
		if h["primary"][a.addr] && h["secondary"][a.addr] {
			both = append(both, a.addr)
		}
	}
	return both
}

func (s *faultSoak) pidOf(unit string) int {
	raw, err := os.ReadFile(filepath.Join(s.l.dir, "lab", unit+".pid"))
	if err != nil {
		return 0
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(raw)))
	return pid
}

// rss is the resident memory of unit's daemon, or -1 if it is not running.
func (s *faultSoak) rss(unit string) int64 {
	pid := s.pidOf(unit)
	if pid <= 0 {
		return -1
	}
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(raw), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			return kb << 10
		}
	}
	return -1
}

// configsEqual compares the running-configs without the unit-local lines,
// retrying for a while (replication takes a round trip).
func (s *faultSoak) configsEqual(timeout time.Duration) (bool, string) {
	deadline := time.Now().Add(timeout)
	var diff string
	for {
		a, errA := s.l.foshRun("primary", "show running-config")
		c, errC := s.l.foshRun("secondary", "show running-config")
		if errA == nil && errC == nil {
			pa, pc := pairComparable(a), pairComparable(c)
			if slices.Equal(pa, pc) {
				return true, ""
			}
			diff = pairDiff(pa, pc)
		}
		if time.Now().After(deadline) {
			return false, diff
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// check verifies the invariants after an event that started at start:
// every daemon that should run runs, within hold + 2 s of the event each
// system address has exactly one holder, the running-configs agree (when
// both run and the failover link is up), and memory is bounded.
func (s *faultSoak) check(ev string, start time.Time) time.Duration {
	for _, u := range []string{"primary", "secondary"} {
		if u == s.dead {
			continue
		}
		if pid := s.pidOf(u); pid <= 0 || exec.Command("kill", "-0", strconv.Itoa(pid)).Run() != nil {
			s.violate("after %s: the %s daemon died unasked", ev, u)
			s.l.mustLab("start", u)
		}
	}
	// Watch the whole hold time + 2 s: right after an event the old
	// holder may still hold (a killed daemon's addresses live on in the
	// kernel for a while), so one moment of a single holder proves
	// nothing. At the end of it each address must have exactly one holder.
	limit := pairHold + 2*time.Second
	var lastBad time.Time
	for {
		h := s.held()
		ok := true
		for _, a := range faultSystem {
			if h["primary"][a.addr] == h["secondary"][a.addr] {
				ok = false
			}
		}
		if !ok {
			lastBad = time.Now()
		}
		if time.Since(start) >= limit {
			if ok {
				break
			}
			s.violate("after %s: no single holder of every system address within %v: primary %v, secondary %v\n%s",
				ev, limit, h["primary"], h["secondary"], s.states())
			// let it recover before the next event, so one breach is not
			// counted again by every event after it
			for time.Since(start) < 30*time.Second {
				time.Sleep(500 * time.Millisecond)
			}
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	took := time.Duration(0)
	if !lastBad.IsZero() {
		took = lastBad.Sub(start)
	}
	// Replication needs the failover link; while it is cut a unit that
	// restarted runs the configuration it saved last, which may be older.
	if s.dead == "" && !strings.HasPrefix(s.cut, "failover-") && !strings.HasSuffix(s.cut, "-failover") {
		if ok, diff := s.configsEqual(10 * time.Second); !ok {
			s.violate("after %s: running-configs differ beyond the unit-local lines:\n%s\n%s", ev, diff, s.states())
		}
	}
	for _, u := range []string{"primary", "secondary"} {
		r := s.rss(u)
		s.mu.Lock()
		s.maxRSS[u] = max(s.maxRSS[u], r)
		s.mu.Unlock()
		if r > faultRSSLimit {
			s.violate("after %s: %s daemon RSS %d MiB > %d MiB", ev, u, r>>20, faultRSSLimit>>20)
		}
	}
	return took
}

// states is both units' show failover state lines and history, for a report.
func (s *faultSoak) states() string {
	var b strings.Builder
	for _, u := range []string{"primary", "secondary"} {
		f, err := s.l.failover(u)
		if err != nil {
			fmt.Fprintf(&b, "%s: %v\n", u, err)
			continue
		}
		h, _ := s.l.foshRun(u, "show failover history")
		fmt.Fprintf(&b, "%s: This host %s, Other host %s, cable %q\n%s", u, f.this, f.other, f.cable, h)
	}
	return b.String()
}

// faultLinks are the cables that can be cut: each unit's own, and the
// switch of each segment (carrier stays up on both units).
var faultLinks = []string{
	"primary-failover", "secondary-failover", "primary-inside", "secondary-inside", "primary-outside", "secondary-outside",
	"failover-switch", "inside-switch", "outside-switch",
}

// next picks and runs one event and returns its kind and what exactly it
// did.
func (s *faultSoak) next() (kind, what string) {
	l := s.l
	units := []string{"primary", "secondary"}
	if s.dead != "" {
		u := s.dead
		l.mustLab("start", u)
		s.dead = ""
		return "restart after kill -9", "start " + u
	}
	switch r := s.rng.IntN(100); {
	case r < 20:
		u := units[s.rng.IntN(2)]
		l.mustLab("kill", u)
		s.dead = u
		return "kill -9", "kill -9 " + u
	case r < 40:
		if s.cut != "" {
			l.mustLab("restore", s.cut)
			what = "restore " + s.cut
			s.cut = ""
			return "restore link", what
		}
		s.cut = faultLinks[s.rng.IntN(len(faultLinks))]
		l.mustLab("cut", s.cut)
		return "cut link", "cut " + s.cut
	case r < 55:
		u := units[s.rng.IntN(2)]
		out, _ := l.foshRun(u, "failover active")
		return "failover active", "failover active on " + u + faultReply(out)
	case r < 70:
		u := units[s.rng.IntN(2)]
		out, _ := l.foshRun(u, "write memory")
		return "write memory", "write memory on " + u + faultReply(out)
	case r < 85:
		for _, p := range replayPaths(l)[:4] {
			if err := l.pairSendTTL(p.ns, p.src, p.dst, p.ttl, s.rec); err != nil {
				s.b.Fatal(err)
			}
		}
		return "replayed datagrams", fmt.Sprintf("%d recorded datagrams to each unit on the failover link and outside", len(s.rec))
	default:
		for _, p := range replayPaths(l)[:4] {
			if err := l.pairSendTTL(p.ns, p.src, p.dst, p.ttl, faultForged(s.b)); err != nil {
				s.b.Fatal(err)
			}
		}
		return "forged datagrams", "forged hellos to each unit on the failover link and outside"
	}
}

// faultReply is fosh's answer in brief, for the event log.
func faultReply(out string) string {
	out = strings.Join(strings.Fields(out), " ")
	if out == "" {
		return ""
	}
	if len(out) > 80 {
		out = out[:80] + "..."
	}
	return " (" + out + ")"
}

// faultForged are hellos and a shutdown hello with a wrong key and without
// one, from new boot ids.
func faultForged(b *testing.B) [][]byte {
	var out [][]byte
	for _, key := range [][]byte{[]byte("not-the-lab-key"), nil} {
		c := wire.NewCodec(key)
		for i, body := range []wire.Body{
			&wire.Hello{State: wire.UnitFailed, PollMs: 1000, HoldMs: 3000},
			&wire.Hello{State: wire.UnitActive, Flags: wire.HelloShuttingDown},
			&wire.IfHello{Name: "outside", State: wire.IfNormal},
		} {
			m, err := c.Encode(&wire.Message{Role: wire.RolePrimary, BootID: wire.NewBootID(), Seq: uint64(i + 1), Body: body})
			if err != nil {
				b.Fatal(err)
			}
			out = append(out, m)
		}
	}
	return out
}

// faultDone is one event as it happened.
type faultDone struct {
	kind, what string
	from, to   time.Time // to: when the next event began
	took       time.Duration
}

// faultLosses attributes every lost ping to the event during which it was
// sent, and every silence to the event during which it began. A lost ping's
// send time is interpolated between the replies around it (ping keeps
// sending every 10 ms whether or not replies come), so an outage that spans
// several events is shared out among them rather than charged to the event
// during which traffic came back.
func faultLosses(rs []pairReply, log []faultDone) (lost []int, gaps []time.Duration) {
	lost, gaps = make([]int, len(log)), make([]time.Duration, len(log))
	at := func(t time.Time) int {
		for i, d := range log {
			if !t.Before(d.from) && t.Before(d.to) {
				return i
			}
		}
		return -1
	}
	rs = slices.Clone(rs)
	slices.SortFunc(rs, func(a, b pairReply) int { return a.seq - b.seq })
	for i := 1; i < len(rs); i++ {
		a, c := rs[i-1], rs[i]
		if c.seq <= a.seq {
			continue
		}
		if e := at(a.at); e >= 0 {
			gaps[e] = max(gaps[e], c.at.Sub(a.at))
		}
		span := c.at.Sub(a.at)
		for k := a.seq + 1; k < c.seq; k++ {
			t := a.at.Add(span * time.Duration(k-a.seq) / time.Duration(c.seq-a.seq))
			if e := at(t); e >= 0 {
				lost[e]++
			}
		}
	}
	return lost, gaps
}

func BenchmarkPairFaultSoak(b *testing.B) {
	dur := faultEnvDuration(b, "PAIR_FAULT_SOAK", 3*time.Minute)
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PAIR_FAULT_SEED"); v != "" {
		n, err := strconv.ParseUint(v, 10, 64)
		if err != nil {
			b.Fatalf("PAIR_FAULT_SEED=%q: %v", v, err)
		}
		seed = n
	}
	for range b.N {
		l := newBenchLab(b, "")
		l.waitPair("primary", "secondary", 20*time.Second)
		l.waitClientPing(10 * time.Second)
		s := &faultSoak{
			l: l, b: b, rng: mrand.New(mrand.NewPCG(seed, 0x5eed)),
			rec:    l.replayRecord(),
			maxRSS: map[string]int64{}, events: map[string]*faultStats{},
		}
		if ok, diff := s.configsEqual(10 * time.Second); !ok {
			b.Fatalf("running-configs differ before the soak:\n%s", diff)
		}
		s.ping = l.startPing("0.01")
		var wg sync.WaitGroup
		stop := make(chan struct{})
		wg.Add(1)
		go s.sampler(stop, &wg)
		b.Logf("fault soak: %v, seed %d", dur, seed)

		var log []faultDone
		begin := time.Now()
		for time.Since(begin) < dur || s.dead != "" || s.cut != "" {
			if time.Since(begin) >= dur {
				// wind down: bring everything back
				if s.dead != "" {
					l.mustLab("start", s.dead)
					s.dead = ""
				}
				if s.cut != "" {
					l.mustLab("restore", s.cut)
					s.cut = ""
				}
				start := time.Now()
				took := s.check("wind down", start)
				log = append(log, faultDone{"wind down", "start and restore what is down", start, time.Now().Add(3 * time.Second), took})
				break
			}
			start := time.Now()
			ev, what := s.next()
			took := s.check(what, start)
			time.Sleep(500*time.Millisecond + mrand.N(1500*time.Millisecond))
			log = append(log, faultDone{ev, what, start, time.Now(), took})
		}
		time.Sleep(2 * time.Second)
		close(stop)
		wg.Wait()
		s.ping.stop()

		lost, gaps := faultLosses(s.ping.snapshot(), log)
		for i, d := range log {
			b.Logf("t+%5.1fs %-64s converged %-8v client lost %4d, longest gap %v",
				d.from.Sub(begin).Seconds(), d.what, d.took.Round(time.Millisecond), lost[i], gaps[i].Round(time.Millisecond))
			st := s.events[d.kind]
			if st == nil {
				st = &faultStats{}
				s.events[d.kind] = st
			}
			st.n++
			st.lost += lost[i]
			st.gap = max(st.gap, gaps[i])
			st.converge = max(st.converge, d.took)
		}
		total := 0
		names := make([]string, 0, len(s.events))
		for ev, st := range s.events {
			names = append(names, ev)
			total += st.n
		}
		slices.Sort(names)
		b.Logf("%d events in %v (seed %d), %d violations; max RSS primary %d MiB, secondary %d MiB",
			total, time.Since(begin).Round(time.Second), seed, len(s.violations), s.maxRSS["primary"]>>20, s.maxRSS["secondary"]>>20)
		b.Logf("%-24s %6s %10s %14s %14s", "event", "count", "lost", "longest gap", "max converge")
		for _, ev := range names {
			st := s.events[ev]
			b.Logf("%-24s %6d %10d %14v %14v", ev, st.n, st.lost, st.gap.Round(time.Millisecond), st.converge.Round(time.Millisecond))
		}
		for _, v := range s.violations {
			b.Errorf("violation: %s", v)
		}
		b.ReportMetric(0, "ns/op")
		b.ReportMetric(float64(total), "events")
		b.ReportMetric(float64(len(s.violations)), "violations")
	}
}
