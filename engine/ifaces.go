package engine

import (
	"net/netip"

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
	for _, f := range e.cfg.NamedInterfaces() {
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

// reconcileInterfaces makes the kernel match the configuration for the
// interfaces the configuration names, and touches nothing else: admin
// state, MTU and the addresses this engine owns (loop only).
func (e *Engine) reconcileInterfaces() {
	if e.dp == nil {
		return
	}
	e.readLinks()
	for _, f := range e.cfg.Interfaces {
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
	want := map[string]dataplane.Addr{}
	for _, a := range e.desiredAddrs() {
		if _, ok := e.links[a.Link]; ok {
			want[a.Link+" "+a.Prefix.String()] = a
		}
	}
	for k, a := range e.owned {
		if _, ok := want[k]; !ok {
			if err := e.dp.AddrDel(a); err != nil {
				e.log.Debug("failed to remove address", "addr", a.Prefix, "link", a.Link, "err", err)
			}
			delete(e.owned, k)
		}
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
