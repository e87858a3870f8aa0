package unit

import (
	"net/netip"
	"time"

	"failover/engine/dataplane"
	"failover/engine/wire"
)

// The PIX interface test. A monitored interface with carrier
// whose mate has not been heard on it for the interface hold time goes
// Testing, and runs these stages in order, each for testStage:
//
//  1. link: no carrier is No Link at once, never a test (checked first);
//  2. network activity: just watch the receive counter;
//  3. ARP: read the kernel's neighbour table and send ARP requests to the
//     most recently learned neighbours (at most dataplane.MaxNeighbors),
//     one every testStage/MaxNeighbors, since the kernel would not ARP
//     an entry again on demand;
//  4. broadcast ping: one ICMP echo to the subnet's broadcast address.
//
// The test stops as soon as the receive counter grows past its value at the
// start (105009 Passed); nothing received by the end of the last stage is
// 105009 Failed. A failed interface keeps watching its counter and passes
// on the first packet. The mate's report decides what a failure means.
const (
	stageActivity = iota
	stageARP
	stagePing
	testStages
)

// testStage is how long each stage lasts: the interface poll time, at least
// 500 ms, at most the PIX's 5 s and a third of the interface hold time, so
// that the whole test (three stages) fits in the hold time. With the
// default timers (5 s / 25 s) a test takes 15 s.
func (u *Unit) testStage() time.Duration {
	d := min(5*time.Second, max(u.fo.IfPoll, 500*time.Millisecond))
	return max(10*time.Millisecond, min(d, u.ifHold()/testStages))
}

// updateIfs runs the PIX interface tests: a monitored interface that stops
// hearing the mate goes Testing, watches its receive counter and stirs up
// traffic (ARP, broadcast ping); no traffic at all means this side of the
// interface is the broken one.
//
// While an interface is testing, its testEnd is when the last stage ends,
// rx0 the receive counter at the start, and nextTest when the next request
// is due (the next ARP, then the ping, then testEnd: nothing more to send).
func (u *Unit) updateIfs() {
	now := u.o.Clock.Now()
	// Tests compare with the mate, so they only run while its hellos are
	// current: when the LAN link goes quiet too, the mate is the question,
	// not our interfaces.
	lanRecent := u.mate.heard && !u.mate.shutdown && now.Sub(u.mate.lastLAN) <= u.fo.Poll*3/2+u.tickEvery
	concluded := false
	for _, f := range u.ifs {
		if !f.monitored {
			continue
		}
		if !f.adminUp || !f.carrier {
			f.testing, f.failed, f.passed = false, false, false
			continue
		}
		if f.heard && now.Sub(f.lastHeard) < u.ifHold() {
			f.testing, f.failed, f.passed = false, false, false
			continue
		}
		canTest := lanRecent && u.state != Negotiation && u.heldAddr(f, u.state).IsValid() &&
			(f.heard || now.Sub(u.mate.firstLAN) >= u.ifHold()) && !u.mateLinkDown(f)
		if !canTest {
			// Without a mate there is nothing to compare with; nor
			// beside a mate whose side of the segment has no link: a
			// quiet segment fails the test by itself, and our side is
			// not the broken one. The interface waits for the mate.
			f.testing, f.failed, f.passed = false, false, false
			continue
		}
		switch {
		case f.failed:
			if rx := u.rxPackets(f); rx > f.rx0 {
				u.testPassed(f, now)
				concluded = true
			} else if f.failedBoth && u.mateIfStatus(f) == wire.IfNormal {
				// Our test failed while the mate's side failed too (a
				// dead segment); the mate's side works again, so ours
				// may as well: it is tested again before it counts as
				// the broken one (whichever side hears the segment
				// first must not fail the other).
				u.startTest(f, now)
			}
		case f.testing:
			rx := u.rxPackets(f)
			switch {
			case rx > f.rx0:
				u.testPassed(f, now)
				concluded = true
			case !now.Before(f.testEnd):
				f.testing, f.failed, f.rx0 = false, true, rx
				f.failedBoth = u.mateIfStatus(f) != wire.IfNormal
				u.syslog(1, 105009, "Testing on interface "+f.cfg.Name+" Failed.")
				u.noteIfTest(f, false)
				concluded = true
			default:
				u.stimulate(f, now)
			}
		case !now.Before(f.nextTest):
			u.startTest(f, now)
		}
	}
	if concluded {
		// The mate compares its interfaces with ours: tell it now rather
		// than at the next poll.
		u.sendHello(0)
	}
}

