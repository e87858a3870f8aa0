package statesync

import (
	"net"
	"net/netip"
	"slices"
	"sync"
	"testing"
	"time"

	"failover/engine/clock"
	"failover/engine/config"
	"failover/engine/conntrack"
	"failover/engine/conntrack/fake"
	"failover/engine/dataplane"
	"failover/engine/stateguard"
)

// pair is two replicators on one emulated engine loop, joined by a link
// the test can cut or make lossy.
type pair struct {
	t     *testing.T
	clk   *clock.Fake
	ops   chan func()
	a, b  *node
	mu    sync.Mutex
	drop  func(from *node, kind Kind, payload []byte) bool
	links bool
}

type node struct {
	name string
	r    *Replicator
	tb   *fake.Table
	role Role
	mate *node
}

var (
	vipOut  = netip.MustParseAddr("198.51.100.2")
	standby = netip.MustParseAddr("198.51.100.3")
	server  = netip.MustParseAddr("198.51.100.10")
)

func testConfig() *config.Config {
	c := config.New()
	c.Failover.Enabled = true
	c.Failover.Link = "lan"
	c.Interfaces = []*config.Interface{
		{HW: "out", Name: "outside", Addr: netip.PrefixFrom(vipOut, 24), StandbyIP: standby},
		{HW: "in", Name: "inside", Addr: netip.MustParsePrefix("192.0.2.1/25"), StandbyIP: netip.MustParseAddr("192.0.2.2")},
	}
	return c
}

func newPair(t *testing.T) *pair {
	p := &pair{t: t, clk: clock.NewFake(), ops: make(chan func(), 1<<16), links: true}
	p.a = &node{name: "a", tb: fake.New()}
	p.b = &node{name: "b", tb: fake.New()}
	p.a.mate, p.b.mate = p.b, p.a
	for _, n := range []*node{p.a, p.b} {
		n := n
		n.r = New(Options{
			Clock: p.clk, Table: n.tb,
			Post: func(f func()) { p.ops <- f },
			Send: func(kind uint8, payload []byte, _ func()) {
				p.mu.Lock()
				up, drop := p.links, p.drop
				p.mu.Unlock()
				if !up || (drop != nil && drop(n, Kind(kind), payload)) {
					return // sent, lost on the way
				}
				pl := append([]byte(nil), payload...)
				m := n.mate
				p.ops <- func() {
					m.r.Received(kind, pl, n.role == RoleActive && m.role == RoleStandby, m.role == RoleActive && n.role == RoleStandby)
				}
			},
		})
		t.Cleanup(n.r.Stop)
	}
	return p
}

// settle runs the loop until nothing has happened for a while (the fake
// table and the worker post from goroutines).
func (p *pair) settle() {
	p.t.Helper()
	idle := func() bool {
		for _, n := range []*node{p.a, p.b} {
			if w := n.r.work; (w != nil && !w.idle()) || n.tb.InFlight() > 0 {
				return false
			}
			if n.role == RoleActive && n.r.enabled && !n.tb.Listening() {
				return false
			}
		}
		return true
	}
	for {
		select {
		case f := <-p.ops:
			f()
		case <-time.After(2 * time.Millisecond):
			if idle() && len(p.ops) == 0 {
				return
			}
		}
	}
}

// advance moves the fake clock in ticks, running what the timers post.
func (p *pair) advance(d time.Duration) {
	for end := p.clk.Now().Add(d); p.clk.Now().Before(end); {
		p.clk.Advance(tickEvery)
		p.settle()
	}
}

func (p *pair) setRole(n *node, r Role) {
	n.role = r
	n.r.setRole(r)
	p.settle()
}

func (p *pair) start(aRole, bRole Role) {
	for _, n := range []*node{p.a, p.b} {
		n.r.Apply(testConfig())
	}
	p.setRole(p.a, aRole)
	p.setRole(p.b, bRole)
	p.advance(50 * time.Millisecond)
}

func inside(port uint16) conntrack.Entry {
	return conntrack.Entry{
		Proto: conntrack.ProtoTCP, Status: conntrack.StatusConfirmed | conntrack.StatusAssured | conntrack.StatusSeenReply | conntrack.StatusSrcNAT,
		Timeout: 432000, TCPState: 3,
		Orig:  conntrack.Tuple{Src: netip.MustParseAddr("192.0.2.10"), Dst: server, SrcPort: port, DstPort: 5000},
		Reply: conntrack.Tuple{Src: server, Dst: vipOut, SrcPort: 5000, DstPort: port},
	}
}

