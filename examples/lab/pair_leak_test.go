package lab

// Checks of what a planned switchover must not do to the connections
// through the pair's masquerade: let an inside address out untranslated,
// give a connection a second or different translation, leave the standby's
// replicas different from the active's table, or keep a closed connection
// ESTABLISHED on either unit.

import (
	"bufio"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netns"
	"golang.org/x/net/bpf"

	"failover/engine/conntrack"
)

// pairPrivate holds every address of the pair's own side: the inside
// network the lab masquerades (192.0.2.0/28, lab.sh build_nat) and the
// failover LAN (192.0.2.16/29). None of them may appear on an ISP segment.
var pairPrivate = netip.MustParsePrefix("192.0.2.0/24")

// pairInsideNet is the network lab.sh masquerades.
var pairInsideNet = netip.MustParsePrefix("192.0.2.0/28")

// pairOutsideSystem is the outside system address, the masquerade's
// translated source while ISP1 carries the default route.
var pairOutsideSystem = netip.MustParseAddr("198.51.100.2")

// leakWatch captures the IPv4 packets on the switch ports of both ISP
// segments (outside and backup) and records those to or from a pair-private
// address. A kernel filter hands over every such packet but only a sample
// of the others (the flows of the stateful tests are tens of thousands of
// packets a second, more than the test can read: the kernel would drop
// packets, leaks among them), so a leak is never lost and the sample
// shows the capture works.
type leakWatch struct {
	conns    []*packet.Conn
	wg       sync.WaitGroup
	mu       sync.Mutex
	seen     int
	leaks    []string
	reported int // leaks already reported by checkSoFar
}

// pairOutsidePorts are the switch ports (in the "sw" namespace, lab.sh
// build_links) of the segments between the pair and the ISPs.
var pairOutsidePorts = []string{"isp1", "pri-outside", "sec-outside", "isp2", "pri-backup", "sec-backup"}

func (l *pairLab) watchLeaks() *leakWatch {
	l.tb.Helper()
	w := &leakWatch{}
	var err error
	if w.conns, err = l.captureSwitchPorts(pairOutsidePorts, leakFilter); err != nil {
		l.tb.Fatal(err)
	}
	for i, c := range w.conns {
		w.wg.Add(1)
		go w.read(pairOutsidePorts[i], c)
	}
	l.tb.Cleanup(func() { w.stop() })
	return w
}

// leakSampleMask: one in leakSampleMask+1 packets without a pair-private
// address reaches the test.
const leakSampleMask = 0xff

// leakFilter passes whole every IPv4 packet from or to pairPrivate and the
// first 64 bytes of a random sample of the other IPv4 packets.
var leakFilter = func() []bpf.RawInstruction {
	private := binary.BigEndian.Uint32(pairPrivate.Addr().AsSlice())
	mask := ^uint32(0) << (32 - pairPrivate.Bits())
	prog, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 12, Size: 2}, // EtherType
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0x0800, SkipTrue: 10},
		bpf.LoadAbsolute{Off: 14 + 12, Size: 4}, // source address
		bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: private, SkipTrue: 8},
		bpf.LoadAbsolute{Off: 14 + 16, Size: 4}, // destination address
		bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: mask},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: private, SkipTrue: 5},
		bpf.LoadExtension{Num: bpf.ExtRand},
		bpf.ALUOpConstant{Op: bpf.ALUOpAnd, Val: leakSampleMask},
		bpf.JumpIf{Cond: bpf.JumpNotEqual, Val: 0, SkipTrue: 1},
		bpf.RetConstant{Val: 64}, // a sampled packet's headers
		bpf.RetConstant{Val: 0},  // dropped by the filter
		bpf.RetConstant{Val: 65535},
	})
	if err != nil {
		panic(err)
	}
	return prog
}()

func (w *leakWatch) read(port string, c *packet.Conn) {
	defer w.wg.Done()
	buf := make([]byte, 65536)
	for {
		n, _, err := c.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				continue
			}
			return // closed
		}
		// Ethernet header (the lab has no VLANs), then IPv4.
		if n < 14+20 || binary.BigEndian.Uint16(buf[12:14]) != 0x0800 {
			continue
		}
		ip := buf[14:n]
		if ip[0]>>4 != 4 {
			continue
		}
		src, dst := netip.AddrFrom4([4]byte(ip[12:16])), netip.AddrFrom4([4]byte(ip[16:20]))
		w.mu.Lock()
		w.seen++
		if (pairPrivate.Contains(src) || pairPrivate.Contains(dst)) && len(w.leaks)-w.reported < 20 {
			w.leaks = append(w.leaks, fmt.Sprintf("%s %s: %v -> %v proto %d", time.Now().Format("15:04:05.000"), port, src, dst, ip[9]))
		}
		w.mu.Unlock()
	}
}

