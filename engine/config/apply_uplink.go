package config

import (
	"net/netip"
	"slices"
	"strconv"

	"failover/grammar"
)

func setSLA(c *Config, inv *grammar.Invocation, x *Ctx) error {
	id := inv.Int("sla_id")
	if inv.Negated {
		delete(c.SLAs, id)
		return nil
	}
	if _, ok := c.SLAs[id]; !ok {
		c.SLAs[id] = &SLA{ID: id, NumPackets: 1, Frequency: DefaultFrequency, DataSize: DefaultDataSize, Life: -1}
	}
	x.NextMode, x.NextObj = grammar.ModeSLA, strconv.Itoa(id)
	return nil
}

func curSLA(c *Config, x *Ctx) (*SLA, error) {
	id, _ := strconv.Atoi(x.Obj)
	s := c.SLAs[id]
	if s == nil {
		return nil, errf("sla monitor %s no longer exists", x.Obj)
	}
	return s, nil
}

func slaTypeEcho(c *Config, inv *grammar.Invocation, x *Ctx) error {
	s, err := curSLA(c, x)
	if err != nil {
		return err
	}
	if inv.Negated {
		s.Typed, s.Target, s.If = false, "", ""
		return nil
	}
	if _, err := named(c, inv.Str("if_name")); err != nil {
		return err
	}
	if s.Typed && (s.Target != inv.Str("target") || s.If != inv.Str("if_name")) {
		return errf("entry type of sla monitor %d cannot be changed: remove it with \"no sla monitor %d\" first", s.ID, s.ID)
	}
	s.Typed, s.Target, s.If = true, inv.Str("target"), inv.Str("if_name")
	x.NextMode = grammar.ModeSLAEcho
	return nil
}

// slaField sets one echo parameter, then checks the operation as a whole:
// timeout <= frequency and threshold <= timeout, as ASA requires. A
// refused value leaves the operation as it was.
func slaField(c *Config, inv *grammar.Invocation, x *Ctx) error {
	cur, err := curSLA(c, x)
	if err != nil {
		return err
	}
	n := *cur
	if err := setSLAField(&n, inv); err != nil {
		return err
	}
	*cur = n
	return nil
}

func setSLAField(s *SLA, inv *grammar.Invocation) error {
	neg := inv.Negated
	switch inv.Decl {
	case grammar.SLANumPacketsCmd:
		s.NumPackets = pick(neg, 1, inv.Int("packets"))
	case grammar.SLATimeoutCmd:
		s.Timeout = pick(neg, 0, inv.Int("milliseconds"))
	case grammar.SLAThresholdCmd:
		s.Threshold = pick(neg, 0, inv.Int("milliseconds"))
	case grammar.SLAFrequencyCmd:
		s.FreqMsec = !neg && inv.Words["msec"]
		v := inv.Int("interval")
		switch {
		case neg:
			s.Frequency = DefaultFrequency
		case s.FreqMsec:
			if v < 20 || v > 60000 {
				return errf("frequency must be 20-60000 milliseconds")
			}
			s.Frequency = v
		default:
			s.Frequency = v * 1000
		}
	case grammar.SLATosCmd:
		s.TOS = pick(neg, 0, inv.Int("tos"))
	case grammar.SLADataSizeCmd:
		s.DataSize = pick(neg, DefaultDataSize, inv.Int("bytes"))
	}
	if s.Timeout > 0 && s.Timeout > s.Frequency {
		return errf("timeout (%d ms) must not exceed the frequency (%d ms)", s.Timeout, s.Frequency)
	}
	if s.Threshold > s.EffTimeout() {
		return errf("threshold (%d ms) must not exceed the timeout (%d ms)", s.Threshold, s.EffTimeout())
	}
	return nil
}

func pick(neg bool, def, v int) int {
	if neg {
		return def
	}
	return v
}

func setSchedule(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	id := inv.Int("sla_id")
	s := c.SLAs[id]
	if inv.Negated {
		if s != nil {
			s.Scheduled = false
		}
		return nil
	}
	if s == nil || !s.Typed {
		return errf("sla monitor %d is not configured: define it and its type first", id)
	}
	s.Scheduled, s.Life, s.StartPending, s.StartAfter = true, -1, false, 0
	if inv.Has("life_seconds") {
		s.Life = inv.Int("life_seconds")
	}
	if inv.Words["pending"] {
		s.StartPending = true
	}
	if inv.Words["after"] {
		s.StartAfter, _ = grammar.ParseHMS(inv.Str("hh:mm:ss"))
	}
	return nil
}

