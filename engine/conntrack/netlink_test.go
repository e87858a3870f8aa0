//go:build linux

package conntrack

import (
	"bufio"
	"context"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vishvananda/netns"
)

// natLab is the prototype's topology, in namespaces of its own:
//
//	cli 192.0.2.10/25 --- br-in ---  a (192.0.2.1/25 in, masquerade)  and  b (same addresses and MACs, ports down)
//	srv 198.51.100.10/24 --- br-out -- a (198.51.100.2/24 out)         and  b
//
// Both firewalls masquerade the inside network. move() cuts a's switch
// ports and brings b's up: b now wears the addresses and MACs, as a
// failoverd unit that took over.
type natLab struct {
	t      *testing.T
	prefix string
}

func newNATLab(t *testing.T) *natLab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces")
	}
	for _, tool := range []string{"ip", "nft"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("needs %s", tool)
		}
	}
	l := &natLab{t: t, prefix: fmt.Sprintf("foct%06x", rand.Uint32()&0xffffff)}
	for _, n := range []string{"sw", "cli", "srv", "a", "b"} {
		name := l.ns(n)
		if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
			t.Fatalf("ip netns add %s: %v: %s", name, err, out)
		}
		t.Cleanup(func() {
			if out, err := exec.Command("ip", "netns", "del", name).CombinedOutput(); err != nil {
				t.Errorf("ip netns del %s: %v: %s", name, err, out)
			}
		})
	}
	l.ip("sw", "link", "add", "br-in", "type", "bridge", "stp_state", "0")
	l.ip("sw", "link", "add", "br-out", "type", "bridge", "stp_state", "0")
	l.ip("sw", "link", "set", "br-in", "up")
	l.ip("sw", "link", "set", "br-out", "up")
	// port links host namespace ns's interface ifname to bridge br.
	port := func(ns, ifname, br, mac string) {
		sw := ns + "-" + ifname
		l.ip("sw", "link", "add", sw, "type", "veth", "peer", "name", ifname, "netns", l.ns(ns))
		l.ip("sw", "link", "set", sw, "master", br, "up")
		if mac != "" {
			l.ip(ns, "link", "set", ifname, "address", mac)
		}
		l.ip(ns, "link", "set", ifname, "up")
		l.ip(ns, "link", "set", "lo", "up")
	}
	port("cli", "eth0", "br-in", "")
	port("srv", "eth0", "br-out", "")
	for _, fw := range []string{"a", "b"} {
		port(fw, "in", "br-in", "02:00:00:00:01:01")
		port(fw, "out", "br-out", "02:00:00:00:02:01")
		l.ip(fw, "addr", "add", "192.0.2.1/25", "dev", "in")
		l.ip(fw, "addr", "add", "198.51.100.2/24", "dev", "out")
		l.sh(fw, "sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0")
		l.nft(fw, `table ip nat {
  chain post { type nat hook postrouting priority 100; ip saddr 192.0.2.0/25 oifname "out" masquerade; }
}`)
	}
	// b waits with its switch ports down, like a standby holding no
	// system address.
	l.ip("sw", "link", "set", "b-in", "down")
	l.ip("sw", "link", "set", "b-out", "down")
	l.ip("cli", "addr", "add", "192.0.2.10/25", "dev", "eth0")
	l.ip("cli", "route", "add", "default", "via", "192.0.2.1")
	l.ip("srv", "addr", "add", "198.51.100.10/24", "dev", "eth0")
	return l
}

func (l *natLab) ns(n string) string { return l.prefix + "-" + n }

func (l *natLab) ip(ns string, args ...string) {
	l.t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", l.ns(ns)}, args...)...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("ip -n %s %s: %v: %s", ns, strings.Join(args, " "), err, out)
	}
}

func (l *natLab) sh(ns, cmd string) string {
	l.t.Helper()
	out, err := exec.Command("ip", "netns", "exec", l.ns(ns), "sh", "-c", cmd).CombinedOutput()
	if err != nil {
		l.t.Fatalf("%s: %s: %v: %s", ns, cmd, err, out)
	}
	return string(out)
}

func (l *natLab) nft(ns, rules string) {
	l.t.Helper()
	cmd := exec.Command("ip", "netns", "exec", l.ns(ns), "nft", "-f", "-")
	cmd.Stdin = strings.NewReader(rules)
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("nft in %s: %v: %s", ns, err, out)
	}
}

func (l *natLab) handle(ns string) netns.NsHandle {
	l.t.Helper()
	h, err := netns.GetFromName(l.ns(ns))
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { h.Close() })
	return h
}

// table opens the conntrack table of firewall fw.
func (l *natLab) table(fw string) *Netlink {
	l.t.Helper()
	tb, err := OpenNS(slog.New(slog.NewTextHandler(l.t.Output(), nil)), l.handle(fw))
	if err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { tb.Close() })
	return tb
}

