//go:build linux

package statesync

import (
	"fmt"
	"math/rand/v2"
	"net/netip"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vishvananda/netns"

	"failover/engine/conntrack"
)

// Benchmarks of replication between two real kernel tables, in two network
// namespaces: the active's conntrack events, the replicator, the standby's
// batched writes. Each replicator runs on a loop goroutine of its own, as
// in two daemons; the mate link is a function call (the UDP socket and
// the HMAC of the failover protocol are not measured here).

type benchSide struct {
	name string
	ns   netns.NsHandle
	tb   *conntrack.Netlink
	r    *Replicator
	loop chan func()
	role Role
	// applied counts records the standby's kernel accepted, with the time
	// of the last one.
	applied atomic.Int64
	last    atomic.Int64
	mu      sync.Mutex
	watch   map[conntrack.Key]chan time.Time
}

// countingTable wraps the kernel table to see when records land.
type countingTable struct {
	conntrack.Table
	s *benchSide
}

func (c countingTable) Apply(ops []conntrack.Op) []error {
	errs := c.Table.Apply(ops)
	now := time.Now()
	n := 0
	for i, err := range errs {
		if err == nil && ops[i].Kind != conntrack.OpDelete {
			n++
			c.s.mu.Lock()
			if ch := c.s.watch[ops[i].Entry.Key()]; ch != nil {
				ch <- now
				delete(c.s.watch, ops[i].Entry.Key())
			}
			c.s.mu.Unlock()
		}
	}
	c.s.applied.Add(int64(n))
	c.s.last.Store(now.UnixNano())
	return errs
}

func benchNS(b *testing.B, name string) netns.NsHandle {
	b.Helper()
	if out, err := exec.Command("ip", "netns", "add", name).CombinedOutput(); err != nil {
		b.Fatalf("ip netns add: %v: %s", err, out)
	}
	b.Cleanup(func() { _ = exec.Command("ip", "netns", "del", name).Run() })
	cmd := exec.Command("ip", "netns", "exec", name, "nft", "-f", "-")
	cmd.Stdin = strings.NewReader("table ip nat {\n chain post { type nat hook postrouting priority 100; ip saddr 192.0.2.0/24 masquerade; }\n}\n")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("nft: %v: %s", err, out)
	}
	h, err := netns.GetFromName(name)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return h
}

// newBenchPair builds the active a and the standby b, not yet in a role.
func newBenchPair(b *testing.B) (a, s *benchSide) {
	b.Helper()
	if os.Geteuid() != 0 {
		b.Skip("needs root: network namespaces")
	}
	prefix := fmt.Sprintf("fobs%04x", rand.Uint32()&0xffff)
	a, s = &benchSide{name: "a"}, &benchSide{name: "b"}
	for _, x := range []*benchSide{a, s} {
		x.ns = benchNS(b, prefix+"-"+x.name)
		tb, err := conntrack.OpenNS(nil, x.ns)
		if err != nil {
			b.Fatal(err)
		}
		x.tb = tb
		b.Cleanup(func() { tb.Close() })
		x.loop = make(chan func(), 1<<16)
		x.watch = map[conntrack.Key]chan time.Time{}
		done := make(chan struct{})
		go func() {
			for {
				select {
				case f := <-x.loop:
					f()
				case <-done:
					return
				}
			}
		}()
		b.Cleanup(func() { close(done) })
	}
	for _, x := range []*benchSide{a, s} {
		mate := a
		if x == a {
			mate = s
		}
		x.r = New(Options{
			Table: countingTable{x.tb, x},
			Post:  func(f func()) { x.loop <- f },
			Send: func(kind uint8, payload []byte, _ func()) {
				p := append([]byte(nil), payload...)
				from := x
				mate.loop <- func() {
					mate.r.Received(kind, p, from.role == RoleActive && mate.role == RoleStandby, mate.role == RoleActive && from.role == RoleStandby)
				}
			},
		})
		x.do(func() { x.r.Apply(testConfig()) })
		b.Cleanup(func() { x.do(x.r.Stop) })
	}
	return a, s
}

// do runs f on x's loop and waits.
func (x *benchSide) do(f func()) {
	ch := make(chan struct{})
	x.loop <- func() { f(); close(ch) }
	<-ch
}

func (x *benchSide) setRole(r Role) { x.do(func() { x.role = r; x.r.setRole(r) }) }

// synth is the i-th synthetic masqueraded, established TCP connection.
func synth(i int) conntrack.Entry {
	src := netip.AddrFrom4([4]byte{192, 0, 2, byte(10 + i/50000)})
	port := uint16(10000 + i%50000)
	return conntrack.Entry{
		Proto: conntrack.ProtoTCP, Timeout: 3600, TCPState: 3,
		Status: conntrack.StatusConfirmed | conntrack.StatusAssured | conntrack.StatusSeenReply | conntrack.StatusSrcNAT,
		Orig:   conntrack.Tuple{Src: src, Dst: server, SrcPort: port, DstPort: 443},
		Reply:  conntrack.Tuple{Src: server, Dst: netip.AddrFrom4([4]byte{198, 51, 100, byte(2 + i/50000)}), SrcPort: 443, DstPort: port},
	}
}

