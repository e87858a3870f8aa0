package unit

import (
	"time"

	"failover/engine/wire"
)

// startTimers starts the one periodic tick that sends hellos, interface
// hellos and re-evaluates the state. A generation number makes a tick that
// was already posted before a restart harmless.
func (u *Unit) startTimers() {
	u.tickEvery = min(u.fo.Poll, u.fo.IfPoll) / 5
	u.tickEvery = max(5*time.Millisecond, min(u.tickEvery, time.Second))
	now := u.o.Clock.Now()
	u.nextHello = now.Add(u.fo.Poll)
	u.nextIfHello = now
	u.scheduleTick()
}

func (u *Unit) scheduleTick() {
	u.tickGen++
	gen := u.tickGen
	u.tick = u.o.Clock.AfterFunc(u.tickEvery, func() {
		u.o.Post(func() { u.onTick(gen) })
	})
}

func (u *Unit) stopTimers() {
	u.tickGen++
	if u.tick != nil {
		u.tick.Stop()
		u.tick = nil
	}
	u.garpGen++
}

func (u *Unit) onTick(gen int) {
	if gen != u.tickGen || u.stopped || !u.talking {
		return
	}
	now := u.o.Clock.Now()
	if !now.Before(u.nextHello) {
		u.sendHello(0)
	} else if u.fenceWanted() && !now.Before(u.nextFence) {
		u.renewFence()
	}
	if !now.Before(u.nextIfHello) {
		u.sendIfHellos()
		u.nextIfHello = now.Add(u.fo.IfPoll)
	}
	u.evaluate()
	if u.state.serves() && !now.Before(u.nextRefresh) {
		// Refresh the lifetime of the system addresses, so that they
		// expire by themselves only if this daemon dies.
		u.reconcile(false)
	}
	u.expireSwitchover(now)
	u.scheduleTick()
}

// sendHello announces our state on the LAN link.
func (u *Unit) sendHello(flags uint8) {
	// The fence is renewed before the hello that announces it, so that it
	// trips at the latest one hold time after the mate last heard us; also
	// when the hello cannot go out (the mate then hears us on the data
	// interfaces, and the fence must not trip on a live unit). Hellos
	// that follow each other closely (state changes) renew it once.
	now := u.o.Clock.Now()
	u.hello0 = now
	if !u.fenceOK || now.Sub(u.lastFence) >= u.fo.Poll/4 {
		u.renewFence()
	}
	lan := u.lanIf()
	if lan == nil || !u.listening[lan.cfg.HW] {
		return
	}
	if u.state.serves() {
		flags |= wire.HelloServing
		if u.fenceOK {
			flags |= wire.HelloFenced
		}
	}
	h := &wire.Hello{
		State:         u.state.wireState(),
		ActiveTime:    uint32(min(u.activeTime()/time.Second, 1<<32-1)),
		ConfigVersion: u.cfgVersion,
		PollMs:        uint32(u.fo.Poll / time.Millisecond),
		HoldMs:        uint32(u.fo.Hold / time.Millisecond),
		// We answer probes on the data interfaces (probe.go); a mate of
		// an older build does not say so and is judged as before.
		Flags: flags | wire.HelloAnswersProbes,
	}
	if !u.lastFailover.IsZero() {
		h.LastFailover = uint64(u.lastFailover.UnixMilli())
	}
	for _, f := range u.ifs {
		h.Interfaces = append(h.Interfaces, wire.IfEntry{
			Name:   f.cfg.Name,
			Status: u.ifStatus(f),
			Addr:   u.heldAddr(f, u.state).Addr(),
			// The burned-in MAC, not the current one: the mate needs the
			// primary's own MAC to take it over.
			MAC: f.ownMAC,
		})
	}
	u.send(lan.cfg.HW, broadcast, h)
	u.nextHello = u.o.Clock.Now().Add(u.fo.Poll)
}

// sendIfHellos sends one interface hello on every monitored interface,
// to the mate's current address there or broadcast (dataDst).
func (u *Unit) sendIfHellos() {
	if u.dataSilent() {
		return
	}
	for _, f := range u.ifs {
		if !f.monitored || !u.listening[f.cfg.HW] {
			continue
		}
		u.send(f.cfg.HW, u.dataDst(f), &wire.IfHello{Name: f.cfg.Name, State: u.ifStatus(f)})
	}
}

// handleHello takes a hello that arrived on the LAN link.
func (u *Unit) handleHello(m *wire.Message, h *wire.Hello) {
	now := u.o.Clock.Now()
	newBoot := !u.mate.heard || m.BootID != u.mate.boot
	if !newBoot && m.Seq <= u.mate.helloSeq {
		// The replay window accepts a late message it never saw, such as a
		// hello sent before we listened; a hello older than the last one
		// must still not turn the mate's state back.
		u.stats.general.rcv--
		u.stats.sysCmd.rcv--
		u.stats.general.rerr++
		return
	}
	u.mate.helloSeq = m.Seq
	prevState := u.mate.hello.State
	if newBoot {
		u.mate.firstLAN = now
		prevState = wire.UnitUnknown
		u.mate.mismatch = 0
	}
	u.mate.heard = true
	u.mate.boot, u.mate.role, u.mate.hello = m.BootID, m.Role, *h
	if h.LastFailover != 0 {
		// The pair's last failover, whichever unit saw it: both show it.
		if t := time.UnixMilli(int64(min(h.LastFailover, 1<<62))); t.After(u.lastFailover) {
			u.lastFailover = t
		}
	}
	u.mate.lastLAN = now
	u.mate.shutdown = h.Flags&wire.HelloShuttingDown != 0
	u.armVerdict()
	if lan := u.lanIf(); lan != nil {
		lan.heard, lan.lastHeard = true, now
	}
	if u.mate.shutdown {
		// A clean shutdown: do not wait for the hold time, and do not
		// count interface hellos it sent before going.
		u.mate.lastLAN = time.Time{}
		for _, f := range u.ifs {
			f.lastHeard = time.Time{}
		}
	}
	if m.Role != u.role {
		u.conflictLogged = false
	}
	if h.State == wire.UnitFailed && prevState != wire.UnitFailed {
		u.mateFailure = failure{what: "Ifc Failure", at: now}
	}
	u.onMateHello(prevState)
	if newBoot && !u.mate.shutdown {
		// Answer a newcomer at once so negotiation does not wait a poll.
		u.sendHello(0)
	}
	u.evaluate()
}

// handleIfHello records that the mate was heard on a data interface.
func (u *Unit) handleIfHello(hw string) {
	f := u.ifByHW(hw)
	if f == nil || f.lan {
		return
	}
	u.heardOnData(f)
}

// dataSilent says whether the unit must send nothing on its data
// interfaces. A unit in Negotiation does not know its mate's state yet: a
// primary restarted after dying while active still wears its own MAC,
// which the active secondary wears now, so any frame it sent would pull
// the switch's entry for that MAC to its port and cut the active unit off
// until the active transmits again. It also must not answer probes: a
// mate probing it lost its LAN hellos, and an answer would tell the mate
// that only the link failed while nobody is active.
func (u *Unit) dataSilent() bool { return u.state == Negotiation }