// move makes b the firewall on both segments.
func (l *natLab) move() {
	l.ip("sw", "link", "set", "a-in", "down")
	l.ip("sw", "link", "set", "a-out", "down")
	l.ip("sw", "link", "set", "b-in", "up")
	l.ip("sw", "link", "set", "b-out", "up")
}

// inNS runs fn on a thread in namespace ns (sockets made there stay there).
func (l *natLab) inNS(ns string, fn func()) {
	l.t.Helper()
	h := l.handle(ns)
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtime.LockOSThread()
		// The thread is left in the namespace and dies with the goroutine
		// (it stays locked), so the namespace never leaks into others.
		if err := netns.Set(h); err != nil {
			l.t.Error(err)
			return
		}
		fn()
	}()
	<-done
}

// pushConn is one TCP connection from cli to srv where the server speaks
// first after the move: the hard case, as its packet reaches the new
// firewall from the outside, addressed to the masquerade address.
type pushConn struct {
	srv, cli net.Conn
	lines    chan string
}

func (l *natLab) connect() *pushConn {
	l.t.Helper()
	var ln net.Listener
	var err error
	l.inNS("srv", func() { ln, err = net.Listen("tcp4", "198.51.100.10:5000") })
	if err != nil {
		l.t.Fatal(err)
	}
	defer ln.Close()
	pc := &pushConn{lines: make(chan string, 100)}
	l.inNS("cli", func() { pc.cli, err = net.DialTimeout("tcp4", "198.51.100.10:5000", 3*time.Second) })
	if err != nil {
		l.t.Fatal(err)
	}
	if pc.srv, err = ln.Accept(); err != nil {
		l.t.Fatal(err)
	}
	l.t.Cleanup(func() { pc.cli.Close(); pc.srv.Close() })
	go func() {
		r := bufio.NewReader(pc.cli)
		for {
			s, err := r.ReadString('\n')
			if err != nil {
				close(pc.lines)
				return
			}
			pc.lines <- s
		}
	}()
	return pc
}

// push sends one line from the server and says whether the client got it.
func (pc *pushConn) push(t *testing.T, line string, wait time.Duration) bool {
	t.Helper()
	if _, err := fmt.Fprintln(pc.srv, line); err != nil {
		t.Logf("server write: %v", err)
		return false
	}
	select {
	case got, ok := <-pc.lines:
		return ok && strings.TrimSpace(got) == line
	case <-time.After(wait):
		return false
	}
}

