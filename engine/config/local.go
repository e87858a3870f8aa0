package config

import (
	"strconv"

	"failover/grammar"
)

// IsUnitLocal says whether a command (its declaration and values) is one
// each unit of a pair keeps for itself, c being the unit's configuration:
// the declaration says so (grammar.Decl.Local). This one answer decides
// what is accepted on the standby and not replicated (the engine's
// sessions), what a bulk copy leaves out (Render with SkipUnitLocal) and
// what a bulk replace keeps (KeepLocal); local_test.go ties them.
func IsUnitLocal(c *Config, d *grammar.Decl, values map[string]string) bool {
	switch d.Local {
	case grammar.UnitLocal:
		return true
	case grammar.LANLocal:
		return c.Failover.LanIf != "" && values["if_name"] == c.Failover.LanIf
	}
	return false
}

// KeepLocal returns next with the unit-local settings of cur carried over:
// what the unit-local commands set (failover on or off, the unit role, the
// failover LAN interface with its name and addresses, the key). A bulk sync
// from the mate never carries these (each unit keeps its own bootstrap),
// so they must survive a configuration replace.
func KeepLocal(cur, next *Config) *Config {
	n := next.Clone()
	n.Failover.Enabled = cur.Failover.Enabled
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
		return []string{g.MustRender(grammar.InterfaceCmd, kv{"hardware_id": obj})}
	case grammar.ModeSLA, grammar.ModeSLAEcho:
		out := []string{g.MustRender(grammar.SLAMonitorCmd, kv{"sla_id": obj})}
		if s := c.SLAs[id]; mode == grammar.ModeSLAEcho && s != nil && s.Typed {
			out = append(out, g.MustRender(grammar.SLATypeEchoCmd, kv{"target": s.Target, "if_name": s.If}))
		}
		return out
	case grammar.ModeTrack:
		t := c.Tracks[id]
		if t == nil {
			return nil
		}
		if t.List == "" {
			return []string{g.MustRender(grammar.TrackRtrCmd, kv{"track_id": obj, "sla_id": strconv.Itoa(t.SLA)})}
		}
		return []string{g.MustRender(grammar.TrackListCmd, kv{"track_id": obj}, t.List)}
	}
	return nil
}
