package engine_test

import (
	"context"
	"net/netip"
	"strings"
	"sync"
	"testing"

	"failover/engine/dataplane"
	"failover/engine/dataplane/dataplanetest"

	. "failover/engine"
	"failover/engine/cli"
)

func newFakeEngine(t *testing.T, links ...string) (*Engine, *dataplanetest.Fake) {
	t.Helper()
	dp := dataplanetest.NewFake()
	for i, l := range links {
		if err := dp.AddLink(l, "02:00:00:00:00:0"+string(rune('1'+i))); err != nil {
			t.Fatal(err)
		}
	}
	return runEngine(t, Options{DP: dp}), dp
}

// runEngine builds an engine and runs its loop until the test ends.
func runEngine(t *testing.T, o Options) *Engine {
	t.Helper()
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	go e.Run(ctx)
	t.Cleanup(cancel)
	return e
}

func mustExec(t *testing.T, s *cli.Session, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if r := s.Exec(l); r.Failed() {
			t.Fatalf("%q: %s", l, r.Err)
		}
	}
}

// The interface commands act on the kernel for the interfaces the
// configuration names, and nothing else is touched.
func TestInterfaceCommandsReachTheKernel(t *testing.T) {
	e, dp := newFakeEngine(t, "eth0", "eth1", "other")
	otherBefore, _ := dp.Link("other")
	s := sessionsOf(e).NewSession(false)
	mustExec(t, s, "enable", "conf t",
		"interface eth0 auto", "interface eth1 shutdown",
		"nameif eth0 outside security0", "nameif eth1 inside security100",
		"ip address outside 198.51.100.2 255.255.255.240", "mtu outside 1400",
		"ip address inside 192.0.2.1 255.255.255.240")
	e.Do(func() {})
	addrs := func(l string) []dataplane.Addr {
		a, err := dp.Addrs(l)
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	if a := addrs("eth0"); len(a) != 1 || a[0].Prefix != netip.MustParsePrefix("198.51.100.2/28") {
		t.Fatalf("eth0 addresses %v", a)
	}
	l0, _ := dp.Link("eth0")
	l1, _ := dp.Link("eth1")
	if !l0.AdminUp || l0.MTU != 1400 || l1.AdminUp {
		t.Fatalf("links: eth0 up=%v mtu=%d, eth1 up=%v", l0.AdminUp, l0.MTU, l1.AdminUp)
	}
	other, _ := dp.Link("other")
	if len(addrs("other")) != 0 || other.AdminUp != otherBefore.AdminUp || other.MTU != otherBefore.MTU {
		t.Fatalf("an unconfigured link was touched: %+v", other)
	}
	// Changing and removing the address follows the configuration.
	mustExec(t, s, "ip address outside 198.51.100.5 255.255.255.240")
	e.Do(func() {})
	if a := addrs("eth0"); len(a) != 1 || a[0].Prefix.Addr() != netip.MustParseAddr("198.51.100.5") {
		t.Fatalf("after change: %v", a)
	}
	mustExec(t, s, "no ip address outside 198.51.100.5 255.255.255.240")
	e.Do(func() {})
	if a := addrs("eth0"); len(a) != 0 {
		t.Fatalf("after no ip address: %v", a)
	}
}

// A change in one session is visible in another at once.
func TestConcurrentSessionsShareState(t *testing.T) {
	e, _ := newFakeEngine(t)
	a, b := sessionsOf(e).NewSession(false), sessionsOf(e).NewSession(false)
	mustExec(t, a, "enable", "conf t")
	mustExec(t, b, "enable")
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(2)
		go func() { defer wg.Done(); a.Exec("hostname fw1") }()
		go func() { defer wg.Done(); b.Exec("show running-config") }()
	}
	wg.Wait()
	r := b.Exec("show running-config")
	if !strings.Contains(r.Output, "hostname fw1\n") {
		t.Fatalf("session b does not see session a's change:\n%s", r.Output)
	}
	if !strings.HasPrefix(b.Exec("show curpriv").Prompt, "fw1#") {
		t.Fatal("prompt does not follow the new hostname")
	}
}

