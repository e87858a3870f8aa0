package lab

// End-to-end tests of stateful failover: connections from the inside client
// through the pair's masquerade to the server beyond the ISPs survive a
// failover of the active unit when connection state is replicated (the
// sample configuration's "failover link failover"), and which of them die
// without it.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
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
			go func() { _, _ = io.Copy(c, c) }()
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
	recvd    atomic.Int64 // messages received
	err      atomic.Pointer[error]
	srvHeard *atomic.Int64 // chatty: what the server received from us (nil otherwise)
}

func (f *flow) fail(err error) {
	if f.err.Load() == nil {
		f.err.Store(&err)
	}
}

// startFlows opens n connections of every kind from the client.
func (l *pairLab) startFlows(srv *flowServer, n int) []*flow {
	l.tb.Helper()
	var flows []*flow
	for k := range numKinds {
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
	deadline := time.Now().Add(5 * time.Second)
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
		f.lastRecv.Store(time.Now().UnixNano())
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

// statefulFailover runs the flows through a failure of the active primary
// and returns the flows that did not survive it.
func statefulFailover(t *testing.T, l *pairLab, perKind int, fail func()) (flows []*flow, dead map[*flow]string) {
	l.waitPair("primary", "secondary", 30*time.Second)
	l.waitClientPing(10 * time.Second)
	srv := l.startFlowServer()
	flows = l.startFlows(srv, perKind)
	if dead := aliveFlows(flows, time.Now(), 5*time.Second); len(dead) > 0 {
		t.Fatalf("%d flows not working before the failure: %v", len(dead), describe(dead))
	}
	// Let the replication settle (the standby acknowledges in ~20 ms).
	time.Sleep(500 * time.Millisecond)
	start := time.Now()
	fail()
	took := l.waitState("secondary", "Active", start, max(pairHold, pairIfHold)+5*time.Second)
	t.Logf("secondary Active %v after the failure", took)
	// Flows are judged on what they receive from a second after the
	// takeover: a reset or a stall shows by then.
	time.Sleep(time.Second)
	return flows, aliveFlows(flows, time.Now(), 10*time.Second)
}

func describe(dead map[*flow]string) string {
	var sb strings.Builder
	for f, why := range dead {
		fmt.Fprintf(&sb, "\n  %s %s: %s", f.kind, f.local, why)
	}
	return sb.String()
}

func powerFailure(l *pairLab) func() {
	return func() {
		l.mustLab("kill", "primary")
		for _, link := range []string{"primary-outside", "primary-backup", "primary-inside", "primary-failover"} {
			l.mustLab("cut", link)
		}
	}
}

// With the sample configuration's stateful link every flow survives a
// power failure of the active unit.
func TestPairStatefulPowerFailure(t *testing.T) {
	l := newPairLab(t, "")
	flows, dead := statefulFailover(t, l, 2, powerFailure(l))
	if len(dead) > 0 {
		t.Errorf("%d of %d flows died in a power failure with stateful failover:%s", len(dead), len(flows), describe(dead))
	}
	sec := l.mustFosh("secondary", "show failover", "show conn count", "show xlate count")
	t.Logf("secondary after the takeover:\n%s", sec)
	if !strings.Contains(sec, "in use") {
		t.Errorf("show conn count missing:\n%s", sec)
	}
}

// kill -9 of the active daemon with its links up: the dead box's address
// lifetime expires and its kernel flushes the masqueraded connections;
// that flush must not reach the new active.
func TestPairStatefulDaemonKill(t *testing.T) {
	l := newPairLab(t, "")
	flows, dead := statefulFailover(t, l, 2, func() { l.mustLab("kill", "primary") })
	if len(dead) > 0 {
		t.Errorf("%d of %d flows died when the active daemon was killed:%s", len(dead), len(flows), describe(dead))
	}
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
