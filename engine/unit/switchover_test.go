package unit

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"failover/engine/dataplane"
	"failover/engine/dataplane/dataplanetest"
	"failover/engine/transport"
	"failover/engine/wire"
)

// traceDP is a unit's fake kernel that also logs, when the pair traces,
// what reaches the switches: MAC changes, mutes and gratuitous ARPs.
type traceDP struct {
	*dataplanetest.Fake
	name     string
	p        *pair
	fenceErr error // every Fence call fails with it (a kernel without nf_tables)
	// fenceEnd is when the fence trips as last armed (zero: none).
	fenceEnd time.Time
}

func (d *traceDP) Fence(ttl time.Duration, links []dataplane.FencedLink) error {
	if d.fenceErr != nil {
		return d.fenceErr
	}
	err := d.Fake.Fence(ttl, links)
	if err == nil {
		d.fenceEnd = time.Time{}
		if ttl > 0 && len(links) > 0 {
			d.fenceEnd = d.p.clk.Now().Add(ttl)
		}
	}
	return err
}

func (d *traceDP) SetMAC(link string, mac net.HardwareAddr) error {
	err := d.Fake.SetMAC(link, mac)
	if err == nil && d.p.trace {
		d.p.ev.add(fmt.Sprintf("%s setmac %s %s", d.name, link, mac))
	}
	return err
}

func (d *traceDP) MuteMAC(link string, mac, as net.HardwareAddr) error {
	err := d.Fake.MuteMAC(link, mac, as)
	if err == nil && d.p.trace {
		if mac == nil {
			d.p.ev.add(fmt.Sprintf("%s unmute %s", d.name, link))
		} else {
			d.p.ev.add(fmt.Sprintf("%s mute %s %s as %s", d.name, link, mac, as))
		}
	}
	return err
}

func (d *traceDP) GratuitousARP(link string, ip netip.Addr) error {
	err := d.Fake.GratuitousARP(link, ip)
	if err == nil && d.p.trace {
		d.p.ev.add(fmt.Sprintf("%s garp %s %s", d.name, link, ip))
	}
	return err
}

var opNames = map[wire.Op]string{
	wire.OpBecomeActive: "BecomeActive", wire.OpBecomeStandby: "BecomeStandby", wire.OpAckReady: "AckReady",
}

// traceRecv logs the planned-switchover control messages a unit receives.
func (p *pair) traceRecv(name string, pk transport.Packet) {
	if !p.trace {
		return
	}
	m, err := wire.NewCodec(nil).Decode(pk.Data)
	if err != nil {
		return
	}
	if c, ok := m.Body.(*wire.Control); ok && opNames[c.Op] != "" {
		p.ev.add(name + " recv " + opNames[c.Op])
	}
}

// switches replays a trace as the learning switches of the data segments
// see it (for the system MAC of each link, shared), assuming the worst: every unit may send a frame at any moment
// from the MAC it wears, unless it is muted. owners[link][mac] is every
// port the switch may send a frame for mac to. It fails the test when a
// frame could go to a unit that no longer wears that MAC (a frame lost).
func switches(t *testing.T, trace []string, wear map[string]map[string]string, shared map[string]string) {
	t.Helper()
	muted := map[string]map[string]bool{}
	owners := map[string]map[string]map[string]bool{} // link, mac, unit
	own := func(link, mac, unit string, only bool) {
		if owners[link] == nil {
			owners[link] = map[string]map[string]bool{}
		}
		if owners[link][mac] == nil || only {
			owners[link][mac] = map[string]bool{}
		}
		owners[link][mac][unit] = true
	}
	mayTalk := func() {
		for unit, links := range wear {
			for link, mac := range links {
				if !muted[unit][link] {
					own(link, mac, unit, false)
				}
			}
		}
	}
	mayTalk()
	for i, e := range trace {
		f := strings.Fields(e)
		if len(f) < 3 || (f[2] != hwOut && f[2] != hwIn) {
			continue
		}
		unit, what, link := f[0], f[1], f[2]
		if muted[unit] == nil {
			muted[unit] = map[string]bool{}
		}
		switch what {
		case "setmac":
			wear[unit][link] = f[3]
		case "mute":
			muted[unit][link] = true
		case "unmute":
			muted[unit][link] = false
		case "garp":
			if !muted[unit][link] {
				own(link, wear[unit][link], unit, true)
			}
		}
		mayTalk()
		// Only the system MAC: without virtual MACs the units also swap
		// the standby's, and frames for the standby address may be lost.
		for mac, units := range owners[link] {
			if mac != shared[link] {
				continue
			}
			for u := range units {
				if wear[u][link] != mac {
					t.Errorf("after %q (event %d) the %s switch may still send frames for %s to %s, which wears %s: lost\ntrace:\n%s",
						e, i, link, mac, u, wear[u][link], strings.Join(trace, "\n"))
					return
				}
			}
		}
	}
}

