package unit

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"
	"testing"
	"time"

	"failover/engine/config"
	"failover/engine/dataplane"
)

// systemAddrs are the data interfaces' system addresses of testConfig.
var systemAddrs = []string{"eth-out 198.51.100.1/24", "eth-in 203.0.113.1/24"}

func (n *node) holdsSystem(t *testing.T) bool {
	t.Helper()
	for _, a := range n.addrs(t) {
		if slices.Contains(systemAddrs, a) {
			return true
		}
	}
	return false
}

// runChecked runs the pair for d and fails the test if, at any step, both
// units hold a system address.
func (p *pair) runChecked(d time.Duration, what string) {
	p.t.Helper()
	for step := time.Duration(0); step < d; step += 100 * time.Millisecond {
		p.run(100 * time.Millisecond)
		var holders []string
		for _, n := range p.nodes {
			if n.holdsSystem(p.t) {
				holders = append(holders, n.name+" ("+n.u.State().String()+")")
			}
		}
		if len(holders) > 1 {
			p.t.Fatalf("%s: after %v both units hold system addresses: %s", what, step, strings.Join(holders, ", "))
		}
	}
}

func setFailover(n *node, on bool) {
	c := n.cfg.Clone()
	c.Failover.Enabled = on
	n.cfg = c
	n.u.Apply(c)
}

// In no order of `no failover` and `failover` on either unit do the two
// units hold a system address together; the standby stays (pseudo-)standby
// and the active keeps serving; once failover is on again on both, the pair
// is active/standby again.
func TestNoFailoverAnyOrder(t *testing.T) {
	type op struct {
		unit string
		on   bool
	}
	ops := []op{{"A", false}, {"A", true}, {"B", false}, {"B", true}}
	var orders [][]op
	var perm func(done []op, rest []op)
	perm = func(done, rest []op) {
		if len(rest) == 0 {
			orders = append(orders, slices.Clone(done))
			return
		}
		for i, o := range rest {
			// each unit's failover goes off before it comes back on
			if o.on && !slices.Contains(done, op{o.unit, false}) {
				continue
			}
			perm(append(done, o), append(slices.Clone(rest[:i]), rest[i+1:]...))
		}
	}
	perm(nil, ops)
	if len(orders) != 6 {
		t.Fatalf("%d orders, want 6", len(orders))
	}
	for _, order := range orders {
		var name []string
		for _, o := range order {
			w := "off"
			if o.on {
				w = "on"
			}
			name = append(name, o.unit+w)
		}
		t.Run(strings.Join(name, "-"), func(t *testing.T) {
			p, a, b := bootstrap(t)
			nodes := map[string]*node{"A": a, "B": b}
			for i, o := range order {
				n := nodes[o.unit]
				was := n.u.State()
				setFailover(n, o.on)
				p.settle()
				what := fmt.Sprintf("step %d (%s)", i+1, name[i])
				if !o.on {
					// The unit keeps its role.
					want := PseudoStandby
					if was.serves() {
						want = Disabled
					}
					if got := n.u.State(); got != want {
						t.Fatalf("%s: %s went %s -> %s, want %s", what, n.name, was, got, want)
					}
				}
				p.runChecked(2*time.Minute, what)
				if !o.on {
					if got := n.u.State(); got != Disabled && got != PseudoStandby {
						t.Fatalf("%s: %s is %s two minutes later", what, n.name, got)
					}
				}
				serving := 0
				for _, m := range p.nodes {
					if m.u.State().serves() {
						serving++
						if !m.holdsSystem(t) {
							t.Fatalf("%s: %s is %s but holds no system address: %q", what, m.name, m.u.State(), m.addrs(t))
						}
					}
				}
				if serving != 1 {
					t.Fatalf("%s: %d units serve: A %s, B %s", what, serving, a.u.State(), b.u.State())
				}
			}
			if !(a.u.State() == Active && b.u.State() == Standby) && !(a.u.State() == Standby && b.u.State() == Active) {
				t.Fatalf("failover on again on both: A %s, B %s", a.u.State(), b.u.State())
			}
		})
	}
}

