package config

import (
	"strings"
	"testing"

	"failover/grammar"
)

// full exercises every configuration command in a non-default setting.
const full = `interface outside auto
interface backup auto
interface inside auto
interface failover auto
interface dmz shutdown
interface lan2 100full
nameif outside outside security0
nameif backup backup security0
nameif inside inside security100
nameif failover failover security0
nameif dmz dmz security50
enable password s3cret
hostname fw1
names
name 203.0.113.1 target1
pager lines 40
logging on
logging timestamp
logging console warnings
logging buffered informational
logging trap 3
logging host inside 192.0.2.5
logging host inside 192.0.2.6 tcp/1470
logging host dmz 192.0.2.7 udp/5514
mtu dmz 9000
ip address outside 198.51.100.2 255.255.255.240
ip address backup 198.51.100.18 255.255.255.240
ip address inside 192.0.2.1 255.255.255.240
ip address failover 192.0.2.17 255.255.255.248
failover
failover timeout 0:01:30
failover ip address outside 198.51.100.3
failover ip address backup 198.51.100.19
failover ip address inside 192.0.2.2
failover ip address failover 192.0.2.18
failover mac address inside 0200.0000.0001 0200.0000.0002
failover lan unit primary
failover lan interface failover
failover lan key topsecret
failover lan enable
failover link failover
failover polltime unit msec 200 holdtime msec 800
failover polltime interface 2 holdtime 10
failover interface-policy 50%
failover replicate http
failover preempt delay 30
no monitor-interface dmz
sla monitor 10
 type echo protocol ipIcmpEcho 203.0.113.1 interface outside
 num-packets 3
 timeout 1000
 threshold 500
 frequency 1
sla monitor 11
 type echo protocol ipIcmpEcho target.example interface outside
 frequency msec 200
 timeout 200
 tos 16
 request-data-size 64
sla monitor 12
sla monitor schedule 10 life forever start-time now
sla monitor schedule 11 life 3600 start-time after 0:00:30
track 1 rtr 10 reachability
 delay down 3 up 10
track 2 rtr 11 reachability
track 3 list boolean or
 object 1
 object 2
 delay up 5
route outside 0.0.0.0 0.0.0.0 198.51.100.1 1 track 3
route backup 0.0.0.0 0.0.0.0 198.51.100.17 254
route inside 203.0.113.64 255.255.255.192 192.0.2.9
prompt hostname priority state
`

func TestRoundTripEveryCommand(t *testing.T) {
	c, errs := ApplyLines(New(), full)
	for _, e := range errs {
		t.Error(e)
	}
	for _, opts := range []RenderOpts{{Secrets: true}, {}} {
		first := Text(Render(c, opts))
		base := New()
		if !opts.Secrets {
			// A masked key parses back as "keep the current key".
			base = c
		}
		c2, errs := ApplyLines(base, first)
		if opts.Secrets {
			for _, e := range errs {
				t.Errorf("parse back: %v", e)
			}
		}
		second := Text(Render(c2, opts))
		if first != second {
			t.Errorf("render -> parse -> render differs (%+v):\n--- first\n%s--- second\n%s", opts, first, second)
		}
	}
	// Every declaration with a configuration handler appears in the test
	// configuration, so a new command cannot skip the round trip.
	out := Text(Render(c, RenderOpts{Secrets: true}))
	g, _ := grammar.Product()
	x := &Ctx{Mode: grammar.ModeConfig}
	seen := map[string]bool{}
	for _, line := range strings.Split(out, "\n") {
		if IsComment(line) {
			continue
		}
		inv, err := Parse(x, line)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		seen[inv.Decl.ID] = true
		if _, err := Apply(c, inv, x); err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		x.Mode, x.Obj = x.NextMode, x.NextObj
		// The "no" form of every rendered line parses.
		if inv.Decl.NoMin > 0 && !inv.Negated {
			if _, err := g.Parse(inv.Mode, "no "+strings.TrimSpace(line)); err != nil {
				t.Errorf("no %s: %v", line, err)
			}
		}
	}
	// ASA input forms and sub-mode-only forms render natively instead.
	// failover-poll is replaced by the polltime line here; TestDefaultsRender covers it.
	native := map[string]bool{"failover-poll": true, "failover-key": true, "failover-interface-ip": true, "if-nameif": true, "if-security": true, "if-ip-address": true, "if-shutdown": true}
	for _, d := range g.Decls() {
		if IsConfigCommand(d) && !seen[d.ID] && !native[d.ID] {
			t.Errorf("command %s is not covered by the round-trip configuration", d.ID)
		}
	}
}

func TestDefaultsRender(t *testing.T) {
	c, errs := ApplyLines(New(), "nameif outside outside security0\nnameif inside inside security100\n")
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := Text(Render(c, RenderOpts{Section: grammar.SecFailover}))
	want := "no failover\nfailover timeout 0:00:00\nfailover poll 15\nfailover ip address outside 0.0.0.0\nfailover ip address inside 0.0.0.0\n"
	if got != want {
		t.Fatalf("defaults:\n%s\nwant:\n%s", got, want)
	}
}