func create(b *testing.B, tb conntrack.Table, from, to int) {
	b.Helper()
	const chunk = 4096
	for i := from; i < to; i += chunk {
		ops := make([]conntrack.Op, 0, chunk)
		for j := i; j < min(i+chunk, to); j++ {
			ops = append(ops, conntrack.Op{Kind: conntrack.OpCreate, Entry: synth(j)})
		}
		for _, err := range tb.Apply(ops) {
			if err != nil {
				b.Fatal(err)
			}
		}
	}
}

func waitApplied(b *testing.B, s *benchSide, n int64, timeout time.Duration) time.Time {
	b.Helper()
	deadline := time.Now().Add(timeout)
	for s.applied.Load() < n {
		if time.Now().After(deadline) {
			b.Fatalf("standby applied %d of %d records in %v", s.applied.Load(), n, timeout)
		}
		time.Sleep(time.Millisecond)
	}
	return time.Unix(0, s.last.Load())
}

// attach makes a active and s its synchronised standby.
func attach(b *testing.B, a, s *benchSide) {
	a.setRole(RoleActive)
	time.Sleep(100 * time.Millisecond) // the listener subscribes, the first read ends
	s.setRole(RoleStandby)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var ok bool
		s.do(func() { ok = s.r.Synced() })
		if ok {
			return
		}
		if time.Now().After(deadline) {
			b.Fatal("standby never synced")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// BenchmarkReplicationRate: N new connections created in the active's
// kernel as fast as the batched encoder can; reported: the rate at which
// they are in the standby's kernel (from the first create to the last
// replica), next to the rate of creating them alone.
func BenchmarkReplicationRate(b *testing.B) {
	for _, n := range []int{20000, 100000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			for range b.N {
				a, s := newBenchPair(b)
				attach(b, a, s)
				base := s.applied.Load()
				start := time.Now()
				create(b, a.tb, 0, n)
				created := time.Since(start)
				last := waitApplied(b, s, base+int64(n), time.Minute)
				total := last.Sub(start)
				b.ReportMetric(float64(n)/total.Seconds(), "replicated/s")
				b.ReportMetric(float64(n)/created.Seconds(), "created/s")
				b.ReportMetric(float64(total.Milliseconds()), "ms-total")
				var st Stats
				a.do(func() { st = a.r.Stats() })
				if st.TCP.Xmit < uint64(n) {
					b.Fatalf("active sent %d of %d", st.TCP.Xmit, n)
				}
			}
		})
	}
}

// BenchmarkReplicationLag: one new connection on an idle pair, from the
// create in the active's kernel to the replica in the standby's kernel;
// the median of 50 connections, one every 20 ms.
func BenchmarkReplicationLag(b *testing.B) {
	a, s := newBenchPair(b)
	attach(b, a, s)
	time.Sleep(200 * time.Millisecond)
	var lags []time.Duration
	for i := range 50 * b.N {
		e := synth(i)
		ch := make(chan time.Time, 1)
		s.mu.Lock()
		s.watch[e.Key()] = ch
		s.mu.Unlock()
		start := time.Now()
		create(b, a.tb, i, i+1)
		select {
		case at := <-ch:
			lags = append(lags, at.Sub(start))
		case <-time.After(5 * time.Second):
			b.Fatal("replica never arrived")
		}
		time.Sleep(20 * time.Millisecond) // idle again
	}
	b.ReportMetric(float64(median(lags).Microseconds())/1000, "ms-median")
	b.ReportMetric(float64(slices.Max(lags).Microseconds())/1000, "ms-max")
}

func median(d []time.Duration) time.Duration {
	s := append([]time.Duration(nil), d...)
	for i := range s {
		for j := i + 1; j < len(s); j++ {
			if s[j] < s[i] {
				s[i], s[j] = s[j], s[i]
			}
		}
	}
	return s[len(s)/2]
}

// BenchmarkBulkSync: the active holds 100,000 connections when the standby
// joins; reported: from the standby's request to the whole table in its
// kernel.
func BenchmarkBulkSync(b *testing.B) {
	const n = 100000
	for range b.N {
		a, s := newBenchPair(b)
		create(b, a.tb, 0, n)
		a.setRole(RoleActive)
		deadline := time.Now().Add(30 * time.Second)
		for {
			var c Counts
			a.do(func() { c = a.r.Counts() })
			if c.Conns >= n {
				break
			}
			if time.Now().After(deadline) {
				b.Fatalf("active read %d of %d", c.Conns, n)
			}
			time.Sleep(5 * time.Millisecond)
		}
		start := time.Now()
		s.setRole(RoleStandby)
		last := waitApplied(b, s, n, time.Minute)
		b.ReportMetric(float64(last.Sub(start).Milliseconds()), "ms-bulk")
	}
}
