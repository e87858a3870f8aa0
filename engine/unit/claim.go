package unit

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// Taking the system addresses over from a lost mate.
//
// A lost mate may be dead only in its daemon: its kernel still holds the
// system addresses and keeps forwarding and answering ARP for them until
// their lifetime ends (addrLifetime, which outlasts the hold time on
// purpose). Taking them at the hold time would make two boxes answer for
// one address; taking them late loses traffic. So before it takes over from
// a lost mate, the unit asks on every data interface who has each system
// address (an ARP request, from its standby address) and takes over only
// when nobody answered within claimWait; while somebody does, it asks again
// every claimWait. The dead box thus forwards until its addresses expire,
// and the unit takes them over a few claimWaits later. A mate that lost
// its links (power failure) answers nothing: the unit takes over two
// claimWaits after the hold time.
//
// A mate whose hellos said it has a fence (fence.go) stopped answering by
// itself one hold time after its last hello: the unit asks once, after
// that moment, waits claimWaitFenced, and takes over if nobody answered.
// Should anybody answer all the same (the fence failed, or the mate lives
// and only its hellos are lost), the rules above apply.

// claimWait is how long an ARP request for a system address waits for an
// answer: an answer takes well under a millisecond on a LAN; 20 ms covers a
// loaded box.
const claimWait = 20 * time.Millisecond

// claimRound is one round of ARP requests for the system addresses.
type claimRound struct {
	gen      int
	sent     time.Time
	asked    bool // at least one request went out (else nothing to ask: free)
	answered bool // somebody sent ARP for a system address since sent
	done     bool // its wait is over
}

// Rounds needed before the addresses count as free. An answer can be late
// on a loaded box (its packet, our watcher, our loop), and one late answer
// taken for silence would make two boxes answer: so two quiet rounds in a
// row, and three once the lost mate's box has been heard answering in this
// silence; then also not before the earliest moment its addresses can
// expire (it refreshed them at least every third of their lifetime).
const (
	claimQuietRounds      = 2
	claimQuietRoundsHeard = 3
)

// claimState says whether nobody answers for the system addresses any more.
func (u *Unit) claimState(now time.Time) (free bool) {
	c := u.claim
	if c == nil || c.sent.Before(u.mate.lastLAN) {
		return false // no round of this silence yet
	}
	if !c.asked {
		return true // nothing to ask about
	}
	if at, fenced := u.fenceTripped(); fenced && !u.claimHeard {
		// Every round of this silence was asked after the fence tripped
		// (startClaim waits for it): one quiet round is enough.
		return u.claimQuiet >= 1 && !c.sent.Before(at)
	}
	if u.claimHeard {
		earliest := u.mate.lastLAN.Add(u.mateAddrLifetime() * 2 / 3)
		return u.claimQuiet >= claimQuietRoundsHeard && !now.Before(earliest)
	}
	return u.claimQuiet >= claimQuietRounds
}

// claimInFlight says whether a round still waits for answers.
func (u *Unit) claimInFlight(now time.Time) bool {
	c := u.claim
	return c != nil && !c.sent.Before(u.mate.lastLAN) && c.asked && !c.done
}

// startClaim asks on every data interface who has its system address,
// unless a round is already waiting.
func (u *Unit) startClaim(now time.Time) {
	if u.claimInFlight(now) {
		return
	}
	if at, fenced := u.fenceTripped(); fenced && now.Before(at) {
		// Asked before the mate's fence tripped, its kernel would still
		// answer: wake up when it has.
		if !u.claimDefer.Equal(at) {
			u.claimDefer = at
			u.o.Clock.AfterFunc(at.Sub(now), func() {
				u.o.Post(func() {
					if !u.stopped && u.claimDefer.Equal(at) {
						u.evaluate()
					}
				})
			})
		}
		return
	}
	if c := u.claim; c != nil && c.answered && now.Sub(u.mate.lastLAN) > u.mateAddrLifetime()+2*time.Second && !u.claimWarned {
		// The addresses outlived the lifetime a dead box gives them:
		// somebody alive holds them. Two boxes must not answer.
		u.claimWarned = true
		u.log.Warn("a system address is still answered on a data interface: not taking the addresses over")
	}
	if c := u.claim; c != nil && c.answered && !c.sent.Before(u.mate.lastLAN) && !u.claimWaitLogged {
		u.claimWaitLogged = true
		u.log.Info("the lost mate's box still answers for the system addresses: waiting until it does not")
	}
	if u.claim == nil || u.claim.sent.Before(u.mate.lastLAN) {
		u.claimQuiet, u.claimHeard = 0, false // a new silence
	}
	u.claimGen++
	c := &claimRound{gen: u.claimGen, sent: now}
	u.claim = c
	for _, f := range u.ifs {
		a := f.cfg.Addr.Addr()
		if f.lan || f.stateLink || !a.Is4() || !f.adminUp || !f.carrier || u.o.DP == nil {
			continue
		}
		if err := u.o.DP.ARPRequest(f.cfg.HW, a); err != nil {
			u.log.Debug("failed to ask who has a system address", "link", f.cfg.HW, "ip", a, "err", err)
			continue
		}
		c.asked = true
	}
	if !c.asked {
		return
	}
	gen := c.gen
	wait := claimWait
	if _, fenced := u.fenceTripped(); fenced && !u.claimHeard {
		wait = claimWaitFenced
	}
	u.log.Debug("asking who has the system addresses", "silence", now.Sub(u.mate.lastLAN), "wait", wait)
	u.o.Clock.AfterFunc(wait, func() {
		u.o.Post(func() {
			if u.claim == nil || u.claim.gen != gen || u.stopped {
				return
			}
			u.claim.done = true
			if u.claim.answered {
				u.claimQuiet = 0
			} else {
				u.claimQuiet++
			}
			u.evaluate()
		})
	})
}

// arpSeen takes an ARP packet seen on data interface hw: one from the
// interface's system address while we do not hold it means somebody else
// still answers for it.
func (u *Unit) arpSeen(hw string, sender netip.Addr) {
	f := u.ifByHW(hw)
	if u.stopped || f == nil || f.lan || f.stateLink || u.claim == nil || u.state.serves() || sender != f.cfg.Addr.Addr() {
		return
	}
	u.claim.answered = true
	u.claimHeard, u.claimQuiet = true, 0
}

// syncARPWatch watches ARP on the monitored data interfaces while the unit
// takes part in a pair, so that a claim round hears who answers.
func (u *Unit) syncARPWatch() {
	want := map[string]bool{}
	if u.participating() && !u.stopped && u.o.DP != nil {
		for _, f := range u.ifs {
			if !f.lan && !f.stateLink && f.cfg.Addr.Addr().Is4() {
				want[f.cfg.HW] = true
			}
		}
	}
	for hw, stop := range u.arpWatch {
		if !want[hw] {
			stop()
			delete(u.arpWatch, hw)
		}
	}
	for hw := range want {
		if u.arpWatch[hw] != nil {
			continue
		}
		ctx, cancel := context.WithCancel(context.Background())
		u.arpWatch[hw] = cancel
		go func() {
			err := u.o.DP.WatchARP(ctx, hw, func(ip netip.Addr, _ net.HardwareAddr) {
				u.o.Post(func() { u.arpSeen(hw, ip) })
			})
			if err != nil {
				u.log.Warn("failed to watch ARP", "link", hw, "err", err)
			}
		}()
	}
}
