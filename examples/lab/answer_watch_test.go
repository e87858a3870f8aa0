package lab

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"sync"
	"time"

	"github.com/mdlayher/packet"
	"golang.org/x/net/bpf"

	"failover/engine/wire"
)

// fromPortOnly is a socket filter that keeps the frames a switch port
// received (from the box behind it) and drops those it sent to that box.
var fromPortOnly = func() []bpf.RawInstruction {
	const packetOutgoing = 4
	raw, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadExtension{Num: bpf.ExtType},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: packetOutgoing, SkipTrue: 1},
		bpf.RetConstant{Val: 1 << 16},
		bpf.RetConstant{Val: 0},
	})
	if err != nil {
		panic(err)
	}
	return raw
}()

// captureSwitchPorts opens a capture of every frame on each named port of
// the switch namespace, filtered by filter. ETH_P_ALL: a bridge port hands
// its frames to the bridge before sockets of one protocol see them; only
// "all" taps come first.
func (l *pairLab) captureSwitchPorts(ports []string, filter []bpf.RawInstruction) ([]*packet.Conn, error) {
	const ethPAll = 0x0003
	var conns []*packet.Conn
	err := pairInNS(l.ns("sw"), func() error {
		for _, port := range ports {
			ifi, err := net.InterfaceByName(port)
			if err != nil {
				return err
			}
			c, err := packet.Listen(ifi, packet.Raw, ethPAll, nil)
			if err != nil {
				return fmt.Errorf("failed to capture on %s: %w", port, err)
			}
			conns = append(conns, c)
			if err := c.SetBPF(filter); err != nil {
				return fmt.Errorf("failed to filter the capture on %s: %w", port, err)
			}
		}
		return nil
	})
	if err != nil {
		for _, c := range conns {
			c.Close()
		}
		return nil, err
	}
	return conns, nil
}

// answerWatch records, on switch ports of the lab, the frames by which the
// box behind a port answers for an address: ARP packets naming it as
// sender, and any frame sent from the MAC that carries it. It is what tells two boxes answering
// for one address apart from one box merely still holding it in its kernel.
type answerWatch struct {
	ip    netip.Addr
	mac   net.HardwareAddr
	conns []*packet.Conn
	asker *packet.Conn // the client's, asking who has ip
	quit  chan struct{}
	wg    sync.WaitGroup
	mu    sync.Mutex
	seen  map[string][]answerFrame // by port
}

type answerFrame struct {
	at  time.Time
	arp bool // an ARP packet with ip as sender (else a frame from mac)
}

// watchAnswers captures on the given ports of the switch namespace until
// the test ends, while the client asks who has ip every 20 ms (a box
// answers ARP only when asked: the client's own kernel asks rarely).
func (l *pairLab) watchAnswers(ip netip.Addr, mac net.HardwareAddr, ports ...string) *answerWatch {
	l.tb.Helper()
	w := &answerWatch{ip: ip, mac: mac, seen: map[string][]answerFrame{}, quit: make(chan struct{})}
	var req []byte
	err := pairInNS(l.ns("client"), func() error {
		ifi, err := net.InterfaceByName("inside")
		if err != nil {
			return err
		}
		c, err := packet.Listen(ifi, packet.Raw, 0x0806, nil)
		if err != nil {
			return fmt.Errorf("failed to open the client's ARP socket: %w", err)
		}
		w.asker = c
		req = arpRequest(ifi.HardwareAddr, netip.MustParseAddr("192.0.2.10"), ip)
		return nil
	})
	if err != nil {
		l.tb.Fatal(err)
	}
	if w.conns, err = l.captureSwitchPorts(ports, fromPortOnly); err != nil {
		w.stop()
		l.tb.Fatal(err)
	}
	for i, c := range w.conns {
		w.wg.Add(1)
		go w.read(ports[i], c)
	}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		bcast := &packet.Addr{HardwareAddr: net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}}
		t := time.NewTicker(20 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-w.quit:
				return
			case <-t.C:
				_, _ = w.asker.WriteTo(req, bcast)
			}
		}
	}()
	l.tb.Cleanup(w.stop)
	return w
}

// arpRequest is an Ethernet frame asking who has target, from mac and src.
func arpRequest(mac net.HardwareAddr, src, target netip.Addr) []byte {
	f := make([]byte, 14+28)
	copy(f[0:6], []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff})
	copy(f[6:12], mac)
	binary.BigEndian.PutUint16(f[12:14], 0x0806)
	a := f[14:]
	binary.BigEndian.PutUint16(a[0:2], 1)      // Ethernet
	binary.BigEndian.PutUint16(a[2:4], 0x0800) // IPv4
	a[4], a[5] = 6, 4
	binary.BigEndian.PutUint16(a[6:8], 1) // request
	copy(a[8:14], mac)
	s4, t4 := src.As4(), target.As4()
	copy(a[14:18], s4[:])
	copy(a[24:28], t4[:])
	return f
}

