package unit

import (
	"net/netip"
	"time"

	"failover/engine/wire"
)

// probeRound is the active check of the data interfaces made when the
// failover LAN link goes quiet: it tells a dead mate from a dead LAN link
// within the unit hold time, where waiting for the mate's interface hellos
// to stop would take the interface hold time (5 s at least).
type probeRound struct {
	outage   time.Time // mate.lastLAN when the round started: one round per silence
	token    uint32
	sent     time.Time // first probes
	sends    int
	nextSend time.Time // repeat the probes then if nothing was heard
	verdict  time.Time // nothing from the mate on a data interface by then: it is lost
}

// probeMinWait is the least time the mate is given to answer a probe. It
// answers from its event loop at once, so a reply normally takes one round
// trip on a LAN (well under a millisecond); 50 ms covers a loaded box or a
// scheduling hiccup.
const probeMinWait = 50 * time.Millisecond

// probeWindow is how long before the hold time runs out the probes go out,
// so that the answer is in when the hold time ends: two polls, at least
// probeMinWait, at most 1 s (with slow timers two polls would be seconds of
// probing for nothing: an answer takes a round trip).
func (u *Unit) probeWindow() time.Duration {
	return min(time.Second, max(probeMinWait, 2*u.fo.Poll))
}

// probeAfter is the LAN silence after which the probes go out: the window
// before the hold time, but never before one hello is really missing (1.5
// polls, as lanRecent), so a merely late hello costs no probe. With the
// tightest timers that leaves less than the window before the hold time;
// the verdict then waits probeMinWait after the probes (probeRound).
func (u *Unit) probeAfter() time.Duration {
	return max(u.hold()-u.probeWindow(), u.fo.Poll*3/2+u.tickEvery)
}

// mateAnswersProbes says whether the mate announced that it answers probes;
// an older build does not, and its silence to a probe proves nothing.
func (u *Unit) mateAnswersProbes() bool {
	return u.mate.heard && !u.mate.shutdown && u.mate.hello.Flags&wire.HelloAnswersProbes != 0
}

// probeSends is how many times a round sends its probes while no answer
// has come, spread over the wait: one lost datagram on each interface must
// not make a living mate look dead.
const probeSends = 3

// updateProbe starts a probe round when the mate's LAN hellos have been
// missing for probeAfter, repeats the probes while nothing is heard, and
// forgets the round once the hellos are back.
func (u *Unit) updateProbe(now time.Time) {
	if !u.mateAnswersProbes() {
		u.probe = nil
		return
	}
	if pr := u.curProbe(); pr != nil {
		if pr.sends < probeSends && !now.Before(pr.nextSend) && now.Before(pr.verdict) && !u.heardSince(pr.sent, now) {
			u.sendProbes(now)
		}
		return
	}
	u.probe = nil
	if now.Sub(u.mate.lastLAN) < u.probeAfter() {
		return
	}
	u.nextToken++
	u.probe = &probeRound{
		outage: u.mate.lastLAN,
		token:  u.nextToken,
		sent:   now,
		// At the hold time, unless that leaves the
		// mate less than probeMinWait to answer.
		verdict: maxTime(u.mate.lastLAN.Add(u.hold()), now.Add(probeMinWait)),
	}
	u.log.Info("failover LAN link quiet: probing the mate on the data interfaces",
		"silence", now.Sub(u.mate.lastLAN), "verdict in", u.probe.verdict.Sub(now))
	u.sendProbes(now)
}

// sendProbes sends the round's probe on every monitored data interface
// that can carry it.
func (u *Unit) sendProbes(now time.Time) {
	pr := u.probe
	pr.sends++
	pr.nextSend = now.Add(pr.verdict.Sub(pr.sent) / probeSends)
	for _, f := range u.ifs {
		if !f.monitored || !u.listening[f.cfg.HW] || !f.adminUp || !f.carrier {
			continue
		}
		// Broadcast: it needs no ARP, and reaches the mate whatever
		// address it holds now (it may have changed role unheard).
		u.send(f.cfg.HW, broadcast, &wire.Control{Op: wire.OpProbe, Token: pr.token})
	}
}

// heardSince says whether the mate was heard on a monitored data interface
// at or after t (and within the interface hold time).
func (u *Unit) heardSince(t, now time.Time) bool {
	for _, f := range u.ifs {
		if f.monitored && f.heard && !f.lastHeard.Before(t) && now.Sub(f.lastHeard) < u.ifHold() {
			return true
		}
	}
	return false
}

// probePending says whether a probe round is still waiting for an answer
// past the hold time: the mate is neither heard nor lost yet.
func (u *Unit) probePending(now time.Time) bool {
	pr := u.curProbe()
	return pr != nil && now.Before(pr.verdict)
}

// curProbe is the probe round of the current LAN silence, if any: a round
// of an earlier silence (the hellos came back since) says nothing now.
func (u *Unit) curProbe() *probeRound {
	if u.probe == nil || !u.probe.outage.Equal(u.mate.lastLAN) {
		return nil
	}
	return u.probe
}

// handleProbe answers a probe from the mate on data interface f at once,
// whatever our state, and counts a probe or a reply as the mate heard
// there: both are authenticated and fresh (replay window), so both prove
// the mate alive now.
func (u *Unit) handleProbe(hw string, c *wire.Control) {
	f := u.ifByHW(hw)
	if f == nil || f.lan {
		return
	}
	if c.Op == wire.OpProbe && !u.dataSilent() {
		u.send(hw, broadcast, &wire.Control{Op: wire.OpProbeReply, Token: c.Token})
	}
	u.heardOnData(f)
}

// heardOnData records that the mate was heard on a data interface.
func (u *Unit) heardOnData(f *ifc) {
	f.heard, f.lastHeard = true, u.o.Clock.Now()
	u.evaluate()
}

// mateHeardOn says whether what the mate sent on data interface f still
// shows it alive. Once its LAN hellos are overdue and the probes went out,
// only messages since the probes count: an interface hello sent before
// them may predate the mate's death.
func (u *Unit) mateHeardOn(f *ifc, now time.Time, lanFresh bool) bool {
	if !f.heard || now.Sub(f.lastHeard) >= u.ifHold() {
		return false
	}
	pr := u.curProbe()
	return lanFresh || pr == nil || !f.lastHeard.Before(pr.sent)
}

// dataDst is where messages to the mate go on data interface f: the
// address the mate announced there while its hellos are current and that
// address is not one we hold ourselves (we may have taken it over), else
// broadcast, which reaches the mate wherever its addresses have moved.
func (u *Unit) dataDst(f *ifc) netip.Addr {
	now := u.o.Clock.Now()
	lanFresh := u.mate.heard && !u.mate.shutdown && now.Sub(u.mate.lastLAN) < u.hold()
	dst := u.mateAddr(f)
	if !lanFresh || !dst.IsValid() || dst == u.heldAddr(f, u.state).Addr() {
		return broadcast
	}
	return dst
}

func maxTime(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// mateHeardOnData says whether the mate is heard alive on any monitored
// data interface now (only news since the probes, once they went out).
func (u *Unit) mateHeardOnData(now time.Time) bool {
	for _, f := range u.ifs {
		if f.monitored && u.mateHeardOn(f, now, false) {
			return true
		}
	}
	return false
}