func setTrack(c *Config, inv *grammar.Invocation, x *Ctx) error {
	id := inv.Int("track_id")
	if inv.Negated {
		delete(c.Tracks, id)
		return nil
	}
	t := c.Tracks[id]
	if inv.Decl == grammar.TrackRtrCmd {
		sla := inv.Int("sla_id")
		if _, ok := c.SLAs[sla]; !ok {
			return errf("sla monitor %d does not exist: configure it before tracking it", sla)
		}
		if t != nil && (t.List != "" || t.SLA != sla) {
			return errf("track %d is already configured differently: remove it with \"no track %d\" first", id, id)
		}
		if t == nil {
			t = &Track{ID: id, SLA: sla}
		}
	} else {
		op := "or"
		if inv.Words["and"] {
			op = "and"
		}
		if t != nil && t.List == "" {
			return errf("track %d is already configured differently: remove it with \"no track %d\" first", id, id)
		}
		if t == nil {
			t = &Track{ID: id}
		}
		t.List = op
	}
	c.Tracks[id] = t
	x.NextMode, x.NextObj = grammar.ModeTrack, strconv.Itoa(id)
	return nil
}

func curTrack(c *Config, x *Ctx) (*Track, error) {
	id, _ := strconv.Atoi(x.Obj)
	t := c.Tracks[id]
	if t == nil {
		return nil, errf("track %s no longer exists", x.Obj)
	}
	return t, nil
}

func trackDelay(c *Config, inv *grammar.Invocation, x *Ctx) error {
	t, err := curTrack(c, x)
	if err != nil {
		return err
	}
	if inv.Negated {
		t.DelayDown, t.DelayUp = 0, 0
		return nil
	}
	if !inv.Has("down") && !inv.Has("up") {
		return errf("delay needs down and/or up seconds")
	}
	if inv.Has("down") {
		t.DelayDown = inv.Int("down")
	}
	if inv.Has("up") {
		t.DelayUp = inv.Int("up")
	}
	return nil
}

func trackObject(c *Config, inv *grammar.Invocation, x *Ctx) error {
	t, err := curTrack(c, x)
	if err != nil {
		return err
	}
	if t.List == "" {
		return errf("object is only valid in a list track")
	}
	o := inv.Int("object")
	if o == t.ID {
		return errf("track %d cannot contain itself", o)
	}
	t.Objects = slices.DeleteFunc(t.Objects, func(v int) bool { return v == o })
	if !inv.Negated {
		t.Objects = append(t.Objects, o)
		slices.Sort(t.Objects)
	}
	return nil
}

func setRoute(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	bits, err := grammar.ParseMask(inv.Str("mask"))
	if err != nil {
		return err
	}
	dst := netip.MustParseAddr(inv.Str("network"))
	p := netip.PrefixFrom(dst, bits)
	if p.Masked() != p {
		return errf("network %s does not match mask %s", dst, inv.Str("mask"))
	}
	gw := netip.MustParseAddr(inv.Str("gateway"))
	r := Route{If: inv.Str("if_name"), Dst: p, Gw: gw, Distance: 1}
	same := func(o Route) bool { return o.If == r.If && o.Dst == r.Dst && o.Gw == r.Gw }
	if inv.Negated {
		c.Routes = slices.DeleteFunc(c.Routes, same)
		return nil
	}
	f, err := named(c, r.If)
	if err != nil {
		return err
	}
	if !f.Addr.IsValid() {
		return errf("interface %s has no IP address: configure \"ip address %s ...\" first", r.If, r.If)
	}
	if !f.Addr.Contains(gw) || f.Addr.Addr() == gw {
		return errf("gateway %s is not a neighbour on interface %s (%s)", gw, r.If, f.Addr.Masked())
	}
	if inv.Has("distance") {
		r.Distance = inv.Int("distance")
	}
	if inv.Has("track_id") {
		r.Track = inv.Int("track_id")
	}
	if i := slices.IndexFunc(c.Routes, same); i >= 0 {
		c.Routes[i] = r
		return nil
	}
	c.Routes = append(c.Routes, r)
	return nil
}
