package lab

// End-to-end tests of stateful failover: connections from the inside client
// through the pair's masquerade to the server beyond the ISPs survive a
// failover of the active unit when connection state is replicated (the
// sample configuration's "failover link failover"), and which of them die
// without it.

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"failover/engine/conntrack"
	"failover/engine/statesync"
	"failover/engine/wire"
)

// flowKind is a direction pattern of a connection.
type flowKind int

const (
	tcpEcho   flowKind = iota // the client speaks first, the server echoes
	tcpPush                   // only the server speaks: its packet reaches the new active first
	tcpChatty                 // both speak independently
	udpEcho                   // the client sends, the server echoes
	udpPush                   // after one hello, only the server sends
	numKinds
)

var flowNames = [...]string{"tcp-echo", "tcp-push", "tcp-chatty", "udp-echo", "udp-push"}

func (k flowKind) String() string { return flowNames[k] }

const (
	flowPort0    = 7000 // server port of kind k: flowPort0 + k
	flowInterval = 20 * time.Millisecond
)

// Flows of the stateful tests: of each TCP kind, of each UDP kind.
const statefulTCP, statefulUDP = 100, 20

// flowServer is the server on 203.0.113.10 in the lab's "inet" namespace.
type flowServer struct {
	tb     testing.TB
	lns    []net.Listener
	udps   []*net.UDPConn
	mu     sync.Mutex
	conns  []net.Conn
	closed atomic.Bool
	// heard counts what each client connection (by the client's
	// translated address) sent, for the chatty flows' server side.
	heard sync.Map // string -> *atomic.Int64
}

func (l *pairLab) startFlowServer() *flowServer {
	l.tb.Helper()
	s := &flowServer{tb: l.tb}
	err := pairInNS(l.ns("inet"), func() error {
		for k := range numKinds {
			addr := net.JoinHostPort(pairServer, strconv.Itoa(flowPort0+int(k)))
			if k >= udpEcho {
				ua, _ := net.ResolveUDPAddr("udp4", addr)
				c, err := net.ListenUDP("udp4", ua)
				if err != nil {
					return err
				}
				s.udps = append(s.udps, c)
				continue
			}
			ln, err := net.Listen("tcp4", addr)
			if err != nil {
				return err
			}
			s.lns = append(s.lns, ln)
		}
		return nil
	})
	if err != nil {
		l.tb.Fatal(err)
	}
	for k, ln := range s.lns {
		go s.acceptLoop(flowKind(k), ln)
	}
	go s.udpEcho(s.udps[0])
	go s.udpPush(s.udps[1])
	l.tb.Cleanup(s.close)
	return s
}

func (s *flowServer) close() {
	s.closed.Store(true)
	for _, ln := range s.lns {
		ln.Close()
	}
	for _, c := range s.udps {
		c.Close()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		c.Close()
	}
}

func (s *flowServer) counter(peer string) *atomic.Int64 {
	v, _ := s.heard.LoadOrStore(peer, new(atomic.Int64))
	return v.(*atomic.Int64)
}

func (s *flowServer) acceptLoop(k flowKind, ln net.Listener) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		s.conns = append(s.conns, c)
		s.mu.Unlock()
		switch k {
		case tcpEcho:
			// Closing at the end of input ends a connection orderly
			// (FIN both ways) when the client closes it.
			go func() { _, _ = io.Copy(c, c); c.Close() }()
		case tcpPush, tcpChatty:
			n := s.counter(c.RemoteAddr().String())
			go func() {
				r := bufio.NewReader(c)
				for {
					if _, err := r.ReadString('\n'); err != nil {
						return
					}
					n.Add(1)
				}
			}()
			go func() {
				for i := 0; !s.closed.Load(); i++ {
					if _, err := fmt.Fprintf(c, "push %d\n", i); err != nil {
						return
					}
					time.Sleep(flowInterval)
				}
			}()
		}
	}
}

func (s *flowServer) udpEcho(c *net.UDPConn) {
	buf := make([]byte, 1500)
	for {
		n, a, err := c.ReadFromUDP(buf)
		if err != nil {
			return
		}
		_, _ = c.WriteToUDP(buf[:n], a)
	}
}

