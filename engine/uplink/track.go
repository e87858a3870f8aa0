package uplink

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"failover/engine/config"
	"failover/engine/event"
)

// trackRun is the running state of one track object. raw is the state of
// what it tracks; state follows raw only once raw has held for the delay.
type trackRun struct {
	cfg        config.Track
	state      TrackState
	decided    bool // a first result has been taken
	raw        TrackState
	rawSince   time.Time
	cause      string
	changes    int
	lastChange time.Time
	delay      slot
	due        time.Time // when the armed delay ends
}

func sameTrackDef(a, b config.Track) bool {
	return a.SLA == b.SLA && a.List == b.List && slices.Equal(a.Objects, b.Objects)
}

// applyTracks keeps the state of tracks whose definition is unchanged (a
// delay change only moves the pending deadline) and starts the others
// afresh, Down and undecided.
func (m *Manager) applyTracks() {
	now := m.now()
	for id, t := range m.tracks {
		if c, ok := m.cfg.Tracks[id]; !ok || !sameTrackDef(t.cfg, *c) {
			m.disarm(&t.delay)
			delete(m.tracks, id)
		}
	}
	for id, c := range m.cfg.Tracks {
		cp := *c
		cp.Objects = slices.Clone(c.Objects)
		if t, ok := m.tracks[id]; ok {
			t.cfg = cp
			continue
		}
		m.tracks[id] = &trackRun{cfg: cp, lastChange: now}
	}
}

// evalTracks brings every track up to date, objects before the lists that
// combine them. forcedSLAs are SLAs that just lost carrier: their tracks,
// and lists those bring down, skip the down delay.
func (m *Manager) evalTracks(forcedSLAs map[int]bool) {
	done := map[int]bool{}
	forced := map[int]bool{}
	var visit func(id int, onStack map[int]bool)
	visit = func(id int, onStack map[int]bool) {
		t := m.tracks[id]
		if t == nil || done[id] || onStack[id] {
			return // a cycle reads the object's current state
		}
		onStack[id] = true
		for _, o := range t.cfg.Objects {
			visit(o, onStack)
		}
		delete(onStack, id)
		done[id] = true
		raw, known, cause, fromForced := m.rawOf(t, forced)
		immediate := (t.cfg.List == "" && forcedSLAs[t.cfg.SLA]) || (fromForced && raw == TrackDown)
		if immediate && raw == TrackDown {
			forced[id] = true
		}
		m.observe(t, raw, known, cause, immediate)
	}
	for _, id := range slices.Sorted(maps.Keys(m.tracks)) {
		visit(id, map[int]bool{})
	}
}

// rawOf is the underlying state of a track, whether it is known yet, why,
// and whether a forced object contributed.
func (m *Manager) rawOf(t *trackRun, forced map[int]bool) (TrackState, bool, string, bool) {
	if t.cfg.List == "" {
		rt := m.slas[t.cfg.SLA]
		switch {
		case rt == nil:
			return TrackDown, true, fmt.Sprintf("SLA %d does not exist", t.cfg.SLA), false
		case rt.state != SLAActive:
			return TrackDown, true, fmt.Sprintf("SLA %d is %s", t.cfg.SLA, rt.state), false
		case rt.code == CodeUnknown:
			return TrackDown, false, "", false
		}
		cause := fmt.Sprintf("SLA %d: %s", t.cfg.SLA, rt.code)
		if !rt.code.Reachable() && rt.err != "" && rt.code != CodeTimeout {
			cause += ": " + rt.err
		}
		return stateOf(rt.code.Reachable()), true, cause, false
	}
	var parts []string
	ups, downs, unknown := 0, 0, 0
	fromForced := false
	for _, id := range t.cfg.Objects {
		o := m.tracks[id]
		switch {
		case o == nil:
			downs++
			parts = append(parts, fmt.Sprintf("object %d missing", id))
		case !o.decided:
			unknown++
			parts = append(parts, fmt.Sprintf("object %d unknown", id))
		default:
			if o.state == TrackUp {
				ups++
			} else {
				downs++
			}
			fromForced = fromForced || forced[id]
			parts = append(parts, fmt.Sprintf("object %d %s", id, o.state))
		}
	}
	cause := strings.Join(parts, ", ")
	if t.cfg.List == "and" {
		switch {
		case downs > 0 || len(t.cfg.Objects) == 0:
			return TrackDown, true, cause, fromForced
		case unknown > 0:
			return TrackDown, false, cause, false
		}
		return TrackUp, true, cause, false
	}
	switch {
	case ups > 0:
		return TrackUp, true, cause, false
	case unknown > 0:
		return TrackDown, false, cause, false
	}
	return TrackDown, true, cause, fromForced
}

func stateOf(up bool) TrackState {
	if up {
		return TrackUp
	}
	return TrackDown
}

func (t *trackRun) delayFor(to TrackState) time.Duration {
	if to == TrackUp {
		return time.Duration(t.cfg.DelayUp) * time.Second
	}
	return time.Duration(t.cfg.DelayDown) * time.Second
}

// observe feeds the underlying state to a track. The delay counts from the
// last change of the underlying state, so a flap inside the delay restarts
// it and never changes the track.
func (m *Manager) observe(t *trackRun, raw TrackState, known bool, cause string, immediate bool) {
	if !known {
		return
	}
	now := m.now()
	t.cause = cause
	if !t.decided {
		t.decided, t.raw, t.rawSince = true, raw, now
		m.transition(t, raw, cause)
		return
	}
	if raw != t.raw {
		t.raw, t.rawSince = raw, now
	}
	if t.raw == t.state {
		m.disarm(&t.delay)
		return
	}
	due := t.rawSince.Add(t.delayFor(t.raw))
	if immediate || !now.Before(due) {
		m.transition(t, t.raw, cause)
		return
	}
	if t.delay.armed() && t.due.Equal(due) {
		return
	}
	t.due = due
	m.arm(&t.delay, due.Sub(now), func() {
		m.evalTracks(nil)
		m.refresh(false)
	})
}

// transition is the one place track states change, so every change is
// logged with its cause.
func (m *Manager) transition(t *trackRun, to TrackState, cause string) {
	m.disarm(&t.delay)
	if t.state == to {
		return
	}
	from := t.state
	t.state = to
	t.changes++
	t.lastChange = m.now()
	m.log.Info("track state", "track", t.cfg.ID, "transition", fmt.Sprintf("%s -> %s", from, to), "cause", cause)
	m.o.Syslog(fmt.Sprintf("%%PIX-5-622100: Track %d %s %s -> %s (%s)", t.cfg.ID, t.kind(), from, to, cause))
	m.o.Events.Emit(event.Event{Kind: event.Track, Track: t.cfg.ID, From: from.String(), To: to.String(), Reason: cause})
}

func (t *trackRun) kind() string {
	if t.cfg.List != "" {
		return "list boolean " + t.cfg.List
	}
	return "reachability"
}
