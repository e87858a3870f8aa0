package config

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"failover/grammar"
)

// RenderOpts selects a view of the configuration.
type RenderOpts struct {
	// Secrets prints the failover key itself (startup-config, replication);
	// otherwise it is masked as in show running-config.
	Secrets bool
	// SkipUnitLocal leaves out the lines each unit keeps for itself
	// (IsUnitLocal), for the bulk copy sent to the mate.
	SkipUnitLocal bool
	// Section limits output to one part (grammar.NoSection: all), as
	// each line's declaration files it.
	Section grammar.Section
}

type renderer struct {
	g     *grammar.Grammar
	c     *Config
	lines []string
	opts  RenderOpts
}

// skip says whether a line of command id with values is left out.
func (r *renderer) skip(id string, values map[string]string) bool {
	d := r.g.Decl(id)
	if r.opts.Section != grammar.NoSection && r.opts.Section != d.Section {
		return true
	}
	return r.opts.SkipUnitLocal && IsUnitLocal(r.c, d, values)
}

func (r *renderer) add(id string, values map[string]string, words ...string) {
	if !r.skip(id, values) {
		r.lines = append(r.lines, r.g.MustRender(id, values, words...))
	}
}

func (r *renderer) addNo(id string, values map[string]string, words ...string) {
	if !r.skip(id, values) {
		r.lines = append(r.lines, "no "+r.g.MustRender(id, values, words...))
	}
}

func (r *renderer) sub(id string, values map[string]string, words ...string) {
	if !r.skip(id, values) {
		r.lines = append(r.lines, " "+r.g.MustRender(id, values, words...))
	}
}

type kv = map[string]string

// Render prints the configuration as PIX 6.3 lines, in PIX order, each
// produced from its command's declaration so that it parses back.
func Render(c *Config, opts RenderOpts) []string {
	g, err := grammar.Product()
	if err != nil {
		return []string{"! " + err.Error()}
	}
	r := &renderer{g: g, c: c, opts: opts}

	for _, f := range c.Interfaces {
		w := "auto"
		if f.Speed != "" {
			w = f.Speed
		}
		if f.Shutdown {
			w = "shutdown"
		}
		r.add("interface", kv{"hardware_id": f.HW}, w)
	}
	for _, f := range c.NamedInterfaces() {
		r.add("nameif", kv{"hardware_id": f.HW, "if_name": f.Name, "security_level": "security" + strconv.Itoa(f.Security)})
	}
	if c.EnableHash != "" {
		r.add("enable-password", kv{"password": c.EnableHash}, "encrypted")
	}
	r.add("hostname", kv{"name": c.Hostname})
	if c.Names {
		r.add("names", nil)
	}
	for _, a := range c.Aliases {
		r.add("name", kv{"ip_address": a.IP.String(), "name": a.Name})
	}
	if c.PagerLines == 0 {
		r.addNo("pager", nil)
	} else {
		r.add("pager", kv{"lines": strconv.Itoa(c.PagerLines)})
	}
	renderLogging(r, c)
	for _, f := range c.NamedInterfaces() {
		r.add("mtu", kv{"if_name": f.Name, "bytes": strconv.Itoa(f.MTU)})
	}
	for _, f := range c.NamedInterfaces() {
		if f.Addr.IsValid() {
			r.add("ip-address", kv{"if_name": f.Name, "ip_address": f.Addr.Addr().String(), "mask": grammar.MaskString(f.Addr.Bits())})
		}
	}
	renderFailover(r, c)
	renderUplink(r, c)
	if len(c.Prompt) > 0 {
		r.add("prompt", nil, c.Prompt...)
	}
	return r.lines
}

