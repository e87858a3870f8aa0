package unit

import (
	"time"

	"failover/engine/wire"
)

// testDuration is how long an interface test watches the receive counter:
// "a few seconds", shorter with fast interface timers.
func (u *Unit) testDuration() time.Duration {
	return max(100*time.Millisecond, min(5*time.Second, u.ifHold()/5))
}

// updateIfs runs the PIX interface tests: a monitored interface that stops
// hearing the mate goes Testing and watches its receive counter; no traffic
// at all means this side of the interface is the broken one.
func (u *Unit) updateIfs() {
	now := u.o.Clock.Now()
	// Tests compare with the mate, so they only run while its hellos are
	// current: when the LAN link goes quiet too, the mate is the question,
	// not our interfaces.
	lanRecent := u.mate.heard && !u.mate.shutdown && now.Sub(u.mate.lastLAN) <= u.fo.Poll*3/2+u.tickEvery
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
			(f.heard || now.Sub(u.mate.firstLAN) >= u.ifHold())
		if !canTest {
			// Without a mate there is nothing to compare with.
			f.testing, f.failed, f.passed = false, false, false
			continue
		}
		switch {
		case f.failed:
			if rx := u.rxPackets(f); rx > f.rx0 {
				f.failed, f.passed = false, true
				f.nextTest = now.Add(u.ifHold())
				u.syslog(1, 105009, "Testing on interface "+f.cfg.Name+" Passed.")
			}
		case f.testing:
			if now.Before(f.testEnd) {
				continue
			}
			f.testing = false
			rx := u.rxPackets(f)
			if rx > f.rx0 {
				f.passed = true
				f.nextTest = now.Add(u.ifHold())
				u.syslog(1, 105009, "Testing on interface "+f.cfg.Name+" Passed.")
			} else {
				f.failed, f.rx0 = true, rx
				u.syslog(1, 105009, "Testing on interface "+f.cfg.Name+" Failed.")
			}
		case !now.Before(f.nextTest):
			f.testing, f.passed = true, false
			f.testEnd = now.Add(u.testDuration())
			f.rx0 = u.rxPackets(f)
			u.syslog(1, 105008, "Testing interface "+f.cfg.Name+".")
		}
	}
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
		switch {
		case u.mate.heard && !u.mate.shutdown && now.Sub(u.mate.lastLAN) < u.hold():
			return wire.IfNormal
		case u.mate.heard:
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
// those we monitor.
func (u *Unit) mateFailedCount() int {
	n := 0
	for _, e := range u.mate.hello.Interfaces {
		for _, f := range u.ifs {
			if f.monitored && f.cfg.Name == e.Name && (e.Status == wire.IfFailed || e.Status == wire.IfNoLink) {
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
