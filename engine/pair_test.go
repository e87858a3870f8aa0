package engine_test

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"failover/engine"
	"failover/engine/cli"
	"failover/engine/clock"
	"failover/engine/dataplane"
	"failover/engine/dataplane/dataplanetest"
	"failover/engine/probe/probetest"
	"failover/engine/transport"
	"failover/engine/unit"
	"failover/engine/uplink"
)

// Two whole engines (real unit, real uplink tracker, the engine's own
// configuration path) on fake kernels, joined by an in-memory network and
// driven by one fake clock. Each engine runs its own event loop, as in the
// daemon; the test moves time in small steps and lets both loops drain
// between steps.

const pairPrimary = `hostname fw
interface outside auto
interface inside auto
interface failover auto
nameif outside outside security0
nameif inside inside security100
nameif failover failover security0
ip address outside 198.51.100.2 255.255.255.240
ip address inside 192.0.2.1 255.255.255.240
ip address failover 192.0.2.17 255.255.255.248
failover ip address outside 198.51.100.3
failover ip address inside 192.0.2.2
failover ip address failover 192.0.2.18
failover lan unit primary
failover lan interface failover
failover lan key pair-test-key
failover lan enable
failover polltime unit 1 holdtime 3
sla monitor 10
 type echo protocol ipIcmpEcho 203.0.113.1 interface outside
 timeout 500
 frequency 1
sla monitor schedule 10 life forever start-time now
track 1 rtr 10 reachability
route outside 0.0.0.0 0.0.0.0 198.51.100.1 1 track 1
failover
`

// pairSecondary is the bootstrap configuration: everything else comes from
// the active unit.
const pairSecondary = `interface failover auto
nameif failover failover security0
ip address failover 192.0.2.17 255.255.255.248
failover ip address failover 192.0.2.18
failover lan unit secondary
failover lan interface failover
failover lan key pair-test-key
failover lan enable
failover polltime unit 1 holdtime 3
failover
`

var pairLinks = []string{"outside", "inside", "failover"}

type pairBox struct {
	name   string
	e      *engine.Engine
	dp     *dataplanetest.Fake
	ep     *transport.MemEndpoint
	s      *cli.Session
	cancel context.CancelFunc
	done   chan struct{}
}

type enginePair struct {
	t   *testing.T
	net *transport.MemNetwork
	clk *clock.Fake
	pr  *probetest.Fake
	box []*pairBox
}

func newEnginePair(t *testing.T) *enginePair {
	pr := probetest.NewFake()
	pr.Set("203.0.113.1", true)
	return &enginePair{t: t, net: transport.NewMemNetwork(), clk: clock.NewFake(), pr: pr}
}

