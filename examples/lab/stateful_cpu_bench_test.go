package lab

import (
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"failover/engine/conntrack"
)

// The generator of BenchmarkPairStatefulCPU: short UDP flows from
// cpuClientSockets sockets of the client to cpuServerPorts ports of the
// server, one datagram each way. Flow i goes from socket i%sockets to port
// cpuPort0 + (i/sockets)%ports, so every flow is a new connection (a new
// conntrack entry, masqueraded) until sockets*ports flows.
const (
	cpuClientSockets = 1000
	cpuServerPorts   = 128
	cpuPort0         = 7100
	cpuRate          = 10000 // new connections per second
	cpuWindow        = 10 * time.Second
	cpuIdleWindow    = 10 * time.Second
	cpuSettle        = 2 * time.Second
	// cpuCompleteWithin: how long after the generator stops a standby
	// still behind is waited for (complete-s is -1 when it is not complete
	// by then).
	cpuCompleteWithin = 15 * time.Second
	clkTck            = 100 // USER_HZ: the unit of utime and stime in /proc/PID/stat
)

// BenchmarkPairStatefulCPU: the CPU the active and the standby failoverd
// use while the client opens new connections through the pair's
// masquerade at a sustained 10,000 per second for 10 s, with connection
// replication on (the sample configuration). Each flow is a UDP datagram
// from the client to the server beyond the ISPs and the server's answer
// (a new conntrack entry, translated, and its reply: two events for the
// active to replicate). Reported per run (a new lab per run):
//
//   - the daemons' CPU (utime+stime of /proc/PID/stat) over the window,
//     in % of one core, idle before it, and in the 10 s after it with the
//     table full (the active's periodic refresh of short-timeout entries);
//
//   - the whole machine's softirq and busy share over the window
//     (/proc/stat, % of all cores: the generator, the lab's forwarding and
//     both kernels' conntrack are in there too);
//
//   - the rate the generator achieved and the share of flows answered;
//
//   - whether the standby was complete: after a 2 s settle, the flows the
//     active's kernel holds that the standby's does not.
//
//     go test -run XXX -bench BenchmarkPairStatefulCPU -benchtime 10x -timeout 40m ./examples/lab/
func BenchmarkPairStatefulCPU(b *testing.B) {
	var rows []map[string]float64
	eachLab(b, func(tb testing.TB) { rows = append(rows, cpuRun(b, tb)) })
	if len(rows) == 0 {
		return
	}
	b.ReportMetric(0, "ns/op")
	var names []string
	for k := range rows[0] {
		names = append(names, k)
	}
	slices.Sort(names)
	for _, k := range names {
		var xs []float64
		for _, r := range rows {
			xs = append(xs, r[k])
		}
		b.ReportMetric(pairMedian(xs), k)
		b.Logf("%s: median %.2f (min %.2f, max %.2f) over %d runs", k, pairMedian(xs), slices.Min(xs), slices.Max(xs), len(xs))
	}
}

