package lab

// Recorded failover datagrams replayed after the daemons restarted: the
// attack that once split the pair for good with a single datagram.

import (
	"net/netip"
	"sync"
	"testing"
	"time"

	"failover/engine/wire"
)

// Addresses of the sample configuration and the lab (examples/lab/README.md).
var (
	replayPriLAN  = netip.MustParseAddr("192.0.2.17")
	replaySecLAN  = netip.MustParseAddr("192.0.2.18")
	replayPriOut  = netip.MustParseAddr("198.51.100.2")
	replaySecOut  = netip.MustParseAddr("198.51.100.3")
	replayPriIn   = netip.MustParseAddr("192.0.2.1")
	replaySecIn   = netip.MustParseAddr("192.0.2.2")
	replayISP1    = netip.MustParseAddr("198.51.100.1")
	replayClient  = netip.MustParseAddr("192.0.2.10")
	replayBeyond  = netip.MustParseAddr("203.0.113.10") // the server, behind the ISPs
	replayShutKey = wire.NewCodec([]byte(pairKey))
)

// isShutdownHello says whether b is a hello announcing a clean shutdown.
func isShutdownHello(b []byte) bool {
	m, err := replayShutKey.Decode(b)
	if err != nil {
		return false
	}
	h, ok := m.Body.(*wire.Hello)
	return ok && h.Flags&wire.HelloShuttingDown != 0
}

// replayRecord captures real datagrams of the running pair: both units'
// hellos on the failover link and interface hellos on outside and inside.
func (l *pairLab) replayRecord() [][]byte {
	l.tb.Helper()
	var rec [][]byte
	for _, c := range []struct {
		ns, dev string
		src     netip.Addr
		typ     wire.Type
	}{
		{"sec", "failover", replayPriLAN, wire.TypeHello},
		{"pri", "failover", replaySecLAN, wire.TypeHello},
		{"sec", "outside", replayPriOut, wire.TypeIfHello},
		{"pri", "outside", replaySecOut, wire.TypeIfHello},
		{"sec", "inside", replayPriIn, wire.TypeIfHello},
		{"pri", "inside", replaySecIn, wire.TypeIfHello},
	} {
		rec = append(rec, l.pairCapture(l.ns(c.ns), c.dev, c.src, c.typ, 2, 10*time.Second)...)
	}
	return rec
}

// replayStopRecording stops unit cleanly and returns its shutdown hello as
// its mate received it.
func (l *pairLab) replayStopRecording(unit string) []byte {
	l.tb.Helper()
	mateNS, src := l.ns("sec"), replayPriLAN
	if unit == "secondary" {
		mateNS, src = l.ns("pri"), replaySecLAN
	}
	var got [][]byte
	var err error
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		got, err = l.pairCaptureWhere(mateNS, "failover", src, isShutdownHello, 1, 10*time.Second)
	}()
	time.Sleep(300 * time.Millisecond) // the capture socket is open
	l.mustLab("stop", unit)
	wg.Wait()
	if err != nil {
		l.tb.Fatalf("no shutdown hello of the %s: %v", unit, err)
	}
	return got[0]
}

// replayPath is one way an attacker reaches a unit.
type replayPath struct {
	name     string
	ns       string // where the attacker sends from
	src, dst netip.Addr
	ttl      int // 0: the system default
	target   string
}

func replayPaths(l *pairLab) []replayPath {
	return []replayPath{
		{"failover link", l.ns("pri"), replayPriLAN, replaySecLAN, 255, "secondary"},
		{"failover link", l.ns("sec"), replaySecLAN, replayPriLAN, 255, "primary"},
		{"outside segment", l.ns("isp1"), replayISP1, replaySecOut, 255, "secondary"},
		{"outside segment", l.ns("isp1"), replayISP1, replayPriOut, 255, "primary"},
		{"inside segment", l.ns("client"), replayClient, replaySecIn, 255, "secondary"},
		{"inside segment", l.ns("client"), replayClient, replayPriIn, 255, "primary"},
		{"beyond the ISP", l.ns("inet"), replayBeyond, replaySecOut, 255, "secondary"},
		{"beyond the ISP", l.ns("inet"), replayBeyond, replayPriOut, 255, "primary"},
		{"beyond the ISP, default TTL", l.ns("inet"), replayBeyond, replayPriOut, 0, "primary"},
	}
}

// replayHistoryLen counts the lines of unit's show failover history.
func (l *pairLab) replayHistoryLen(unit string) int {
	return len(nonEmptyLines(l.mustFosh(unit, "show failover history")))
}

