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

// answerWatch records, on switch ports of the lab, the frames by which the
// box behind a port answers for an address: ARP packets naming it as
// sender, and any frame sent from the MAC that carries it. It is what tells two boxes answering
// for one address apart from one box merely still holding it in its kernel.
type answerWatch struct {
	ip    netip.Addr
	mac   net.HardwareAddr
	conns []*packet.Conn
	wg    sync.WaitGroup
	mu    sync.Mutex
	seen  map[string][]answerFrame // by port
}

type answerFrame struct {
	at  time.Time
	arp bool // an ARP packet with ip as sender (else a frame from mac)
}

// watchAnswers captures on the given ports of the switch namespace until
// the test ends.
func (l *pairLab) watchAnswers(ip netip.Addr, mac net.HardwareAddr, ports ...string) *answerWatch {
	l.tb.Helper()
	const ethPAll = 0x0003 // a bridge port's frames reach only "all" taps first
	w := &answerWatch{ip: ip, mac: mac, seen: map[string][]answerFrame{}}
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
			w.conns = append(w.conns, c)
			if err := c.SetBPF(fromPortOnly); err != nil {
				return fmt.Errorf("failed to filter the capture on %s: %w", port, err)
			}
		}
		return nil
	})
	if err != nil {
		w.stop()
		l.tb.Fatal(err)
	}
	for i, c := range w.conns {
		w.wg.Add(1)
		go w.read(ports[i], c)
	}
	l.tb.Cleanup(w.stop)
	return w
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
	for _, c := range w.conns {
		c.Close()
	}
	w.conns = nil
	w.wg.Wait()
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