// mateLinkDown says whether the mate announced its side of f without
// link (no carrier, or shut down).
func (u *Unit) mateLinkDown(f *ifc) bool {
	st := u.mateIfStatus(f)
	return st == wire.IfNoLink || st == wire.IfLinkDown
}

// startTest begins the test of f: network activity first, then the
// requests of the later stages.
func (u *Unit) startTest(f *ifc, now time.Time) {
	d := u.testStage()
	f.testing, f.failed, f.passed = true, false, false
	f.testEnd = now.Add(testStages * d)
	f.nextTest = now.Add(stageARP * d)
	f.rx0 = u.rxPackets(f)
	u.syslog(1, 105008, "Testing interface "+f.cfg.Name+".")
}

// mateIfStatus is the status the mate announced for its side of f.
func (u *Unit) mateIfStatus(f *ifc) wire.IfStatus {
	for _, e := range u.mate.hello.Interfaces {
		if e.Name == f.cfg.Name {
			return e.Status
		}
	}
	return wire.IfUnknown
}

func (u *Unit) testPassed(f *ifc, now time.Time) {
	f.testing, f.failed, f.passed = false, false, true
	f.nextTest = now.Add(u.ifHold())
	u.syslog(1, 105009, "Testing on interface "+f.cfg.Name+" Passed.")
	u.noteIfTest(f, true)
}

// stimulate sends the requests of the ARP and broadcast ping stages that
// are due by now. Ticks may be coarser than the ARP spacing: every request
// due since the last one goes out then.
func (u *Unit) stimulate(f *ifc, now time.Time) {
	if u.o.DP == nil || now.Before(f.nextTest) || !f.nextTest.Before(f.testEnd) {
		return
	}
	d := u.testStage()
	arpStart := f.testEnd.Add(-(testStages - stageARP) * d)
	pingStart := f.testEnd.Add(-(testStages - stagePing) * d)
	if f.nextTest.Before(pingStart) {
		gap := max(d/dataplane.MaxNeighbors, time.Nanosecond)
		first := max(0, int(f.nextTest.Sub(arpStart)/gap))
		last := int(now.Sub(arpStart) / gap)
		nbs, err := u.o.DP.Neighbors(f.cfg.HW)
		if err != nil {
			u.log.Warn("interface test: cannot read the neighbour table", "if", f.cfg.Name, "err", err)
		}
		for i := first; i <= last && i < len(nbs); i++ {
			u.log.Debug("interface test: ARP", "if", f.cfg.Name, "target", nbs[i].IP)
			if err := u.o.DP.ARPRequest(f.cfg.HW, nbs[i].IP); err != nil {
				u.log.Warn("interface test: ARP request failed", "if", f.cfg.Name, "target", nbs[i].IP, "err", err)
			}
		}
		if last+1 >= len(nbs) {
			f.nextTest = pingStart // everyone asked (or nobody to ask)
		} else {
			f.nextTest = arpStart.Add(time.Duration(last+1) * gap)
		}
		return
	}
	f.nextTest = f.testEnd
	p := u.heldAddr(f, u.state)
	bcast, ok := broadcastAddr(p)
	if !ok {
		u.log.Debug("interface test: no broadcast ping on a non-IPv4 subnet", "if", f.cfg.Name, "addr", p)
		return
	}
	u.log.Debug("interface test: broadcast ping", "if", f.cfg.Name, "dst", bcast)
	if err := u.o.DP.BroadcastPing(f.cfg.HW, p.Addr().Unmap(), bcast); err != nil {
		u.log.Warn("interface test: broadcast ping failed", "if", f.cfg.Name, "dst", bcast, "err", err)
	}
}

