//go:build linux

package transport

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"failover/engine/wire"
)

// netnsPair builds two network namespaces joined by two veth links:
//
//	nsA  vethA1 192.0.2.1/26  <->  vethB1 192.0.2.2/26   nsB
//	nsA  vethA2 192.0.2.65/26 <->  vethB2 192.0.2.66/26  nsB
//
// All names carry a random suffix so parallel runs and leftovers from a
// crashed run cannot collide; everything is removed in t.Cleanup.
type netnsPair struct {
	nsA, nsB                       string
	vethA1, vethB1, vethA2, vethB2 string
}

func run(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

func newNetnsPair(t *testing.T) *netnsPair {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs iproute2's ip")
	}
	var r [3]byte
	_, _ = rand.Read(r[:])
	s := hex.EncodeToString(r[:])
	p := &netnsPair{
		nsA: "fotr-" + s + "-a", nsB: "fotr-" + s + "-b",
		vethA1: "fa1" + s, vethB1: "fb1" + s, vethA2: "fa2" + s, vethB2: "fb2" + s,
	}
	t.Cleanup(func() {
		// Deleting a namespace destroys the veths in it; the link deletes
		// cover a failure before they were moved there.
		for _, args := range [][]string{
			{"netns", "del", p.nsA}, {"netns", "del", p.nsB},
			{"link", "del", p.vethA1}, {"link", "del", p.vethA2},
		} {
			_ = exec.Command("ip", args...).Run()
		}
	})
	if out, err := exec.Command("ip", "netns", "add", p.nsA).CombinedOutput(); err != nil {
		t.Skipf("cannot create a network namespace here: %v: %s", err, out)
	}
	run(t, "netns", "add", p.nsB)
	for _, l := range []struct{ a, b, addrA, addrB string }{
		{p.vethA1, p.vethB1, "192.0.2.1/26", "192.0.2.2/26"},
		{p.vethA2, p.vethB2, "192.0.2.65/26", "192.0.2.66/26"},
	} {
		run(t, "link", "add", l.a, "type", "veth", "peer", "name", l.b)
		run(t, "link", "set", l.a, "netns", p.nsA)
		run(t, "link", "set", l.b, "netns", p.nsB)
		run(t, "-n", p.nsA, "addr", "add", l.addrA, "dev", l.a)
		run(t, "-n", p.nsB, "addr", "add", l.addrB, "dev", l.b)
		run(t, "-n", p.nsA, "link", "set", l.a, "up")
		run(t, "-n", p.nsB, "link", "set", l.b, "up")
	}
	return p
}

// inNetns runs f on a thread switched into namespace ns. Sockets keep the
// namespace they were created in, so f can open them and return. If the
// thread cannot be switched back it is left locked, which makes the runtime
// discard it rather than reuse it in the wrong namespace.
func inNetns(t *testing.T, ns string, f func() error) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := unix.Open("/proc/thread-self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("failed to open own netns: %w", err)
			return
		}
		defer unix.Close(orig)
		target, err := unix.Open("/run/netns/"+ns, unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("failed to open netns %s: %w", ns, err)
			return
		}
		defer unix.Close(target)
		if err := unix.Setns(target, unix.CLONE_NEWNET); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("failed to enter netns %s: %w", ns, err)
			return
		}
		ferr := f()
		if err := unix.Setns(orig, unix.CLONE_NEWNET); err != nil {
			errc <- errors.Join(ferr, fmt.Errorf("failed to leave netns %s: %w", ns, err))
			return // thread stays locked and dies with the goroutine
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
}

// expect sends data from tx until rx yields a packet carrying it (the first
// frames can be lost while the veths come up and ARP resolves), and returns
// that packet. Packets with other data are returned in others.
func expect(t *testing.T, tx, rx Transport, iface string, dst netip.Addr, data string) (Packet, []Packet) {
	t.Helper()
	var others []Packet
	deadline := time.After(10 * time.Second)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		if err := tx.Send(iface, dst, []byte(data)); err != nil {
			t.Fatalf("send on %s: %v", iface, err)
		}
		select {
		case p, ok := <-rx.Recv():
			if !ok {
				t.Fatal("Recv closed")
			}
			if string(p.Data) == data {
				return p, others
			}
			others = append(others, p)
		case <-tick.C:
		case <-deadline:
			t.Fatalf("%q on %s to %s never arrived", data, iface, dst)
		}
	}
}

