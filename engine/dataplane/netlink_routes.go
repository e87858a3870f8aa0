//go:build linux

package dataplane

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// OwnedRoutes lists routes with protocol Proto in every table.
func (n *Netlink) OwnedRoutes() ([]Route, error) {
	h, release, err := n.handle()
	if err != nil {
		return nil, err
	}
	defer release()
	// A table filter of RT_TABLE_UNSPEC is what makes the library return
	// routes outside the main table.
	filter := &netlink.Route{Protocol: Proto, Table: unix.RT_TABLE_UNSPEC}
	rs, err := dump("routes", func() ([]netlink.Route, error) {
		return h.RouteListFiltered(netlink.FAMILY_ALL, filter, netlink.RT_FILTER_PROTOCOL|netlink.RT_FILTER_TABLE)
	})
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	out := make([]Route, 0, len(rs))
	for _, r := range rs {
		if r.Protocol != Proto {
			continue
		}
		dst, ok := ipNetToPrefix(r.Dst, true)
		if !ok {
			continue
		}
		out = append(out, Route{
			Dst:      dst,
			Gw:       ipToAddr(r.Gw),
			Link:     linkName(h, names, r.LinkIndex),
			Table:    fromKernelTable(r.Table),
			Metric:   r.Priority,
			Protocol: int(r.Protocol),
		})
	}
	slices.SortFunc(out, CompareRoute)
	return out, nil
}

// linkName resolves an ifindex through a per-call cache; a link that vanished
// meanwhile is left unnamed rather than failing the whole listing.
func linkName(h *netlink.Handle, cache map[int]string, index int) string {
	if index == 0 {
		return ""
	}
	if name, ok := cache[index]; ok {
		return name
	}
	var name string
	if l, err := h.LinkByIndex(index); err == nil {
		name = l.Attrs().Name
	}
	cache[index] = name
	return name
}

// RouteReplace installs r with protocol Proto, atomically replacing a route
// with the same destination, table and metric.
func (n *Netlink) RouteReplace(r Route) error {
	h, release, err := n.handle()
	if err != nil {
		return err
	}
	defer release()
	nr, err := toNetlinkRoute(h, r)
	if err != nil {
		return err
	}
	if err := h.RouteReplace(nr); err != nil {
		return fmt.Errorf("failed to replace route %s: %w", r.Dst, err)
	}
	return nil
}

// RouteDel removes r. The request carries protocol Proto, and the kernel
// only deletes a route whose protocol matches, so a route someone else
// installed with the same destination is never removed.
func (n *Netlink) RouteDel(r Route) error {
	h, release, err := n.handle()
	if err != nil {
		return err
	}
	defer release()
	nr, err := toNetlinkRoute(h, r)
	if err != nil {
		return err
	}
	// Match any scope, as "ip route del" does; the scope is not part of
	// what identifies a route.
	nr.Scope = netlink.SCOPE_NOWHERE
	if err := h.RouteDel(nr); err != nil {
		return fmt.Errorf("failed to delete route %s: %w", r.Dst, notFound(err, unix.ESRCH, unix.ENOENT))
	}
	return nil
}

func toNetlinkRoute(h *netlink.Handle, r Route) (*netlink.Route, error) {
	if !r.Dst.IsValid() {
		return nil, fmt.Errorf("failed to use route %v: invalid destination", r.Dst)
	}
	dst := r.Dst.Masked()
	ip := dst.Addr().Unmap()
	nr := &netlink.Route{
		Dst:      &net.IPNet{IP: ip.AsSlice(), Mask: net.CIDRMask(dst.Bits(), ip.BitLen())},
		Table:    toKernelTable(r.Table),
		Priority: r.Metric,
		Protocol: Proto,
		Family:   netlink.FAMILY_V4,
	}
	if ip.Is6() {
		nr.Family = netlink.FAMILY_V6
	}
	if r.Gw.IsValid() {
		gw := r.Gw.Unmap()
		if gw.Is4() != ip.Is4() {
			return nil, fmt.Errorf("failed to use route %s: gateway %s is another address family", r.Dst, r.Gw)
		}
		nr.Gw = gw.AsSlice()
	}
	if r.Link != "" {
		l, err := linkByName(h, r.Link)
		if err != nil {
			return nil, err
		}
		nr.LinkIndex = l.Attrs().Index
		if !r.Gw.IsValid() {
			// What "ip route add ... dev X" does: a directly connected
			// destination is only valid on that link.
			nr.Scope = netlink.SCOPE_LINK
		}
	}
	return nr, nil
}

// Table 0 means main in Route and Rule, where the kernel uses 254.
func toKernelTable(t int) int {
	if t == 0 {
		return unix.RT_TABLE_MAIN
	}
	return t
}

func fromKernelTable(t int) int {
	if t == unix.RT_TABLE_MAIN {
		return 0
	}
	return t
}

// OwnedRules lists IPv4 rules with protocol Proto.
func (n *Netlink) OwnedRules() ([]Rule, error) {
	h, release, err := n.handle()
	if err != nil {
		return nil, err
	}
	defer release()
	rs, err := dump("rules", func() ([]netlink.Rule, error) {
		return h.RuleListFiltered(netlink.FAMILY_V4, nil, 0)
	})
	if err != nil {
		return nil, err
	}
	var out []Rule
	for _, r := range rs {
		if r.Protocol != Proto {
			continue
		}
		out = append(out, Rule{Priority: r.Priority, Mark: r.Mark, Table: fromKernelTable(r.Table)})
	}
	slices.SortFunc(out, CompareRule)
	return out, nil
}

// RuleAdd installs the IPv4 rule "fwmark Mark lookup Table" with protocol
// Proto. Adding a rule that already exists succeeds, so reconciling loops
// can call it blindly. Priority 0 lets the kernel choose, since a rule in
// front of the local table would break local delivery.
func (n *Netlink) RuleAdd(r Rule) error {
	h, release, err := n.handle()
	if err != nil {
		return err
	}
	defer release()
	if err := h.RuleAdd(toNetlinkRule(r)); err != nil && !errors.Is(err, unix.EEXIST) {
		return fmt.Errorf("failed to add rule %+v: %w", r, err)
	}
	return nil
}

// RuleDel removes the rule; like RouteDel, the kernel matches the protocol,
// so rules installed by others are left alone.
func (n *Netlink) RuleDel(r Rule) error {
	h, release, err := n.handle()
	if err != nil {
		return err
	}
	defer release()
	if err := h.RuleDel(toNetlinkRule(r)); err != nil {
		return fmt.Errorf("failed to delete rule %+v: %w", r, notFound(err, unix.ENOENT, unix.ESRCH))
	}
	return nil
}

func toNetlinkRule(r Rule) *netlink.Rule {
	nr := netlink.NewRule()
	nr.Family = netlink.FAMILY_V4
	if r.Priority > 0 {
		nr.Priority = r.Priority
	}
	nr.Mark = r.Mark
	nr.Table = toKernelTable(r.Table)
	nr.Protocol = Proto
	return nr
}

func ipToAddr(ip net.IP) netip.Addr {
	a, ok := netip.AddrFromSlice(ip)
	if !ok {
		return netip.Addr{}
	}
	return a.Unmap()
}
