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

// leakWatch captures every IPv4 packet on the switch ports of both ISP
// segments (outside and backup) and records those to or from a pair-private
// address.
type leakWatch struct {
	conns []*packet.Conn
	wg    sync.WaitGroup
	mu    sync.Mutex
	seen  int
	leaks []string
}

// pairOutsidePorts are the switch ports (in the "sw" namespace, lab.sh
// build_links) of the segments between the pair and the ISPs.
var pairOutsidePorts = []string{"isp1", "pri-outside", "sec-outside", "isp2", "pri-backup", "sec-backup"}

func (l *pairLab) watchLeaks() *leakWatch {
	l.tb.Helper()
	// ETH_P_ALL: a bridge port hands its frames to the bridge before
	// sockets of one protocol see them; only "all" taps come first.
	const ethPAll = 0x0003
	w := &leakWatch{}
	err := pairInNS(l.ns("sw"), func() error {
		for _, port := range pairOutsidePorts {
			ifi, err := net.InterfaceByName(port)
			if err != nil {
				return err
			}
			c, err := packet.Listen(ifi, packet.Raw, ethPAll, nil)
			if err != nil {
				return fmt.Errorf("failed to capture on %s: %w", port, err)
			}
			w.conns = append(w.conns, c)
		}
		return nil
	})
	if err != nil {
		w.stop()
		l.tb.Fatal(err)
	}
	for i, c := range w.conns {
		w.wg.Add(1)
		go w.read(pairOutsidePorts[i], c)
	}
	l.tb.Cleanup(func() { w.stop() })
	return w
}

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
		if (pairPrivate.Contains(src) || pairPrivate.Contains(dst)) && len(w.leaks) < 20 {
			w.leaks = append(w.leaks, fmt.Sprintf("%s %s: %v -> %v proto %d", time.Now().Format("15:04:05.000"), port, src, dst, ip[9]))
		}
		w.mu.Unlock()
	}
}

// stop ends the capture and returns how many IPv4 packets it saw and the
// leaked ones.
func (w *leakWatch) stop() (seen int, leaks []string) {
	for _, c := range w.conns {
		c.Close()
	}
	w.conns = nil
	w.wg.Wait()
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.seen, slices.Clone(w.leaks)
}

// check stops the capture and fails the test if it saw an inside address
// or saw nothing at all.
func (w *leakWatch) check(t testing.TB) {
	seen, leaked := w.stop()
	t.Logf("outside segments: %d IPv4 packets captured", seen)
	if seen == 0 {
		t.Errorf("the capture on the outside segments saw no packet at all: it proves nothing")
	}
	if len(leaked) > 0 {
		t.Errorf("inside addresses left untranslated on the outside segments:%s", joinLines(leaked))
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
	proto = conntrack.ProtoTCP
	if f.kind >= udpEcho {
		proto = conntrack.ProtoUDP
	}
	local := netip.MustParseAddrPort(f.local)
	return proto, conntrack.Tuple{Src: local.Addr(), Dst: netip.MustParseAddr(pairServer),
		SrcPort: local.Port(), DstPort: uint16(flowPort0 + int(f.kind))}
}

const tcpStateEstablished = 3 // nf_conntrack's TCP_CONNTRACK_ESTABLISHED

// natProblems compares the tables of the active and the standby: each flow
// has exactly one entry on each, translated to the outside system address
// with its own port (masquerade keeps a free port: another port means the
// translation collided and was made again); the standby holds the same
// inside connections with the same translations as the active, no more,
// no fewer; a closed connection is ESTABLISHED on neither.
func (l *pairLab) natProblems(active string, flows []*flow, closed []netip.AddrPort) []string {
	var problems []string
	tables := map[string][]conntrack.Entry{}
	for _, u := range []string{active, pairOther(active)} {
		es, err := l.dumpUnit(u)
		if err != nil {
			return []string{fmt.Sprintf("dump %s: %v", u, err)}
		}
		tables[u] = es
	}
	for u, es := range tables {
		for _, f := range flows {
			proto, orig := flowKey(f)
			var got []conntrack.Entry
			for _, e := range es {
				if e.Proto == proto && e.Orig == orig {
					got = append(got, e)
				}
			}
			want := conntrack.Tuple{Src: orig.Dst, Dst: pairOutsideSystem, SrcPort: orig.DstPort, DstPort: orig.SrcPort}
			switch {
			case len(got) != 1:
				problems = append(problems, fmt.Sprintf("%s: %s %s has %d entries, want 1: %v", u, f.kind, f.local, len(got), got))
			case !got[0].SrcNAT() || got[0].Reply != want:
				problems = append(problems, fmt.Sprintf("%s: %s %s translated as %v, want reply %v (source NAT)", u, f.kind, f.local, got[0], want))
			}
		}
		replies := map[string]string{}
		for _, e := range es {
			if !pairInsideNet.Contains(e.Orig.Src) {
				continue
			}
			r := fmt.Sprintf("%d %v", e.Proto, e.Reply)
			if prev, dup := replies[r]; dup {
				problems = append(problems, fmt.Sprintf("%s: NAT collision: %v and %s share the translation", u, e, prev))
			}
			replies[r] = e.String()
			if e.Proto != conntrack.ProtoTCP || e.TCPState != tcpStateEstablished {
				continue
			}
			for _, c := range closed {
				if e.Orig.Src == c.Addr() && e.Orig.SrcPort == c.Port() {
					problems = append(problems, fmt.Sprintf("%s: closed connection %v still ESTABLISHED: %v", u, c, e))
				}
			}
		}
	}
	inside := func(es []conntrack.Entry) map[string]bool {
		m := map[string]bool{}
		for _, e := range es {
			if pairInsideNet.Contains(e.Orig.Src) {
				m[fmt.Sprintf("proto %d %v reply %v", e.Proto, e.Orig, e.Reply)] = true
			}
		}
		return m
	}
	a, s := inside(tables[active]), inside(tables[pairOther(active)])
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
	slices.Sort(problems)
	return problems
}

// waitNATConsistent polls natProblems until there are none (replication
// takes a moment) or timeout; it returns the last problems.
func (l *pairLab) waitNATConsistent(active string, flows []*flow, closed []netip.AddrPort, timeout time.Duration) []string {
	deadline := time.Now().Add(timeout)
	for {
		p := l.natProblems(active, flows, closed)
		if len(p) == 0 || time.Now().After(deadline) {
			return p
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func joinLines(ss []string) string { return "\n  " + strings.Join(ss, "\n  ") }
