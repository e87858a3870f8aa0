package uplink

import (
	"cmp"
	"fmt"
	"maps"
	"net/netip"
	"slices"

	"failover/engine/config"
	"failover/engine/dataplane"
	"failover/engine/event"

	"failover/grammar"
)

// usable says whether a configured route may be installed now.
func (m *Manager) usable(r config.Route) bool {
	f := m.cfg.IfByName(r.If)
	if f == nil || f.Shutdown || !m.links[f.HW].Carrier {
		return false
	}
	if r.Track == 0 {
		return true
	}
	t := m.tracks[r.Track]
	switch {
	case t == nil:
		return false
	case !t.decided:
		// Just started: keep what a previous run installed until the
		// track's first result says otherwise.
		cur, ok := m.installed[r.Dst]
		return ok && cur == r
	}
	return t.state == TrackUp
}

// desiredMain is the route chosen per destination: the lowest distance
// among usable routes, the first configured on a tie.
func (m *Manager) desiredMain() map[netip.Prefix]config.Route {
	out := map[netip.Prefix]config.Route{}
	if !m.routing {
		return out
	}
	for _, r := range m.cfg.Routes {
		if !m.usable(r) {
			continue
		}
		if cur, ok := out[r.Dst]; !ok || r.Distance < cur.Distance {
			out[r.Dst] = r
		}
	}
	for dst, r := range out {
		if cur, ok := m.installed[dst]; (!ok || cur != r) && m.awaitingBetter(r) {
			delete(out, dst)
		}
	}
	return out
}

// awaitingBetter says whether a route better than r waits for its track's
// first result on an uplink this box can use now (its gateway is on a
// subnet the box holds). r is then not installed in its place: at a cold
// start the better uplink's first answer is a probe timeout away, and
// going through r meanwhile would move every flow twice. The wait ends
// with that first result, whatever it is.
func (m *Manager) awaitingBetter(r config.Route) bool {
	for _, p := range m.cfg.Routes {
		if p.Dst != r.Dst || p.Distance >= r.Distance || p.Track == 0 {
			continue
		}
		t := m.tracks[p.Track]
		f := m.cfg.IfByName(p.If)
		if t == nil || t.decided || f == nil || f.Shutdown || !m.links[f.HW].Carrier {
			continue
		}
		if m.connected(f.HW, p.Gw) {
			return true
		}
	}
	return false
}

// connected says whether link holds an IPv4 address on gw's subnet.
func (m *Manager) connected(link string, gw netip.Addr) bool {
	as, err := m.o.DP.Addrs(link)
	if err != nil {
		return false
	}
	for _, a := range as {
		if a.Prefix.Addr().Is4() && a.Prefix.Contains(gw) {
			return true
		}
	}
	return false
}

func comparePrefix(a, b netip.Prefix) int {
	if c := a.Addr().Compare(b.Addr()); c != 0 {
		return c
	}
	return cmp.Compare(a.Bits(), b.Bits())
}

// refresh recomputes the selection, logs what changed and, when anything
// may differ from the kernel (or force), reconciles.
func (m *Manager) refresh(force bool) {
	if m.stopped || !m.started {
		return
	}
	want := m.desiredMain()
	changed := false
	for _, dst := range slices.SortedFunc(maps.Keys(m.selected), comparePrefix) {
		if nw, ok := want[dst]; !ok || nw != m.selected[dst] {
			m.routeMsg("Removing", m.selected[dst])
			changed = true
		}
	}
	for _, dst := range slices.SortedFunc(maps.Keys(want), comparePrefix) {
		if old, ok := m.selected[dst]; !ok || old != want[dst] {
			m.routeMsg("Adding", want[dst])
			changed = true
		}
	}
	m.selected = want
	if changed || force || m.dirty {
		m.dirty = true
		m.reconcile()
	}
}

func (m *Manager) routeMsg(verb string, r config.Route) {
	m.log.Info("route", "action", verb, "dst", r.Dst, "gw", r.Gw, "if", r.If, "distance", r.Distance)
	m.o.Syslog(fmt.Sprintf("%%PIX-6-622001: %s tracked route %s %s %s, distance %d, table Default-IP-Routing-Table, on interface %s",
		verb, r.Dst.Addr(), grammar.MaskString(r.Dst.Bits()), r.Gw, r.Distance, r.If))
	to := "added"
	if verb == "Removing" {
		to = "removed"
	}
	m.o.Events.Emit(event.Event{Kind: event.Route, Dest: r.Dst.String(), Interface: r.If, Gateway: r.Gw.String(), To: to})
}

// kernelRoute is the main-table route for a selected configured route.
func (m *Manager) kernelRoute(r config.Route) dataplane.Route {
	hw := ""
	if f := m.cfg.IfByName(r.If); f != nil {
		hw = f.HW
	}
	return dataplane.Route{Dst: r.Dst, Gw: r.Gw, Link: hw, Protocol: dataplane.Proto}
}

var defaultRoute = netip.PrefixFrom(netip.IPv4Unspecified(), 0)
