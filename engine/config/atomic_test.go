package config

import (
	"reflect"
	"strings"
	"testing"

	"failover/grammar"
)

// atomicBad are lines that parse but that a handler must refuse, each
// after part of its checks: they catch a handler that changes something
// before it fails.
var atomicBad = []string{
	"nameif dmz outside security0",               // name in use
	"nameif outside renamed security0",           // rename of a referenced interface
	"nameif bad/name x security0",                // invalid hardware name
	"ip address nowhere 192.0.2.1 255.255.255.0", // unnamed
	"ip address outside 192.0.2.0 255.255.255.0", // network address
	"ip address outside 192.0.2.1 255.255.255.0", // overlaps inside
	"failover ip address outside 203.0.113.99",   // not in the subnet
	"failover ip address outside 198.51.100.2",   // the system address
	"failover mac address outside 0200.0000.0001 0200.0000.0001",
	"failover mac address outside 0100.0000.0001 0200.0000.0002",
	"failover polltime unit msec 500 holdtime 1", // hold < 3 polls
	"failover polltime unit 5 holdtime 10",       // hold < 3 polls
	"failover polltime interface 5 holdtime 10",  // hold < 3 polls
	"failover lan interface nowhere",
	"failover link nowhere",
	"failover lan key " + strings.Repeat("k", 70),
	"track 1 list boolean or",                             // track 1 is an rtr track
	"track 9 rtr 99 reachability",                         // no such SLA
	"track 3 rtr 11 reachability",                         // list track
	"sla monitor schedule 99 life forever start-time now", // no such SLA
	"route outside 0.0.0.0 0.0.0.0 203.0.113.1",           // gateway not a neighbour
	"route nowhere 0.0.0.0 0.0.0.0 198.51.100.1",
	"route outside 192.0.2.1 255.255.255.0 198.51.100.1", // host bits set
	"logging host nowhere 192.0.2.5",
	"hostname 9bad",
	"name 192.0.2.5 192.0.2.6",
	"enable password fo1.bad.hash encrypted",
	"nameif newhw outside security0",                                                 // a new interface with a name in use
	"failover lan interface inside newhw",                                            // the same, ASA form
	"failover link inside newhw",                                                     // the same, ASA form
	"failover interface ip outside 198.51.100.5 255.255.255.240 standby 203.0.113.5", // standby off the subnet
}

// subModeBad are sub-mode lines that must fail in the mode they are tried
// in, after their handler found the object.
var subModeBad = []struct {
	enter []string
	line  string
}{
	{[]string{"sla monitor 10", " type echo protocol ipIcmpEcho 203.0.113.1 interface outside"}, " timeout 9000"},
	{[]string{"sla monitor 10", " type echo protocol ipIcmpEcho 203.0.113.1 interface outside"}, " frequency msec 10"},
	{[]string{"sla monitor 10", " type echo protocol ipIcmpEcho 203.0.113.1 interface outside"}, " threshold 4000"},
	{[]string{"sla monitor 10", " type echo protocol ipIcmpEcho 203.0.113.1 interface outside"}, " frequency 1"},
	{[]string{"sla monitor 10"}, " type echo protocol ipIcmpEcho 203.0.113.9 interface outside"},
	{[]string{"sla monitor 10"}, " type echo protocol ipIcmpEcho 203.0.113.1 interface nowhere"},
	{[]string{"track 1 rtr 10 reachability"}, " object 2"},
	{[]string{"track 3 list boolean and"}, " object 3"},
	{[]string{"interface lan2"}, " ip address 192.0.2.200 255.255.255.0"},
	{[]string{"interface outside"}, " nameif inside"},
	{[]string{"interface outside"}, " ip address 198.51.100.2 255.255.255.240 standby 203.0.113.5"},
}