func TestASAFormsRenderNatively(t *testing.T) {
	in := `interface eth1
 nameif inside
 security-level 100
 ip address 192.0.2.1 255.255.255.240 standby 192.0.2.2
 shutdown
failover lan interface folink eth3
failover interface ip folink 192.0.2.17 255.255.255.248 standby 192.0.2.18
failover key abc
`
	c, errs := ApplyLines(New(), in)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := Text(Render(c, RenderOpts{Secrets: true}))
	for _, want := range []string{
		"interface eth1 shutdown\n", "nameif eth1 inside security100\n", "ip address inside 192.0.2.1 255.255.255.240\n",
		"failover ip address inside 192.0.2.2\n", "nameif eth3 folink security0\n", "failover lan interface folink\n",
		"ip address folink 192.0.2.17 255.255.255.248\n", "failover ip address folink 192.0.2.18\n", "failover lan key abc\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
}

// PIX and ASA take 0 for 0.0.0.0 in a route's network and in masks; the
// configuration prints the dotted form, which parses back the same.
func TestZeroShorthandRoundTrips(t *testing.T) {
	in := `nameif outside outside security0
ip address outside 198.51.100.2 255.255.255.240
route outside 0 0 198.51.100.1
route outside 203.0.113.0 255.255.255.0 198.51.100.3 5
route outside 0.0.0.0 0 198.51.100.4 7
`
	c, errs := ApplyLines(New(), in)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	got := Text(Render(c, RenderOpts{Secrets: true}))
	for _, want := range []string{
		"route outside 0.0.0.0 0.0.0.0 198.51.100.1 1\n",
		"route outside 0.0.0.0 0.0.0.0 198.51.100.4 7\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("missing %q in:\n%s", want, got)
		}
	}
	c2, errs := ApplyLines(New(), got)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	if again := Text(Render(c2, RenderOpts{Secrets: true})); again != got {
		t.Errorf("rendered form does not parse back the same:\n%s\nwant:\n%s", again, got)
	}
	// "0" is a shorthand for the network and the mask only.
	for _, bad := range []string{"route outside 0 0 0", "ip address outside 0 255.255.255.240"} {
		if _, errs := ApplyLines(c, bad); len(errs) == 0 {
			t.Errorf("%q accepted", bad)
		}
	}
}

func TestRejectedLineChangesNothing(t *testing.T) {
	c, _ := ApplyLines(New(), "nameif outside outside security0\nip address outside 198.51.100.2 255.255.255.240\n")
	before := Text(Render(c, RenderOpts{Secrets: true}))
	bad := []string{
		"route outside 0.0.0.0 0.0.0.0 203.0.113.1",         // gateway not on the interface
		"route nowhere 0.0.0.0 0.0.0.0 198.51.100.1",        // no such interface
		"route outside 10.0.0.1 255.0.0.0 198.51.100.1",     // host bits set
		"failover ip address outside 192.0.2.3",             // standby outside subnet
		"failover polltime unit msec 200 holdtime msec 500", // hold < 3x poll
		"failover polltime 16",
		"track 1 rtr 99 reachability", // missing SLA
		"ip address outside 198.51.100.0 255.255.255.240",
		"hostname 1bad",
		"fixup protocol ftp 21",
	}
	for _, l := range bad {
		c2, errs := ApplyLines(c, l)
		if len(errs) != 1 {
			t.Errorf("%q: want one error, got %v", l, errs)
		}
		if after := Text(Render(c2, RenderOpts{Secrets: true})); after != before {
			t.Errorf("%q changed the configuration", l)
		}
	}
	_, errs := ApplyLines(New(), "sla monitor 5\n type echo protocol ipIcmpEcho 192.0.2.1 interface x\n")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "not found") {
		t.Errorf("SLA on unnamed interface: %v", errs)
	}
	_, errs = ApplyLines(c, "sla monitor 5\n type echo protocol ipIcmpEcho 192.0.2.1 interface outside\n timeout 1000\n threshold 2000\n")
	if len(errs) != 1 || !strings.Contains(errs[0].Error(), "threshold") {
		t.Errorf("threshold above timeout: %v", errs)
	}
}

func TestPasswordHash(t *testing.T) {
	h, err := HashPassword("pw")
	if err != nil {
		t.Fatal(err)
	}
	h2, _ := HashPassword("pw")
	if h == h2 {
		t.Error("hashes are not salted")
	}
	if !CheckPassword(h, "pw") || CheckPassword(h, "px") || CheckPassword("junk", "pw") {
		t.Error("CheckPassword is wrong")
	}
}

// Known PIX 6.3 hashes: the factory "passwd 2KFQnbNIdI.2KYOU encrypted" is
// "cisco", and "enable password 8Ry2YjIyt7RRXU24 encrypted" is the empty
// password.
func TestPIXHashes(t *testing.T) {
	for pw, h := range map[string]string{"cisco": "2KFQnbNIdI.2KYOU", "": "8Ry2YjIyt7RRXU24"} {
		if got := pixMD5(pw); got != h {
			t.Errorf("pixMD5(%q) = %s, want %s", pw, got, h)
		}
		if !ValidHash(h) || !CheckPassword(h, pw) || CheckPassword(h, pw+"x") {
			t.Errorf("CheckPassword with PIX hash %s is wrong", h)
		}
	}
	c, errs := ApplyLines(New(), "enable password 2KFQnbNIdI.2KYOU encrypted\n")
	if len(errs) > 0 || c.EnableHash != "2KFQnbNIdI.2KYOU" {
		t.Fatalf("pasted PIX enable password: %v %q", errs, c.EnableHash)
	}
}