// udpPush streams to every peer that said hello, from then on.
func (s *flowServer) udpPush(c *net.UDPConn) {
	buf := make([]byte, 1500)
	seen := map[string]bool{}
	for {
		_, a, err := c.ReadFromUDP(buf)
		if err != nil {
			return
		}
		if seen[a.String()] {
			continue
		}
		seen[a.String()] = true
		go func() {
			for i := 0; !s.closed.Load(); i++ {
				_, _ = c.WriteToUDP(fmt.Appendf(nil, "push %d", i), a)
				time.Sleep(flowInterval)
			}
		}()
	}
}

// flow is one client connection.
type flow struct {
	kind     flowKind
	conn     net.Conn
	local    string       // the client's address, as the server sees it it is translated
	lastRecv atomic.Int64 // unix nanoseconds of the last data received
	maxGap   atomic.Int64 // longest silence between two receipts, nanoseconds
	recvd    atomic.Int64 // messages received
	err      atomic.Pointer[error]
	srvHeard *atomic.Int64 // chatty: what the server received from us (nil otherwise)
}

func (f *flow) fail(err error) {
	if f.err.Load() == nil {
		f.err.Store(&err)
	}
}

// startFlows opens nTCP connections of every TCP kind and nUDP of every
// UDP kind from the client.
func (l *pairLab) startFlows(srv *flowServer, nTCP, nUDP int) []*flow {
	l.tb.Helper()
	var flows []*flow
	for k := range numKinds {
		n := nTCP
		if k >= udpEcho {
			n = nUDP
		}
		for range n {
			f := &flow{kind: k}
			addr := net.JoinHostPort(pairServer, strconv.Itoa(flowPort0+int(k)))
			err := pairInNS(l.ns("client"), func() error {
				var err error
				if k >= udpEcho {
					f.conn, err = net.Dial("udp4", addr)
				} else {
					f.conn, err = net.DialTimeout("tcp4", addr, 5*time.Second)
				}
				return err
			})
			if err != nil {
				l.tb.Fatalf("%s connection: %v", k, err)
			}
			f.local = f.conn.LocalAddr().String()
			l.tb.Cleanup(func() { f.conn.Close() })
			flows = append(flows, f)
			go f.read()
			if k != tcpPush {
				go f.write()
			}
		}
	}
	// The chatty flows' server side: find the server's counter by the
	// client's translated port (masquerade keeps it when it is free).
	// Generous: a hundred flows start at once on a loaded machine.
	deadline := time.Now().Add(30 * time.Second)
	for _, f := range flows {
		if f.kind != tcpChatty {
			continue
		}
		_, port, _ := net.SplitHostPort(f.local)
		for f.srvHeard == nil && time.Now().Before(deadline) {
			srv.heard.Range(func(k, v any) bool {
				if strings.HasSuffix(k.(string), ":"+port) {
					f.srvHeard = v.(*atomic.Int64)
				}
				return true
			})
			time.Sleep(20 * time.Millisecond)
		}
		if f.srvHeard == nil {
			l.tb.Fatalf("the server never heard chatty flow %s", f.local)
		}
	}
	return flows
}

func (f *flow) read() {
	buf := make([]byte, 1500)
	r := bufio.NewReader(f.conn)
	for {
		var err error
		if f.kind >= udpEcho {
			_, err = f.conn.Read(buf)
		} else {
			_, err = r.ReadString('\n')
		}
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				f.fail(err)
			}
			return
		}
		f.recvd.Add(1)
		now := time.Now().UnixNano()
		if prev := f.lastRecv.Swap(now); prev != 0 && now-prev > f.maxGap.Load() {
			f.maxGap.Store(now - prev)
		}
	}
}

