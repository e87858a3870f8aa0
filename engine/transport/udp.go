//go:build linux

package transport

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"sync"
	"syscall"
	"time"

	"golang.org/x/net/ipv4"
	"golang.org/x/net/ipv6"
	"golang.org/x/sys/unix"
)

// UDP is the daemon's transport: one UDP socket per interface, each bound to
// its device with SO_BINDTODEVICE, so a message is known to have crossed that
// very link (an interface hello that arrived over another path must not
// count as the link working), and a reply leaves through it whatever the
// routing table says. Every datagram leaves with TTL 255 and is received
// with the TTL it arrived with (Packet.TTL, see CheckOnLink).
type UDP struct {
	port int
	log  *slog.Logger
	recv chan Packet

	mu     sync.Mutex
	conns  map[string]*udpConn
	closed bool
	wg     sync.WaitGroup // reader goroutines
}

type udpConn struct {
	ifname string
	conn   *net.UDPConn
	v6     bool
	done   chan struct{} // closed when the socket is being shut
	exited chan struct{} // closed when the reader has returned
}

var _ Listener = (*UDP)(nil)

// NewUDP returns a transport that sends to and listens on port (wire.Port in
// the daemon) on the interfaces added with Listen. A nil log discards.
func NewUDP(port int, log *slog.Logger) *UDP {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &UDP{
		port:  port,
		log:   log.With("transport", "udp", "port", port),
		recv:  make(chan Packet, recvQueue),
		conns: map[string]*udpConn{},
	}
}

// Listen binds a socket on ifname. With a valid local address the socket is
// bound to it with IP_FREEBIND, so it can be opened before the engine has
// put the address on the interface. The zero local binds the wildcard
// address on the device, which keeps working while the engine moves system
// and standby addresses on a data interface, and also receives broadcasts.
// udpRcvBuf is the receive buffer asked for each socket (the kernel
// doubles it for its own bookkeeping).
const udpRcvBuf = 4 << 20

func (u *UDP) Listen(ifname string, local netip.Addr) error {
	u.mu.Lock()
	defer u.mu.Unlock()
	if u.closed {
		return fmt.Errorf("failed to listen on %s: %w", ifname, ErrClosed)
	}
	if _, ok := u.conns[ifname]; ok {
		return fmt.Errorf("failed to listen on %s: %w", ifname, ErrAlreadyListening)
	}
	network, bind := "udp4", netip.AddrPortFrom(netip.IPv4Unspecified(), uint16(u.port))
	if local.IsValid() {
		local = local.Unmap()
		bind = netip.AddrPortFrom(local, uint16(u.port))
		if local.Is6() {
			network = "udp6"
		}
	}
	lc := net.ListenConfig{Control: func(_, _ string, rc syscall.RawConn) error {
		var serr error
		err := rc.Control(func(fd uintptr) {
			// The device must be set before bind: two sockets on the same
			// port on different devices only coexist if the kernel knows
			// their devices when it checks for a conflict.
			if serr = unix.SetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_BINDTODEVICE, ifname); serr != nil {
				serr = fmt.Errorf("failed to set SO_BINDTODEVICE %s: %w", ifname, serr)
				return
			}
			if serr = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_BROADCAST, 1); serr != nil {
				serr = fmt.Errorf("failed to set SO_BROADCAST: %w", serr)
				return
			}
			// The stateful link carries bursts (a bulk synchronisation,
			// thousands of new connections a second) that a loaded standby
			// drains slower than the active sends; every datagram the
			// default buffer (~200 kB) drops costs a gap, a nak and a
			// resend. Forced past rmem_max when the daemon may (it
			// normally runs with CAP_NET_ADMIN), else as large as allowed.
			if unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, udpRcvBuf) != nil {
				_ = unix.SetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF, udpRcvBuf)
			}
			if serr = setTTLOptions(int(fd), network == "udp6"); serr != nil {
				return
			}
			if local.IsValid() && local.Is4() {
				if serr = unix.SetsockoptInt(int(fd), unix.IPPROTO_IP, unix.IP_FREEBIND, 1); serr != nil {
					serr = fmt.Errorf("failed to set IP_FREEBIND: %w", serr)
				}
			}
		})
		if err != nil {
			return err
		}
		return serr
	}}
	pc, err := lc.ListenPacket(context.Background(), network, bind.String())
	if err != nil {
		return fmt.Errorf("failed to listen on %s %s: %w", ifname, bind, err)
	}
	c := &udpConn{ifname: ifname, conn: pc.(*net.UDPConn), v6: network == "udp6", done: make(chan struct{}), exited: make(chan struct{})}
	u.conns[ifname] = c
	u.wg.Add(1)
	go u.read(c)
	u.log.Debug("listening", "iface", ifname, "addr", bind)
	return nil
}