// natEntry finds the masqueraded entry of the test connection in tb.
func natEntry(t *testing.T, tb Table) (Entry, bool) {
	t.Helper()
	es, err := tb.Dump(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range es {
		if e.Proto == ProtoTCP && e.Orig.Dst == netip.MustParseAddr("198.51.100.10") && e.Orig.DstPort == 5000 {
			return e, true
		}
	}
	return Entry{}, false
}

// TestInjectedEntryKeepsNATConnection is the reason this package exists:
// a masqueraded connection survives the move to another firewall when its
// entry, NAT binding included, was created there first, and dies
// (the new firewall's stack answers RST) when it was not.
func TestInjectedEntryKeepsNATConnection(t *testing.T) {
	for _, inject := range []bool{true, false} {
		t.Run(fmt.Sprintf("inject=%v", inject), func(t *testing.T) {
			l := newNATLab(t)
			pc := l.connect()
			if !pc.push(t, "before", 3*time.Second) {
				t.Fatal("no data through firewall a before the move")
			}
			a, b := l.table("a"), l.table("b")
			e, ok := natEntry(t, a)
			if !ok {
				t.Fatal("no conntrack entry for the connection on a")
			}
			if !e.SrcNAT() || e.Reply.Dst != netip.MustParseAddr("198.51.100.2") {
				t.Fatalf("entry on a is not masqueraded: %v", e)
			}
			if inject {
				for i, err := range b.Apply([]Op{{Kind: OpCreate, Entry: e}}) {
					if err != nil {
						t.Fatalf("op %d: %v", i, err)
					}
				}
				got, ok := natEntry(t, b)
				if !ok {
					t.Fatal("injected entry not in b's table")
				}
				const want = StatusSrcNAT | StatusSrcNATDone | StatusConfirmed | StatusAssured
				if got.Status&want != want || got.Reply != e.Reply {
					t.Fatalf("injected entry %v, want status %#x and reply %v", got, want, e.Reply)
				}
			}
			l.move()
			ok = pc.push(t, "after", 5*time.Second)
			if ok != inject {
				t.Fatalf("server push after the move arrived = %v, want %v", ok, inject)
			}
			if inject {
				// And the client's direction still works too.
				if _, err := fmt.Fprintln(pc.cli, "echo"); err != nil {
					t.Fatal(err)
				}
				pc.srv.SetReadDeadline(time.Now().Add(5 * time.Second))
				if s, err := bufio.NewReader(pc.srv).ReadString('\n'); err != nil || s != "echo\n" {
					t.Fatalf("client to server after the move: %q, %v", s, err)
				}
			}
		})
	}
}

// TestListenApplyDelete checks the event listener and the batched writes:
// events of a new masqueraded connection, a batch of creates, updates and
// deletes, and that a refused request is reported for its own op only.
func TestListenApplyDelete(t *testing.T) {
	l := newNATLab(t)
	a := l.table("a")
	if err := a.SetEvents(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var evs []Event
	listening := make(chan error, 1)
	go func() {
		listening <- a.Listen(ctx, func(b []Event) { mu.Lock(); evs = append(evs, b...); mu.Unlock() })
	}()
	time.Sleep(200 * time.Millisecond) // the subscription is made inside Listen
	pc := l.connect()
	if !pc.push(t, "x", 3*time.Second) {
		t.Fatal("no data")
	}
	deadline := time.Now().Add(5 * time.Second)
	var seen Event
	for time.Now().Before(deadline) && seen.Type == 0 {
		mu.Lock()
		for _, ev := range evs {
			if ev.Entry.Orig.DstPort == 5000 && ev.Entry.SrcNAT() && ev.Entry.Status&StatusAssured != 0 {
				seen = ev
			}
		}
		mu.Unlock()
		time.Sleep(20 * time.Millisecond)
	}
	if seen.Type == 0 {
		t.Fatalf("no assured masqueraded event among %d events", len(evs))
	}
	if seen.Entry.TCPState != 3 { // TCP_CONNTRACK_ESTABLISHED
		t.Errorf("event TCP state %d, want 3 (established)", seen.Entry.TCPState)
	}

	// 1000 synthetic masqueraded UDP entries in b, then half updated,
	// a quarter deleted, one bogus op in the middle.
	b := l.table("b")
	var ops []Op
	for i := range 1000 {
		e := Entry{
			Proto: ProtoUDP, Status: StatusSeenReply | StatusAssured | StatusSrcNAT, Timeout: 100,
			Orig:  Tuple{Src: netip.MustParseAddr("192.0.2.20"), Dst: netip.MustParseAddr("198.51.100.10"), SrcPort: uint16(10000 + i), DstPort: 53},
			Reply: Tuple{Src: netip.MustParseAddr("198.51.100.10"), Dst: netip.MustParseAddr("198.51.100.2"), SrcPort: 53, DstPort: uint16(10000 + i)},
		}
		ops = append(ops, Op{Kind: OpCreate, Entry: e})
	}
	// A NAT collision: another inside port translated to the port entry 0
	// already owns on the masquerade address. The kernel refuses it; the
	// other creates of the same sendto must still succeed.
	clash := ops[0]
	clash.Entry.Orig.SrcPort = 30000
	ops = append(ops[:500], append([]Op{clash}, ops[500:]...)...)
	for i, err := range b.Apply(ops) {
		if (err != nil) != (i == 500) {
			t.Fatalf("create %d: %v", i, err)
		}
	}
	ops = append(ops[:500], ops[501:]...)
	dump, err := b.Dump(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if n := countUDP(dump, 0); n != 1000 {
		t.Fatalf("b has %d UDP entries after 1000 creates", n)
	}
	var upd []Op
	for i := 0; i < 500; i++ {
		o := ops[i]
		o.Kind = OpUpdate
		o.Entry.Timeout = 3000
		upd = append(upd, o)
	}
	for i := 500; i < 750; i++ {
		upd = append(upd, Op{Kind: OpDelete, Entry: ops[i].Entry})
	}
	// A create of an entry that exists converges as an update.
	again := ops[900]
	again.Entry.Timeout = 3000
	upd = append(upd, again)
	for i, err := range b.Apply(upd) {
		if err != nil {
			t.Fatalf("op %d (%s): %v", i, upd[i].Kind, err)
		}
	}
	if dump, err = b.Dump(ctx); err != nil {
		t.Fatal(err)
	}
	if n := countUDP(dump, 0); n != 750 {
		t.Errorf("b has %d UDP entries, want 750", n)
	}
	if n := countUDP(dump, 1000); n != 501 {
		t.Errorf("%d entries with the updated timeout, want 501", n)
	}
	cancel()
	if err := <-listening; err != context.Canceled {
		t.Errorf("Listen ended with %v", err)
	}
}

func countUDP(es []Entry, minTimeout uint32) int {
	n := 0
	for _, e := range es {
		if e.Proto == ProtoUDP && e.Orig.Src == netip.MustParseAddr("192.0.2.20") && e.Timeout > minTimeout && e.SrcNAT() {
			n++
		}
	}
	return n
}