func keysOf(es []conntrack.Entry) map[uint16]bool {
	m := map[uint16]bool{}
	for _, e := range es {
		m[e.Orig.SrcPort] = true
	}
	return m
}

func wantPorts(t *testing.T, tb *fake.Table, ports ...uint16) {
	t.Helper()
	got := keysOf(tb.Entries())
	if len(got) != len(ports) {
		t.Fatalf("table holds %v, want ports %v", got, ports)
	}
	for _, p := range ports {
		if !got[p] {
			t.Fatalf("table holds %v, want ports %v", got, ports)
		}
	}
}

func TestReplicatesForwardedConnectionsOnly(t *testing.T) {
	p := newPair(t)
	p.start(RoleActive, RoleStandby)
	if !p.a.tb.EventsOn() {
		t.Error("events for existing entries not enabled")
	}
	if !p.a.tb.Listening() || p.b.tb.Listening() {
		t.Errorf("listening: active %v, standby %v; want only the active", p.a.tb.Listening(), p.b.tb.Listening())
	}
	p.a.tb.Emit(conntrack.EventNew, inside(1001))
	plain := inside(1002)
	plain.Status &^= conntrack.StatusSrcNAT
	plain.Reply.Dst = plain.Orig.Src
	p.a.tb.Emit(conntrack.EventNew, plain)
	own := inside(1003) // a probe from the unit's own address
	own.Status &^= conntrack.StatusSrcNAT
	own.Orig.Src, own.Reply.Dst = vipOut, vipOut
	p.a.tb.Emit(conntrack.EventNew, own)
	p.advance(50 * time.Millisecond)
	wantPorts(t, p.b.tb, 1001, 1002)
	sa, sb := p.a.r.Stats(), p.b.r.Stats()
	if sa.TCP.Xmit != 2 || sa.Xlate.Xmit != 1 || sb.TCP.Rcv != 2 || sb.Xlate.Rcv != 1 {
		t.Errorf("stats a %+v b %+v", sa, sb)
	}
	if sa.XmitCur != 0 {
		t.Errorf("%d records still unacknowledged", sa.XmitCur)
	}
	if c := p.b.r.Counts(); c.Conns != 2 || c.Xlates != 1 || c.TCP != 2 {
		t.Errorf("standby counts %+v", c)
	}
	if c := p.a.r.Counts(); c.Conns != 2 || c.Xlates != 1 {
		t.Errorf("active counts %+v", c)
	}
	if got := p.a.r.ShowConnCount() + p.a.r.ShowXlateCount(); got != "2 in use, 2 most used\n1 in use, 1 most used\n" {
		t.Errorf("active show conn/xlate count:\n%s", got)
	}
	if got := p.b.r.ShowConnCount() + p.b.r.ShowXlateCount(); got != "2 in use, 2 most used\n1 in use, 1 most used\n" {
		t.Errorf("standby show conn/xlate count:\n%s", got)
	}
	// An update and a delete follow.
	up := inside(1001)
	up.TCPState = 4
	p.a.tb.Emit(conntrack.EventUpdate, up)
	p.a.tb.Emit(conntrack.EventDestroy, plain)
	p.advance(50 * time.Millisecond)
	wantPorts(t, p.b.tb, 1001)
	if got := p.b.tb.Entries()[0].TCPState; got != 4 {
		t.Errorf("standby TCP state %d, want 4", got)
	}
	if got := p.b.r.ShowConnCount() + p.b.r.ShowXlateCount(); got != "1 in use, 2 most used\n1 in use, 1 most used\n" {
		t.Errorf("standby show conn/xlate count after a delete:\n%s", got)
	}
}

