//go:build linux

package dataplane

import (
	"fmt"
	"net/netip"
	"slices"

	"github.com/vishvananda/netlink"
)

var _ NeighborTable = (*Netlink)(nil)

// LearnedNeighbors implements NeighborTable.
func (n *Netlink) LearnedNeighbors() ([]LinkNeighbor, error) {
	h, release, err := n.handle()
	if err != nil {
		return nil, err
	}
	defer release()
	links, err := dump("links", h.LinkList)
	if err != nil {
		return nil, err
	}
	names := map[int]string{}
	for _, l := range links {
		names[l.Attrs().Index] = l.Attrs().Name
	}
	ns, err := dump("neighbours", func() ([]netlink.Neigh, error) { return h.NeighList(0, netlink.FAMILY_ALL) })
	if err != nil {
		return nil, err
	}
	var out []LinkNeighbor
	for _, e := range ns {
		ip, ok := netip.AddrFromSlice(e.IP)
		name := names[e.LinkIndex]
		if e.State&learnedStates == 0 || len(e.HardwareAddr) != 6 || !ok || name == "" {
			continue
		}
		out = append(out, LinkNeighbor{Link: name, IP: ip.Unmap(), MAC: slices.Clone(e.HardwareAddr)})
	}
	return out, nil
}

// SetStaleNeighbors implements NeighborTable.
func (n *Netlink) SetStaleNeighbors(ns []LinkNeighbor) []error {
	errs := make([]error, len(ns))
	h, release, err := n.handle()
	if err != nil {
		for i := range errs {
			errs[i] = err
		}
		return errs
	}
	defer release()
	index := map[string]int{}
	for i, nb := range ns {
		idx, ok := index[nb.Link]
		if !ok {
			l, err := linkByName(h, nb.Link)
			if err != nil {
				errs[i] = err
				continue
			}
			idx = l.Attrs().Index
			index[nb.Link] = idx
		}
		fam := netlink.FAMILY_V4
		if !nb.IP.Is4() {
			fam = netlink.FAMILY_V6
		}
		err := h.NeighSet(&netlink.Neigh{LinkIndex: idx, Family: fam, State: netlink.NUD_STALE, IP: nb.IP.AsSlice(), HardwareAddr: nb.MAC})
		if err != nil {
			errs[i] = fmt.Errorf("failed to set neighbour %s on %s: %w", nb.IP, nb.Link, err)
		}
	}
	return errs
}
