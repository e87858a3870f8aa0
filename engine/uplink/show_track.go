package uplink

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// ShowTrack is ASA "show track [N]"; id 0 shows every track.
func (m *Manager) ShowTrack(id int) string {
	if id != 0 {
		t := m.tracks[id]
		if t == nil {
			return fmt.Sprintf("Track %d does not exist\n", id)
		}
		return m.showTrack(t)
	}
	var b strings.Builder
	for _, id := range slices.Sorted(maps.Keys(m.tracks)) {
		b.WriteString(m.showTrack(m.tracks[id]))
	}
	return b.String()
}

func (m *Manager) showTrack(t *trackRun) string {
	now := m.now()
	var b strings.Builder
	fmt.Fprintf(&b, "Track %d\n", t.cfg.ID)
	if t.cfg.List == "" {
		fmt.Fprintf(&b, "  Response Time Reporter %d reachability\n", t.cfg.SLA)
		fmt.Fprintf(&b, "  Reachability is %s%s\n", t.state, t.pending(now))
	} else {
		fmt.Fprintf(&b, "  List boolean %s\n", t.cfg.List)
		fmt.Fprintf(&b, "  Boolean %s is %s%s\n", strings.ToUpper(t.cfg.List), t.state, t.pending(now))
	}
	plural := "s"
	if t.changes == 1 {
		plural = ""
	}
	fmt.Fprintf(&b, "  %d change%s, last change %s\n", t.changes, plural, hms(now.Sub(t.lastChange)))
	for _, o := range t.cfg.Objects {
		if ot := m.tracks[o]; ot != nil {
			fmt.Fprintf(&b, "    object %d %s\n", o, ot.state)
		} else {
			fmt.Fprintf(&b, "    object %d Down (not configured)\n", o)
		}
	}
	if t.cfg.DelayUp != 0 || t.cfg.DelayDown != 0 {
		fmt.Fprintf(&b, "  Delay up %d secs, down %d secs\n", t.cfg.DelayUp, t.cfg.DelayDown)
	}
	if t.cfg.List == "" {
		code, rtt := CodeUnknown, time.Duration(0)
		if rt := m.slas[t.cfg.SLA]; rt != nil {
			code, rtt = rt.code, rt.rtt
		}
		fmt.Fprintf(&b, "  Latest operation return code: %s\n", code)
		if code.Reachable() {
			fmt.Fprintf(&b, "  Latest RTT (millisecs) %d\n", rtt.Milliseconds())
		}
	}
	b.WriteString("  Tracked by:\n")
	for _, r := range m.cfg.Routes {
		if r.Track == t.cfg.ID {
			b.WriteString("    STATIC-IP-ROUTING 0\n")
			break
		}
	}
	for _, id := range slices.Sorted(maps.Keys(m.tracks)) {
		if slices.Contains(m.tracks[id].cfg.Objects, t.cfg.ID) {
			fmt.Fprintf(&b, "    Track-list %d\n", id)
		}
	}
	return b.String()
}

// pending is IOS's note on a change waiting for its delay.
func (t *trackRun) pending(now time.Time) string {
	if !t.delay.armed() {
		return ""
	}
	left := t.due.Sub(now)
	secs := int((left + time.Second - 1) / time.Second)
	return fmt.Sprintf(", delayed %s (%d secs remaining)", t.raw, secs)
}

// hms renders a duration as hh:mm:ss, as show track prints the age of the
// last change.
func hms(d time.Duration) string {
	s := int(max(d, 0) / time.Second)
	return fmt.Sprintf("%02d:%02d:%02d", s/3600, s/60%60, s%60)
}