func TestStandbyAcceptsOnlyFromActiveMate(t *testing.T) {
	p := newPair(t)
	p.start(RoleActive, RoleStandby)
	bt := AppendBatch(nil, &Batch{Stream: 7, Seq: 1, Flags: FlagBulkBegin | FlagBulkEnd, Records: []Record{{Entry: inside(2000)}}})
	p.b.r.Received(uint8(KindBatch), bt, false, false)
	p.settle()
	wantPorts(t, p.b.tb)
	if s := p.b.r.Stats(); s.TCP.Rerr != 1 || s.TCP.Rcv != 0 {
		t.Errorf("stats %+v, want one rejected", s.TCP)
	}
	// The active unit itself never applies state.
	p.a.r.Received(uint8(KindBatch), bt, true, false)
	p.settle()
	wantPorts(t, p.a.tb)
	// Malformed payloads are counted apart.
	p.b.r.Received(uint8(KindBatch), bt[:len(bt)-1], true, false)
	if s := p.b.r.Stats(); s.Malformed != 1 {
		t.Errorf("malformed %d, want 1", s.Malformed)
	}
}

// The unit leaving the active role tells the replicator first; the
// kernel's masquerade flush that follows the address removal must never
// reach the new active, and the new standby starts from a clean table.
func TestLeavingActiveStopsSendingBeforeFlush(t *testing.T) {
	p := newPair(t)
	p.start(RoleActive, RoleStandby)
	for port := uint16(3000); port < 3005; port++ {
		p.a.tb.Emit(conntrack.EventNew, inside(port))
	}
	ownA := inside(3999)
	ownA.Status &^= conntrack.StatusSrcNAT
	ownA.Orig.Dst = vipOut // management connection to the unit
	p.a.tb.Put(ownA)
	p.advance(50 * time.Millisecond)
	wantPorts(t, p.b.tb, 3000, 3001, 3002, 3003, 3004)

	// Planned switchover: b becomes active, then a becomes standby and
	// releases its addresses; the kernel flushes a's masqueraded entries.
	p.setRole(p.b, RoleActive)
	p.a.role = RoleStandby
	p.a.r.setRole(RoleStandby)
	for port := uint16(3000); port < 3005; port++ {
		p.a.tb.Emit(conntrack.EventDestroy, inside(port))
	}
	p.advance(100 * time.Millisecond)
	wantPorts(t, p.b.tb, 3000, 3001, 3002, 3003, 3004)
	// a got b's table back by a bulk synchronisation and kept its own
	// connection.
	p.advance(100 * time.Millisecond)
	wantPorts(t, p.a.tb, 3000, 3001, 3002, 3003, 3004, 3999)
	if !p.a.r.Synced() {
		t.Error("new standby not synced after the bulk")
	}
}

func TestStandbyFlushesOwnForwardedEntries(t *testing.T) {
	p := newPair(t)
	stale := inside(4000)
	p.b.tb.Put(stale)
	own := inside(4001)
	own.Status &^= conntrack.StatusSrcNAT
	own.Orig.Src = standby
	p.b.tb.Put(own)
	p.start(RoleActive, RoleStandby)
	p.advance(50 * time.Millisecond)
	wantPorts(t, p.b.tb, 4001)
}

func TestGapIsResentOrBulkSynced(t *testing.T) {
	p := newPair(t)
	p.start(RoleActive, RoleStandby)
	// Lose the next batch from a.
	lost := 0
	p.drop = func(from *node, kind Kind, _ []byte) bool {
		if from == p.a && kind == KindBatch && lost == 0 {
			lost++
			return true
		}
		return false
	}
	p.a.tb.Emit(conntrack.EventNew, inside(5000))
	p.settle()
	wantPorts(t, p.b.tb)
	p.a.tb.Emit(conntrack.EventNew, inside(5001)) // b sees the gap and naks
	p.advance(50 * time.Millisecond)
	wantPorts(t, p.b.tb, 5000, 5001)
	bulks := p.a.r.Stats().BulkSyncs

	// A lost last batch is found by the resend timer.
	lost = 0
	p.a.tb.Emit(conntrack.EventNew, inside(5002))
	p.advance(50 * time.Millisecond)
	wantPorts(t, p.b.tb, 5000, 5001)
	p.advance(resendAfter + 50*time.Millisecond)
	wantPorts(t, p.b.tb, 5000, 5001, 5002)
	if got := p.a.r.Stats().BulkSyncs; got != bulks {
		t.Errorf("bulk syncs %d -> %d, want resends only", bulks, got)
	}

	// A gap the active no longer holds ends in a bulk.
	p.mu.Lock()
	p.links = false
	p.mu.Unlock()
	p.a.tb.Emit(conntrack.EventNew, inside(5003))
	p.settle()
	p.a.r.unacked = nil // forgotten, as after maxUnacked batches
	p.mu.Lock()
	p.links = true
	p.mu.Unlock()
	p.a.tb.Emit(conntrack.EventNew, inside(5004))
	p.advance(100 * time.Millisecond)
	wantPorts(t, p.b.tb, 5000, 5001, 5002, 5003, 5004)
	if got := p.a.r.Stats().BulkSyncs; got != bulks+1 {
		t.Errorf("bulk syncs %d -> %d, want one more", bulks, got)
	}
}