func (n *node) wearing(t *testing.T) map[string]string {
	t.Helper()
	out := map[string]string{}
	for _, l := range []string{hwOut, hwIn} {
		k, err := n.dp.Link(l)
		if err != nil {
			t.Fatal(err)
		}
		out[l] = k.MAC.String()
	}
	return out
}

// TestPlannedSwitchoverMakeBeforeBreak checks the order of a planned
// switchover in both directions, `no failover active` on the active unit
// and `failover active` on the standby: the old active mutes its MACs
// before it asks; the new one takes MACs and addresses and announces
// before it acks; the old one changes its MACs and releases only on the
// ack, and unmutes after. Replayed through a model of the switches, no
// frame can go to a port whose unit no longer wears its MAC.
func TestPlannedSwitchoverMakeBeforeBreak(t *testing.T) {
	p, a, b := statefulPair(t)
	p.run(5 * time.Second)
	for round, dir := range []string{"no failover active", "failover active"} {
		old, nu := a, b
		if round == 1 {
			old, nu = b, a
		}
		wear := map[string]map[string]string{"A": a.wearing(t), "B": b.wearing(t)}
		shared := wear[old.name][hwOut]
		p.ev.list, p.trace = nil, true
		var err error
		if dir == "no failover active" {
			err = old.u.NoFailoverActive()
		} else {
			err = nu.u.FailoverActive()
		}
		if err != nil {
			t.Fatal(err)
		}
		p.settle()
		p.trace = false
		wantState(t, old, Standby)
		wantState(t, nu, Active)
		ev := p.ev.list
		at := func(s string) int {
			t.Helper()
			i := p.ev.index(s)
			if i < 0 {
				t.Fatalf("%s: no %q in\n%s", dir, s, strings.Join(ev, "\n"))
			}
			return i
		}
		o, n := old.name, nu.name
		order := []string{
			fmt.Sprintf("%s mute %s %s as %s", o, hwOut, shared, negotiationMAC(old.ifByHWOwn(t, hwOut))),
			n + " recv BecomeActive",
			n + " statesync active",
			fmt.Sprintf("%s setmac %s %s", n, hwOut, shared),
			n + " reconcile Active",
			fmt.Sprintf("%s garp %s 198.51.100.1", n, hwOut),
			o + " recv AckReady",
			o + " statesync standby",
			fmt.Sprintf("%s setmac %s %s", o, hwOut, wear[n][hwOut]),
			o + " unmute " + hwOut,
			o + " reconcile Standby",
		}
		for i := 1; i < len(order); i++ {
			if at(order[i-1]) > at(order[i]) {
				t.Errorf("%s: %q comes after %q:\n%s", dir, order[i-1], order[i], strings.Join(ev, "\n"))
			}
		}
		if slices.ContainsFunc(ev, func(e string) bool {
			return e == o+" garp "+hwOut+" 198.51.100.1" || e == o+" garp "+hwIn+" 203.0.113.1"
		}) {
			t.Errorf("%s: the old active announced a system address:\n%s", dir, strings.Join(ev, "\n"))
		}
		switches(t, ev, wear, map[string]string{hwOut: shared, hwIn: wear[o][hwIn]})
		if m, _ := old.dp.Muted(hwOut); m != nil {
			t.Errorf("%s: old active still muted", dir)
		}
		p.run(5 * time.Second)
	}
}