// start boots a box called name from startup-config cfg, wired as the
// daemon wires it (cmd/failoverd), on a fake kernel and the shared network.
func (p *enginePair) start(name, cfg string) *pairBox {
	t := p.t
	t.Helper()
	path := filepath.Join(t.TempDir(), "startup-config")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	b := &pairBox{name: name, dp: dataplanetest.NewFake(), ep: p.net.Endpoint(name), done: make(chan struct{})}
	for i, l := range pairLinks {
		mac := "02:00:00:0" + strings.ToLower(name[:1]) + ":00:0" + string(rune('1'+i))
		if err := b.dp.AddLink(l, mac); err != nil {
			t.Fatal(err)
		}
	}
	e, err := engine.New(engine.Options{
		Clock: p.clk, ConfigPath: path, DP: b.dp, Prober: p.pr,
		NewUplink: func(e *engine.Engine) engine.Uplink {
			return uplink.New(uplink.Options{Clock: e.Clock(), DP: e.DP(), Prober: e.Prober(), Post: e.Post, Syslog: e.Syslog})
		},
		NewUnit: func(e *engine.Engine) engine.Unit {
			return unit.New(unit.Options{Clock: e.Clock(), DP: e.DP(), Transport: b.ep, Post: e.Post, Syslog: e.Syslog, Hooks: e.UnitRequests()})
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	b.e = e
	ctx, cancel := context.WithCancel(context.Background())
	b.cancel = cancel
	go func() {
		defer close(b.done)
		if err := e.Run(ctx); err != nil {
			t.Errorf("%s: Run: %v", name, err)
		}
	}()
	t.Cleanup(b.stop)
	b.s = sessionsOf(e).NewSession(false)
	b.exec(t, "enable")
	p.box = append(p.box, b)
	p.drain()
	return b
}

func (b *pairBox) stop() {
	b.cancel()
	<-b.done
}

// exec runs one line in the box's session and fails the test on an error.
func (b *pairBox) exec(t *testing.T, line string) string {
	t.Helper()
	r := b.s.Exec(line)
	if r.Failed() {
		t.Fatalf("%s: %q: %s", b.name, line, r.Err)
	}
	return r.Output
}

// drain waits until every running loop has handled what was posted to it
// and every received packet has been taken in.
func (p *enginePair) drain() {
	for range 3 {
		for _, b := range p.box {
			select {
			case <-b.done:
				continue
			default:
			}
			deadline := time.Now().Add(5 * time.Second)
			for len(b.ep.Recv()) > 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			b.e.ConfigSnapshot() // a round trip through the loop
		}
	}
}

// until advances the fake clock in 100 ms steps until cond holds, and
// fails the test after limit of fake time.
func (p *enginePair) until(what string, limit time.Duration, cond func() bool) {
	p.t.Helper()
	for start := p.clk.Now(); !cond(); {
		if p.clk.Now().Sub(start) >= limit {
			for _, b := range p.box {
				p.t.Logf("%s:\n%s\n%s", b.name, b.s.Exec("show failover").Output, b.dp)
			}
			p.t.Fatalf("%s: not within %s", what, limit)
		}
		p.clk.Advance(100 * time.Millisecond)
		p.drain()
	}
}

// state is the box's own line of show failover, such as "Primary - Active".
func (b *pairBox) state(t *testing.T) string {
	t.Helper()
	out := b.exec(t, "show failover")
	for l := range strings.Lines(out) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "This host:"); ok {
			return strings.Join(strings.Fields(v), " ")
		}
	}
	t.Fatalf("%s: no This host line in show failover:\n%s", b.name, out)
	return ""
}

func (b *pairBox) stateIs(t *testing.T, want string) func() bool {
	return func() bool { return b.state(t) == want }
}

// addrs lists the box's kernel addresses as "link prefix".
func (b *pairBox) addrs(t *testing.T) []string {
	t.Helper()
	out, err := b.dp.AddrList(pairLinks...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func (b *pairBox) hasDefaultVia(gw string) func() bool {
	return func() bool {
		rs, err := b.dp.OwnedRoutes()
		if err != nil {
			return false
		}
		return slices.ContainsFunc(rs, func(r dataplane.Route) bool {
			return r.Dst.Bits() == 0 && r.Table == 0 && r.Gw.String() == gw
		})
	}
}

func TestEnginePairBootstrapReplicationTakeover(t *testing.T) {
	p := newEnginePair(t)
	a := p.start("A", pairPrimary)
	b := p.start("B", pairSecondary)

	// Bootstrap: the primary becomes active, the secondary standby and
	// gets the whole configuration.
	p.until("A active and B standby", time.Minute, func() bool {
		return a.state(t) == "Primary - Active" && b.state(t) == "Secondary - Standby"
	})
	p.until("B has the primary's configuration", 10*time.Second, func() bool {
		return strings.Contains(b.exec(t, "show running-config"), "ip address outside 198.51.100.2 255.255.255.240")
	})
	sys := []string{"failover 192.0.2.17/29", "inside 192.0.2.1/28", "outside 198.51.100.2/28"}
	stby := []string{"failover 192.0.2.18/29", "inside 192.0.2.2/28", "outside 198.51.100.3/28"}
	p.until("A holds the system addresses and B the standby ones", 10*time.Second, func() bool {
		return slices.Equal(a.addrs(t), sys) && slices.Equal(b.addrs(t), stby)
	})
	p.until("A routes via ISP1", 30*time.Second, a.hasDefaultVia("198.51.100.1"))
	// The standby routes too, from its standby addresses: its own traffic
	// (syslog, name lookups) can leave, and it holds no system address.
	p.until("B routes via ISP1 too", 30*time.Second, b.hasDefaultVia("198.51.100.1"))

	// Replication: lines typed on the active reach the standby's
	// configuration and kernel through its engine.
	a.exec(t, "configure terminal")
	a.exec(t, "hostname fw-new")
	a.exec(t, "failover ip address inside 192.0.2.3")
	p.until("B has the replicated lines", 10*time.Second, func() bool {
		rc := b.exec(t, "show running-config")
		return strings.Contains(rc, "hostname fw-new") && strings.Contains(rc, "failover ip address inside 192.0.2.3")
	})
	if out := a.exec(t, "write standby"); out != "Building configuration...\n[OK]\n" {
		t.Errorf("write standby printed %q, want ASA's progress lines", out)
	}
	if r := b.s.Exec("write standby"); !strings.Contains(r.Err, "not active") || r.Output != "" {
		t.Errorf("write standby on the standby: %+v, want an error and no progress", r)
	}
	stby = []string{"failover 192.0.2.18/29", "inside 192.0.2.3/28", "outside 198.51.100.3/28"}
	p.until("B's kernel follows the replicated standby address", 10*time.Second, func() bool {
		return slices.Equal(b.addrs(t), stby)
	})
	if got := a.addrs(t); !slices.Equal(got, sys) {
		t.Errorf("A's addresses after the change = %v, want %v", got, sys)
	}

	// Takeover: A dies without a word (its frames stop on every link).
	for _, l := range pairLinks {
		p.net.CutFrom(l, "A")
	}
	a.stop()
	p.until("B active", 10*time.Second, b.stateIs(t, "Secondary - Active"))
	// The failover link keeps each unit's own address; the data
	// interfaces' system addresses move.
	took := []string{"failover 192.0.2.18/29", "inside 192.0.2.1/28", "outside 198.51.100.2/28"}
	p.until("B holds the system addresses", 5*time.Second, func() bool { return slices.Equal(b.addrs(t), took) })
	p.until("B routes via ISP1", 30*time.Second, b.hasDefaultVia("198.51.100.1"))
	var announced []string
	for _, g := range b.dp.GARPs() {
		announced = append(announced, g.IP.String())
	}
	for _, ip := range []string{"198.51.100.2", "192.0.2.1"} {
		if !slices.Contains(announced, ip) {
			t.Errorf("B sent no gratuitous ARP for %s (sent %v)", ip, announced)
		}
	}
	if !strings.Contains(b.exec(t, "show running-config"), "hostname fw-new") {
		t.Error("B lost the replicated hostname at takeover")
	}
}
