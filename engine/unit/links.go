package unit

import (
	"errors"
	"net/netip"

	"failover/engine/transport"
	"failover/engine/wire"
)

// broadcast is where hellos go on the LAN link: a mate whose addresses are
// misconfigured (both units primary, say) is still heard, so the conflict
// is reported instead of two silent units.
var broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// syncListens makes the transport listen on exactly the LAN interface and
// the monitored interfaces while failover is enabled. Every socket binds the
// wildcard address of its device: the addresses on a data interface move
// with the role, the device does not.
func (u *Unit) syncListens() {
	if u.o.Transport == nil {
		return
	}
	want := map[string]bool{}
	if u.talking && !u.stopped {
		for _, f := range u.ifs {
			if f.lan || f.monitored || f.stateLink {
				want[f.cfg.HW] = true
			}
		}
	}
	for hw := range u.listening {
		if !want[hw] {
			if err := u.o.Transport.Unlisten(hw); err != nil {
				u.log.Warn("failed to stop listening", "iface", hw, "err", err)
			}
			delete(u.listening, hw)
		}
	}
	for hw := range want {
		if u.listening[hw] {
			continue
		}
		if err := u.o.Transport.Listen(hw, netip.Addr{}); err != nil {
			u.log.Warn("failed to listen", "iface", hw, "err", err)
			continue
		}
		u.listening[hw] = true
	}
}

// send encodes body and sends it on interface hw to dst, keeping the
// counters of `show failover`.
func (u *Unit) send(hw string, dst netip.Addr, body wire.Body) bool {
	sys := isSysCmd(body)
	b, err := u.sender.Encode(body)
	if err == nil {
		err = u.o.Transport.Send(hw, dst, b)
	}
	u.stats.count(sys, true, err != nil)
	u.stats.countType(body.Type().String(), true, err != nil)
	if err != nil {
		u.log.Debug("failed to send", "type", body.Type(), "iface", hw, "err", err)
		return false
	}
	return true
}

// sendLAN sends to the mate's address on the failover LAN link.
func (u *Unit) sendLAN(body wire.Body) bool {
	lan := u.lanIf()
	if lan == nil || u.o.Transport == nil || !u.listening[lan.cfg.HW] {
		u.stats.count(isSysCmd(body), true, true)
		u.stats.countType(body.Type().String(), true, true)
		return false
	}
	dst := u.mateAddr(lan)
	if !dst.IsValid() {
		dst = broadcast
	}
	return u.send(lan.cfg.HW, dst, body)
}

// mateAddr is the address the mate holds on f: what it announced, or for
// the LAN link what its role implies.
func (u *Unit) mateAddr(f *ifc) netip.Addr {
	if u.mate.heard {
		for _, e := range u.mate.hello.Interfaces {
			if e.Name == f.cfg.Name && e.Addr.IsValid() {
				return e.Addr
			}
		}
	}
	if f.lan || f.stateLink {
		return lanAddr(f.cfg, otherRole(u.role)).Addr()
	}
	return netip.Addr{}
}

func isSysCmd(b wire.Body) bool {
	switch b.(type) {
	case *wire.Hello, *wire.IfHello, *wire.Control, *wire.Challenge, *wire.Response:
		return true
	}
	return false
}

// recvLoop hands every received packet to the event loop.
func (u *Unit) recvLoop(ch <-chan transport.Packet) {
	for {
		select {
		case p, ok := <-ch:
			if !ok {
				return
			}
			u.o.Post(func() { u.handlePacket(p, len(ch)) })
		case <-u.done:
			return
		}
	}
}

// handlePacket authenticates and dispatches one datagram. queued is how
// many packets were still waiting behind it (the Recv Q depth).
func (u *Unit) handlePacket(p transport.Packet, queued int) {
	if u.stopped || !u.talking {
		return
	}
	u.stats.recvQueued(queued)
	if err := transport.CheckOnLink(p); err != nil {
		u.stats.count(false, false, true)
		u.log.Debug("rejected failover message", "iface", p.Iface, "src", p.Src, "err", err)
		return
	}
	f := u.ifByHW(p.Iface)
	in := wire.Ingress{Iface: p.Iface}
	if f != nil {
		in.Name, in.LAN = f.cfg.Name, f.lan
	}
	prev, _ := u.recv.Peer()
	m, reply, err := u.recv.Decode(in, p.Data, u.o.Clock.Now())
	if reply != nil && (in.LAN || !u.dataSilent()) {
		// Broadcast: the answer or challenge must reach the live mate
		// whatever address it holds, and whatever source the datagram
		// that caused it claimed.
		u.send(p.Iface, broadcast, reply)
	}
	if errors.Is(err, wire.ErrReflected) {
		// Our own broadcast, looped back by the kernel to our own
		// socket: not a message from anyone, so not counted as rejected.
		return
	}
	if err != nil {
		u.stats.count(false, false, true)
		u.stats.countRejected(err)
		u.log.Debug("rejected failover message", "iface", p.Iface, "src", p.Src, "err", err)
		if errors.Is(err, wire.ErrUnverified) {
			u.unverifiedOnData(f, m)
		}
		return
	}
	u.stats.count(isSysCmd(m.Body), false, false)
	u.stats.countType(m.Body.Type().String(), false, false)
	onLAN := in.LAN
	switch b := m.Body.(type) {
	case *wire.Challenge:
		// Answered above.
	case *wire.Response:
		if peer, _ := u.recv.Peer(); peer != prev {
			u.log.Info("mate's boot proven live", "boot", peer, "iface", p.Iface)
			if onLAN {
				// Its first hello was refused while unproven: hello now,
				// so it answers without waiting a poll interval.
				u.sendHello(0)
			}
		}
		if f != nil && !onLAN {
			// A fresh answer proves the mate alive on this link now.
			u.heardOnData(f)
		}
	case *wire.Hello:
		if onLAN {
			u.handleHello(m, b)
		}
	case *wire.IfHello:
		u.handleIfHello(p.Iface)
	case *wire.ConfigLine:
		u.handleConfigLine(b)
	case *wire.BulkBegin:
		u.handleBulkBegin(b)
	case *wire.BulkLine:
		u.handleBulkLine(b)
	case *wire.BulkEnd:
		u.handleBulkEnd(b)
	case *wire.Control:
		switch b.Op {
		case wire.OpProbe, wire.OpProbeReply:
			// Only meaningful on a data interface: on the LAN link it
			// would prove nothing about the data interfaces.
			if !onLAN {
				u.handleProbe(p.Iface, b)
			}
		default:
			u.handleControl(b)
		}
	case *wire.StateUpdate:
		u.handleStateUpdate(p.Iface, b)
	case *wire.ExecRequest:
		u.handleExecRequest(b)
	case *wire.ExecReply:
		u.handleExecReply(b)
	}
}

// unverifiedOnData handles an interface hello from a boot not proven live
// yet. A unit that has just started and heard no mate must stay silent on
// its data interfaces (dataSilent), so it cannot challenge there; with the
// LAN link down it would never learn that its mate is alive, and a
// secondary would go active beside an active primary. It therefore takes
// such a hello as a sign that a mate may be alive, which only ever holds it
// back (in Negotiation only the primary goes active while a mate is heard
// on a data interface). A recording can do no more than that.
func (u *Unit) unverifiedOnData(f *ifc, m *wire.Message) {
	if f == nil || f.lan || m == nil || u.state != Negotiation || u.mate.heard {
		return
	}
	if _, ok := m.Body.(*wire.IfHello); ok {
		u.heardOnData(f)
	}
}
