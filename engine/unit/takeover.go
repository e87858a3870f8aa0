package unit

import (
	"bytes"
	"net"
	"net/netip"
	"slices"
	"time"

	"failover/engine/dataplane"
	"failover/engine/wire"
)

// Gratuitous ARP series, as keepalived sends them: one burst is easily
// lost to a switch port that is still coming up, so several are spaced.
const (
	garpCount    = 5
	garpInterval = 500 * time.Millisecond
)

// addrLifetime is the valid lifetime of system addresses, so that a killed
// daemon's box stops answering for them by itself.
func (u *Unit) addrLifetime() time.Duration {
	// The kernel counts lifetimes in whole seconds and the engine refreshes
	// them every second at least. Without a fence the lifetime outlasts the
	// hold time by that second, so a box whose daemon died keeps forwarding
	// until its mate has declared it lost; the mate then takes the
	// addresses only once nobody answers ARP for them any more (claim.go),
	// so the two never answer together and the client loses the last
	// round of asking. With a fence (fence.go) the box stops answering at
	// the hold time by itself, and the lifetime is only a backstop.
	return lifetimeFor(u.hold(), u.fenceOK)
}

// mateAddrLifetime is the lifetime the lost mate gave its system addresses.
func (u *Unit) mateAddrLifetime() time.Duration {
	_, fenced := u.mateFence()
	return lifetimeFor(u.hold(), fenced)
}

// heldAddr is the address f carries on this unit in state s; the zero
// Prefix means none. The LAN link and a separate stateful link keep the
// address of the unit role; the data interfaces follow the state.
func (u *Unit) heldAddr(f *ifc, s State) netip.Prefix {
	if (f.lan || f.stateLink) && u.talking {
		return lanAddr(f.cfg, u.role)
	}
	switch s {
	case Active, Disabled:
		return f.cfg.Addr
	case Standby, SyncConfig, BulkSync, Failed, PseudoStandby:
		if f.cfg.StandbyIP.IsValid() && f.cfg.Addr.IsValid() {
			return netip.PrefixFrom(f.cfg.StandbyIP, f.cfg.Addr.Bits())
		}
	}
	return netip.Prefix{}
}

// DesiredAddrs lists the addresses this box must hold now, on every named
// interface. A standalone box (failover off, no mate to talk to) holds its
// system addresses for good; a unit of a pair holds them with a lifetime
// (addrLifetime), refreshed while it runs, so that a killed daemon's box
// stops answering for them by itself.
func (u *Unit) DesiredAddrs() []dataplane.Addr {
	var out []dataplane.Addr
	for _, f := range u.ifs {
		p := u.heldAddr(f, u.state)
		if !p.IsValid() {
			continue
		}
		a := dataplane.Addr{Link: f.cfg.HW, Prefix: p}
		if u.state.serves() && u.talking && !f.lan && !f.stateLink {
			a.ValidLft = u.addrLifetime()
		}
		out = append(out, a)
	}
	return out
}

// reconcile sets the MACs, asks the engine to apply DesiredAddrs, and with
// announce starts a gratuitous ARP series for the data addresses once the
// engine holds them.
func (u *Unit) reconcile(announce bool) {
	// The fence first: the addresses and MACs a serving unit takes must
	// never be held by a box without one.
	u.renewFence()
	u.applyMACs()
	u.desired = u.DesiredAddrs()
	u.nextRefresh = u.o.Clock.Now().Add(min(u.addrLifetime()/3, time.Second))
	// A unit that left the pair drops its fence once the kernel no longer
	// holds the system addresses.
	release := func() {
		if !u.fenceWanted() {
			u.dropFence()
		}
	}
	if !announce {
		u.o.Hooks.Reconcile(release)
		return
	}
	// A newer series (another role change) cancels this one, also before
	// it starts.
	u.garpGen++
	gen := u.garpGen
	u.o.Hooks.Reconcile(func() {
		release()
		u.announce(gen)
	})
}

// reannounce starts a new gratuitous ARP series for the addresses held.
func (u *Unit) reannounce() {
	u.garpGen++
	u.announce(u.garpGen)
}

// announce sends garpCount gratuitous ARPs for every data address held,
// garpInterval apart, unless series gen was cancelled.
func (u *Unit) announce(gen int) {
	if gen != u.garpGen || u.stopped {
		return
	}
	var targets []dataplane.Addr
	for _, a := range u.desired {
		if f := u.ifByHW(a.Link); f != nil && !f.lan && !f.stateLink && a.Prefix.Addr().Is4() {
			targets = append(targets, a)
		}
	}
	if len(targets) == 0 || u.o.DP == nil {
		return
	}
	var round func(i int)
	round = func(i int) {
		if gen != u.garpGen || u.stopped {
			return
		}
		for _, a := range targets {
			if err := u.o.DP.GratuitousARP(a.Link, a.Prefix.Addr()); err != nil {
				u.log.Debug("failed to send gratuitous ARP", "link", a.Link, "ip", a.Prefix.Addr(), "err", err)
			}
		}
		if i+1 < garpCount {
			u.o.Clock.AfterFunc(garpInterval, func() { u.o.Post(func() { round(i + 1) }) })
		}
	}
	round(0)
}

// applyMACs gives every data interface the MAC of the role: the virtual
// MACs when configured, else the active unit uses the primary's burned-in
// MAC and the standby the secondary's, so that a switchover needs no ARP
// change at all on neighbours that missed the gratuitous ARPs.
func (u *Unit) applyMACs() {
	if u.o.DP == nil {
		return
	}
	for _, f := range u.ifs {
		if f.lan || f.stateLink {
			continue
		}
		want := u.wantMAC(f)
		if len(want) != 6 {
			continue
		}
		l, err := u.o.DP.Link(f.cfg.HW)
		if err != nil || bytes.Equal(l.MAC, want) {
			continue
		}
		if err := u.o.DP.SetMAC(f.cfg.HW, want); err != nil {
			u.log.Warn("failed to set MAC", "link", f.cfg.HW, "mac", want, "err", err)
		}
	}
	// Only once the MACs changed: a unit that hands over unmutes after it
	// stopped wearing the MAC its mate took.
	u.muteMACs()
}

func (u *Unit) wantMAC(f *ifc) net.HardwareAddr {
	active := u.state.serves()
	if !u.talking {
		return f.ownMAC
	}
	if f.cfg.HasMAC {
		if active {
			return net.HardwareAddr(f.cfg.ActiveMAC[:])
		}
		return net.HardwareAddr(f.cfg.StandbyMAC[:])
	}
	var mateMAC net.HardwareAddr
	if u.mate.heard && u.mate.role != u.role {
		for _, e := range u.mate.hello.Interfaces {
			if e.Name == f.cfg.Name {
				mateMAC = e.MAC
			}
		}
	}
	if u.state == Negotiation && u.role == wire.RolePrimary && mateMAC == nil {
		// The active secondary, if there is one, wears our MAC now. Until
		// we know, we wear a MAC nobody else does, so that whatever this
		// box sends (probes, ARP, IPv6) does not steal the active unit's
		// entry in the switches.
		return negotiationMAC(f.ownMAC)
	}
	primaryWanted := active == (u.role == wire.RolePrimary)
	if primaryWanted || mateMAC == nil {
		return f.ownMAC
	}
	return mateMAC
}

// negotiationMAC is a locally administered unicast MAC derived from own,
// always different from it.
func negotiationMAC(own net.HardwareAddr) net.HardwareAddr {
	if len(own) != 6 {
		return own
	}
	m := slices.Clone(own)
	m[0] = (m[0]|0x02)&^0x01 ^ 0x04
	return m
}
