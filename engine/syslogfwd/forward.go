// Package syslogfwd sends the PIX messages to the "logging host" targets
// (RFC 3164 over UDP, or over TCP with one message per line, RFC 6587
// non-transparent framing). Each target has its own goroutine and a small
// bounded queue, so the event loop only hands a message over: a target
// that cannot be reached yet (its interface has no address, which is the
// case on a unit that is still negotiating, or its collector restarts)
// keeps its messages and retries every second, in order, and the messages
// of a takeover reach the collector once the unit holds its address.
// Sockets are bound to the target's interface (SO_BINDTODEVICE), as ASA
// sends out of the interface named in the command, and nothing is sent
// while that interface has no IPv4 address; UDP sockets are not
// connected, so a source address that appears or changes later is used
// as soon as the kernel has it.
package syslogfwd

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Target is one collector.
type Target struct {
	Name  string // nameif name, for show logging
	Dev   string // Linux interface the messages leave by
	IP    netip.Addr
	Proto string // "udp" or "tcp"
	Port  int
}

func (t Target) addr() string { return net.JoinHostPort(t.IP.String(), strconv.Itoa(t.Port)) }

// Stats are a target's counters.
type Stats struct {
	Sent, Dropped uint64
	Queued        int
	Connected     bool // TCP: a connection is up
	LastErr       string
}

const (
	DialTimeout = 3 * time.Second  // TCP connect
	SendTimeout = 2 * time.Second  // one TCP write
	inbox       = 64               // hand-over channel between loop and target
	maxBackoff  = 10 * time.Second // TCP reconnects while the collector refuses
)

// Forwarder owns the targets.
type Forwarder struct {
	// QueueLen is how many messages a target keeps while it cannot send,
	// RetryEvery how often it tries again; set them before Configure.
	QueueLen   int
	RetryEvery time.Duration

	log     *slog.Logger
	mu      sync.Mutex
	targets map[Target]*sender
}

// New returns a forwarder with no targets.
func New(log *slog.Logger) *Forwarder {
	return &Forwarder{QueueLen: 256, RetryEvery: time.Second, log: log, targets: map[Target]*sender{}}
}

// Configure makes the targets exactly ts: new ones start, removed ones stop
// (their queued messages are dropped), unchanged ones keep their queue.
func (f *Forwarder) Configure(ts []Target) {
	f.mu.Lock()
	defer f.mu.Unlock()
	want := map[Target]bool{}
	for _, t := range ts {
		want[t] = true
		if f.targets[t] == nil {
			s := &sender{t: t, queueLen: f.QueueLen, retryEvery: f.RetryEvery, log: f.log.With("syslog_host", t.addr(), "proto", t.Proto), in: make(chan string, inbox), stop: make(chan struct{}), done: make(chan struct{})}
			f.targets[t] = s
			go s.run()
		}
	}
	for t, s := range f.targets {
		if !want[t] {
			delete(f.targets, t)
			close(s.stop)
		}
	}
}

// Send queues one formatted message ("<PRI>text") for every target. It
// never blocks: a target whose hand-over channel is full counts a drop.
func (f *Forwarder) Send(msg string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for _, s := range f.targets {
		select {
		case s.in <- msg:
		default:
			s.drop(1)
		}
	}
}

