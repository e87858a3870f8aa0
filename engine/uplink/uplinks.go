package uplink

import (
	"net/netip"
	"slices"

	"failover/engine/config"
	"failover/engine/dataplane"
)

// The probe-steering numbers of uplink N (see the package documentation).
const (
	TableBase  = 100
	PrioBase   = 100
	MarkBase   = 0x4f00
	MaxUplinks = 255
)

// uplink is an interface some SLA probes through.
type uplink struct {
	name, hw string
	n        int // 1-based position in Config.Interfaces
	gw       netip.Addr
}

// uplinkN is the interface's number, or 0 when it has none.
func (m *Manager) uplinkN(ifName string) int {
	for i, f := range m.cfg.Interfaces {
		if f.Name != "" && f.Name == ifName {
			if i+1 > MaxUplinks {
				return 0
			}
			return i + 1
		}
	}
	return 0
}

// markOf is the fwmark of probes through the interface; 0 (no mark, the
// main table) only for an interface beyond MaxUplinks.
func (m *Manager) markOf(ifName string) uint32 {
	if n := m.uplinkN(ifName); n > 0 {
		return MarkBase + uint32(n)
	}
	return 0
}

// uplinks lists the interfaces SLAs probe through, by number.
func (m *Manager) uplinks() []uplink {
	seen := map[string]bool{}
	var out []uplink
	for _, s := range m.cfg.SLAs {
		if !s.Typed || seen[s.If] {
			continue
		}
		seen[s.If] = true
		n := m.uplinkN(s.If)
		f := m.cfg.IfByName(s.If)
		if n == 0 || f == nil {
			continue
		}
		out = append(out, uplink{name: s.If, hw: f.HW, n: n, gw: m.gatewayOf(s.If)})
	}
	slices.SortFunc(out, func(a, b uplink) int { return a.n - b.n })
	return out
}

// gatewayOf picks the next hop of an interface's configured routes: a
// default route first, then the lowest distance, then the first configured.
func (m *Manager) gatewayOf(ifName string) netip.Addr {
	var best *config.Route
	for i := range m.cfg.Routes {
		r := &m.cfg.Routes[i]
		if r.If != ifName {
			continue
		}
		if best == nil || better(r, best) {
			best = r
		}
	}
	if best == nil {
		return netip.Addr{}
	}
	return best.Gw
}

func better(a, b *config.Route) bool {
	ad, bd := a.Dst.Bits() == 0, b.Dst.Bits() == 0
	if ad != bd {
		return ad
	}
	return a.Distance < b.Distance
}

// desiredUplinks are the probe tables' routes and the rules that steer
// marked probes into them. A table route needs the link admin up (the
// kernel refuses it otherwise); the rule does not.
func (m *Manager) desiredUplinks() ([]dataplane.Route, []dataplane.Rule) {
	var routes []dataplane.Route
	var rules []dataplane.Rule
	for _, u := range m.uplinks() {
		rules = append(rules, dataplane.Rule{Priority: PrioBase + u.n, Mark: MarkBase + uint32(u.n), Table: TableBase + u.n})
		f := m.cfg.IfByName(u.name)
		if l, ok := m.links[u.hw]; !ok || !l.AdminUp || f.Shutdown {
			continue
		}
		routes = append(routes, dataplane.Route{
			Dst: netip.PrefixFrom(netip.IPv4Unspecified(), 0), Gw: u.gw, Link: u.hw,
			Table: TableBase + u.n, Protocol: dataplane.Proto,
		})
	}
	return routes, rules
}

// managedRoute says whether the manager owns an owned route's table.
func managedRoute(r dataplane.Route) bool {
	return r.Table == 0 || (r.Table > TableBase && r.Table <= TableBase+MaxUplinks)
}

func managedRule(r dataplane.Rule) bool {
	return r.Priority > PrioBase && r.Priority <= PrioBase+MaxUplinks
}
