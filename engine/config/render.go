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

// skip says whether a line of command d with values is left out.
func (r *renderer) skip(d *grammar.Decl, values map[string]string) bool {
	if r.opts.Section != grammar.NoSection && r.opts.Section != d.Section {
		return true
	}
	return r.opts.SkipUnitLocal && IsUnitLocal(r.c, d, values)
}

func (r *renderer) add(d *grammar.Decl, values map[string]string, words ...string) {
	if !r.skip(d, values) {
		r.lines = append(r.lines, r.g.MustRender(d, values, words...))
	}
}

func (r *renderer) addNo(d *grammar.Decl, values map[string]string, words ...string) {
	if !r.skip(d, values) {
		r.lines = append(r.lines, "no "+r.g.MustRender(d, values, words...))
	}
}

func (r *renderer) sub(d *grammar.Decl, values map[string]string, words ...string) {
	if !r.skip(d, values) {
		r.lines = append(r.lines, " "+r.g.MustRender(d, values, words...))
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
		r.add(grammar.InterfaceCmd, kv{"hardware_id": f.HW}, w)
	}
	for _, f := range c.NamedInterfaces() {
		r.add(grammar.NameifCmd, kv{"hardware_id": f.HW, "if_name": f.Name, "security_level": "security" + strconv.Itoa(f.Security)})
	}
	if c.EnableHash != "" {
		r.add(grammar.EnablePasswordCmd, kv{"password": c.EnableHash}, "encrypted")
	}
	r.add(grammar.HostnameCmd, kv{"name": c.Hostname})
	if c.Names {
		r.add(grammar.NamesCmd, nil)
	}
	for _, a := range c.Aliases {
		r.add(grammar.NameCmd, kv{"ip_address": a.IP.String(), "name": a.Name})
	}
	if c.PagerLines == 0 {
		r.addNo(grammar.PagerCmd, nil)
	} else {
		r.add(grammar.PagerCmd, kv{"lines": strconv.Itoa(c.PagerLines)})
	}
	renderLogging(r, c)
	for _, f := range c.NamedInterfaces() {
		r.add(grammar.MTUCmd, kv{"if_name": f.Name, "bytes": strconv.Itoa(f.MTU)})
	}
	for _, f := range c.NamedInterfaces() {
		if f.Addr.IsValid() {
			r.add(grammar.IPAddressCmd, kv{"if_name": f.Name, "ip_address": f.Addr.Addr().String(), "mask": grammar.MaskString(f.Addr.Bits())})
		}
	}
	renderFailover(r, c)
	renderUplink(r, c)
	if len(c.Prompt) > 0 {
		r.add(grammar.PromptCmd, nil, c.Prompt...)
	}
	return r.lines
}

func renderLogging(r *renderer, c *Config) {
	l := c.Logging
	if l.On {
		r.add(grammar.LoggingOnCmd, nil)
	}
	if l.Timestamp {
		r.add(grammar.LoggingTimestampCmd, nil)
	}
	for _, x := range []struct {
		cmd *grammar.Decl
		lvl int
	}{{grammar.LoggingConsoleCmd, l.Console}, {grammar.LoggingBufferedCmd, l.Buffered}, {grammar.LoggingTrapCmd, l.Trap}} {
		if x.lvl >= 0 {
			r.add(x.cmd, kv{"level": grammar.Levels[x.lvl]})
		}
	}
	for _, h := range l.Hosts {
		v := kv{"if_name": h.If, "ip_address": h.IP.String()}
		if pp := h.ProtoPort(); pp != "" {
			v["protocol"] = pp
		}
		r.add(grammar.LoggingHostCmd, v)
	}
}