func TestBulkRemovesWhatTheActiveLacks(t *testing.T) {
	p := newPair(t)
	p.start(RoleActive, RoleStandby)
	p.a.tb.Emit(conntrack.EventNew, inside(6000))
	p.advance(50 * time.Millisecond)
	// The link is down while a connection ends.
	p.mu.Lock()
	p.links = false
	p.mu.Unlock()
	p.a.tb.Emit(conntrack.EventDestroy, inside(6000))
	p.a.tb.Emit(conntrack.EventNew, inside(6001))
	p.advance(peerTimeout + 100*time.Millisecond) // a stops sending to nobody
	if s := p.a.r.Stats(); s.XmitCur != 0 {
		t.Errorf("a still holds %d records for a standby that is gone", s.XmitCur)
	}
	p.mu.Lock()
	p.links = true
	p.mu.Unlock()
	// b's heartbeat ack names a stream a no longer sends: whole table.
	p.advance(heartbeat + bulkSpacing)
	wantPorts(t, p.b.tb, 6001)
}

func TestLateStandbyGetsWholeTable(t *testing.T) {
	p := newPair(t)
	for port := uint16(7000); port < 7400; port++ {
		p.a.tb.Put(inside(port)) // connections from before the daemon started
	}
	p.start(RoleActive, RoleIdle)
	p.a.tb.Emit(conntrack.EventNew, inside(7400))
	p.advance(50 * time.Millisecond)
	if n := len(p.b.tb.Entries()); n != 0 {
		t.Fatalf("an idle unit holds %d replicas", n)
	}
	if p.a.r.Stats().TCP.Xmit != 0 {
		t.Error("the active sent without a standby")
	}
	p.b.role = RoleStandby
	p.b.r.setRole(RoleStandby)
	if p.b.r.Synced() {
		t.Error("a joining standby claims to be synced before the bulk")
	}
	p.advance(200 * time.Millisecond)
	if n := len(p.b.tb.Entries()); n != 401 {
		t.Fatalf("standby holds %d entries after the bulk, want 401", n)
	}
	if !p.b.r.Synced() {
		t.Error("standby not synced after the bulk")
	}
	if s := p.b.r.Stats(); s.BulkSyncs != 1 || s.TCP.Rcv != 401 {
		t.Errorf("standby stats %+v", s)
	}
}

// A unit that becomes active keeps the replicas it holds and sends them
// on to its own standby when one joins.
func TestNewActiveServesItsReplicas(t *testing.T) {
	p := newPair(t)
	p.start(RoleActive, RoleStandby)
	p.a.tb.Emit(conntrack.EventNew, inside(8000))
	p.advance(50 * time.Millisecond)
	p.setRole(p.a, RoleIdle) // power failure as b sees it
	p.setRole(p.b, RoleActive)
	p.advance(50 * time.Millisecond)
	wantPorts(t, p.b.tb, 8000)
	if c := p.b.r.Counts(); c.Conns != 1 {
		t.Errorf("new active counts %+v", c)
	}
	p.a.tb.Emit(conntrack.EventDestroy, inside(8000)) // a's address lifetime expired
	p.setRole(p.a, RoleStandby)
	p.advance(200 * time.Millisecond)
	wantPorts(t, p.b.tb, 8000)
	wantPorts(t, p.a.tb, 8000)
}