// Wrong-mode and privilege errors say what is needed; bad input changes
// nothing.
func TestSessionErrors(t *testing.T) {
	e, _ := newFakeEngine(t)
	s := sessionsOf(e).NewSession(false)
	cases := []struct{ line, want string }{
		{"show running-config", "requires privileged mode"},
		{"hostname x", "requires configuration mode"},
		{"show failover\x01", "control characters"},
		{"show \xff", "not valid UTF-8"},
		{strings.Repeat("a", 5000), "line too long"},
	}
	for _, c := range cases {
		if r := s.Exec(c.line); !strings.Contains(r.Err, c.want) {
			t.Errorf("%q: got %q, want %q", c.line[:min(len(c.line), 20)], r.Err, c.want)
		}
	}
	mustExec(t, s, "enable", "conf t")
	before := s.Exec("show running-config").Output
	for _, bad := range []string{"failover poll 99", "route outside 0.0.0.0 0.0.0.0 192.0.2.1", "failover polltime unit msec 100 holdtime msec 200"} {
		if r := s.Exec(bad); !r.Failed() {
			t.Errorf("%q was accepted", bad)
		}
	}
	if after := s.Exec("show running-config").Output; after != before {
		t.Fatalf("rejected lines changed the configuration")
	}
}

// enable asks for a password only when one is set, and checks it.
func TestEnablePassword(t *testing.T) {
	e, _ := newFakeEngine(t)
	s := sessionsOf(e).NewSession(false)
	mustExec(t, s, "enable", "conf t", "enable password s3cret", "end", "disable")
	r := s.Exec("enable")
	if !r.NeedPassword || s.Priv() {
		t.Fatalf("enable with a password set: %+v", r)
	}
	if r := s.Enable("wrong"); r.Err != "Invalid password" || s.Priv() {
		t.Fatalf("wrong password: %+v", r)
	}
	s.Exec("enable")
	if r := s.Enable("s3cret"); r.Failed() || !s.Priv() {
		t.Fatalf("right password: %+v", r)
	}
	out := s.Exec("show running-config").Output
	if strings.Contains(out, "s3cret") || !strings.Contains(out, "enable password fo1.") {
		t.Fatalf("password not shown as a hash:\n%s", out)
	}
}

// Tab offers the box's interfaces for a hardware_id, the nameif names for
// an if_name, and both where either is accepted.
func TestCompleteInterfaceNames(t *testing.T) {
	e, _ := newFakeEngine(t, "eth0", "eth1")
	s := sessionsOf(e).NewSession(false)
	mustExec(t, s, "enable", "conf t", "interface eth9 auto", "nameif eth0 outside security0")
	for _, tc := range []struct{ line, want string }{
		{"interface ", "eth0 eth1 eth9"},
		{"nameif eth", "eth0 eth1 eth9"},
		{"ip address ", "outside"},
		{"show interface ", "eth0 eth1 eth9 outside"},
		{"show interface o", "outside"},
	} {
		if got := strings.Join(s.Complete(tc.line).Completions, " "); got != tc.want {
			t.Errorf("%q<TAB> = %q, want %q", tc.line, got, tc.want)
		}
	}
}

func TestShowInterfaceHardwareLine(t *testing.T) {
	e, _ := newFakeEngine(t, "eth0")
	s := sessionsOf(e).NewSession(false)
	mustExec(t, s, "enable", "conf t", "nameif eth0 outside security0")
	out := s.Exec("show interface outside").Output
	if want := "  Hardware is Linux, address is 0200.0000.0001\n"; !strings.Contains(out, want) {
		t.Errorf("show interface:\n%s\nwant the line %q", out, want)
	}
}