// broadcastAddr is p's subnet broadcast address; 255.255.255.255 for /31
// and /32, which have none. Only IPv4 subnets have one.
func broadcastAddr(p netip.Prefix) (netip.Addr, bool) {
	a := p.Addr().Unmap()
	if !p.IsValid() || !a.Is4() {
		return netip.Addr{}, false
	}
	if p.Bits() >= 31 {
		return netip.AddrFrom4([4]byte{255, 255, 255, 255}), true
	}
	b := a.As4()
	host := ^uint32(0) >> p.Bits()
	for i := range 4 {
		b[i] |= byte(host >> (24 - 8*i))
	}
	return netip.AddrFrom4(b), true
}

func (u *Unit) rxPackets(f *ifc) uint64 {
	if u.o.DP == nil {
		return 0
	}
	l, err := u.o.DP.Link(f.cfg.HW)
	if err != nil {
		return 0
	}
	return l.Stats.RxPackets
}

// ifStatus is the health of f as `show failover` and the hellos report it.
func (u *Unit) ifStatus(f *ifc) wire.IfStatus {
	now := u.o.Clock.Now()
	switch {
	case !f.adminUp:
		return wire.IfLinkDown
	case !f.carrier:
		return wire.IfNoLink
	case f.lan:
		// Failed only when the link is the problem: the mate is alive (heard
		// on a data interface) but not on this link. A mate heard nowhere
		// is down, and the link is waiting for it.
		switch {
		case u.mate.heard && !u.mate.shutdown && now.Sub(u.mate.lastLAN) < u.hold():
			return wire.IfNormal
		case u.mate.heard && u.mateHeardOnData(now):
			return wire.IfFailed
		}
		return wire.IfWaiting
	case !u.heldAddr(f, u.state).IsValid():
		return wire.IfUnknown
	case !f.monitored:
		return wire.IfNormal
	case f.failed:
		return wire.IfFailed
	case f.testing:
		return wire.IfTesting
	case f.heard && now.Sub(f.lastHeard) < u.ifHold(), f.passed:
		return wire.IfNormal
	}
	return wire.IfWaiting
}

// failedCount counts our monitored interfaces that are failed or have no
// link: what `failover interface-policy` is compared with.
func (u *Unit) failedCount() int {
	n := 0
	for _, f := range u.ifs {
		if f.monitored && f.adminUp && (!f.carrier || f.failed) {
			n++
		}
	}
	return n
}

// noLinkCount counts monitored interfaces without carrier.
func (u *Unit) noLinkCount() int {
	n := 0
	for _, f := range u.ifs {
		if f.monitored && f.adminUp && !f.carrier {
			n++
		}
	}
	return n
}

// mateFailedCount counts the failed interfaces the mate announced, among
// those we monitor. One the mate is still testing counts too: until its
// test passes, its side of the segment is not known to work, and a unit
// whose test failed first must not be declared the broken one while the
// mate's may fail as well (both sides dead is nobody's fault).
func (u *Unit) mateFailedCount() int {
	n := 0
	for _, e := range u.mate.hello.Interfaces {
		for _, f := range u.ifs {
			if f.monitored && f.cfg.Name == e.Name &&
				(e.Status == wire.IfFailed || e.Status == wire.IfNoLink || e.Status == wire.IfTesting) {
				n++
			}
		}
	}
	return n
}

func (u *Unit) policyExceeded(failed int) bool {
	if failed == 0 {
		return false
	}
	if u.fo.PolicyPercent {
		monitored := 0
		for _, f := range u.ifs {
			if f.monitored {
				monitored++
			}
		}
		return monitored > 0 && failed*100 >= u.fo.Policy*monitored
	}
	return failed >= u.fo.Policy
}