func renderFailover(r *renderer, c *Config) {
	fo := c.Failover
	if fo.Enabled {
		r.add(grammar.FailoverCmd, nil)
	} else {
		r.addNo(grammar.FailoverCmd, nil)
	}
	r.add(grammar.FailoverTimeoutCmd, kv{"hh:mm:ss": grammar.FormatHMS(fo.Timeout)})
	secondsPoll := !fo.PollMsec && !fo.HoldMsec && fo.Poll%time.Second == 0 && fo.Poll >= 3*time.Second && fo.Poll <= 15*time.Second && fo.Hold == 3*fo.Poll
	if secondsPoll {
		r.add(grammar.FailoverPollCmd, kv{"seconds": strconv.Itoa(int(fo.Poll / time.Second))})
	}
	for _, f := range c.NamedInterfaces() {
		ip := "0.0.0.0"
		if f.StandbyIP.IsValid() {
			ip = f.StandbyIP.String()
		}
		r.add(grammar.FailoverIPCmd, kv{"if_name": f.Name, "ip_address": ip})
	}
	if fo.Unit != "" {
		r.add(grammar.FailoverLanUnitCmd, nil, fo.Unit)
	}
	if fo.LanIf != "" {
		r.add(grammar.FailoverLanInterfaceCmd, kv{"if_name": fo.LanIf})
	}
	if fo.Key != "" {
		k := MaskedKey
		if r.opts.Secrets {
			k = fo.Key
		}
		r.add(grammar.FailoverLanKeyCmd, kv{"secret": k})
	}
	for _, f := range c.NamedInterfaces() {
		if f.HasMAC {
			r.add(grammar.FailoverMacCmd, kv{"if_name": f.Name, "active_mac": grammar.FormatMAC(f.ActiveMAC), "standby_mac": grammar.FormatMAC(f.StandbyMAC)})
		}
	}
	if fo.LanEnable {
		r.add(grammar.FailoverLanEnableCmd, nil)
	}
	if fo.Link != "" {
		r.add(grammar.FailoverLinkCmd, kv{"if_name": fo.Link})
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
		r.add(grammar.FailoverPolltimeCmd, v, w...)
	}
	if fo.IfPoll != DefaultIfPoll || fo.IfHold != DefaultIfHold {
		v := kv{"iftime": durNum(fo.IfPoll, fo.IfPollMsec), "ifhold": strconv.Itoa(int(fo.IfHold / time.Second))}
		w := []string{"interface", "holdtime"}
		if fo.IfPollMsec {
			w = append(w, "msec")
		}
		r.add(grammar.FailoverPolltimeInterfaceCmd, v, w...)
	}
	if fo.Policy != 1 || fo.PolicyPercent {
		p := strconv.Itoa(fo.Policy)
		if fo.PolicyPercent {
			p += "%"
		}
		r.add(grammar.FailoverInterfacePolicyCmd, kv{"policy": p})
	}
	if fo.ReplicateHTTP {
		r.add(grammar.FailoverReplicateHTTPCmd, nil)
	}
	if fo.Preempt {
		if fo.PreemptDelay > 0 {
			r.add(grammar.FailoverPreemptCmd, kv{"seconds": strconv.Itoa(fo.PreemptDelay)})
		} else {
			r.add(grammar.FailoverPreemptCmd, nil)
		}
	}
	for _, f := range c.NamedInterfaces() {
		if f.NoMonitor {
			r.addNo(grammar.MonitorInterfaceCmd, kv{"if_name": f.Name})
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
		r.add(grammar.SLAMonitorCmd, kv{"sla_id": sid})
		if !s.Typed {
			continue
		}
		r.sub(grammar.SLATypeEchoCmd, kv{"target": s.Target, "if_name": s.If})
		if s.NumPackets != 1 {
			r.sub(grammar.SLANumPacketsCmd, kv{"packets": strconv.Itoa(s.NumPackets)})
		}
		// Frequency before timeout and threshold: each prefix of this
		// order is valid on its own, so the block parses back.
		if s.Frequency != DefaultFrequency {
			if s.FreqMsec {
				r.sub(grammar.SLAFrequencyCmd, kv{"interval": strconv.Itoa(s.Frequency)}, "msec")
			} else {
				r.sub(grammar.SLAFrequencyCmd, kv{"interval": strconv.Itoa(s.Frequency / 1000)})
			}
		}
		if s.Timeout > 0 {
			r.sub(grammar.SLATimeoutCmd, kv{"milliseconds": strconv.Itoa(s.Timeout)})
		}
		if s.Threshold > 0 {
			r.sub(grammar.SLAThresholdCmd, kv{"milliseconds": strconv.Itoa(s.Threshold)})
		}
		if s.TOS != 0 {
			r.sub(grammar.SLATosCmd, kv{"tos": strconv.Itoa(s.TOS)})
		}
		if s.DataSize != DefaultDataSize {
			r.sub(grammar.SLADataSizeCmd, kv{"bytes": strconv.Itoa(s.DataSize)})
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
		r.add(grammar.SLAScheduleCmd, v, w...)
	}
	for _, id := range slices.Sorted(maps.Keys(c.Tracks)) {
		t := c.Tracks[id]
		tid := strconv.Itoa(id)
		if t.List == "" {
			r.add(grammar.TrackRtrCmd, kv{"track_id": tid, "sla_id": strconv.Itoa(t.SLA)})
		} else {
			r.add(grammar.TrackListCmd, kv{"track_id": tid}, t.List)
			for _, o := range t.Objects {
				r.sub(grammar.TrackObjectCmd, kv{"object": strconv.Itoa(o)})
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
			r.sub(grammar.TrackDelayCmd, v)
		}
	}
	for _, rt := range c.Routes {
		v := kv{"if_name": rt.If, "network": rt.Dst.Addr().String(), "mask": grammar.MaskString(rt.Dst.Bits()), "gateway": rt.Gw.String(), "distance": strconv.Itoa(rt.Distance)}
		if rt.Track > 0 {
			v["track_id"] = strconv.Itoa(rt.Track)
		}
		r.add(grammar.RouteCmd, v)
	}
}

// Text joins rendered lines into a running-config body.
func Text(lines []string) string {
	if len(lines) == 0 {
		return ""
	}
	return strings.Join(lines, "\n") + "\n"
}