// statefulPair is an active/standby pair with connection replication
// synchronised.
func statefulPair(t *testing.T) (*pair, *node, *node) {
	t.Helper()
	p := newPair(t)
	p.stateful = true
	a := p.add("A", testConfig("primary"))
	b := p.add("B", testConfig("secondary"))
	a.ss.synced, b.ss.synced = true, true
	if _, ok := p.until(time.Minute, func() bool { return a.u.State() == Active && b.u.State() == Standby }); !ok {
		t.Fatalf("states %s/%s", a.u.State(), b.u.State())
	}
	return p, a, b
}

func (n *node) ifByHWOwn(t *testing.T, hw string) net.HardwareAddr {
	t.Helper()
	f := n.u.ifByHW(hw)
	if f == nil {
		t.Fatalf("%s: no interface %s", n.name, hw)
	}
	return f.ownMAC
}

// TestPlannedSwitchoverWaitsForState: a standby without the whole
// connection table refuses to take over and says so: the active unit
// keeps serving, unmuted at once, and tells its operator why.
func TestPlannedSwitchoverWaitsForState(t *testing.T) {
	p, a, b := statefulPair(t)
	b.ss.synced = false // replication found a gap and is catching up
	if err := b.u.FailoverActive(); err == nil {
		t.Error("failover active accepted on a standby without the connection table")
	}
	if err := a.u.NoFailoverActive(); err != nil {
		t.Fatal(err)
	}
	p.settle()
	wantState(t, a, Active)
	wantState(t, b, Standby)
	if m, _ := a.dp.Muted(hwOut); m != nil {
		t.Error("the active unit is still muted after the switchover was refused")
	}
	if a.u.switchover != nil {
		t.Error("the refused switchover is still pending")
	}
	if !slices.ContainsFunc(a.hooks.console, func(m string) bool {
		return strings.Contains(m, "Switchover refused by mate: it does not hold the whole connection table yet")
	}) {
		t.Errorf("the operator was not told why: console %q", a.hooks.console)
	}
	b.ss.synced = true
	if err := a.u.NoFailoverActive(); err != nil {
		t.Fatal(err)
	}
	p.settle()
	wantState(t, a, Standby)
	wantState(t, b, Active)
}

// A unit serving with failover off replicates no connections, so its
// standby mate never holds the whole table from it: a planned switchover
// to the standby is not refused for that (it would be refused for ever),
// and the unit that steps down beside a mate serving with failover off
// goes straight to Standby (no table will come from it).
func TestSwitchoverWithAServerWithFailoverOff(t *testing.T) {
	p, a, b := statefulPair(t)
	setFailover(a, false)
	p.settle()
	p.run(5 * time.Second)
	wantState(t, a, Disabled)
	b.ss.synced = false // nothing comes from a unit with failover off
	if err := a.u.NoFailoverActive(); err != nil {
		t.Fatal(err)
	}
	p.settle()
	p.run(5 * time.Second)
	wantState(t, a, PseudoStandby)
	wantState(t, b, Active)

	// And back: the pseudo-standby asks the active mate, which replicates,
	// so the pseudo-standby must hold the table first.
	a.ss.synced = true
	if err := a.u.FailoverActive(); err != nil {
		t.Fatal(err)
	}
	p.settle()
	p.run(5 * time.Second)
	wantState(t, a, Disabled)
	wantState(t, b, Standby)
}