// write sends a line every flowInterval (udp-push: one hello only).
func (f *flow) write() {
	for i := 0; ; i++ {
		if _, err := fmt.Fprintf(f.conn, "msg %d\n", i); err != nil {
			if !errors.Is(err, net.ErrClosed) {
				f.fail(err)
			}
			return
		}
		if f.kind == udpPush {
			if i >= 2 {
				return // a few hellos, in case the first is lost
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		time.Sleep(flowInterval)
	}
}

// alive waits until every flow has received data after since (and, for a
// chatty flow, the server has heard it too); it returns the flows that did
// not within timeout, with why.
func aliveFlows(flows []*flow, since time.Time, timeout time.Duration) map[*flow]string {
	base := map[*flow]int64{}
	for _, f := range flows {
		if f.srvHeard != nil {
			base[f] = f.srvHeard.Load()
		}
	}
	deadline := time.Now().Add(timeout)
	for {
		dead := map[*flow]string{}
		for _, f := range flows {
			switch {
			case f.err.Load() != nil:
				dead[f] = fmt.Sprintf("error: %v", *f.err.Load())
			case f.lastRecv.Load() < since.UnixNano():
				dead[f] = "nothing received"
			case f.srvHeard != nil && f.srvHeard.Load() <= base[f]:
				dead[f] = "server heard nothing"
			}
		}
		if len(dead) == 0 || time.Now().After(deadline) {
			return dead
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// statefulSetup waits for the pair and opens perKind flows of every kind.
func statefulSetup(t testing.TB, l *pairLab, perKind int) []*flow {
	return statefulSetupN(t, l, perKind, perKind)
}

// statefulSetupN is statefulSetup with nTCP flows of each TCP kind and nUDP
// of each UDP kind.
func statefulSetupN(t testing.TB, l *pairLab, nTCP, nUDP int) []*flow {
	l.waitPair("primary", "secondary", 30*time.Second)
	return startCheckedFlows(t, l, nTCP, nUDP)
}

// startCheckedFlows starts the server and the flows through whatever pair
// is up, and checks that every flow works.
func startCheckedFlows(t testing.TB, l *pairLab, nTCP, nUDP int) []*flow {
	l.waitClientPing(10 * time.Second)
	srv := l.startFlowServer()
	flows := l.startFlows(srv, nTCP, nUDP)
	if dead := aliveFlows(flows, time.Now(), 5*time.Second); len(dead) > 0 {
		t.Fatalf("%d flows not working before the failure: %v", len(dead), describe(dead))
	}
	t.Logf("%d flows working through the pair", len(flows))
	return flows
}

// failOver runs fail and waits for survivor to become active; it returns
// the flows that did not survive.
func failOver(t testing.TB, l *pairLab, flows []*flow, survivor string, fail func()) map[*flow]string {
	return failOverUntil(t, flows, survivor, fail, func(start time.Time) time.Duration {
		return l.waitState(survivor, "Active", start, max(pairHold, pairIfHold)+5*time.Second)
	})
}

// failOverUntil is failOver with another way to wait for the takeover
// (taken returns the time from start until survivor took over).
func failOverUntil(t testing.TB, flows []*flow, survivor string, fail func(), taken func(start time.Time) time.Duration) map[*flow]string {
	// Let the replication settle (the standby acknowledges in ~20 ms).
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	fail()
	took := taken(start)
	t.Logf("%s Active %v after the failure", survivor, took)
	// Flows are judged on what they receive from a second after the
	// takeover: a reset or a stall shows by then.
	time.Sleep(time.Second)
	return aliveFlows(flows, time.Now(), 10*time.Second)
}

// statefulFailover runs the flows through a failure of the active primary
// and returns the flows that did not survive it.
func statefulFailover(t *testing.T, l *pairLab, perKind int, fail func()) (flows []*flow, dead map[*flow]string) {
	flows = statefulSetup(t, l, perKind)
	return flows, failOver(t, l, flows, "secondary", fail)
}

func describe(dead map[*flow]string) string {
	var sb strings.Builder
	for f, why := range dead {
		fmt.Fprintf(&sb, "\n  %s %s: %s", f.kind, f.local, why)
	}
	return sb.String()
}

func powerFailure(l *pairLab) func() { return powerFailureOf(l, "primary") }

// powerFailureOf kills unit's daemon and cuts all its links.
func powerFailureOf(l *pairLab, unit string) func() {
	return func() {
		l.mustLab("kill", unit)
		for _, link := range []string{"outside", "backup", "inside", "failover"} {
			l.mustLab("cut", unit+"-"+link)
		}
	}
}

// statefulReplicated opens statefulTCP connections of each TCP kind and
// statefulUDP streams of each UDP kind through the pair with the primary
// active, and waits until the standby holds a replica of every one.
func statefulReplicated(t *testing.T, l *pairLab) []*flow {
	t.Helper()
	flows := statefulSetupN(t, l, statefulTCP, statefulUDP)
	if p := l.waitNATConsistent([]string{"primary", "secondary"}, flows, nil, 20*time.Second); len(p) > 0 {
		t.Fatalf("before the failure the connection tables disagree with the flows:%s", joinLines(p))
	}
	return flows
}

// statefulSurvived fails the test for the flows that died in what, and
// unless the new active (the secondary) holds every flow with its first
// translation and without a NAT collision.
func statefulSurvived(t *testing.T, l *pairLab, what string, flows []*flow, dead map[*flow]string) {
	t.Helper()
	if len(dead) > 0 {
		t.Errorf("%d of %d flows died in %s with stateful failover (%s):%s", len(dead), len(flows), what, deadKinds(dead), describe(dead))
	}
	if p := l.waitNATConsistent([]string{"secondary"}, flows, nil, 10*time.Second); len(p) > 0 {
		t.Errorf("after %s the new active's connection table disagrees with the flows:%s", what, joinLines(p))
	}
}

// With the sample configuration's stateful link every flow survives a
// power failure of the active unit, and no inside address leaves
// untranslated.
func TestPairStatefulPowerFailure(t *testing.T) {
	l := newPairLab(t, "")
	leaks := l.watchLeaks()
	defer leaks.check(t)
	flows := statefulReplicated(t, l)
	// The standby learned the client's MAC from the active (neighbour
	// replication): it never spoke to the client itself.
	cliMAC := l.mac(l.ns("client"), "inside")
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.Command("ip", "-n", l.ns("sec"), "neigh", "show", "192.0.2.10", "dev", "inside").CombinedOutput()
		if strings.Contains(string(out), cliMAC) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the standby has no neighbour entry for the client (%s): %q", cliMAC, out)
		}
		time.Sleep(100 * time.Millisecond)
	}
	dead := failOver(t, l, flows, "secondary", powerFailure(l))
	statefulSurvived(t, l, "a power failure", flows, dead)
	if h := l.mustFosh("secondary", "show failover history"); !strings.Contains(h, "Bulk Sync") {
		t.Errorf("the secondary never went through Bulk Sync:\n%s", h)
	}
	sec := l.mustFosh("secondary", "show failover", "show conn count", "show xlate count")
	t.Logf("secondary after the takeover:\n%s", sec)
	if m := regexp.MustCompile(`(?m)^ +ARP tbl +\d+ +\d+ +(\d+) +(\d+)$`).FindStringSubmatch(sec); m == nil || m[1] == "0" {
		t.Errorf("the ARP tbl row shows no neighbour received:\n%s", sec)
	}
	if !strings.Contains(sec, "in use") {
		t.Errorf("show conn count missing:\n%s", sec)
	}
}

// kill -9 of the active daemon with its links up: the dead box's address
// lifetime expires and its kernel flushes the masqueraded connections;
// that flush must not reach the new active. The flows are judged once the
// dead box's system addresses are gone and its kernel has flushed them.
func TestPairStatefulDaemonKill(t *testing.T) {
	l := newPairLab(t, "")
	leaks := l.watchLeaks()
	defer leaks.check(t)
	flows := statefulReplicated(t, l)
	dead := failOverUntil(t, flows, "secondary", func() { l.mustLab("kill", "primary") }, func(start time.Time) time.Duration {
		took := l.waitState("secondary", "Active", start, max(pairHold, pairIfHold)+5*time.Second)
		gone := l.waitReleased("primary", start, 20*time.Second)
		t.Logf("the killed primary's system addresses expired %v after the kill", gone)
		// The kernel flushes them in a worker, a moment after the
		// address went: without the flush this test proves nothing.
		deadline := time.Now().Add(5 * time.Second)
		for n := l.masqueraded("primary"); n > 0; n = l.masqueraded("primary") {
			if time.Now().After(deadline) {
				t.Fatalf("the killed primary's kernel still holds %d masqueraded connections %v after its addresses expired: no flush to test", n, time.Since(start)-gone)
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Logf("the killed primary's kernel flushed its masqueraded connections %v after the kill", time.Since(start))
		return took
	})
	statefulSurvived(t, l, "a kill -9 of the active daemon", flows, dead)
}

// masqueraded counts the inside connections unit's kernel translates.
func (l *pairLab) masqueraded(unit string) int {
	l.tb.Helper()
	es, err := l.dumpUnit(unit)
	if err != nil {
		l.tb.Fatal(err)
	}
	n := 0
	for _, e := range es {
		if e.SrcNAT() && pairInsideNet.Contains(e.Orig.Src) {
			n++
		}
	}
	return n
}

// waitReleased waits until unit's box holds neither the inside nor the
// outside system address (with its daemon dead: until their lifetime
// ends) and returns the time since start.
func (l *pairLab) waitReleased(unit string, start time.Time, timeout time.Duration) time.Duration {
	l.tb.Helper()
	deadline := time.Now().Add(timeout)
	for l.holds(unit, "inside", pairSystem) || l.holds(unit, "outside", pairOutsideSystem.String()) {
		if time.Now().After(deadline) {
			l.tb.Fatalf("%s still holds its system addresses %v after the start", unit, time.Since(start))
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Since(start)
}

// Without a stateful link (baseline): the flows whose first packet after
// the failover comes from the outside die; the client-first ones are
// picked up again by the new active's masquerade.
func TestPairStatelessBaseline(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(pairRoot(t), "examples", "primary.cfg"))
	if err != nil {
		t.Fatal(err)
	}
	cfg := strings.Replace(string(b), "\nfailover link failover\n", "\n", 1)
	if cfg == string(b) {
		t.Fatal("examples/primary.cfg has no failover link line to remove")
	}
	l := newPairLab(t, cfg)
	flows, dead := statefulFailover(t, l, 1, powerFailure(l))
	byKind := map[flowKind]bool{}
	for f := range dead {
		byKind[f.kind] = true
	}
	for _, f := range flows {
		t.Logf("%-10s %s", f.kind, map[bool]string{true: "died: " + dead[f], false: "survived"}[byKind[f.kind]])
	}
	if !byKind[tcpPush] || !byKind[udpPush] {
		t.Errorf("without replication, server-first flows should die; dead:%s", describe(dead))
	}
}

// A standby that joins late gets the whole table: the primary's daemon is
// killed, the secondary takes over, the primary restarts as standby (bulk
// synchronisation), and then the secondary loses power. Connections opened
// before all of it survive both failovers.
func TestPairStatefulLateStandby(t *testing.T) {
	l := newPairLab(t, "")
	flows := statefulSetup(t, l, 1)
	if dead := failOver(t, l, flows, "secondary", func() { l.mustLab("kill", "primary") }); len(dead) > 0 {
		t.Fatalf("%d flows died in the first failover:%s", len(dead), describe(dead))
	}
	restart := time.Now()
	l.mustLab("start", "primary")
	l.waitState("primary", "Standby", restart, 30*time.Second)
	if h := l.mustFosh("primary", "show failover history"); !strings.Contains(h, "Bulk Sync") {
		t.Errorf("the restarted primary never went through Bulk Sync:\n%s", h)
	}
	if dead := failOver(t, l, flows, "primary", powerFailureOf(l, "secondary")); len(dead) > 0 {
		t.Errorf("%d of %d flows died when the secondary failed after the primary's bulk sync:%s", len(dead), len(flows), describe(dead))
	}
}

// Forged and replayed state messages are rejected and counted, and never
// put a connection into the standby's kernel.
func TestPairForgedAndReplayedState(t *testing.T) {
	l := newPairLab(t, "")
	statefulSetup(t, l, 1)
	priLAN := netip.MustParseAddr("192.0.2.17")
	// Authentic state messages of the primary (the flows keep changing:
	// UDP refreshes, acknowledgements of the ping's entries).
	go func() {
		// New connections make the primary send state now.
		for i := range 3 {
			_ = pairInNS(l.ns("client"), func() error {
				c, err := net.DialTimeout("tcp4", net.JoinHostPort(pairServer, strconv.Itoa(flowPort0)), time.Second)
				if err == nil {
					c.Close()
				}
				return nil
			})
			time.Sleep(time.Duration(i+1) * 200 * time.Millisecond)
		}
	}()
	captured := l.pairCapture(l.ns("sec"), "failover", priLAN, wire.TypeStateUpdate, 2, 10*time.Second)
	time.Sleep(time.Second)

	bogus := conntrack.Entry{
		Proto: conntrack.ProtoTCP, Status: conntrack.StatusConfirmed | conntrack.StatusAssured | conntrack.StatusSeenReply | conntrack.StatusSrcNAT,
		Timeout: 3600, TCPState: 3,
		Orig:  conntrack.Tuple{Src: netip.MustParseAddr("192.0.2.12"), Dst: netip.MustParseAddr(pairServer), SrcPort: 4444, DstPort: 9999},
		Reply: conntrack.Tuple{Src: netip.MustParseAddr(pairServer), Dst: netip.MustParseAddr("198.51.100.2"), SrcPort: 9999, DstPort: 4444},
	}
	payload := statesync.AppendBatch(nil, &statesync.Batch{Stream: 12345, Seq: 1, Flags: statesync.FlagBulkBegin | statesync.FlagBulkEnd,
		Records: []statesync.Record{{Entry: bogus}}})
	var forged [][]byte
	for i, c := range []*wire.Codec{wire.NewCodec([]byte("not-the-lab-key")), wire.NewCodec(nil)} {
		b, err := c.Encode(&wire.Message{Role: wire.RolePrimary, BootID: wire.NewBootID(), Seq: uint64(1<<40 + i),
			Body: &wire.StateUpdate{Kind: uint8(statesync.KindBatch), Payload: payload}})
		if err != nil {
			t.Fatal(err)
		}
		forged = append(forged, b)
	}
	replayed := append(slices.Clone(captured), captured...)
	l.sendRefused(t, "state messages", forged, replayed)
	es, err := l.dumpUnit("secondary")
	if err != nil {
		t.Fatal(err)
	}
	replicas := 0
	for _, e := range es {
		if e.Orig.DstPort == 9999 {
			t.Errorf("the forged connection is in the standby's kernel: %v", e)
		}
		if e.SrcNAT() {
			replicas++
		}
	}
	if replicas == 0 {
		t.Errorf("the standby holds no replicated connection at all: the check proves nothing")
	}
}

// failover timeout: connections the new active does not know (their
// replicas removed from the standby's kernel just before the failure).
// With a window, the ones whose inside end speaks are picked up again, and
// the unknown packets from the outside are dropped rather than answered
// with a RST (without replication the chatty flow was reset); without a
// window a TCP connection must start with a SYN (as on a PIX): nothing is
// picked up, and still nothing is reset.
func TestPairStatefulTimeout(t *testing.T) {
	for _, c := range []struct {
		timeout  string
		survives map[flowKind]bool
	}{
		{"0:00:30", map[flowKind]bool{tcpEcho: true, tcpChatty: true}},
		{"0:00:00", map[flowKind]bool{}},
	} {
		t.Run(c.timeout, func(t *testing.T) {
			b, err := os.ReadFile(filepath.Join(pairRoot(t), "examples", "primary.cfg"))
			if err != nil {
				t.Fatal(err)
			}
			cfg := strings.Replace(string(b), "\nfailover link failover\n", "\nfailover link failover\nfailover timeout "+c.timeout+"\n", 1)
			l := newPairLab(t, cfg)
			flows := statefulSetup(t, l, 1)
			time.Sleep(500 * time.Millisecond)
			n := l.forgetReplicas("secondary")
			if n == 0 {
				t.Fatal("the standby held no replicas to remove")
			}
			dead := failOver(t, l, flows, "secondary", powerFailure(l))
			for _, f := range flows {
				if f.kind >= udpEcho {
					continue // UDP has no mid-stream rule
				}
				why, died := dead[f]
				t.Logf("%-10s %s", f.kind, map[bool]string{true: "died: " + why, false: "survived"}[died])
				if died == c.survives[f.kind] {
					t.Errorf("%s: survived %v, want %v (%s)", f.kind, !died, c.survives[f.kind], why)
				}
				if e := f.err.Load(); e != nil {
					t.Errorf("%s: %v: an unknown connection was reset", f.kind, *e)
				}
			}
			if out, err := exec.Command("ip", "netns", "exec", l.ns("sec"), "nft", "list", "table", "inet", "failoverd_state").CombinedOutput(); err != nil {
				t.Errorf("the new active has no stateful firewall table: %v\n%s", err, out)
			}
		})
	}
}

// forgetReplicas deletes the masqueraded entries from unit's kernel (the
// replicas a standby holds) and returns how many.
func (l *pairLab) forgetReplicas(unit string) int {
	l.tb.Helper()
	h, err := netns.GetFromName(l.unitNS(unit))
	if err != nil {
		l.tb.Fatal(err)
	}
	defer h.Close()
	tb, err := conntrack.OpenNS(nil, h)
	if err != nil {
		l.tb.Fatal(err)
	}
	defer tb.Close()
	es, err := tb.Dump(context.Background())
	if err != nil {
		l.tb.Fatal(err)
	}
	var ops []conntrack.Op
	for _, e := range es {
		if e.SrcNAT() && e.Proto == conntrack.ProtoTCP {
			ops = append(ops, conntrack.Op{Kind: conntrack.OpDelete, Entry: e})
		}
	}
	for _, err := range tb.Apply(ops) {
		if err != nil {
			l.tb.Fatal(err)
		}
	}
	return len(ops)
}

// A whole table through the real failover link: the active holds 20,000
// connections when the standby restarts; it goes Bulk Sync and Standby
// only with all of them in its kernel (the bulk is paced for the UDP
// socket; anything lost is resent or sent again).
// bulkGiveUp is how long the unit waits in Bulk Sync at most with the
// sample timers (hold 3 s): 10 s.
const bulkGiveUp = 10 * time.Second

func TestPairStatefulBulkOverUDP(t *testing.T) {
	const n = 20000
	l := newPairLab(t, "")
	l.waitPair("primary", "secondary", 30*time.Second)
	h, err := netns.GetFromName(l.unitNS("primary"))
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	tb, err := conntrack.OpenNS(nil, h)
	if err != nil {
		t.Fatal(err)
	}
	defer tb.Close()
	var ops []conntrack.Op
	for i := range n {
		port := uint16(10000 + i%20000)
		src := netip.AddrFrom4([4]byte{192, 0, 2, byte(11 + i/20000)})
		ops = append(ops, conntrack.Op{Kind: conntrack.OpCreate, Entry: conntrack.Entry{
			Proto: conntrack.ProtoTCP, Timeout: 3600, TCPState: 3,
			Status: conntrack.StatusConfirmed | conntrack.StatusAssured | conntrack.StatusSeenReply | conntrack.StatusSrcNAT,
			Orig:   conntrack.Tuple{Src: src, Dst: netip.MustParseAddr(pairServer), SrcPort: port, DstPort: 443},
			Reply:  conntrack.Tuple{Src: netip.MustParseAddr(pairServer), Dst: netip.MustParseAddr("198.51.100.2"), SrcPort: 443, DstPort: port},
		}})
	}
	for i, err := range tb.Apply(ops) {
		if err != nil {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	l.mustLab("stop", "secondary")
	start := time.Now()
	l.mustLab("start", "secondary")
	took := l.waitState("secondary", "Standby", start, 60*time.Second)
	count := l.mustFosh("secondary", "show conn count")
	var inUse int
	fmt.Sscanf(count, "%d in use", &inUse)
	t.Logf("restarted standby: Standby after %v holding %q", took, strings.TrimSpace(count))
	if took >= bulkGiveUp {
		t.Errorf("Standby only after %v: the unit gave up waiting for the table", took)
	}
	if inUse < n {
		t.Errorf("the standby holds %d connections after its bulk sync, want at least %d\n%s", inUse, n, l.mustFosh("secondary", "show failover"))
	}
	if h := l.mustFosh("secondary", "show failover history"); !strings.Contains(h, "Bulk Sync") {
		t.Errorf("no Bulk Sync in the history:\n%s", h)
	}
}