// stop ends the capture.
func (w *leakWatch) stop() {
	for _, c := range w.conns {
		c.Close()
	}
	w.conns = nil
	w.wg.Wait()
}

// drops is how many packets the kernel dropped from the capture sockets
// (their buffers full) since the last call: packets the check never saw.
func (w *leakWatch) drops() uint64 {
	var n uint64
	for _, c := range w.conns {
		if st, err := c.Stats(); err == nil {
			n += uint64(st.Drops)
		}
	}
	return n
}

// checkSoFar fails the test if the capture saw an inside address since the
// last check (when says when, for the message), or saw nothing at all; the
// capture goes on.
func (w *leakWatch) checkSoFar(t testing.TB, when string) {
	t.Helper()
	w.report(t, when, w.drops())
}

// check stops the capture and fails the test if it saw an inside address
// not reported yet, or saw nothing at all.
func (w *leakWatch) check(t testing.TB) {
	t.Helper()
	dropped := w.drops()
	w.stop()
	w.report(t, "in the end", dropped)
}

func (w *leakWatch) report(t testing.TB, when string, dropped uint64) {
	t.Helper()
	w.mu.Lock()
	seen, leaked := w.seen, slices.Clone(w.leaks[w.reported:])
	w.reported = len(w.leaks)
	w.mu.Unlock()
	t.Logf("outside segments %s: %d IPv4 packets sampled so far, %d dropped by the kernel since the last check", when, seen, dropped)
	if seen == 0 {
		t.Errorf("the capture on the outside segments saw no packet at all %s: it proves nothing", when)
	}
	if dropped > 0 {
		t.Errorf("the capture on the outside segments lost %d packets %s: a leak may have gone unseen", dropped, when)
	}
	if len(leaked) > 0 {
		t.Errorf("inside addresses left untranslated on the outside segments %s:%s", when, joinLines(leaked))
	}
}

// shortConn is a TCP echo connection that lives across one switchover and
// is then closed by both ends.
type shortConn struct {
	conn  net.Conn
	r     *bufio.Reader
	local netip.AddrPort
}

