package unit

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs from %s\n--- got ---\n%s\n--- want ---\n%s", name, path, got, want)
	}
}

// checkLayout enforces the layout rules of `show failover` (README, Unit
// failover) on any output.
func checkLayout(t *testing.T, out string) {
	t.Helper()
	if !strings.HasSuffix(out, "\n") {
		t.Error("output does not end with a newline")
	}
	for i, l := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if strings.TrimRight(l, " \t") != l {
			t.Errorf("line %d has trailing spaces: %q", i+1, l)
		}
		switch {
		case strings.Contains(l, "This host:"), strings.Contains(l, "Other host:"):
			if !strings.HasPrefix(l, "        ") || strings.HasPrefix(l, "         ") {
				t.Errorf("line %d: want 8 spaces: %q", i+1, l)
			}
		case strings.Contains(l, "Active time:"), strings.Contains(l, "Interface ") && !strings.Contains(l, "Poll frequency"):
			if !strings.HasPrefix(l, strings.Repeat(" ", 16)) || strings.HasPrefix(l, strings.Repeat(" ", 17)) {
				t.Errorf("line %d: want 16 spaces: %q", i+1, l)
			}
		}
	}
}

func TestShowFailoverOff(t *testing.T) {
	u := New(Options{})
	got := u.ShowFailover()
	const want = "Failover Off\nCable status: Normal\nReconnect timeout 0:00:00\n"
	if got != want {
		t.Errorf("got %q, want %q", got, want)
	}
	golden(t, "show_failover_off", got)
	// Configured but disabled: still the three lines.
	c := testConfig("primary")
	c.Failover.Enabled = false
	c.Failover.Timeout = 3725
	u.Apply(c)
	if got := u.ShowFailover(); got != "Failover Off\nCable status: Normal\nReconnect timeout 1:02:05\n" {
		t.Errorf("got %q", got)
	}
}

func TestShowFailoverAlone(t *testing.T) {
	p := newPair(t)
	a := p.add("A", testConfig("primary"))
	p.run(10 * time.Second)
	out := a.u.ShowFailover()
	checkLayout(t, out)
	golden(t, "show_failover_alone", out)
	// Nothing about a mate may be invented: no mate address, no counters received.
	for _, bad := range []string{"192.0.2.2", "198.51.100.2", "203.0.113.2"} {
		if strings.Contains(out, bad) {
			t.Errorf("alone unit shows the mate's address %s:\n%s", bad, out)
		}
	}
	if !regexp.MustCompile(`(?m)^        General         \d+ +0          0          0$`).MatchString(out) {
		t.Errorf("alone unit shows received messages:\n%s", out)
	}
}

func TestShowFailoverPair(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(386 * time.Second)
	outA, outB := a.u.ShowFailover(), b.u.ShowFailover()
	checkLayout(t, outA)
	checkLayout(t, outB)
	golden(t, "show_failover_active", outA)
	golden(t, "show_failover_standby", outB)
	// PIX's show failover shape, line by line, with our values.
	shape := regexp.MustCompile(`^Failover On
Cable status: Normal
Failover LAN Interface: failover eth-fo \(up\)
Reconnect timeout 0:00:00
Unit Poll frequency 15 seconds, holdtime 45 seconds
Interface Poll frequency 5 seconds, holdtime 25 seconds
        This host: Primary - Active
                Active time: \d+ \(sec\)
                Interface failover \(192\.0\.2\.1\): Normal
                Interface outside \(198\.51\.100\.1\): Normal
                Interface inside \(203\.0\.113\.1\): Normal
        Other host: Secondary - Standby
                Active time: 0 \(sec\)
                Interface failover \(192\.0\.2\.2\): Normal
                Interface outside \(198\.51\.100\.2\): Normal
                Interface inside \(203\.0\.113\.2\): Normal

Stateful Failover Logical Update Statistics
        Link : failover
        Stateful Obj    xmit       xerr       rcv        rerr
        General         \d+ +\d+ +\d+ +\d+
        sys cmd         \d+ +\d+ +\d+ +\d+
        up time         0          0          0          0
        xlate           0          0          0          0
        tcp conn        0          0          0          0
        udp conn        0          0          0          0
        ARP tbl         0          0          0          0
        RIP Tbl         0          0          0          0

        Logical Update Queue Information
                        Cur     Max     Total
        Recv Q:         0       \d+ +\d+
        Xmit Q:         0       \d+ +\d+
$`)
	if !shape.MatchString(outA) {
		t.Errorf("active show failover does not have PIX's shape:\n%s", outA)
	}
	if !strings.Contains(outA, "Active time: 386 (sec)") {
		t.Errorf("active time:\n%s", outA)
	}
}