// The pair runs; datagrams are recorded on the failover link and on the
// outside and inside segments, with a shutdown hello; both daemons restart
// (maintenance). Every recording is then replayed at the standby and at the
// active, on every segment and routed from beyond the ISP: nothing changes,
// and every datagram is counted as rejected.
func TestPairReplayAfterRestart(t *testing.T) {
	l := newPairLab(t, "")
	l.waitPair("primary", "secondary", 20*time.Second)
	rec := l.replayRecord()
	rec = append(rec, l.replayStopRecording("primary"))
	l.mustLab("stop", "secondary")
	l.mustLab("start", "primary")
	l.mustLab("start", "secondary")
	l.waitPair("primary", "secondary", 30*time.Second)
	time.Sleep(pairIfHold) // interface hellos and tests settle

	hist := map[string]int{}
	before := map[string]pairFailover{}
	for _, u := range []string{"primary", "secondary"} {
		hist[u] = l.replayHistoryLen(u)
		before[u] = l.mustFailover(u)
	}
	sent := map[string]int{}
	for _, p := range replayPaths(l) {
		if err := l.pairSendTTL(p.ns, p.src, p.dst, p.ttl, rec); err != nil {
			t.Fatalf("%s to the %s: %v", p.name, p.target, err)
		}
		sent[p.target] += len(rec)
	}
	time.Sleep(pairHold + 2*time.Second)

	for _, u := range []string{"primary", "secondary"} {
		f := l.mustFailover(u)
		t.Logf("%s: rerr %d -> %d after %d replayed datagrams", u, before[u].rerr, f.rerr, sent[u])
		if got := f.rerr - before[u].rerr; got < sent[u] {
			t.Errorf("%s's rerr grew by %d, want at least %d (every replayed datagram)\n%s", u, got, sent[u], f.text)
		}
		if h := l.replayHistoryLen(u); h != hist[u] {
			t.Errorf("%s changed state during the replays:\n%s", u, l.mustFosh(u, "show failover history"))
		}
	}
	p, s := l.mustFailover("primary"), l.mustFailover("secondary")
	if p.this != "Active" || p.other != "Standby" || s.this != "Standby" || s.other != "Active" {
		t.Errorf("after the replays: primary %q (sees %q), secondary %q (sees %q); want Active/Standby hearing each other",
			p.this, p.other, s.this, s.other)
	}
	if !l.holds("primary", "inside", pairSystem) || l.holds("secondary", "inside", pairSystem) {
		t.Errorf("after the replays the primary must hold %s alone", pairSystem)
	}
	l.waitClientPing(5 * time.Second)
}

// An old shutdown hello of the primary, replayed (with its other recorded
// datagrams) at both units while the primary restarts: the secondary stays
// active, the primary comes back as its standby, and the two are never both
// holding the system address while they hear each other.
func TestPairOldShutdownHelloDuringRestart(t *testing.T) {
	l := newPairLab(t, "")
	l.waitPair("primary", "secondary", 20*time.Second)
	rec := l.replayRecord()
	rec = append(rec, l.replayStopRecording("primary"))
	l.mustLab("start", "primary")
	l.waitPair("secondary", "primary", 30*time.Second) // no preemption

	// The primary restarts while the attacker replays, on the failover
	// link, to both units.
	l.mustLab("stop", "primary")
	stop := make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		defer close(errc)
		for {
			for _, p := range replayPaths(l)[:2] {
				if err := l.pairSendTTL(p.ns, p.src, p.dst, p.ttl, rec); err != nil {
					errc <- err
					return
				}
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	}()
	start := time.Now()
	l.mustLab("start", "primary")
	both := 0
	for time.Since(start) < 2*pairHold+pairIfHold {
		if l.holds("primary", "inside", pairSystem) && l.holds("secondary", "inside", pairSystem) {
			both++
		}
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if both > 0 {
		t.Errorf("both units held %s in %d samples while the primary restarted", pairSystem, both)
	}
	l.waitPair("secondary", "primary", 10*time.Second)
	p, s := l.mustFailover("primary"), l.mustFailover("secondary")
	if p.other != "Active" || s.other != "Standby" {
		t.Errorf("primary sees its mate %q, secondary sees %q; want Active, Standby (hearing each other)", p.other, s.other)
	}
	// Still one active afterwards, well past the hold time.
	time.Sleep(pairHold + 2*time.Second)
	if p, s := l.mustFailover("primary"), l.mustFailover("secondary"); p.this != "Standby" || s.this != "Active" {
		t.Errorf("after the restart: primary %q, secondary %q; want Standby, Active", p.this, s.this)
	}
	l.waitClientPing(5 * time.Second)
}
