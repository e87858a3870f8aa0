package unit

import (
	"time"

	"failover/engine/dataplane"
	"failover/engine/wire"
)

// The fence: a serving unit arms a dead man's switch in its own kernel
// (dataplane Fence) and renews it, for one hold time, with every hello. If
// its daemon dies with the links up, the kernel stops sending ARP and
// neighbour discovery on the data interfaces one hold time after the last
// renewal, and sends every other frame from a MAC nobody else wears, while
// it keeps forwarding what still reaches it. Its hellos say so
// (HelloFenced); the mate, which declares it lost one hold time after the
// last hello, knows the dead box has stopped answering for the system
// addresses by then, checks with one short round of ARP requests, and
// takes over: the switches follow the new active's gratuitous ARPs, and
// until they do the old box still forwards. So a killed daemon costs the
// hold time and a few milliseconds, no two boxes ever answer for one
// address, and nobody waits for the kernel to expire the old box's
// addresses (which it does from a work item rounded to whole seconds).

// fenceSlack covers the kernel's resolution of the fence's timeout (a
// jiffy, 4 ms at HZ=250) and the hello's trip: the mate asks that much
// after the fence can have tripped at the latest.
const fenceSlack = 5 * time.Millisecond

// claimWaitFenced is how long the one ARP round after a fenced mate's
// fence tripped waits for an answer: a live box's kernel answers in well
// under a millisecond on a LAN.
const claimWaitFenced = 8 * time.Millisecond

// fenceWanted says whether this unit's box must stop by itself if the
// daemon dies: it is a unit of a pair. The standby keeps a fence too,
// although only the active's matters to the mate: building the table
// registers a hook per interface, which takes the kernel tens of
// milliseconds, and a takeover must only renew it. Not before the first
// configuration was evaluated: renewing a fence its killed previous run
// left, before the engine removed that run's system addresses, would make
// its box answer again beside the active mate.
func (u *Unit) fenceWanted() bool { return u.started && u.talking && !u.stopped }

// fenceLinks are the data interfaces and the MAC each sends from once the
// fence has tripped (the one a unit that hands over mutes to).
func (u *Unit) fenceLinks() []dataplane.FencedLink {
	var out []dataplane.FencedLink
	for _, f := range u.ifs {
		if f.lan || f.stateLink || len(f.ownMAC) != 6 {
			continue
		}
		out = append(out, dataplane.FencedLink{Name: f.cfg.HW, MuteAs: negotiationMAC(f.ownMAC)})
	}
	return out
}

// renewFence arms or renews the fence for one hold time. Without it the
// hellos do not say HelloFenced, and the mate waits for the addresses to
// expire as it would for an older build.
func (u *Unit) renewFence() {
	if u.o.DP == nil || !u.fenceWanted() {
		return
	}
	now := u.o.Clock.Now()
	if u.state.serves() && u.fenceOK && !now.Before(u.fenceEnd) && u.mate.heard && !u.mate.shutdown &&
		now.Sub(u.mate.lastLAN) < u.hold() && u.mate.hello.Flags&wire.HelloServing != 0 {
		// This daemon stalled past its own fence and the mate, which heard
		// nothing, took over: renewing now would make this box answer
		// beside it. It stays muted until the two have settled who serves.
		return
	}
	u.nextFence = now.Add(u.fo.Poll)
	// The fence trips one hold time after the last hello at the latest,
	// whenever it is renewed: the mate counts from the last hello it
	// heard, and a renewal between hellos must not push the moment later.
	ttl := u.hello0.Add(u.hold()).Sub(now)
	if u.hello0.IsZero() || ttl > u.hold() {
		ttl = u.hold()
	}
	if ttl <= 0 {
		// No hello for a hold time: the mate may have declared us lost,
		// and renewing would make this box answer beside it. The next
		// hello renews it.
		return
	}
	links := u.fenceLinks()
	if len(links) == 0 {
		u.dropFence()
		return
	}
	u.fencePresent = true
	if err := u.o.DP.Fence(ttl, links); err != nil {
		if u.fenceOK || !u.fenceWarned {
			u.log.Warn("failed to renew the fence: a killed daemon's box will answer until its addresses expire", "err", err)
			u.fenceWarned = true
		}
		u.fenceOK = false
		// A fence that is no longer renewed would mute this live box.
		u.dropFence()
		return
	}
	if !u.fenceOK {
		u.log.Debug("fence armed", "ttl", ttl)
	}
	u.fenceOK, u.lastFence, u.fenceEnd = true, now, now.Add(ttl)
}

// dropFence removes the fence, or a leftover of a killed earlier run.
func (u *Unit) dropFence() {
	u.fenceOK = false
	if u.o.DP == nil || !u.fencePresent {
		return
	}
	if err := u.o.DP.Fence(0, nil); err != nil {
		u.log.Warn("failed to remove the fence", "err", err)
		return
	}
	u.fencePresent = false
}

// mateFence is the time after its last hello by which the mate's fence
// has tripped, if the mate said it has one.
func (u *Unit) mateFence() (time.Duration, bool) {
	h := u.mate.hello
	if !u.mate.heard || u.mate.shutdown || h.Flags&wire.HelloFenced == 0 || h.HoldMs == 0 {
		return 0, false
	}
	return time.Duration(h.HoldMs)*time.Millisecond + fenceSlack, true
}

// fenceTripped is when the lost mate's fence has tripped at the latest.
func (u *Unit) fenceTripped() (time.Time, bool) {
	ttl, ok := u.mateFence()
	if !ok {
		return time.Time{}, false
	}
	return u.mate.lastLAN.Add(ttl), true
}

// armVerdict wakes the unit exactly when the mate's silence reaches the
// hold time (or its fence trips, if later): the periodic tick alone would
// add up to a fifth of a poll to every takeover.
func (u *Unit) armVerdict() {
	if u.verdictTimer != nil {
		u.verdictTimer.Stop()
	}
	wait := u.hold()
	if ttl, ok := u.mateFence(); ok {
		wait = max(wait, ttl)
	}
	u.verdictGen++
	gen := u.verdictGen
	u.verdictTimer = u.o.Clock.AfterFunc(wait, func() {
		u.o.Post(func() {
			if gen == u.verdictGen && !u.stopped {
				u.evaluate()
			}
		})
	})
}

// lifetimeFor is the valid lifetime of the system addresses on a box with
// or without a fence. Without one the lifetime is what stops a killed
// daemon's box (see addrLifetime). With one it is only the backstop that
// ends its forwarding for good: it must outlast the takeover by far, since
// until the switches have followed the new active the fenced box still
// forwards (refreshed every second at most, it ends at least a second
// after the fence trips).
func lifetimeFor(hold time.Duration, fenced bool) time.Duration {
	l := max(2*time.Second, (hold+time.Second-1).Truncate(time.Second)+time.Second)
	if fenced {
		l += time.Second
	}
	return l
}