// Stats returns the counters of target t (zero when it is not configured).
func (f *Forwarder) Stats(t Target) Stats {
	f.mu.Lock()
	s := f.targets[t]
	f.mu.Unlock()
	if s == nil {
		return Stats{}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.st
}

// Close stops every target and waits for their goroutines.
func (f *Forwarder) Close() {
	f.mu.Lock()
	ss := make([]*sender, 0, len(f.targets))
	for t, s := range f.targets {
		close(s.stop)
		ss = append(ss, s)
		delete(f.targets, t)
	}
	f.mu.Unlock()
	for _, s := range ss {
		<-s.done
	}
}

// sender is one target's goroutine and queue.
type sender struct {
	t          Target
	queueLen   int
	retryEvery time.Duration
	log        *slog.Logger
	in         chan string
	stop       chan struct{}
	done       chan struct{}

	mu sync.Mutex
	st Stats

	pending []string // goroutine only
	udp     net.PacketConn
	tcp     net.Conn
	nextTry time.Time
	backoff time.Duration
}

func (s *sender) drop(n int) {
	s.mu.Lock()
	s.st.Dropped += uint64(n)
	s.mu.Unlock()
}

func (s *sender) run() {
	defer close(s.done)
	defer s.closeConn()
	retry := time.NewTicker(s.retryEvery)
	defer retry.Stop()
	for {
		select {
		case <-s.stop:
			return
		case m := <-s.in:
			s.enqueue(m)
			// Take whatever else is waiting before sending.
			for more := true; more; {
				select {
				case m := <-s.in:
					s.enqueue(m)
				default:
					more = false
				}
			}
		case <-retry.C:
		}
		s.flush()
	}
}

func (s *sender) enqueue(m string) {
	if len(s.pending) >= s.queueLen {
		s.pending = s.pending[1:] // the oldest goes: the newest say most
		s.drop(1)
	}
	s.pending = append(s.pending, m)
}

// flush sends pending messages in order until one fails.
func (s *sender) flush() {
	if len(s.pending) > 0 && time.Now().After(s.nextTry) {
		for len(s.pending) > 0 {
			if err := s.write(s.pending[0]); err != nil {
				s.failed(err)
				break
			}
			s.pending = s.pending[1:]
			s.backoff = 0
			s.mu.Lock()
			s.st.Sent++
			s.st.LastErr = ""
			s.mu.Unlock()
		}
	}
	s.mu.Lock()
	s.st.Queued = len(s.pending)
	s.st.Connected = s.tcp != nil
	s.mu.Unlock()
}

func (s *sender) failed(err error) {
	s.closeConn()
	s.mu.Lock()
	first := s.st.LastErr == ""
	s.st.LastErr = err.Error()
	s.mu.Unlock()
	if first {
		s.log.Warn("syslog host unreachable; messages queued", "err", err)
	}
	if s.t.Proto == "tcp" {
		s.backoff = min(max(2*s.backoff, s.retryEvery), maxBackoff)
		s.nextTry = time.Now().Add(s.backoff - s.retryEvery/2)
	}
}

// bindTo binds a socket to the target's interface before it is used.
func (s *sender) bindTo(_, _ string, c syscall.RawConn) error {
	if s.t.Dev == "" {
		return nil
	}
	var serr error
	err := c.Control(func(fd uintptr) {
		serr = syscall.SetsockoptString(int(fd), syscall.SOL_SOCKET, syscall.SO_BINDTODEVICE, s.t.Dev)
	})
	if err != nil {
		return err
	}
	if serr != nil {
		return fmt.Errorf("failed to bind to %s: %w", s.t.Dev, serr)
	}
	return nil
}

// errNoAddress keeps messages queued while the interface has no address.
var errNoAddress = errors.New("interface has no IPv4 address yet")

// ipv4Addrs are the IPv4 addresses dev holds. A socket bound to a device
// without one still sends: the kernel then takes any destination as
// on-link and the datagram leaves with no usable source, so it would be
// lost rather than queued.
func ipv4Addrs(dev string) []netip.Addr {
	ifi, err := net.InterfaceByName(dev)
	if err != nil {
		return nil
	}
	addrs, err := ifi.Addrs()
	if err != nil {
		return nil
	}
	var out []netip.Addr
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok && n.IP.To4() != nil {
			ip, _ := netip.AddrFromSlice(n.IP.To4())
			out = append(out, ip)
		}
	}
	return out
}

func (s *sender) write(m string) error {
	if s.t.Dev != "" {
		have := ipv4Addrs(s.t.Dev)
		if len(have) == 0 {
			return errNoAddress
		}
		// A connection from an address the interface no longer holds
		// (the unit gave it up, or it was changed) sends nothing any more.
		if s.tcp != nil {
			if la, ok := s.tcp.LocalAddr().(*net.TCPAddr); ok && !slices.Contains(have, la.AddrPort().Addr().Unmap()) {
				s.closeConn()
			}
		}
	}
	if s.t.Proto == "tcp" {
		return s.writeTCP(m)
	}
	if s.udp == nil {
		lc := net.ListenConfig{Control: s.bindTo}
		pc, err := lc.ListenPacket(context.Background(), "udp4", ":0")
		if err != nil {
			return err
		}
		s.udp = pc
	}
	_, err := s.udp.WriteTo([]byte(m), net.UDPAddrFromAddrPort(netip.AddrPortFrom(s.t.IP, uint16(s.t.Port))))
	return err
}

func (s *sender) writeTCP(m string) error {
	if s.tcp != nil && s.peerClosed() {
		s.closeConn()
	}
	if s.tcp == nil {
		d := net.Dialer{Timeout: DialTimeout, Control: s.bindTo}
		c, err := d.Dial("tcp4", s.t.addr())
		if err != nil {
			return err
		}
		s.tcp = c
		s.log.Info("syslog host connected")
	}
	s.tcp.SetWriteDeadline(time.Now().Add(SendTimeout))
	_, err := s.tcp.Write([]byte(m + "\n"))
	return err
}

// peerClosed notices a collector that closed the connection (a restart)
// before a message is written into a connection nobody reads any more.
// (A read with a past deadline would not do: Go answers it with a timeout
// without asking the kernel.)
func (s *sender) peerClosed() bool {
	sc, ok := s.tcp.(syscall.Conn)
	if !ok {
		return false
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return true
	}
	closed := false
	rc.Read(func(fd uintptr) bool {
		var b [1]byte
		n, _, err := unix.Recvfrom(int(fd), b[:], unix.MSG_PEEK|unix.MSG_DONTWAIT)
		closed = (n == 0 && err == nil) || (err != nil && err != unix.EAGAIN && err != unix.EINTR)
		return true
	})
	return closed
}

func (s *sender) closeConn() {
	if s.udp != nil {
		s.udp.Close()
		s.udp = nil
	}
	if s.tcp != nil {
		s.tcp.Close()
		s.tcp = nil
	}
}