// cpuRun is one lab: idle window, generator window, completeness, full-table window.
func cpuRun(b *testing.B, tb testing.TB) map[string]float64 {
	l := newPairLabPrefixed(tb, "", pairPrefix("sb"))
	l.waitPair("primary", "secondary", 30*time.Second)
	l.waitClientPing(10 * time.Second)
	active, standby := l.daemonPid("primary"), l.daemonPid("secondary")
	srv := l.startCPUServer()
	gen := l.newCPUGenerator()
	// the pair settles (hellos, the first probes and their replication)
	time.Sleep(2 * time.Second)

	m := map[string]float64{}
	w := startCPUWindow(active, standby)
	time.Sleep(cpuIdleWindow)
	idle := w.stop()
	m["idle-active-%cpu"], m["idle-standby-%cpu"] = idle.pct[0], idle.pct[1]

	drops := l.snmpCounter("inet", "Udp:", "RcvbufErrors")
	// the failover link's UDP: datagrams the standby's socket dropped
	// (the active resends what is not acknowledged)
	linkDrops := l.snmpCounter("sec", "Udp:", "RcvbufErrors")
	linkSndErr := l.snmpCounter("pri", "Udp:", "SndbufErrors")
	w = startCPUWindow(active, standby)
	sent, took := gen.run(cpuRate, cpuWindow)
	load := w.stop()
	rate := float64(sent) / took.Seconds()
	m["active-%cpu"], m["standby-%cpu"] = load.pct[0], load.pct[1]
	m["box-softirq-%"], m["box-busy-%"] = load.softirq, load.busy
	m["conn/s"] = rate

	end := time.Now()
	time.Sleep(cpuSettle)
	answered := gen.answered.Load()
	drops = l.snmpCounter("inet", "Udp:", "RcvbufErrors") - drops
	linkDrops = l.snmpCounter("sec", "Udp:", "RcvbufErrors") - linkDrops
	linkSndErr = l.snmpCounter("pri", "Udp:", "SndbufErrors") - linkSndErr
	m["link-drops"] = float64(linkDrops + linkSndErr)
	m["%answered"] = 100 * float64(answered) / float64(sent)
	onActive, missing := l.cpuMissing()
	m["active-entries"], m["standby-missing"] = float64(onActive), float64(missing)
	// A standby behind after the settle: its replication counters, then
	// how long it takes to complete (the flows expire 30 s after their
	// last packet: give up well before).
	complete := time.Since(end)
	if missing > 0 {
		for _, u := range []string{"primary", "secondary"} {
			b.Logf("%s, %d missing:\n%s", u, missing, l.statefulRows(u))
		}
		for missing > 0 && time.Since(end) < cpuCompleteWithin {
			time.Sleep(500 * time.Millisecond)
			_, missing = l.cpuMissing()
			complete = time.Since(end)
		}
		if missing > 0 {
			b.Logf("the standby still lacks %d flows %v after the generator stopped", missing, cpuCompleteWithin)
			complete = -time.Second
		}
	}
	m["complete-s"] = complete.Seconds()

	w = startCPUWindow(active, standby)
	time.Sleep(cpuIdleWindow)
	full := w.stop()
	m["full-active-%cpu"], m["full-standby-%cpu"] = full.pct[0], full.pct[1]

	b.Logf("run: %d flows in %v (%.0f/s), %d answered (server saw %d, its sockets dropped %d); idle: active %.2f %%, standby %.2f %% of a core; "+
		"at %.0f/s: active %.1f %%, standby %.1f %%, box softirq %.1f %%, busy %.1f %% of 2 cores; "+
		"failover link: %d datagrams dropped by the standby's socket, %d send buffer errors on the active; "+
		"after %v: active %d flows, standby missing %.0f, complete %.1f s after the generator stopped; table full: active %.1f %%, standby %.1f %%",
		sent, took.Round(time.Millisecond), rate, answered, srv.Load(), drops, idle.pct[0], idle.pct[1],
		rate, load.pct[0], load.pct[1], load.softirq, load.busy, linkDrops, linkSndErr, cpuSettle, onActive, m["standby-missing"], m["complete-s"], full.pct[0], full.pct[1])
	if float64(onActive) < 0.9*float64(sent) {
		b.Errorf("the active's kernel holds %d of the %d generated flows: the generator did not go through the pair", onActive, sent)
	}
	return m
}

// statefulRows is the part of unit's show failover about connection
// replication: the Stateful Obj table and its queues.
func (l *pairLab) statefulRows(unit string) string {
	out, err := l.foshRun(unit, "show failover")
	if err != nil {
		return fmt.Sprintf("show failover: %v", err)
	}
	if i := strings.Index(out, "Stateful"); i >= 0 {
		return out[i:]
	}
	return out
}

// daemonPid is the pid of unit's failoverd (lab.sh's pid file).
func (l *pairLab) daemonPid(unit string) int {
	l.tb.Helper()
	raw, err := os.ReadFile(filepath.Join(l.dir, "lab", unit+".pid"))
	if err != nil {
		l.tb.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(raw)))
	if err != nil {
		l.tb.Fatalf("pid file of %s: %v", unit, err)
	}
	return pid
}

// startCPUServer answers every datagram on the generator's ports; it
// returns the count of datagrams heard.
func (l *pairLab) startCPUServer() *atomic.Int64 {
	l.tb.Helper()
	var heard atomic.Int64
	var conns []*net.UDPConn
	err := pairInNS(l.ns("inet"), func() error {
		for p := range cpuServerPorts {
			c, err := net.ListenUDP("udp4", net.UDPAddrFromAddrPort(netip.AddrPortFrom(netip.MustParseAddr(pairServer), uint16(cpuPort0+p))))
			if err != nil {
				return err
			}
			conns = append(conns, c)
		}
		return nil
	})
	for _, c := range conns {
		l.tb.Cleanup(func() { c.Close() })
	}
	if err != nil {
		l.tb.Fatal(err)
	}
	for _, c := range conns {
		go func() {
			buf := make([]byte, 64)
			for {
				n, a, err := c.ReadFromUDPAddrPort(buf)
				if err != nil {
					return
				}
				heard.Add(1)
				_, _ = c.WriteToUDPAddrPort(buf[:n], a)
			}
		}()
	}
	return &heard
}

type cpuGenerator struct {
	socks    []*net.UDPConn
	answered atomic.Int64
}