func renderLogging(r *renderer, c *Config) {
	l := c.Logging
	if l.On {
		r.add("logging-on", nil)
	}
	if l.Timestamp {
		r.add("logging-timestamp", nil)
	}
	for _, x := range []struct {
		id  string
		lvl int
	}{{"logging-console", l.Console}, {"logging-buffered", l.Buffered}, {"logging-trap", l.Trap}} {
		if x.lvl >= 0 {
			r.add(x.id, kv{"level": grammar.Levels[x.lvl]})
		}
	}
	for _, h := range l.Hosts {
		v := kv{"if_name": h.If, "ip_address": h.IP.String()}
		if pp := h.ProtoPort(); pp != "" {
			v["protocol"] = pp
		}
		r.add("logging-host", v)
	}
}

func renderFailover(r *renderer, c *Config) {
	fo := c.Failover
	if fo.Enabled {
		r.add("failover", nil)
	} else {
		r.addNo("failover", nil)
	}
	r.add("failover-timeout", kv{"hh:mm:ss": grammar.FormatHMS(fo.Timeout)})
	secondsPoll := !fo.PollMsec && !fo.HoldMsec && fo.Poll%time.Second == 0 && fo.Poll >= 3*time.Second && fo.Poll <= 15*time.Second && fo.Hold == 3*fo.Poll
	if secondsPoll {
		r.add("failover-poll", kv{"seconds": strconv.Itoa(int(fo.Poll / time.Second))})
	}
	for _, f := range c.NamedInterfaces() {
		ip := "0.0.0.0"
		if f.StandbyIP.IsValid() {
			ip = f.StandbyIP.String()
		}
		r.add("failover-ip", kv{"if_name": f.Name, "ip_address": ip})
	}
	if fo.Unit != "" {
		r.add("failover-lan-unit", nil, fo.Unit)
	}
	if fo.LanIf != "" {
		r.add("failover-lan-interface", kv{"if_name": fo.LanIf})
	}
	if fo.Key != "" {
		k := MaskedKey
		if r.opts.Secrets {
			k = fo.Key
		}
		r.add("failover-lan-key", kv{"secret": k})
	}
	for _, f := range c.NamedInterfaces() {
		if f.HasMAC {
			r.add("failover-mac", kv{"if_name": f.Name, "active_mac": grammar.FormatMAC(f.ActiveMAC), "standby_mac": grammar.FormatMAC(f.StandbyMAC)})
		}
	}
	if fo.LanEnable {
		r.add("failover-lan-enable", nil)
	}
	if fo.Link != "" {
		r.add("failover-link", kv{"if_name": fo.Link})
	}
	if !secondsPoll {
		v := kv{"time": durNum(fo.Poll, fo.PollMsec), "hold": durNum(fo.Hold, fo.HoldMsec)}
		w := []string{"unit", "holdtime"}
		if fo.PollMsec {
			w = append(w, "msec")
		}
		if fo.HoldMsec {
			w = append(w, "hmsec")
		}
		r.add("failover-polltime", v, w...)
	}
	if fo.IfPoll != DefaultIfPoll || fo.IfHold != DefaultIfHold {
		v := kv{"iftime": durNum(fo.IfPoll, fo.IfPollMsec), "ifhold": strconv.Itoa(int(fo.IfHold / time.Second))}
		w := []string{"interface", "holdtime"}
		if fo.IfPollMsec {
			w = append(w, "msec")
		}
		r.add("failover-polltime-interface", v, w...)
	}
	if fo.Policy != 1 || fo.PolicyPercent {
		p := strconv.Itoa(fo.Policy)
		if fo.PolicyPercent {
			p += "%"
		}
		r.add("failover-interface-policy", kv{"policy": p})
	}
	if fo.ReplicateHTTP {
		r.add("failover-replicate-http", nil)
	}
	if fo.Preempt {
		if fo.PreemptDelay > 0 {
			r.add("failover-preempt", kv{"seconds": strconv.Itoa(fo.PreemptDelay)})
		} else {
			r.add("failover-preempt", nil)
		}
	}
	for _, f := range c.NamedInterfaces() {
		if f.NoMonitor {
			r.addNo("monitor-interface", kv{"if_name": f.Name})
		}
	}
}