func (w *answerWatch) read(port string, c *packet.Conn) {
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
		if n < 14 {
			continue
		}
		f := answerFrame{at: time.Now()}
		fromMAC := bytes.Equal(buf[6:12], w.mac)
		// ARP for IPv4 over Ethernet: sender IP at offset 14 of the payload.
		if binary.BigEndian.Uint16(buf[12:14]) == 0x0806 && n >= 14+28 &&
			netip.AddrFrom4([4]byte(buf[14+14:14+18])) == w.ip {
			f.arp = true
		} else if !fromMAC {
			continue
		}
		w.mu.Lock()
		w.seen[port] = append(w.seen[port], f)
		w.mu.Unlock()
	}
}

func (w *answerWatch) stop() {
	select {
	case <-w.quit:
	default:
		close(w.quit)
	}
	for _, c := range w.conns {
		c.Close()
	}
	w.conns = nil
	w.wg.Wait()
	if w.asker != nil {
		w.asker.Close()
		w.asker = nil
	}
}

// first is when port first carried an ARP packet for the address at or
// after t; zero if never.
func (w *answerWatch) first(port string, t time.Time) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, f := range w.seen[port] {
		if f.arp && !f.at.Before(t) {
			return f.at
		}
	}
	return time.Time{}
}

// overlap counts the ARP packets for the address that oldPort carried from
// the moment newPort carried its first one at or after since: how often
// the old box answered for an address the new one had taken.
func (w *answerWatch) overlap(oldPort, newPort string, since time.Time) int {
	took := w.first(newPort, since)
	if took.IsZero() {
		return 0
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	n := 0
	for _, f := range w.seen[oldPort] {
		if f.arp && !f.at.Before(took) {
			n++
		}
	}
	return n
}

// insidePort is the inside switch port of unit ("primary", "secondary").
func insidePort(unit string) string { return unit[:3] + "-inside" }

// after lists what port carried for the address or from its MAC at or after
// t, in words.
func (w *answerWatch) after(port string, t time.Time) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, f := range w.seen[port] {
		if f.at.Before(t) {
			continue
		}
		what := "a frame from " + w.mac.String()
		if f.arp {
			what = "ARP for " + w.ip.String()
		}
		out = append(out, fmt.Sprintf("%s %s", f.at.Format("15:04:05.000"), what))
	}
	return out
}

// helloWatch records when the unit behind a switch port of the failover
// segment sent its hellos, so that a benchmark can tell how long after the
// last one (plus the hold time) traffic came back.
type helloWatch struct {
	conn  *packet.Conn
	wg    sync.WaitGroup
	mu    sync.Mutex
	times []time.Time
}

func (l *pairLab) watchHellos(port string) *helloWatch {
	l.tb.Helper()
	conns, err := l.captureSwitchPorts([]string{port}, fromPortOnly)
	if err != nil {
		l.tb.Fatal(err)
	}
	w := &helloWatch{conn: conns[0]}
	w.wg.Add(1)
	go func() {
		defer w.wg.Done()
		buf := make([]byte, 65536)
		for {
			n, _, err := w.conn.ReadFrom(buf)
			if err != nil {
				return
			}
			// Ethernet, IPv4 (no options in the lab), UDP to the failover
			// port, envelope "FO", version, type Hello.
			if n < 14+20+8+4 || binary.BigEndian.Uint16(buf[12:14]) != 0x0800 {
				continue
			}
			p := buf[14:n]
			if p[9] != 17 || p[0]&0x0f != 5 {
				continue
			}
			udp := p[20:]
			if binary.BigEndian.Uint16(udp[2:4]) != wire.Port || udp[8] != 'F' || udp[9] != 'O' || wire.Type(udp[11]) != wire.TypeHello {
				continue
			}
			w.mu.Lock()
			w.times = append(w.times, time.Now())
			w.mu.Unlock()
		}
	}()
	l.tb.Cleanup(w.stop)
	return w
}

func (w *helloWatch) stop() {
	if w.conn != nil {
		w.conn.Close()
	}
	w.wg.Wait()
}

// lastBefore is the last hello seen before t; zero if none.
func (w *helloWatch) lastBefore(t time.Time) time.Time {
	w.mu.Lock()
	defer w.mu.Unlock()
	var last time.Time
	for _, h := range w.times {
		if h.Before(t) {
			last = h
		}
	}
	return last
}