// read moves datagrams from one socket to the Recv channel. When the
// channel is full it waits, so the kernel's socket buffer absorbs (and
// eventually drops) the excess, as it would without this goroutine.
func (u *UDP) read(c *udpConn) {
	defer u.wg.Done()
	defer close(c.exited)
	// Room for any UDP datagram, so an oversized one arrives whole and the
	// decoder rejects it, instead of being silently cut to a valid length.
	buf := make([]byte, 65536)
	oob := make([]byte, 128)
	for {
		n, oobn, _, src, err := c.conn.ReadMsgUDPAddrPort(buf, oob)
		if err != nil {
			select {
			case <-c.done:
				return
			default:
			}
			if errors.Is(err, net.ErrClosed) {
				return
			}
			// Transient errors (e.g. ENOBUFS) must not end the interface's
			// messaging; the pause keeps a persistent error from spinning.
			u.log.Warn("failed to receive", "iface", c.ifname, "err", err)
			select {
			case <-c.done:
				return
			case <-time.After(100 * time.Millisecond):
			}
			continue
		}
		p := Packet{Iface: c.ifname, Src: src.Addr().Unmap(), TTL: c.ttl(oob[:oobn]), Data: append([]byte(nil), buf[:n]...)}
		select {
		case u.recv <- p:
		case <-c.done:
			return
		}
	}
}

// setTTLOptions makes the socket send with TTL (hop limit) 255 and report
// the TTL of every datagram it receives.
func setTTLOptions(fd int, v6 bool) error {
	opts := []struct {
		level, opt int
		name       string
	}{
		{unix.IPPROTO_IP, unix.IP_TTL, "IP_TTL"},
		{unix.IPPROTO_IP, unix.IP_RECVTTL, "IP_RECVTTL"},
	}
	if v6 {
		opts = []struct {
			level, opt int
			name       string
		}{
			{unix.IPPROTO_IPV6, unix.IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS"},
			{unix.IPPROTO_IPV6, unix.IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT"},
		}
	}
	for _, o := range opts {
		v := 1
		if o.opt == unix.IP_TTL || o.opt == unix.IPV6_UNICAST_HOPS {
			v = OnLinkTTL
		}
		if err := unix.SetsockoptInt(fd, o.level, o.opt, v); err != nil {
			return fmt.Errorf("failed to set %s: %w", o.name, err)
		}
	}
	return nil
}

// ttl extracts the received TTL (hop limit) from the control messages of
// one datagram; 0 when there is none, which CheckOnLink refuses.
func (c *udpConn) ttl(oob []byte) uint8 {
	if len(oob) == 0 {
		return 0
	}
	if c.v6 {
		var cm ipv6.ControlMessage
		if cm.Parse(oob) != nil || cm.HopLimit < 0 || cm.HopLimit > 255 {
			return 0
		}
		return uint8(cm.HopLimit)
	}
	var cm ipv4.ControlMessage
	if cm.Parse(oob) != nil || cm.TTL < 0 || cm.TTL > 255 {
		return 0
	}
	return uint8(cm.TTL)
}

// Unlisten closes the socket of ifname and waits for its reader to stop.
func (u *UDP) Unlisten(ifname string) error {
	u.mu.Lock()
	c, ok := u.conns[ifname]
	if ok {
		delete(u.conns, ifname)
	}
	u.mu.Unlock()
	if !ok {
		return fmt.Errorf("failed to unlisten %s: %w", ifname, ErrNotListening)
	}
	err := c.shut()
	u.log.Debug("stopped listening", "iface", ifname)
	if err != nil {
		return fmt.Errorf("failed to close socket on %s: %w", ifname, err)
	}
	return nil
}

func (c *udpConn) shut() error {
	close(c.done)
	err := c.conn.Close()
	<-c.exited
	return err
}

// Send sends b from ifname's socket to dst on the transport's port.
func (u *UDP) Send(ifname string, dst netip.Addr, b []byte) error {
	u.mu.Lock()
	c, ok := u.conns[ifname]
	closed := u.closed
	u.mu.Unlock()
	switch {
	case closed:
		return fmt.Errorf("failed to send on %s: %w", ifname, ErrClosed)
	case !ok:
		return fmt.Errorf("failed to send on %s: %w", ifname, ErrNotListening)
	}
	if _, err := c.conn.WriteToUDPAddrPort(b, netip.AddrPortFrom(dst, uint16(u.port))); err != nil {
		return fmt.Errorf("failed to send to %s on %s: %w", dst, ifname, err)
	}
	return nil
}

// Recv returns the channel of packets from all interfaces.
func (u *UDP) Recv() <-chan Packet { return u.recv }

// Close closes every socket, waits for the readers and closes the Recv
// channel. Closing twice is harmless.
func (u *UDP) Close() error {
	u.mu.Lock()
	if u.closed {
		u.mu.Unlock()
		return nil
	}
	u.closed = true
	conns := u.conns
	u.conns = map[string]*udpConn{}
	u.mu.Unlock()
	var errs []error
	for name, c := range conns {
		if err := c.shut(); err != nil {
			errs = append(errs, fmt.Errorf("failed to close socket on %s: %w", name, err))
		}
	}
	u.wg.Wait()
	close(u.recv)
	return errors.Join(errs...)
}