// A unit without a unit role or LAN interface is a standalone router:
// `failover` alone does not take its addresses away.
func TestFailoverWithoutRoleKeepsAddresses(t *testing.T) {
	for _, c := range []struct {
		name string
		mod  func(c *config.Config)
	}{
		{"no role", func(c *config.Config) { c.Failover.Unit = "" }},
		{"no LAN interface", func(c *config.Config) { c.Failover.LanIf = ""; c.Failover.Link = "" }},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := newPair(t)
			cfg := testConfig("primary")
			cfg.Failover.Enabled = false
			c.mod(cfg)
			a := p.add("A", cfg)
			want := a.addrs(t)
			if !slices.Contains(want, systemAddrs[0]) {
				t.Fatalf("standalone box holds %q", want)
			}
			setFailover(a, true)
			p.run(time.Minute)
			wantState(t, a, Disabled)
			if got := a.addrs(t); !slices.Equal(got, want) {
				t.Errorf("after failover: %q, want %q", got, want)
			}
			if pr, st := a.u.PromptTags(); st != "act" {
				t.Errorf("prompt %s/%s", pr, st)
			}
		})
	}
}

// A mate dead only in its daemon (kill -9, links up): its kernel still
// answers ARP for the system addresses until their lifetime ends. The
// standby does not take them while anybody answers (never two boxes), and
// takes them within a round or two of asking once nobody does, so the
// client loses no more than that.
func TestTakeoverWaitsForTheDeadBoxsAddresses(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	waitARPWatch(t, b)
	// A's kernel answers for what it holds; its daemon says nothing more.
	b.dp.OnSend(func(link string, dst netip.Addr) {
		if as, _ := a.dp.Addrs(link); slices.ContainsFunc(as, func(x dataplane.Addr) bool { return x.Prefix.Addr() == dst }) {
			l, _ := a.dp.Link(link)
			b.dp.InjectARP(link, dst, l.MAC)
		}
	})
	for _, l := range allLinks {
		p.net.CutFrom(l, "A")
	}
	silentAt := p.clk.Now()
	// Well past the hold time (45 s here): A still holds its addresses.
	p.runChecked(90*time.Second, "dead daemon, kernel still answering")
	wantState(t, b, Standby)
	if n := len(b.dp.ARPRequests()); n < 10 {
		t.Errorf("standby asked %d times who has the system addresses, want it to keep asking", n)
	}
	// A's addresses expire.
	for _, l := range []string{hwOut, hwIn} {
		as, _ := a.dp.Addrs(l)
		for _, x := range as {
			_ = a.dp.AddrDel(x)
		}
	}
	expired := p.clk.Now()
	took, ok := p.until(time.Second, func() bool { return b.u.State() == Active })
	if !ok {
		t.Fatalf("standby did not take over once nobody answered (silent since %v)", expired.Sub(silentAt))
	}
	if took > 100*time.Millisecond {
		t.Errorf("takeover %v after the addresses expired, want within a round or two (%v each)", took, claimWait)
	}
	if !b.holdsSystem(t) {
		t.Errorf("new active holds %q", b.addrs(t))
	}
}

// `failover active` on a pseudo-standby unit makes it serve and the active
// mate step down, once: the new server does not yield back to the old
// active's last hellos (sent before it had the ack), so the roles do not
// swap twice.
func TestFailoverActiveOnPseudoStandby(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	setFailover(b, false)
	p.settle()
	wantState(t, b, PseudoStandby)
	if err := b.u.FailoverActive(); err != nil {
		t.Fatal(err)
	}
	p.runChecked(time.Minute, "failover active on the pseudo-standby")
	wantState(t, b, Disabled)
	wantState(t, a, Standby)
	if h := b.u.ShowHistory(); strings.Count(h, "Pseudo-Standby") != 2 {
		t.Errorf("the secondary's roles swapped more than once:\n%s", h)
	}
	if !b.holdsSystem(t) || a.holdsSystem(t) {
		t.Errorf("after failover active on the pseudo-standby: A holds %q, B %q", a.addrs(t), b.addrs(t))
	}
}
