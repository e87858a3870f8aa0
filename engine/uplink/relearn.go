package uplink

import (
	"net/netip"
	"slices"
)

// relearnChangedUplinks restarts the measurements of every uplink whose
// probe-table gateway changed. A pasted configuration schedules its SLAs
// before its route lines arrive, so the first probe may leave through a
// table that does not reach the Internet yet; such a result says nothing
// about the uplink. Its in-flight results are dropped, its SLAs probe again
// at once, and the tracks that depend on them take their next result as a
// first result (at once, not after the delay).
func (m *Manager) relearnChangedUplinks() {
	if m.gateways == nil {
		m.gateways = map[string]netip.Addr{}
	}
	seen := map[string]bool{}
	var changed []string
	for _, rt := range m.slas {
		ifName := rt.cfg.If
		if ifName == "" || seen[ifName] {
			continue
		}
		seen[ifName] = true
		gw := m.gatewayOf(ifName)
		old, known := m.gateways[ifName]
		m.gateways[ifName] = gw
		if known && old != gw {
			changed = append(changed, ifName)
		}
	}
	for ifName := range m.gateways {
		if !seen[ifName] {
			delete(m.gateways, ifName)
		}
	}
	if len(changed) == 0 {
		return
	}
	slices.Sort(changed)
	m.log.Info("uplink gateway changed, probing again", "uplinks", changed)
	restarted := map[int]bool{}
	for _, rt := range m.sortedSLAs() {
		if !slices.Contains(changed, rt.cfg.If) || rt.state != SLAActive {
			continue
		}
		rt.opSeq++ // drop any result still in flight
		rt.busy = false
		rt.code, rt.err = CodeUnknown, ""
		m.disarm(&rt.tick)
		rt.nextOp = m.now()
		m.runOp(rt)
		restarted[rt.cfg.ID] = true
	}
	m.undecideTracks(restarted)
}

// undecideTracks makes the tracks on the given SLAs, and the lists that
// contain them, wait for a first result again.
func (m *Manager) undecideTracks(slas map[int]bool) {
	undecided := map[int]bool{}
	for id, t := range m.tracks {
		if t.cfg.List == "" && slas[t.cfg.SLA] {
			undecided[id] = true
		}
	}
	for grew := true; grew; {
		grew = false
		for id, t := range m.tracks {
			if undecided[id] || t.cfg.List == "" {
				continue
			}
			for _, o := range t.cfg.Objects {
				if undecided[o] {
					undecided[id], grew = true, true
					break
				}
			}
		}
	}
	for id := range undecided {
		t := m.tracks[id]
		t.decided = false
		m.disarm(&t.delay)
	}
}
