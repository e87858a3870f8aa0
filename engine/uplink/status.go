package uplink

import (
	"maps"
	"slices"

	"failover/engine/api"
)

// Status is the uplink part of the machine-readable status: SLAs, tracks
// and configured routes with the one chosen per destination. It is a copy:
// callers may keep it off the event loop.
func (m *Manager) Status() (slas []api.SLAStat, tracks []api.TrackStat, routes []api.RouteStat) {
	slas, tracks, routes = []api.SLAStat{}, []api.TrackStat{}, []api.RouteStat{}
	for _, rt := range m.sortedSLAs() {
		s := api.SLAStat{
			ID: rt.cfg.ID, Target: rt.cfg.Target, Interface: rt.cfg.If, State: rt.state.String(),
			ReturnCode: rt.code.String(), Operations: map[string]uint64{},
		}
		if rt.code.Reachable() {
			s.RTTSeconds = rt.rtt.Seconds()
		}
		for c, n := range rt.ops {
			s.Operations[c.String()] = n
		}
		slas = append(slas, s)
	}
	for _, id := range slices.Sorted(maps.Keys(m.tracks)) {
		t := m.tracks[id]
		ts := api.TrackStat{
			ID: id, List: t.cfg.List, Objects: slices.Clone(t.cfg.Objects), State: t.state.String(),
			Changes: t.changes, LastChange: t.lastChange,
		}
		if t.cfg.List == "" {
			ts.SLA = t.cfg.SLA
		}
		tracks = append(tracks, ts)
	}
	for _, r := range m.cfg.Routes {
		routes = append(routes, api.RouteStat{
			Interface: r.If, Destination: r.Dst.String(), Gateway: r.Gw.String(), Distance: r.Distance,
			Track: r.Track, Selected: m.selected[r.Dst] == r, Installed: m.installed[r.Dst] == r,
		})
	}
	return slas, tracks, routes
}