func durNum(d time.Duration, msec bool) string {
	if msec {
		return strconv.Itoa(int(d / time.Millisecond))
	}
	return strconv.Itoa(int(d / time.Second))
}

func renderUplink(r *renderer, c *Config) {
	ids := slices.Sorted(maps.Keys(c.SLAs))
	for _, id := range ids {
		s := c.SLAs[id]
		sid := strconv.Itoa(id)
		r.add("sla-monitor", kv{"sla_id": sid})
		if !s.Typed {
			continue
		}
		r.sub("sla-type-echo", kv{"target": s.Target, "if_name": s.If})
		if s.NumPackets != 1 {
			r.sub("sla-num-packets", kv{"packets": strconv.Itoa(s.NumPackets)})
		}
		// Frequency before timeout and threshold: each prefix of this
		// order is valid on its own, so the block parses back.
		if s.Frequency != DefaultFrequency {
			if s.FreqMsec {
				r.sub("sla-frequency", kv{"interval": strconv.Itoa(s.Frequency)}, "msec")
			} else {
				r.sub("sla-frequency", kv{"interval": strconv.Itoa(s.Frequency / 1000)})
			}
		}
		if s.Timeout > 0 {
			r.sub("sla-timeout", kv{"milliseconds": strconv.Itoa(s.Timeout)})
		}
		if s.Threshold > 0 {
			r.sub("sla-threshold", kv{"milliseconds": strconv.Itoa(s.Threshold)})
		}
		if s.TOS != 0 {
			r.sub("sla-tos", kv{"tos": strconv.Itoa(s.TOS)})
		}
		if s.DataSize != DefaultDataSize {
			r.sub("sla-data-size", kv{"bytes": strconv.Itoa(s.DataSize)})
		}
	}
	for _, id := range ids {
		s := c.SLAs[id]
		if !s.Scheduled {
			continue
		}
		v := kv{"sla_id": strconv.Itoa(id)}
		w := []string{"life", "start-time"}
		if s.Life < 0 {
			w = append(w, "forever")
		} else {
			v["life_seconds"] = strconv.Itoa(s.Life)
		}
		switch {
		case s.StartPending:
			w = append(w, "pending")
		case s.StartAfter > 0:
			w = append(w, "after")
			v["hh:mm:ss"] = grammar.FormatHMS(s.StartAfter)
		default:
			w = append(w, "now")
		}
		r.add("sla-schedule", v, w...)
	}
	for _, id := range slices.Sorted(maps.Keys(c.Tracks)) {
		t := c.Tracks[id]
		tid := strconv.Itoa(id)
		if t.List == "" {
			r.add("track-rtr", kv{"track_id": tid, "sla_id": strconv.Itoa(t.SLA)})
		} else {
			r.add("track-list", kv{"track_id": tid}, t.List)
			for _, o := range t.Objects {
				r.sub("track-object", kv{"object": strconv.Itoa(o)})
			}
		}
		if t.DelayDown > 0 || t.DelayUp > 0 {
			v := kv{}
			if t.DelayDown > 0 {
				v["down"] = strconv.Itoa(t.DelayDown)
			}
			if t.DelayUp > 0 {
				v["up"] = strconv.Itoa(t.DelayUp)
			}
			r.sub("track-delay", v)
		}
	}
	for _, rt := range c.Routes {
		v := kv{"if_name": rt.If, "network": rt.Dst.Addr().String(), "mask": grammar.MaskString(rt.Dst.Bits()), "gateway": rt.Gw.String(), "distance": strconv.Itoa(rt.Distance)}
		if rt.Track > 0 {
			v["track_id"] = strconv.Itoa(rt.Track)
		}
		r.add("route", v)
	}
}

// Text joins rendered lines into a running-config body.
func Text(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