func TestShowFailoverUnconfiguredLinkAndHistory(t *testing.T) {
	p := newPair(t)
	c := testConfig("primary")
	c.Failover.Link = ""
	c.Failover.Poll, c.Failover.Hold, c.Failover.PollMsec, c.Failover.HoldMsec = 200*time.Millisecond, 800*time.Millisecond, true, true
	a := p.add("A", c)
	p.run(2 * time.Second)
	out := a.u.ShowFailover()
	if !strings.HasSuffix(out, "\nStateful Failover Logical Update Statistics\n        Link : Unconfigured.\n") {
		t.Errorf("unconfigured link:\n%s", out)
	}
	if !strings.Contains(out, "\nUnit Poll frequency 200 milliseconds, holdtime 800 milliseconds\nInterface Poll frequency 5 seconds, holdtime 25 seconds\n") {
		t.Errorf("poll line:\n%s", out)
	}
	golden(t, "show_failover_history", a.u.ShowHistory())
}

// After the active mate dies (every link cut), the survivor's show failover
// gives the mate's own addresses (the standby addresses beside our system
// ones, not ours again), its own failover interface is not Failed (its link
// is up; it waits for the mate), and the cable status says the mate is down.
func TestShowFailoverMateDead(t *testing.T) {
	p, _, b := bootstrap(t)
	p.run(time.Minute)
	for _, l := range allLinks {
		p.net.Cut(l)
	}
	if _, ok := p.until(5*time.Minute, func() bool { return b.u.State() == Active }); !ok {
		t.Fatal("standby never took over")
	}
	p.run(10 * time.Second)
	out := b.u.ShowFailover()
	checkLayout(t, out)
	golden(t, "show_failover_mate_dead", out)
	for _, want := range []string{
		"Cable status: Other side powered off\n",
		"                Interface failover (192.0.2.2): Waiting\n",
		"        Other host: Primary - Not Detected\n",
		"                Interface failover (192.0.2.1): Unknown\n",
		"                Interface outside (198.51.100.2): Unknown\n",
		"                Interface inside (203.0.113.2): Unknown\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
}

// Only the failover LAN link fails: the mate is heard on the data
// interfaces, the cable status says the other side is not connected and
// our failover interface is Failed; neither says the mate is down.
func TestShowFailoverLANOnlyFailed(t *testing.T) {
	p, a, b := bootstrap(t)
	p.net.Cut(hwFO)
	p.run(3 * time.Minute)
	wantState(t, b, Standby)
	for _, n := range []*node{a, b} {
		out := n.u.ShowFailover()
		lan := "192.0.2.1"
		if n == b {
			lan = "192.0.2.2"
		}
		for _, want := range []string{
			"Cable status: Other side is not connected\n",
			"                Interface failover (" + lan + "): Failed\n",
		} {
			if !strings.Contains(out, want) {
				t.Errorf("%s: no %q in:\n%s", n.name, want, out)
			}
		}
	}
}

// With only the LAN link failed the mate goes on serving: its Active time
// as the standby shows it keeps counting with the active's own, though the
// hellos that carry it have stopped.
func TestShowFailoverMateActiveTimeCounts(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	p.net.Cut(hwFO)
	p.run(3 * time.Minute)
	wantState(t, a, Active)
	activeRe := regexp.MustCompile(`(?m)^        (This|Other) host: .*\n                Active time: (\d+) \(sec\)$`)
	seconds := func(out, host string) string {
		for _, m := range activeRe.FindAllStringSubmatch(out, -1) {
			if m[1] == host {
				return m[2]
			}
		}
		return ""
	}
	own, seen := seconds(a.u.ShowFailover(), "This"), seconds(b.u.ShowFailover(), "Other")
	if own == "" || own != seen {
		t.Errorf("the active's own Active time %q, the standby shows %q for it", own, seen)
	}
}

// Both units show the same Last Failover at: the time travels in the
// hellos, so the unit that stepped down (and one that starts later) shows
// the failover the other unit made.
func TestLastFailoverSameOnBoth(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	if err := a.u.NoFailoverActive(); err != nil {
		t.Fatal(err)
	}
	p.run(time.Minute)
	wantState(t, b, Active)
	wantState(t, a, Standby)
	re := regexp.MustCompile(`(?m)^Last Failover at: .+$`)
	la, lb := re.FindString(a.u.ShowFailover()), re.FindString(b.u.ShowFailover())
	if lb == "" || la != lb {
		t.Errorf("Last Failover: A %q, B %q; want the same line on both", la, lb)
	}
	// A unit that starts afterwards learns it from the active unit.
	p.stop(a)
	p.run(10 * time.Second)
	a = p.add("A", testConfig("primary"))
	if _, ok := p.until(5*time.Minute, func() bool { return a.u.State() == Standby }); !ok {
		t.Fatalf("restarted A is %s", a.u.State())
	}
	la, lb = re.FindString(a.u.ShowFailover()), re.FindString(b.u.ShowFailover())
	if lb == "" || la != lb {
		t.Errorf("after A's restart, Last Failover: A %q, B %q", la, lb)
	}
}

// The ASA incident commands, in ASA's formats: show failover state,
// interface, statistics and show monitor-interface, on the active and the
// standby of a settled pair, and on the survivor after the mate died.
func TestShowFailoverIncidentViews(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	for _, w := range []string{"state", "interface", "monitor-interface"} {
		golden(t, "show_"+w+"_active", a.u.Show(w))
		golden(t, "show_"+w+"_standby", b.u.Show(w))
	}
	// The counters of show failover, as ASA sums them up.
	stats := regexp.MustCompile(`^    tx:(\d+)\n    rx:(\d+)\n$`)
	for _, n := range []*node{a, b} {
		m := stats.FindStringSubmatch(n.u.Show("statistics"))
		if m == nil || !strings.Contains(n.u.ShowFailover(), "        General         "+m[1]+" ") || m[2] == "0" {
			t.Errorf("%s: show failover statistics %q does not match show failover:\n%s", n.name, n.u.Show("statistics"), n.u.ShowFailover())
		}
	}
	if got := a.u.Show("state"); !strings.Contains(got, "Other host -   Secondary\n               Standby Ready  None\n") {
		t.Errorf("state on the active:\n%s", got)
	}
	for _, l := range allLinks {
		p.net.Cut(l)
	}
	if _, ok := p.until(5*time.Minute, func() bool { return b.u.State() == Active }); !ok {
		t.Fatal("standby never took over")
	}
	got := b.u.Show("state")
	golden(t, "show_state_mate_dead", got)
	if !regexp.MustCompile(`(?m)^Other host -   Primary\n               Not Detected   Comm Failure             \d\d:\d\d:\d\d UTC .+$`).MatchString(got) {
		t.Errorf("state after the mate died:\n%s", got)
	}
}

// The syslog messages of an incident, in ASA's wording: the LAN link going
// quiet (105005), the mate lost (103001) only when it is heard nowhere,
// and monitored interfaces waiting (105003) and normal again (105004).
func TestIncidentSyslogs(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(2 * time.Minute)
	for _, want := range []string{
		"%PIX-1-105003: (Primary) Monitoring on interface outside waiting",
		"%PIX-1-105004: (Primary) Monitoring on interface outside normal",
		"%PIX-1-105004: (Secondary) Monitoring on interface inside normal",
	} {
		if !slices.Contains(a.syslog, want) && !slices.Contains(b.syslog, want) {
			t.Errorf("no %q in\nA %q\nB %q", want, a.syslog, b.syslog)
		}
	}
	p.net.Cut(hwFO)
	p.run(3 * time.Minute)
	if !b.logged("%PIX-1-105005: (Secondary) Lost Failover communications with mate on interface failover") ||
		!a.logged("%PIX-1-105005: (Primary) Lost Failover communications with mate on interface failover") {
		t.Errorf("no 105005 after the LAN link failed:\nA %q\nB %q", a.syslog, b.syslog)
	}
	if a.logged("103001") || b.logged("103001") {
		t.Errorf("103001 while the mate is heard on the data interfaces:\nA %q\nB %q", a.syslog, b.syslog)
	}
	for _, l := range allLinks {
		p.net.Cut(l)
	}
	if _, ok := p.until(5*time.Minute, func() bool { return b.logged("103001") }); !ok {
		t.Fatalf("no 103001 with the mate silent everywhere: %q", b.syslog)
	}
	if !b.logged("%PIX-1-103001: (Secondary) No response from other firewall (reason code = 1).") {
		t.Errorf("syslog %q", b.syslog)
	}
}

// With failover off, each unit's state as its own and its mate's show
// commands name it says what it holds: the standby that kept its role is
// Pseudo-Standby (it holds the standby addresses), the active one that
// kept serving is Disabled, on both units, in `show failover`, `show
// failover state` and the status.
func TestShowFailoverOffStates(t *testing.T) {
	p, a, b := bootstrap(t)
	p.run(time.Minute)
	row := func(host, role, state string) string {
		return host + " -   " + role + "\n               " + state + " "
	}
	setFailover(b, false)
	p.settle()
	p.run(10 * time.Second)
	wantState(t, b, PseudoStandby)
	if got := b.u.Show("state"); !strings.Contains(got, row("This host ", "Secondary", "Pseudo-Standby")) {
		t.Errorf("the pseudo-standby's own show failover state:\n%s", got)
	}
	if got := a.u.Show("state"); !strings.Contains(got, row("Other host", "Secondary", "Pseudo-Standby")) {
		t.Errorf("the active's show failover state of a pseudo-standby mate:\n%s", got)
	}
	if got := a.u.ShowFailover(); !strings.Contains(got, "        Other host: Secondary - Pseudo-Standby\n") {
		t.Errorf("the active's show failover of a pseudo-standby mate:\n%s", got)
	}
	if got := a.u.Status().Mate.State; got != "Pseudo-Standby" {
		t.Errorf("the active's status says the mate is %q", got)
	}

	setFailover(a, false)
	p.settle()
	p.run(10 * time.Second)
	wantState(t, a, Disabled)
	if got := a.u.Show("state"); !strings.Contains(got, row("This host ", "Primary", "Disabled")) ||
		!strings.Contains(got, row("Other host", "Secondary", "Pseudo-Standby")) {
		t.Errorf("the serving unit's show failover state, failover off on both:\n%s", got)
	}
	if got := b.u.Show("state"); !strings.Contains(got, row("Other host", "Primary", "Disabled")) ||
		!strings.Contains(got, row("This host ", "Secondary", "Pseudo-Standby")) {
		t.Errorf("the pseudo-standby's show failover state, failover off on both:\n%s", got)
	}
}