func TestUDPNetns(t *testing.T) {
	p := newNetnsPair(t)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	a, b := NewUDP(wire.Port, log), NewUDP(wire.Port, log)
	t.Cleanup(func() { a.Close(); b.Close() })

	inNetns(t, p.nsA, func() error {
		// Failover link bound to its fixed address, data link to the
		// device's wildcard address, as the engine does.
		return errors.Join(a.Listen(p.vethA1, netip.MustParseAddr("192.0.2.1")), a.Listen(p.vethA2, netip.Addr{}))
	})
	inNetns(t, p.nsB, func() error {
		return errors.Join(b.Listen(p.vethB1, netip.Addr{}), b.Listen(p.vethB2, netip.MustParseAddr("192.0.2.66")))
	})

	got, _ := expect(t, a, b, p.vethA1, netip.MustParseAddr("192.0.2.2"), "one")
	if got.Iface != p.vethB1 || got.Src != netip.MustParseAddr("192.0.2.1") {
		t.Errorf("link 1: got %+v", got)
	}
	got, _ = expect(t, b, a, p.vethB2, netip.MustParseAddr("192.0.2.65"), "two")
	if got.Iface != p.vethA2 || got.Src != netip.MustParseAddr("192.0.2.66") {
		t.Errorf("link 2: got %+v", got)
	}

	// SO_BINDTODEVICE: with link 2's socket gone, B's wildcard socket on
	// vethB1 must not pick up what arrives on vethB2, although a plain
	// 0.0.0.0 socket would.
	if err := b.Unlisten(p.vethB2); err != nil {
		t.Fatal(err)
	}
	for range 5 {
		if err := a.Send(p.vethA2, netip.MustParseAddr("192.0.2.66"), []byte("stray")); err != nil {
			t.Fatal(err)
		}
	}
	_, others := expect(t, a, b, p.vethA1, netip.MustParseAddr("192.0.2.2"), "three")
	// Anything still in flight on link 2 would have arrived by now.
	time.Sleep(200 * time.Millisecond)
	for {
		select {
		case p := <-b.Recv():
			others = append(others, p)
			continue
		default:
		}
		break
	}
	for _, o := range others {
		if string(o.Data) == "stray" {
			t.Fatalf("packet sent to link 2 delivered on %s", o.Iface)
		}
	}

	// The failover link's socket also carries a full-size message.
	big := make([]byte, wire.MaxMessageSize)
	big[0] = 'B'
	if err := a.Send(p.vethA1, netip.MustParseAddr("192.0.2.2"), big); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-b.Recv():
		if len(got.Data) != wire.MaxMessageSize {
			t.Errorf("big message: %d bytes", len(got.Data))
		}
	case <-time.After(5 * time.Second):
		t.Error("big message lost")
	}

	if err := a.Send("nosuchif", netip.MustParseAddr("192.0.2.2"), nil); !errors.Is(err, ErrNotListening) {
		t.Errorf("send on unknown iface: %v", err)
	}
	inNetns(t, p.nsA, func() error {
		if err := a.Listen(p.vethA1, netip.Addr{}); !errors.Is(err, ErrAlreadyListening) {
			return fmt.Errorf("double listen: %v", err)
		}
		return nil
	})
	if err := a.Close(); err != nil {
		t.Fatal(err)
	}
	// Packets queued before Close (late copies of the repeated sends
	// above) may still be read; then the channel must be closed.
	for drained := 0; ; drained++ {
		if _, ok := <-a.Recv(); !ok {
			break
		}
		if drained > recvQueue {
			t.Fatal("Recv open after Close")
		}
	}
	if err := a.Send(p.vethA1, netip.MustParseAddr("192.0.2.2"), nil); !errors.Is(err, ErrClosed) {
		t.Errorf("send after close: %v", err)
	}
	if err := a.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