func (l *pairLab) newCPUGenerator() *cpuGenerator {
	l.tb.Helper()
	g := &cpuGenerator{}
	err := pairInNS(l.ns("client"), func() error {
		for range cpuClientSockets {
			c, err := net.ListenUDP("udp4", &net.UDPAddr{})
			if err != nil {
				return err
			}
			g.socks = append(g.socks, c)
		}
		return nil
	})
	for _, c := range g.socks {
		l.tb.Cleanup(func() { c.Close() })
	}
	if err != nil {
		l.tb.Fatal(err)
	}
	for _, c := range g.socks {
		go func() {
			buf := make([]byte, 64)
			for {
				if _, err := c.Read(buf); err != nil {
					return
				}
				g.answered.Add(1)
			}
		}()
	}
	return g
}

// run opens new flows at rate for d (paced every millisecond, catching up
// when behind) and returns how many it opened and in what time.
func (g *cpuGenerator) run(rate int, d time.Duration) (int, time.Duration) {
	server := netip.MustParseAddr(pairServer)
	n := len(g.socks)
	limit := n * cpuServerPorts
	payload := []byte("new")
	start := time.Now()
	sent := 0
	for {
		el := time.Since(start)
		if el >= d || sent >= limit {
			break
		}
		for due := min(int(el.Seconds()*float64(rate)), limit); sent < due; sent++ {
			dst := netip.AddrPortFrom(server, uint16(cpuPort0+(sent/n)%cpuServerPorts))
			_, _ = g.socks[sent%n].WriteToUDPAddrPort(payload, dst)
		}
		time.Sleep(time.Millisecond)
	}
	return sent, time.Since(start)
}

// cpuMissing counts the generator's flows in the primary's (active)
// kernel, and those of them the secondary's (standby) kernel lacks.
func (l *pairLab) cpuMissing() (onActive, missing int) {
	l.tb.Helper()
	isGen := func(e conntrack.Entry) bool {
		return e.Proto == conntrack.ProtoUDP && e.Orig.Dst == netip.MustParseAddr(pairServer) &&
			e.Orig.DstPort >= cpuPort0 && e.Orig.DstPort < cpuPort0+cpuServerPorts
	}
	act, err := l.dumpUnit("primary")
	if err != nil {
		l.tb.Fatal(err)
	}
	sby, err := l.dumpUnit("secondary")
	if err != nil {
		l.tb.Fatal(err)
	}
	have := map[conntrack.Tuple]bool{}
	for _, e := range sby {
		if isGen(e) {
			have[e.Orig] = true
		}
	}
	for _, e := range act {
		if !isGen(e) {
			continue
		}
		onActive++
		if !have[e.Orig] {
			missing++
		}
	}
	return onActive, missing
}

// cpuSample samples the daemons' CPU time and the machine's /proc/stat.
type cpuSample struct {
	pids  []int
	ticks []float64
	stat  []float64
	start time.Time
}

type cpuResult struct {
	pct           []float64 // per pid, % of one core
	softirq, busy float64   // % of all cores
}

func startCPUWindow(pids ...int) *cpuSample {
	w := &cpuSample{pids: pids, start: time.Now(), stat: procStatCPU()}
	for _, p := range pids {
		w.ticks = append(w.ticks, procTicks(p))
	}
	return w
}

func (w *cpuSample) stop() cpuResult {
	el := time.Since(w.start).Seconds()
	var r cpuResult
	for i, p := range w.pids {
		r.pct = append(r.pct, 100*(procTicks(p)-w.ticks[i])/clkTck/el)
	}
	s := procStatCPU()
	var total, idle float64
	for i := range s {
		d := s[i] - w.stat[i]
		total += d
		if i == 3 || i == 4 { // idle, iowait
			idle += d
		}
	}
	if total > 0 {
		r.softirq = 100 * (s[6] - w.stat[6]) / total
		r.busy = 100 * (total - idle) / total
	}
	return r
}

// procTicks is utime+stime of pid (all its threads), in clock ticks; -1
// when it is gone (the figure is then meaningless and shows negative).
func procTicks(pid int) float64 {
	raw, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return -1
	}
	s := string(raw)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return -1
	}
	u, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return u + st
}

// procStatCPU is the first line of /proc/stat: user nice system idle
// iowait irq softirq steal (guest time is inside user).
func procStatCPU() []float64 {
	raw, err := os.ReadFile("/proc/stat")
	if err != nil {
		return make([]float64, 8)
	}
	f := strings.Fields(strings.SplitN(string(raw), "\n", 2)[0])[1:]
	out := make([]float64, 8)
	for i := range min(8, len(f)) {
		out[i], _ = strconv.ParseFloat(f[i], 64)
	}
	return out
}