func (l *pairLab) openShort() (*shortConn, error) {
	s := &shortConn{}
	err := pairInNS(l.ns("client"), func() error {
		var err error
		s.conn, err = net.DialTimeout("tcp4", net.JoinHostPort(pairServer, strconv.Itoa(flowPort0+int(tcpEcho))), 5*time.Second)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.r = bufio.NewReader(s.conn)
	s.local = netip.MustParseAddrPort(s.conn.LocalAddr().String())
	return s, s.echo()
}

// echo sends a line and reads it back.
func (s *shortConn) echo() error {
	_ = s.conn.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := fmt.Fprintf(s.conn, "short %v\n", s.local); err != nil {
		return err
	}
	_, err := s.r.ReadString('\n')
	return err
}

// close sends the client's FIN and waits for the server's (the echo server
// closes at end of input), so the connection ends orderly.
func (s *shortConn) close() error {
	if err := s.conn.(*net.TCPConn).CloseWrite(); err != nil {
		return err
	}
	_ = s.conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := s.r.ReadString('\n'); !errors.Is(err, io.EOF) {
		return fmt.Errorf("after our FIN the server sent more or failed: %v", err)
	}
	return s.conn.Close()
}

// dumpUnit lists unit's conntrack table.
func (l *pairLab) dumpUnit(unit string) ([]conntrack.Entry, error) {
	h, err := netns.GetFromName(l.unitNS(unit))
	if err != nil {
		return nil, err
	}
	defer h.Close()
	tb, err := conntrack.OpenNS(nil, h)
	if err != nil {
		return nil, err
	}
	defer tb.Close()
	return tb.Dump(context.Background())
}

// flowKey is the original tuple of a flow from the client.
func flowKey(f *flow) (proto uint8, orig conntrack.Tuple) {
	return connKey(f.kind, netip.MustParseAddrPort(f.local))
}

// connKey is the original tuple of a connection of kind from the client's
// address local.
func connKey(kind flowKind, local netip.AddrPort) (proto uint8, orig conntrack.Tuple) {
	proto = conntrack.ProtoTCP
	if kind >= udpEcho {
		proto = conntrack.ProtoUDP
	}
	return proto, conntrack.Tuple{Src: local.Addr(), Dst: netip.MustParseAddr(pairServer),
		SrcPort: local.Port(), DstPort: uint16(flowPort0 + int(kind))}
}

// orig is the original tuple of the short connection (the client's port
// may be reused towards another server port: the whole tuple tells them
// apart).
func (s *shortConn) orig() conntrack.Tuple {
	_, t := connKey(tcpEcho, s.local)
	return t
}

const tcpStateEstablished = 3 // nf_conntrack's TCP_CONNTRACK_ESTABLISHED

// natProblems checks the connection tables of units, the active first and
// then, if given, the standby: on each, every flow has exactly one entry,
// translated to the outside system address with its own port (masquerade
// keeps a free port: another port means the translation collided and was
// made again); no two inside connections share a translation; a closed
// connection is ESTABLISHED on none. With a standby, it holds the same
// inside connections as the active, with the same translations and TCP
// states, no more, no fewer (a replica that missed an update or a delete
// is stale).
func (l *pairLab) natProblems(units []string, flows []*flow, closed []conntrack.Tuple) []string {
	var problems []string
	tables := map[string][]conntrack.Entry{}
	for _, u := range units {
		es, err := l.dumpUnit(u)
		if err != nil {
			return []string{fmt.Sprintf("dump %s: %v", u, err)}
		}
		tables[u] = es
	}
	for u, es := range tables {
		problems = append(problems, tableProblems(u, es, flows, closed)...)
	}
	if len(units) == 2 {
		problems = append(problems, replicaProblems(tables[units[0]], tables[units[1]])...)
	}
	slices.Sort(problems)
	return problems
}

// tableProblems checks unit's table es against the flows and the closed
// connections (see natProblems).
func tableProblems(unit string, es []conntrack.Entry, flows []*flow, closed []conntrack.Tuple) []string {
	var problems []string
	byOrig := map[string][]conntrack.Entry{}
	for _, e := range es {
		k := fmt.Sprintf("%d %v", e.Proto, e.Orig)
		byOrig[k] = append(byOrig[k], e)
	}
	for _, f := range flows {
		proto, orig := flowKey(f)
		got := byOrig[fmt.Sprintf("%d %v", proto, orig)]
		want := conntrack.Tuple{Src: orig.Dst, Dst: pairOutsideSystem, SrcPort: orig.DstPort, DstPort: orig.SrcPort}
		switch {
		case len(got) != 1:
			problems = append(problems, fmt.Sprintf("%s: %s %s has %d entries, want 1: %v", unit, f.kind, f.local, len(got), got))
		case !got[0].SrcNAT() || got[0].Reply != want:
			problems = append(problems, fmt.Sprintf("%s: %s %s translated as %v, want reply %v (source NAT)", unit, f.kind, f.local, got[0], want))
		}
	}
	isClosed := map[conntrack.Tuple]bool{}
	for _, c := range closed {
		isClosed[c] = true
	}
	replies := map[string]string{}
	for _, e := range es {
		if !pairInsideNet.Contains(e.Orig.Src) {
			continue
		}
		r := fmt.Sprintf("%d %v", e.Proto, e.Reply)
		if prev, dup := replies[r]; dup {
			problems = append(problems, fmt.Sprintf("%s: NAT collision: %v and %s share the translation", unit, e, prev))
		}
		replies[r] = e.String()
		if e.Proto == conntrack.ProtoTCP && e.TCPState == tcpStateEstablished && isClosed[e.Orig] {
			problems = append(problems, fmt.Sprintf("%s: closed connection still ESTABLISHED: %v", unit, e))
		}
	}
	return problems
}

// replicaProblems compares the inside connections of the active's table
// and the standby's: the same tuples, translations and TCP states.
func replicaProblems(active, standby []conntrack.Entry) []string {
	inside := func(es []conntrack.Entry) map[string]bool {
		m := map[string]bool{}
		for _, e := range es {
			if pairInsideNet.Contains(e.Orig.Src) {
				m[fmt.Sprintf("proto %d %v reply %v tcp state %d", e.Proto, e.Orig, e.Reply, e.TCPState)] = true
			}
		}
		return m
	}
	var problems []string
	a, s := inside(active), inside(standby)
	for k := range a {
		if !s[k] {
			problems = append(problems, fmt.Sprintf("the standby lacks the active's %s", k))
		}
	}
	for k := range s {
		if !a[k] {
			problems = append(problems, fmt.Sprintf("the standby holds %s, which the active does not", k))
		}
	}
	return problems
}

// waitNATConsistent polls natProblems until there are none (replication
// takes a moment) or timeout; it returns the last problems.
func (l *pairLab) waitNATConsistent(units []string, flows []*flow, closed []conntrack.Tuple, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		p := l.natProblems(units, flows, closed)
		if len(p) == 0 || time.Now().After(deadline) {
			return p
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func joinLines(ss []string) string { return "\n  " + strings.Join(ss, "\n  ") }