// TestUDPListenFreebind checks that a socket can be bound to an address the
// interface does not hold yet (the engine opens sockets before it assigns
// addresses), and that listening on a missing device fails cleanly.
func TestUDPListenFreebind(t *testing.T) {
	p := newNetnsPair(t)
	u := NewUDP(wire.Port, nil)
	t.Cleanup(func() { u.Close() })
	inNetns(t, p.nsA, func() error {
		if err := u.Listen(p.vethA1, netip.MustParseAddr("192.0.2.10")); err != nil {
			return fmt.Errorf("freebind: %w", err)
		}
		if err := u.Listen("nosuchif0", netip.Addr{}); err == nil {
			return errors.New("listen on a missing device succeeded")
		}
		return nil
	})
	if err := u.Unlisten(p.vethA1); err != nil {
		t.Fatal(err)
	}
	if err := u.Unlisten(p.vethA1); !errors.Is(err, ErrNotListening) {
		t.Fatalf("second unlisten: %v", err)
	}
}

// Failover datagrams leave with TTL 255 and arrive with it; a datagram that
// crossed a router (here: sent with TTL 254, as after one hop, or with the
// default 64 from any ordinary socket) is reported with its TTL and refused
// by CheckOnLink.
func TestUDPOnLinkTTL(t *testing.T) {
	p := newNetnsPair(t)
	a, b := NewUDP(wire.Port, nil), NewUDP(wire.Port, nil)
	t.Cleanup(func() { a.Close(); b.Close() })
	inNetns(t, p.nsA, func() error { return a.Listen(p.vethA1, netip.Addr{}) })
	inNetns(t, p.nsB, func() error { return b.Listen(p.vethB1, netip.Addr{}) })
	dst := netip.MustParseAddr("192.0.2.2")

	got, _ := expect(t, a, b, p.vethA1, dst, "on-link")
	if got.TTL != OnLinkTTL || CheckOnLink(got) != nil {
		t.Errorf("datagram from the transport arrived with TTL %d: %v", got.TTL, CheckOnLink(got))
	}
	got, _ = expect(t, a, b, p.vethA1, netip.AddrFrom4([4]byte{255, 255, 255, 255}), "broadcast")
	if got.TTL != OnLinkTTL {
		t.Errorf("broadcast arrived with TTL %d", got.TTL)
	}

	for _, ttl := range []int{254, 64} {
		var fd int
		inNetns(t, p.nsA, func() error {
			var err error
			if fd, err = unix.Socket(unix.AF_INET, unix.SOCK_DGRAM, 0); err != nil {
				return err
			}
			return unix.SetsockoptInt(fd, unix.IPPROTO_IP, unix.IP_TTL, ttl)
		})
		data := fmt.Sprintf("ttl %d", ttl)
		deadline := time.Now().Add(10 * time.Second)
		var pkt *Packet
		for pkt == nil && time.Now().Before(deadline) {
			if err := unix.Sendto(fd, []byte(data), 0, &unix.SockaddrInet4{Port: wire.Port, Addr: dst.As4()}); err != nil {
				t.Fatal(err)
			}
			select {
			case r := <-b.Recv():
				if string(r.Data) == data {
					pkt = &r
				}
			case <-time.After(100 * time.Millisecond):
			}
		}
		unix.Close(fd)
		if pkt == nil {
			t.Fatalf("datagram with TTL %d never arrived", ttl)
		}
		if pkt.TTL != uint8(ttl) {
			t.Errorf("sent with TTL %d, reported %d", ttl, pkt.TTL)
		}
		if err := CheckOnLink(*pkt); !errors.Is(err, ErrOffLink) {
			t.Errorf("TTL %d accepted as on-link: %v", ttl, err)
		}
	}
}

// The failover sockets get a receive buffer large enough for the stateful
// link's bursts, not the kernel's default (~200 kB).
func TestUDPReceiveBuffer(t *testing.T) {
	p := newNetnsPair(t)
	a := NewUDP(wire.Port, slog.New(slog.DiscardHandler))
	t.Cleanup(func() { a.Close() })
	inNetns(t, p.nsA, func() error { return a.Listen(p.vethA1, netip.MustParseAddr("192.0.2.1")) })
	a.mu.Lock()
	c := a.conns[p.vethA1]
	a.mu.Unlock()
	rc, err := c.conn.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var size int
	var serr error
	if err := rc.Control(func(fd uintptr) { size, serr = unix.GetsockoptInt(int(fd), unix.SOL_SOCKET, unix.SO_RCVBUF) }); err != nil || serr != nil {
		t.Fatal(err, serr)
	}
	if size < udpRcvBuf {
		t.Errorf("receive buffer %d bytes, want at least %d", size, udpRcvBuf)
	}
}