// A handler that fails leaves the configuration exactly as it was, and one
// that succeeds in place gives what it gives on a copy: Change may be used
// on a batch's one working copy.
func TestChangeIsAtomic(t *testing.T) {
	hashIter = 1
	base, errs := ApplyLines(New(), full)
	if len(errs) > 0 {
		t.Fatalf("base configuration: %v", errs)
	}
	type attempt struct {
		enter []string
		line  string
		must  bool // must parse and reach a handler
	}
	var tries []attempt
	for _, l := range atomicBad {
		tries = append(tries, attempt{nil, l, true})
	}
	for _, s := range subModeBad {
		tries = append(tries, attempt{s.enter, s.line, true})
	}
	// Every line of the full configuration, and its "no" form, on a
	// configuration that lacks what it refers to and on the full one.
	for _, l := range strings.Split(full, "\n") {
		if IsComment(l) || strings.HasPrefix(l, " ") {
			continue
		}
		tries = append(tries, attempt{nil, l, false}, attempt{nil, "no " + l, false})
	}
	failures := 0
	for _, b := range []*Config{New(), base} {
		for _, a := range tries {
			c := b.Clone()
			x := &Ctx{Mode: grammar.ModeConfig}
			for _, e := range a.enter {
				inv, err := Parse(x, e)
				if err != nil {
					t.Fatalf("%q: %v", e, err)
				}
				if err := Change(c, inv, x); err != nil {
					break
				}
				x.Mode, x.Obj = x.NextMode, x.NextObj
			}
			inv, err := Parse(x, a.line)
			if err != nil || !IsConfigCommand(inv.Decl) {
				if a.must && b == base {
					t.Errorf("%q does not parse as a configuration command: %v", a.line, err)
				}
				continue
			}
			before := c.Clone()
			xc := *x
			copied, cerr := Apply(before, inv, &xc)
			err = Change(c, inv, x)
			switch {
			case err != nil:
				failures++
				if !reflect.DeepEqual(c, before) {
					t.Errorf("%q failed (%v) but changed the configuration:\n%s", a.line, err, diff(before, c))
				}
				if cerr == nil {
					t.Errorf("%q fails in place (%v) but not on a copy", a.line, err)
				}
			case cerr != nil:
				t.Errorf("%q fails on a copy (%v) but not in place", a.line, cerr)
			case inv.Decl.ID == "enable-password" && !inv.Words["encrypted"]:
				// Salted: two hashes of one password differ.
			case !reflect.DeepEqual(c, copied):
				t.Errorf("%q in place differs from on a copy:\n%s", a.line, diff(copied, c))
			}
		}
	}
	if failures < len(atomicBad) {
		t.Errorf("only %d lines failed: the test lines no longer reach the handlers' checks", failures)
	}
}

// FuzzChangeIsAtomic: any lines, applied one by one in place and on a
// copy, give the same configurations, and a refused line changes nothing.
func FuzzChangeIsAtomic(f *testing.F) {
	f.Add(full)
	for _, l := range atomicBad {
		f.Add(l)
	}
	for _, s := range subModeBad {
		f.Add(strings.Join(append(s.enter, s.line), "\n"))
	}
	hashIter = 1
	base, errs := ApplyLines(New(), full)
	if len(errs) > 0 {
		f.Fatal(errs)
	}
	f.Fuzz(func(t *testing.T, text string) {
		c := base.Clone()
		x := &Ctx{Mode: grammar.ModeConfig}
		for _, line := range strings.Split(text, "\n") {
			inv, err := Parse(x, line)
			if err != nil || !IsConfigCommand(inv.Decl) {
				continue
			}
			before := c.Clone()
			xc := *x
			copied, cerr := Apply(before, inv, &xc)
			err = Change(c, inv, x)
			switch {
			case (err == nil) != (cerr == nil):
				t.Fatalf("%q: in place %v, on a copy %v", line, err, cerr)
			case err != nil:
				if !reflect.DeepEqual(c, before) {
					t.Fatalf("%q failed (%v) but changed the configuration:\n%s", line, err, diff(before, c))
				}
				continue
			case inv.Decl.ID == "enable-password" && !inv.Words["encrypted"]:
				// Salted: two hashes of one password differ.
				c.EnableHash = copied.EnableHash
			}
			if !reflect.DeepEqual(c, copied) {
				t.Fatalf("%q in place differs from on a copy:\n%s", line, diff(copied, c))
			}
			x.Mode, x.Obj = x.NextMode, x.NextObj
		}
	})
}

func diff(a, b *Config) string {
	ta := Text(Render(a, RenderOpts{Secrets: true}))
	tb := Text(Render(b, RenderOpts{Secrets: true}))
	if ta == tb {
		return "(renders the same; a hidden field differs)"
	}
	return "--- before\n" + ta + "--- after\n" + tb
}