// The kernel refreshes a UDP entry's timeout with every packet, without an
// event: the active sends short-timeout entries again now and then, with
// their current timeout, and never brings back one that ended since.
func TestRefreshShortTimeouts(t *testing.T) {
	p := newPair(t)
	p.start(RoleActive, RoleStandby)
	udp := inside(9000)
	udp.Proto, udp.TCPState, udp.Timeout = conntrack.ProtoUDP, 0, 30
	gone := udp
	gone.Orig.SrcPort, gone.Reply.DstPort = 9001, 9001
	p.a.tb.Emit(conntrack.EventNew, udp)
	p.a.tb.Emit(conntrack.EventNew, gone)
	p.a.tb.Emit(conntrack.EventNew, inside(9002)) // established TCP
	p.advance(50 * time.Millisecond)
	wantPorts(t, p.b.tb, 9000, 9001, 9002)
	sent := p.a.r.Stats().UDP.Xmit

	udp.Timeout = 29 // packets flowed: the kernel's timeout was reset
	p.a.tb.Put(udp)
	p.a.tb.Emit(conntrack.EventDestroy, gone)
	p.advance(refreshEvery + 100*time.Millisecond)
	wantPorts(t, p.b.tb, 9000, 9002)
	if got := p.a.r.Stats().UDP.Xmit - sent; got != 2 { // the delete and the refresh
		t.Errorf("%d UDP objects sent in the refresh period, want 2", got)
	}
	if tcp := p.a.r.Stats().TCP.Xmit; tcp != 1 {
		t.Errorf("established TCP sent %d times, want once", tcp)
	}
	for _, e := range p.b.tb.Entries() {
		if e.Orig.SrcPort == 9000 && e.Timeout != 29 {
			t.Errorf("standby's UDP timeout %d, want the refreshed 29", e.Timeout)
		}
	}
}

type fakeGuard struct {
	mu    sync.Mutex
	modes []stateguard.Mode
}

func (g *fakeGuard) Set(m stateguard.Mode) error {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.modes = append(g.modes, m)
	return nil
}

func (g *fakeGuard) last() stateguard.Mode {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.modes) == 0 {
		return 255
	}
	return g.modes[len(g.modes)-1]
}

// The firewall table follows the role: on the active unit the window of
// `failover timeout` after the takeover, then strict; none elsewhere, and
// none once replication is off.
func TestGuardFollowsRoleAndTimeout(t *testing.T) {
	p := newPair(t)
	ga, gb := &fakeGuard{}, &fakeGuard{}
	p.a.r.o.Guard, p.b.r.o.Guard = ga, gb
	c := testConfig()
	c.Failover.Timeout = 30
	p.a.r.Apply(c)
	p.b.r.Apply(c)
	p.setRole(p.a, RoleActive)
	p.setRole(p.b, RoleStandby)
	p.settle()
	if ga.last() != stateguard.Window || gb.last() != stateguard.Off {
		t.Fatalf("after the takeover: a %v, b %v; want Window, Off", ga.modes, gb.modes)
	}
	p.advance(29 * time.Second)
	if ga.last() != stateguard.Window {
		t.Fatalf("window ended early: %v", ga.modes)
	}
	p.advance(2 * time.Second)
	if ga.last() != stateguard.Strict {
		t.Fatalf("after the window: %v, want Strict", ga.modes)
	}
	p.setRole(p.a, RoleStandby)
	if ga.last() != stateguard.Off {
		t.Fatalf("standby: %v, want Off", ga.modes)
	}
	p.setRole(p.b, RoleActive)
	off := testConfig()
	off.Failover.Link = ""
	p.b.r.Apply(off)
	p.settle()
	if gb.last() != stateguard.Off || len(gb.modes) < 3 {
		t.Fatalf("replication off: %v, want ... Window, Off", gb.modes)
	}
}

type fakeNeigh struct {
	mu      sync.Mutex
	learned []dataplane.LinkNeighbor
	set     []dataplane.LinkNeighbor
}

func (f *fakeNeigh) LearnedNeighbors() ([]dataplane.LinkNeighbor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.learned), nil
}

func (f *fakeNeigh) SetStaleNeighbors(ns []dataplane.LinkNeighbor) []error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.set = append(f.set, ns...)
	return make([]error, len(ns))
}

func (f *fakeNeigh) sets() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []string
	for _, n := range f.set {
		out = append(out, n.Link+" "+n.IP.String()+" "+n.MAC.String())
	}
	return out
}

