package grammar

import (
	"strings"
	"testing"
)

func mustProduct(t *testing.T) *Grammar {
	t.Helper()
	g, err := Product()
	if err != nil {
		t.Fatal(err)
	}
	return g
}

func TestParseTable(t *testing.T) {
	g := mustProduct(t)
	tests := []struct {
		mode    Mode
		line    string
		id      string
		negated bool
		values  map[string]string
		errKind ErrKind
		errOff  int
		errMsg  string
	}{
		{mode: ModeExec, line: "sh fail", id: "show-failover"},
		{mode: ModeExec, line: "conf t", id: "configure"},
		{mode: ModeExec, line: "wr mem", id: "write-memory"},
		{mode: ModeExec, line: "SH FAILOVER", id: "show-failover"},
		{mode: ModeConfig, line: "failover poll 5", id: "failover-poll", values: map[string]string{"seconds": "5"}},
		{mode: ModeConfig, line: "failover poll 20", errKind: ErrValue, errMsg: "poll time must be 3-15 seconds"},
		{mode: ModeConfig, line: "failover foo", errKind: ErrInvalid, errOff: 9},
		{mode: ModeConfig, line: "failover lan", errKind: ErrIncomplete},
		// exact keyword wins over a longer keyword it prefixes
		{mode: ModeConfig, line: "name 192.0.2.1 gw", id: "name", values: map[string]string{"ip_address": "192.0.2.1", "name": "gw"}},
		{mode: ModeConfig, line: "names", id: "names"},
		// a prefix of two keywords is ambiguous
		{mode: ModeConfig, line: "failover l x", errKind: ErrAmbiguous},
		{mode: ModeExec, line: "show s", errKind: ErrAmbiguous},
		// values never abbreviate; keywords beat values
		{mode: ModeConfig, line: "no failover", id: "failover", negated: true},
		{mode: ModeConfig, line: "no failover poll", id: "failover-poll", negated: true},
		{mode: ModeConfig, line: "no failover poll 5", id: "failover-poll", negated: true, values: map[string]string{"seconds": "5"}},
		{mode: ModeExec, line: "no failover active", id: "failover-active", negated: true},
		{mode: ModeConfig, line: "failover polltime unit msec 200 holdtime msec 800", id: "failover-polltime", values: map[string]string{"time": "200", "hold": "800"}},
		{mode: ModeConfig, line: "failover polltime interface 3", id: "failover-polltime-interface", values: map[string]string{"iftime": "3"}},
		{mode: ModeConfig, line: "route outside 0.0.0.0 0.0.0.0 192.0.2.1 1 track 1", id: "route", values: map[string]string{"if_name": "outside", "network": "0.0.0.0", "mask": "0.0.0.0", "gateway": "192.0.2.1", "distance": "1", "track_id": "1"}},
		{mode: ModeConfig, line: "route outside 0.0.0.0 255.0.255.0 192.0.2.1", errKind: ErrValue},
		{mode: ModeConfig, line: "route outside 0 0 192.0.2.1", id: "route", values: map[string]string{"if_name": "outside", "network": "0.0.0.0", "mask": "0.0.0.0", "gateway": "192.0.2.1"}},
		{mode: ModeConfig, line: "route outside 0 0 0", errKind: ErrInvalid, errOff: 18}, // 0 is no gateway
		{mode: ModeExec, line: "failover exec mate show failover", id: "failover-exec", values: map[string]string{"command": "show failover"}},
		{mode: ModeExec, line: "failover exec active hostname fw2", id: "failover-exec", values: map[string]string{"command": "hostname fw2"}},
		{mode: ModeExec, line: "ping outside 192.0.2.1", id: "ping", values: map[string]string{"if_name": "outside", "host": "192.0.2.1"}},
		{mode: ModeExec, line: "ping 192.0.2.1", id: "ping", values: map[string]string{"host": "192.0.2.1"}},
		{mode: ModeConfig, line: "nameif eth0 outside security0", id: "nameif"},
		{mode: ModeConfig, line: "nameif eth0 outside security101", errKind: ErrValue},
		{mode: ModeSLAEcho, line: "frequency msec 200", id: "sla-frequency", values: map[string]string{"interval": "200"}},
		{mode: ModeConfig, line: "sla monitor schedule 10 life forever start-time now", id: "sla-schedule"},
		{mode: ModeConfig, line: "logging trap e", errKind: ErrInvalid, errOff: 13},
		{mode: ModeConfig, line: "logging trap err", id: "logging-trap"},
		{mode: ModeConfig, line: "", errKind: ErrIncomplete},
	}
	for _, tc := range tests {
		inv, err := g.Parse(tc.mode, tc.line)
		if tc.id == "" {
			if err == nil {
				t.Errorf("%q: parsed as %s, want error %v", tc.line, inv.Decl.ID, tc.errKind)
				continue
			}
			if err.Kind != tc.errKind || (tc.errKind == ErrInvalid && err.Offset != tc.errOff) || (tc.errMsg != "" && err.Msg != tc.errMsg) {
				t.Errorf("%q: error %v off %d %q, want %v off %d %q", tc.line, err.Kind, err.Offset, err.Msg, tc.errKind, tc.errOff, tc.errMsg)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
			continue
		}
		if inv.Decl.ID != tc.id || inv.Negated != tc.negated {
			t.Errorf("%q: got %s negated=%v, want %s negated=%v", tc.line, inv.Decl.ID, inv.Negated, tc.id, tc.negated)
		}
		for k, v := range tc.values {
			if inv.Values[k] != v {
				t.Errorf("%q: value %s = %q, want %q", tc.line, k, inv.Values[k], v)
			}
		}
	}
}

func TestHelp(t *testing.T) {
	g := mustProduct(t)
	_, usage, err := g.Help(ModeConfig, "failover ")
	if err != nil || !strings.HasPrefix(usage, "usage: [no] failover [active]\n        failover ip address <if_name> <ip_address>\n        failover timeout <hh:mm:ss>\n        failover reset\n        failover link <if_name>\n") {
		t.Fatalf("failover ? = %q, %v", usage, err)
	}
	items, _, err := g.Help(ModeExec, "show fa")
	if err != nil || len(items) != 1 || items[0].Word != "failover" {
		t.Fatalf("show fa? = %v %v", items, err)
	}
	items, _, err = g.Help(ModeConfig, "failover poll ")
	if err != nil || len(items) != 1 || items[0].Word != "<3-15>" {
		t.Fatalf("failover poll ? = %v %v", items, err)
	}
	items, _, err = g.Help(ModeExec, "show failover ")
	if err != nil || len(items) != 5 || items[0].Word != "history" || items[3].Word != "statistics" || items[4].Word != "<cr>" {
		t.Fatalf("show failover ? = %v %v", items, err)
	}
	if _, _, err := g.Help(ModeExec, "shoe "); err == nil || err.Kind != ErrInvalid || err.Offset != 0 {
		t.Fatalf("shoe ? err = %v", err)
	}
}

func TestComplete(t *testing.T) {
	g := mustProduct(t)
	if got := g.Complete(ModeExec, "sh fa", nil); len(got) != 1 || got[0] != "failover" {
		t.Fatalf("sh fa<TAB> = %v", got)
	}
	if got := g.Complete(ModeConfig, "failover poll ", nil); len(got) != 0 {
		t.Fatalf("value placeholder completed: %v", got)
	}
}

// testNames is a box with interfaces eth0, eth1 and eth2 named outside,
// inside and (eth2) failover.
func testNames(t ValueType) []string {
	hw := []string{"eth0", "eth1", "eth2"}
	named := []string{"outside", "inside", "failover"}
	switch t {
	case TIfName:
		return named
	case THWID:
		return hw
	case TIfAny:
		return append(hw, named...)
	}
	return nil
}

// Tab completes interface names wherever one is expected.
func TestCompleteInterfaceNames(t *testing.T) {
	g := mustProduct(t)
	for _, tc := range []struct {
		mode Mode
		line string
		want string
	}{
		{ModeConfig, "ip address o", "outside"},
		{ModeConfig, "mtu i", "inside"},
		{ModeConfig, "route o", "outside"},
		{ModeConfig, "logging host o", "outside"},
		{ModeConfig, "failover ip address f", "failover"},
		{ModeConfig, "failover mac address o", "outside"},
		{ModeConfig, "monitor-interface i", "inside"},
		{ModeConfig, "failover lan interface f", "failover"},
		{ModeConfig, "failover link f", "failover"},
		{ModeExec, "ping o", "outside"},
		{ModeSLA, "type echo protocol ipIcmpEcho 192.0.2.1 interface o", "outside"},
		{ModeConfig, "interface e", "eth0 eth1 eth2"},
		{ModeConfig, "interface eth1", "eth1"},
		{ModeConfig, "nameif e", "eth0 eth1 eth2"},
		{ModeConfig, "failover lan interface failover e", "eth0 eth1 eth2"},
		{ModeConfig, "failover link failover eth2", "eth2"},
		{ModeExec, "show interface ", "eth0 eth1 eth2 failover inside outside"},
		{ModeExec, "show interface o", "outside"},
		{ModeConfig, "show interface e", "eth0 eth1 eth2"},
		{ModeIf, "nameif o", ""}, // a new name: nothing to complete
	} {
		if got := strings.Join(g.Complete(tc.mode, tc.line, testNames), " "); got != tc.want {
			t.Errorf("%s %q<TAB> = %q, want %q", tc.mode, tc.line, got, tc.want)
		}
	}
}

// Every placeholder that names an existing interface has a completing
// type, so a new command cannot forget it.
func TestInterfacePlaceholdersComplete(t *testing.T) {
	g := mustProduct(t)
	for _, d := range g.decls {
		for _, p := range d.paths {
			for i, a := range p {
				if a.Kind == Keyword {
					continue
				}
				newName := a.Name == "if_name" && (d.ID == "nameif" || d.ID == "if-nameif")
				switch {
				case a.Name == "hardware_id" && a.Type != THWID,
					a.Name == "interface_name" && a.Type != TIfAny,
					a.Name == "if_name" && !newName && a.Type != TIfName:
					t.Errorf("%s: placeholder %d <%s> has type %s, which Tab does not complete from the box", d.ID, i, a.Name, a.Type)
				}
			}
		}
	}
}
