package uplink

import (
	"fmt"
	"maps"
	"net/netip"
	"slices"
	"strings"

	"failover/engine/config"

	"failover/grammar"
)

const routeCodes = `Codes: C - connected, S - static, I - IGRP, R - RIP, M - mobile, B - BGP
       D - EIGRP, EX - EIGRP external, O - OSPF, IA - OSPF inter area
       N1 - OSPF NSSA external type 1, N2 - OSPF NSSA external type 2
       E1 - OSPF external type 1, E2 - OSPF external type 2, E - EGP
       i - IS-IS, L1 - IS-IS level-1, L2 - IS-IS level-2, ia - IS-IS inter area
       * - candidate default, U - per-user static route, o - ODR
       P - periodic downloaded static route
`

// ShowRoute is ASA "show route": connected networks of named interfaces
// that are up, then the static routes the kernel holds (only installed
// routes show, the default route last). held, when not nil, gives the
// address the kernel really holds on an interface (the standby's is its
// standby address; an interface without one has no connected route).
func (m *Manager) ShowRoute(c *config.Config, held func(hw string) netip.Prefix) string {
	var b strings.Builder
	b.WriteString(routeCodes)
	b.WriteString("\n")
	if d, ok := m.installed[defaultRoute]; ok {
		fmt.Fprintf(&b, "Gateway of last resort is %s to network 0.0.0.0\n", d.Gw)
	} else {
		b.WriteString("Gateway of last resort is not set\n")
	}
	b.WriteString("\n")
	for _, f := range c.Interfaces {
		a := f.Addr
		if held != nil {
			a = held(f.HW)
		}
		if f.Name == "" || f.Shutdown || !a.IsValid() || !m.links[f.HW].Carrier {
			continue
		}
		p := a.Masked()
		fmt.Fprintf(&b, "C    %s %s is directly connected, %s\n", p.Addr(), grammar.MaskString(p.Bits()), f.Name)
	}
	dsts := slices.SortedFunc(maps.Keys(m.installed), comparePrefix)
	// The default route goes last, as ASA lists it.
	slices.SortStableFunc(dsts, func(a, b netip.Prefix) int { return boolInt(a.Bits() == 0) - boolInt(b.Bits() == 0) })
	for _, dst := range dsts {
		r := m.installed[dst]
		code := "S    "
		if dst.Bits() == 0 {
			code = "S*   "
		}
		fmt.Fprintf(&b, "%s%s %s [%d/0] via %s, %s\n", code, dst.Addr(), grammar.MaskString(dst.Bits()), r.Distance, r.Gw, r.If)
	}
	return b.String()
}

func boolInt(v bool) int {
	if v {
		return 1
	}
	return 0
}