// The active's learned neighbours on data links reach the standby's
// kernel (as STALE); the failover link's do not; a changed MAC is sent
// again, an unchanged one not.
func TestNeighboursReplicated(t *testing.T) {
	p := newPair(t)
	na, nb := &fakeNeigh{}, &fakeNeigh{}
	p.a.r.o.Neigh, p.b.r.o.Neigh = na, nb
	c := testConfig()
	c.Failover.LanIf = "lan"
	c.Interfaces = append(c.Interfaces, &config.Interface{HW: "eth-lan", Name: "lan", Addr: netip.MustParsePrefix("192.0.2.129/30")})
	gw := netip.MustParseAddr("198.51.100.1")
	na.learned = []dataplane.LinkNeighbor{
		{Link: "out", IP: gw, MAC: net.HardwareAddr{2, 0, 0, 0, 0, 1}},
		{Link: "in", IP: netip.MustParseAddr("192.0.2.10"), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 10}},
		{Link: "eth-lan", IP: netip.MustParseAddr("192.0.2.130"), MAC: net.HardwareAddr{2, 0, 0, 0, 0, 130}},
	}
	p.a.r.Apply(c)
	p.b.r.Apply(c)
	p.setRole(p.a, RoleActive)
	p.setRole(p.b, RoleStandby)
	p.advance(neighEvery + 100*time.Millisecond)
	want := []string{"out 198.51.100.1 02:00:00:00:00:01", "in 192.0.2.10 02:00:00:00:00:0a"}
	if got := nb.sets(); !slices.Equal(got, want) && !slices.Equal(got, []string{want[1], want[0]}) {
		t.Fatalf("standby set %q, want %q", got, want)
	}
	na.mu.Lock()
	na.learned[0].MAC = net.HardwareAddr{2, 0, 0, 0, 0, 2} // the gateway was replaced
	na.mu.Unlock()
	p.advance(neighEvery + 100*time.Millisecond)
	if got := nb.sets(); len(got) != 3 || got[2] != "out 198.51.100.1 02:00:00:00:00:02" {
		t.Fatalf("standby set %q after the MAC change", got)
	}
	if sa, sb := p.a.r.Stats().ARP, p.b.r.Stats().ARP; sa.Xmit != 3 || sb.Rcv != 3 || sb.Rerr != 0 {
		t.Errorf("ARP rows: active %+v, standby %+v", sa, sb)
	}
}

// A lossy link during a large bulk: every batch lost once in seven is
// resent (the standby naks the gap, the active resends all that follows,
// paced) and the standby ends with the whole table.
func TestLossyBulkCompletes(t *testing.T) {
	p := newPair(t)
	const n = 6000
	for port := range uint16(n) {
		p.a.tb.Put(inside(10000 + port))
	}
	p.start(RoleActive, RoleIdle)
	seen := map[uint64]bool{}
	p.drop = func(from *node, kind Kind, payload []byte) bool {
		if from != p.a || kind != KindBatch {
			return false
		}
		bt, err := DecodeBatch(payload)
		if err != nil || seen[bt.Seq] {
			return false
		}
		seen[bt.Seq] = true
		return bt.Seq%7 == 3
	}
	p.setRole(p.b, RoleStandby)
	for i := 0; i < 500 && !p.b.r.Synced(); i++ {
		p.advance(50 * time.Millisecond)
	}
	if got := len(p.b.tb.Entries()); got != n || !p.b.r.Synced() {
		t.Fatalf("standby holds %d of %d entries (synced %v)", got, n, p.b.r.Synced())
	}
}

// Lost events (a socket overrun): the active reads its table again once
// the listener is back and sends all of it, so what the lost events
// carried reaches the standby.
func TestOverrunResyncs(t *testing.T) {
	p := newPair(t)
	p.start(RoleActive, RoleStandby)
	p.a.tb.Emit(conntrack.EventNew, inside(11000))
	p.advance(50 * time.Millisecond)
	p.a.tb.Put(inside(11001)) // its event was lost
	bulks := p.a.r.Stats().BulkSyncs
	p.a.tb.Overrun()
	p.advance(300 * time.Millisecond)
	wantPorts(t, p.b.tb, 11000, 11001)
	if got := p.a.r.Stats().BulkSyncs; got != bulks+1 {
		t.Errorf("bulk syncs %d -> %d, want one after the overrun", bulks, got)
	}
}
