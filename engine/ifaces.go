package engine

import (
	"maps"
	"net/netip"
	"slices"

	"failover/engine/config"
	"failover/engine/dataplane"
)

type netipPrefix = netip.Prefix

// desiredAddrs are the addresses this box must hold now: the failover
// unit decides (with failover off too: a unit keeps the role it had);
// without one, the system addresses of named interfaces (loop only).
func (e *Engine) desiredAddrs() []dataplane.Addr {
	if e.unit != nil {
		return e.unit.DesiredAddrs()
	}
	var out []dataplane.Addr
	for _, f := range e.published().NamedInterfaces() {
		if f.Addr.IsValid() {
			out = append(out, dataplane.Addr{Link: f.HW, Prefix: f.Addr})
		}
	}
	return out
}

// readLinks refreshes the engine's view of every link.
func (e *Engine) readLinks() {
	ls, err := e.dp.Links()
	if err != nil {
		e.log.Warn("failed to list links", "err", err)
		return
	}
	for _, l := range ls {
		e.links[l.Name] = l
	}
}

// hardwareIDs are the names Tab offers for a hardware_id: the box's
// interfaces (but loopback) and those the configuration names, sorted
// (loop only).
func (e *Engine) hardwareIDs() []string {
	set := map[string]bool{}
	for name := range e.links {
		if name != "lo" {
			set[name] = true
		}
	}
	for _, f := range e.cfg.Interfaces {
		set[f.HW] = true
	}
	return slices.Sorted(maps.Keys(set))
}

func (e *Engine) linkChanged(l dataplane.Link) {
	old, seen := e.links[l.Name]
	e.links[l.Name] = l
	if seen && old.Carrier == l.Carrier && old.AdminUp == l.AdminUp {
		return
	}
	if e.uplink != nil {
		e.uplink.LinkChanged(l)
	}
	if e.unit != nil {
		e.unit.LinkChanged(l)
	}
}

// ifaceKey is what the interface reconcile reads of one configured
// interface.
type ifaceKey struct {
	hw, name string
	shutdown bool
	mtu      int
}

func ifaceKeys(fs []*config.Interface) []ifaceKey {
	out := make([]ifaceKey, len(fs))
	for i, f := range fs {
		out[i] = ifaceKey{f.HW, f.Name, f.Shutdown, f.MTU}
	}
	return out
}

// reconcileInterfacesIfChanged reconciles only when the interface settings
// or the addresses to hold differ from what the kernel was last given, so a
// configuration line about something else costs no kernel call. Drift and
// address lifetimes are the periodic reconcile's business.
func (e *Engine) reconcileInterfacesIfChanged() {
	if e.dp == nil {
		return
	}
	if slices.Equal(ifaceKeys(e.published().Interfaces), e.ifsSeen) && e.sameAddrs(e.desiredAddrs()) {
		return
	}
	e.reconcileInterfaces()
}

// sameAddrs says whether want (the links it names being known) is what the
// engine holds, lifetimes aside.
func (e *Engine) sameAddrs(want []dataplane.Addr) bool {
	n := 0
	for _, a := range want {
		if _, ok := e.links[a.Link]; !ok {
			continue
		}
		n++
		if _, ok := e.owned[a.Link+" "+a.Prefix.String()]; !ok {
			return false
		}
	}
	return n == len(e.owned)
}

// reconcileInterfaces makes the kernel match the configuration for the
// interfaces the configuration names, and touches nothing else: admin
// state, MTU and the addresses this engine owns (loop only).
func (e *Engine) reconcileInterfaces() {
	if e.dp == nil {
		return
	}
	e.recGen++
	cfg := e.published()
	e.ifsSeen = ifaceKeys(cfg.Interfaces)
	e.readLinks()
	for _, f := range cfg.Interfaces {
		l, ok := e.links[f.HW]
		if !ok {
			continue
		}
		if l.AdminUp == f.Shutdown {
			if err := e.dp.SetAdminUp(f.HW, !f.Shutdown); err != nil {
				e.log.Warn("failed to set link state", "link", f.HW, "err", err)
			}
		}
		if f.Name != "" && l.MTU != f.MTU {
			if err := e.dp.SetMTU(f.HW, f.MTU); err != nil {
				e.log.Warn("failed to set MTU", "link", f.HW, "mtu", f.MTU, "err", err)
			}
		}
	}
	e.adoptLeftovers()
	want := map[string]dataplane.Addr{}
	for _, a := range e.desiredAddrs() {
		if _, ok := e.links[a.Link]; ok {
			want[a.Link+" "+a.Prefix.String()] = a
		}
	}
	removed := false
	for k, a := range e.owned {
		if _, ok := want[k]; !ok {
			if err := e.dp.AddrDel(a); err != nil {
				e.log.Debug("failed to remove address", "addr", a.Prefix, "link", a.Link, "err", err)
			}
			delete(e.owned, k)
			removed = true
		}
	}
	if removed && e.uplink != nil {
		// The kernel dropped the routes through a subnet whose last address
		// went (a role change swaps the system and standby addresses).
		defer e.uplink.AddrsChanged()
	}
	for k, a := range want {
		if had, ok := e.owned[k]; ok && had.ValidLft == 0 && a.ValidLft == 0 {
			continue // forever addresses need no refresh
		}
		if err := e.dp.AddrReplace(a); err != nil {
			e.log.Warn("failed to set address", "addr", a.Prefix, "link", a.Link, "err", err)
			continue
		}
		e.owned[k] = a
	}
}

// releaseSystemAddrs removes the lifetime-bound (system) addresses at a
// clean stop: the mate was told and takes them over at once, so keeping
// them until they expire would only make a conflict.
func (e *Engine) releaseSystemAddrs() {
	if e.dp == nil {
		return
	}
	for k, a := range e.owned {
		if a.ValidLft > 0 {
			if err := e.dp.AddrDel(a); err != nil {
				e.log.Debug("failed to release address", "addr", a.Prefix, "err", err)
			}
			delete(e.owned, k)
		}
	}
}

// adoptLeftovers takes as its own, once per interface, the addresses of the
// configuration (system or standby address) it finds on a named interface
// it has not handled yet: a previous run killed with -9 left them there,
// with their lifetime still running. A unit that restarts as standby must
// not go on answering for the system address it held as active until that
// lifetime ends; adopted, it is removed like any address not wanted.
func (e *Engine) adoptLeftovers() {
	for _, f := range e.cfg.NamedInterfaces() {
		if _, ok := e.links[f.HW]; !ok || e.adopted[f.HW] || !f.Addr.IsValid() {
			continue
		}
		have, err := e.dp.Addrs(f.HW)
		if err != nil {
			continue
		}
		e.adopted[f.HW] = true
		for _, a := range have {
			if a.Prefix != f.Addr && (!f.StandbyIP.IsValid() || a.Prefix != netip.PrefixFrom(f.StandbyIP, f.Addr.Bits())) {
				continue
			}
			if k := a.Link + " " + a.Prefix.String(); e.owned[k].Link == "" {
				e.owned[k] = a
			}
		}
	}
}
