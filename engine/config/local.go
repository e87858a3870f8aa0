package config

import (
	"strconv"

	"failover/grammar"
)

// KeepLocal returns next with the unit-local settings of cur carried over:
// the unit role, the failover LAN interface with its name and addresses,
// and the key. A bulk sync from the mate never carries these (each unit
// keeps its own bootstrap), so they must survive a configuration replace.
func KeepLocal(cur, next *Config) *Config {
	n := next.Clone()
	n.Failover.Unit = cur.Failover.Unit
	n.Failover.LanIf = cur.Failover.LanIf
	n.Failover.Key = cur.Failover.Key
	if lan := cur.IfByName(cur.Failover.LanIf); lan != nil {
		if f := n.IfByHW(lan.HW); f != nil {
			f.Name, f.Security, f.Addr, f.StandbyIP = lan.Name, lan.Security, lan.Addr, lan.StandbyIP
		} else {
			cp := *lan
			n.Interfaces = append(n.Interfaces, &cp)
		}
	}
	return n
}

// ContextLines are the lines that enter the sub-mode a session is in, so a
// sub-mode command can be replayed elsewhere (replication to the mate).
func ContextLines(c *Config, mode grammar.Mode, obj string) []string {
	g, err := grammar.Product()
	if err != nil {
		return nil
	}
	id, _ := strconv.Atoi(obj)
	switch mode {
	case grammar.ModeIf:
		return []string{g.MustRender("interface", kv{"hardware_id": obj})}
	case grammar.ModeSLA, grammar.ModeSLAEcho:
		out := []string{g.MustRender("sla-monitor", kv{"sla_id": obj})}
		if s := c.SLAs[id]; mode == grammar.ModeSLAEcho && s != nil && s.Typed {
			out = append(out, g.MustRender("sla-type-echo", kv{"target": s.Target, "if_name": s.If}))
		}
		return out
	case grammar.ModeTrack:
		t := c.Tracks[id]
		if t == nil {
			return nil
		}
		if t.List == "" {
			return []string{g.MustRender("track-rtr", kv{"track_id": obj, "sla_id": strconv.Itoa(t.SLA)})}
		}
		return []string{g.MustRender("track-list", kv{"track_id": obj}, t.List)}
	}
	return nil
}
