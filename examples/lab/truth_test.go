package lab

// An operator's pass through the lab, automated: after every event an
// operator can cause with lab.sh or the shells (a daemon killed and
// started, a power failure, the failover link or a data link cut and
// restored, `no failover` and `failover` on either unit, `failover active`,
// `no failover active`, `failover reset`, `failover reload-standby`,
// `write standby`), both units' `show failover`, `show failover state`,
// `show ip address` and `show route` must say what the two kernels hold.
// The checker is pure (truthCheck) and has its own test with canned
// outputs, so it is known to catch a lie.

import (
	"encoding/json"
	"fmt"
	"net"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"failover/engine/api"
)

// truthIfs are the unit interfaces of the lab; their nameif is their HW
// name, so a name in a show command is the kernel's device name.
var truthIfs = []string{"failover", "outside", "backup", "inside"}

// truthAddrs is each data interface's system and standby address
// (examples/primary.cfg) and each unit's own address on the LAN link.
var (
	truthSystem  = map[string]string{"outside": "198.51.100.2", "backup": "198.51.100.18", "inside": "192.0.2.1"}
	truthStandby = map[string]string{"outside": "198.51.100.3", "backup": "198.51.100.19", "inside": "192.0.2.2"}
	truthLAN     = map[string]string{"primary": "192.0.2.17", "secondary": "192.0.2.18"}
)

// truthKernel is what a unit's kernel holds.
type truthKernel struct {
	addrs     map[string][]string // device -> "addr/len" (IPv4, global scope)
	linkUp    map[string]bool     // device -> up with carrier (UP and LOWER_UP)
	connected []string            // "net/len dev" (proto kernel, carrier up)
	static    []string            // "dst/len via gw dev" (every other route of the main table)
}

// truthShown is what a unit's shell says.
type truthShown struct {
	on           bool              // show failover: Failover On
	this, other  string            // states from show failover state ("Standby Ready" -> "Standby")
	thisF, othF  string            // states from show failover's host lines (when on)
	thisIfs      map[string]string // show failover: interface -> address under This host
	otherIfs     map[string]string // ... under Other host
	thisWords    map[string]string // show failover: interface -> status word under This host
	otherWords   map[string]string // ... under Other host
	lastFailover string
	thisActive   int               // show failover: Active time under This host (-1: none)
	otherActive  int               // ... under Other host
	cable        string            // show failover: Cable status
	lanUp        string            // show failover: Failover LAN Interface ... (up|down)
	current      []string          // show ip address, Current: "name addr/len"
	connected    []string          // show route C lines: "net/len name"
	static       []string          // show route S lines: "dst/len via gw name"
	gateway      string            // Gateway of last resort ("" = not set)
	ifaces       map[string]string // show interface: HW -> "line protocol is up|down, IP address A/len|unassigned"
	prompt       string            // the session's prompt ("fw/pri/act> ")
	raw          string            // every output, for the failure message
}

// truthView is one unit: whether its daemon runs, what it shows, what its
// kernel holds.
type truthView struct {
	unit    string
	running bool
	shown   truthShown
	kernel  truthKernel
}

func truthKernelOf(addrJSON, routeJSON []byte) (truthKernel, error) {
	var k truthKernel
	var links []struct {
		Ifname   string   `json:"ifname"`
		Flags    []string `json:"flags"`
		AddrInfo []struct {
			Family    string `json:"family"`
			Local     string `json:"local"`
			Prefixlen int    `json:"prefixlen"`
			Scope     string `json:"scope"`
		} `json:"addr_info"`
	}
	if err := json.Unmarshal(addrJSON, &links); err != nil {
		return k, fmt.Errorf("failed to parse ip -j addr: %w", err)
	}
	k.addrs, k.linkUp = map[string][]string{}, map[string]bool{}
	for _, l := range links {
		k.linkUp[l.Ifname] = slices.Contains(l.Flags, "UP") && slices.Contains(l.Flags, "LOWER_UP")
		for _, a := range l.AddrInfo {
			if a.Family == "inet" && a.Scope == "global" {
				k.addrs[l.Ifname] = append(k.addrs[l.Ifname], fmt.Sprintf("%s/%d", a.Local, a.Prefixlen))
			}
		}
	}
	var routes []struct {
		Dst      string   `json:"dst"`
		Gateway  string   `json:"gateway"`
		Dev      string   `json:"dev"`
		Protocol string   `json:"protocol"`
		Flags    []string `json:"flags"`
	}
	if err := json.Unmarshal(routeJSON, &routes); err != nil {
		return k, fmt.Errorf("failed to parse ip -j route: %w", err)
	}
	for _, r := range routes {
		dst := r.Dst
		if dst == "default" {
			dst = "0.0.0.0/0"
		}
		if !strings.Contains(dst, "/") {
			dst += "/32"
		}
		switch {
		case r.Protocol == "kernel" && r.Gateway == "":
			// A connected route of an interface without carrier is
			// no route: ASA lists connected networks of interfaces
			// that are up.
			if !slices.Contains(r.Flags, "linkdown") {
				k.connected = append(k.connected, dst+" "+r.Dev)
			}
		default:
			k.static = append(k.static, fmt.Sprintf("%s via %s %s", dst, r.Gateway, r.Dev))
		}
	}
	return k, nil
}

var (
	truthHostRe    = regexp.MustCompile(`(?m)^        (This|Other) host: (?:Primary|Secondary) - (.+)$`)
	truthIfRe      = regexp.MustCompile(`^                Interface (\S+) \(([0-9.]+)\): (.+)$`)
	truthCurrentRe = regexp.MustCompile(`^        ip address (\S+) ([0-9.]+) ([0-9.]+)$`)
	truthConnRe    = regexp.MustCompile(`^C +([0-9.]+) ([0-9.]+) is directly connected, (\S+)$`)
	truthStaticRe  = regexp.MustCompile(`^S\*? +([0-9.]+) ([0-9.]+) \[\d+/\d+\] via ([0-9.]+), (\S+)$`)
	truthGwRe      = regexp.MustCompile(`(?m)^Gateway of last resort is (\S+) to network 0\.0\.0\.0$`)
	truthLastRe    = regexp.MustCompile(`(?m)^Last Failover at: (.+)$`)
	truthActiveRe  = regexp.MustCompile(`^                Active time: (\d+) \(sec\)$`)
	truthCableRe   = regexp.MustCompile(`(?m)^Cable status: (.+)$`)
	truthLANRe     = regexp.MustCompile(`(?m)^Failover LAN Interface: failover failover \((up|down)\)$`)
	truthIfHeadRe  = regexp.MustCompile(`^interface (\S+) "[^"]*" is [a-z ]+, line protocol is (up|down)$`)
	truthIfAddrRe  = regexp.MustCompile(`^  IP address (?:([0-9.]+), subnet mask ([0-9.]+)|unassigned)$`)
)

func truthPrefix(addr, mask string) string {
	ones, _ := net.IPMask(net.ParseIP(mask).To4()).Size()
	return fmt.Sprintf("%s/%d", addr, ones)
}

// truthState is a state word as the two show commands use it, in one
// vocabulary (show failover state says "Standby Ready").
func truthState(s string) string {
	s = strings.TrimSpace(s)
	if s == "Standby Ready" {
		return "Standby"
	}
	return s
}

// truthParse reads the five show commands' outputs.
func truthParse(failover, state, ipAddr, route, iface string) truthShown {
	s := truthShown{thisIfs: map[string]string{}, otherIfs: map[string]string{}, thisWords: map[string]string{}, otherWords: map[string]string{},
		ifaces: map[string]string{}, thisActive: -1, otherActive: -1}
	s.raw = "# show failover\n" + failover + "# show failover state\n" + state + "# show ip address\n" + ipAddr + "# show route\n" + route + "# show interface\n" + iface
	hw := ""
	for _, line := range strings.Split(iface, "\n") {
		if m := truthIfHeadRe.FindStringSubmatch(line); m != nil {
			hw = m[1]
			s.ifaces[hw] = "line protocol is " + m[2]
		} else if m := truthIfAddrRe.FindStringSubmatch(line); m != nil && hw != "" {
			a := "unassigned"
			if m[1] != "" {
				a = truthPrefix(m[1], m[2])
			}
			s.ifaces[hw] += ", IP address " + a
		}
	}
	s.on = strings.HasPrefix(failover, "Failover On\n")
	if m := truthLastRe.FindStringSubmatch(failover); m != nil {
		s.lastFailover = m[1]
	}
	if m := truthCableRe.FindStringSubmatch(failover); m != nil {
		s.cable = m[1]
	}
	if m := truthLANRe.FindStringSubmatch(failover); m != nil {
		s.lanUp = m[1]
	}
	host := ""
	for _, line := range strings.Split(failover, "\n") {
		if m := truthHostRe.FindStringSubmatch(line); m != nil {
			host = m[1]
			if host == "This" {
				s.thisF = truthState(m[2])
			} else {
				s.othF = truthState(m[2])
			}
			continue
		}
		if m := truthActiveRe.FindStringSubmatch(line); m != nil {
			n, _ := strconv.Atoi(m[1])
			if host == "This" {
				s.thisActive = n
			} else {
				s.otherActive = n
			}
		}
		if m := truthIfRe.FindStringSubmatch(line); m != nil {
			switch host {
			case "This":
				s.thisIfs[m[1]] = m[2]
				s.thisWords[m[1]] = m[3]
			case "Other":
				s.otherIfs[m[1]] = m[2]
				s.otherWords[m[1]] = m[3]
			}
		}
		if line == "" {
			host = ""
		}
	}
	// show failover state: the row under "This host  -   ROLE" and
	// "Other host -   ROLE", state in columns 15 to 30.
	lines := strings.Split(state, "\n")
	for i, line := range lines {
		if i+1 >= len(lines) || len(lines[i+1]) < 16 {
			continue
		}
		row := lines[i+1]
		st := truthState(row[15:min(30, len(row))])
		switch {
		case strings.HasPrefix(line, "This host  -"):
			s.this = st
		case strings.HasPrefix(line, "Other host -"):
			s.other = st
		}
	}
	if i := strings.Index(ipAddr, "Current IP Addresses:"); i >= 0 {
		for _, line := range strings.Split(ipAddr[i:], "\n") {
			if m := truthCurrentRe.FindStringSubmatch(line); m != nil {
				s.current = append(s.current, m[1]+" "+truthPrefix(m[2], m[3]))
			}
		}
	}
	if m := truthGwRe.FindStringSubmatch(route); m != nil {
		s.gateway = m[1]
	}
	for _, line := range strings.Split(route, "\n") {
		if m := truthConnRe.FindStringSubmatch(line); m != nil {
			s.connected = append(s.connected, truthPrefix(m[1], m[2])+" "+m[3])
		}
		if m := truthStaticRe.FindStringSubmatch(line); m != nil {
			s.static = append(s.static, fmt.Sprintf("%s via %s %s", truthPrefix(m[1], m[2]), m[3], m[4]))
		}
	}
	return s
}

// truthHeld is the kernel's one address on dev ("" when none; several
// are reported by the caller as they are).
func truthHeld(k truthKernel, dev string) string {
	if len(k.addrs[dev]) == 1 {
		a, _, _ := strings.Cut(k.addrs[dev][0], "/")
		return a
	}
	return strings.Join(k.addrs[dev], ",")
}

// truthRoleAddrs says which of its addresses a unit in state st holds on
// the data interfaces: "system", "standby", or "" when st says nothing.
func truthRoleAddrs(st string) string {
	switch st {
	case "Active", "Disabled":
		return "system"
	case "Standby", "Failed", "Pseudo-Standby":
		return "standby"
	}
	return ""
}

// truthStateMatches checks that a unit shown in state st holds what that
// state means, on the kernel k.
func truthStateMatches(who, st, unit string, k truthKernel) []string {
	var bad []string
	kind := truthRoleAddrs(st)
	if kind == "" {
		return nil
	}
	want := truthSystem
	if kind == "standby" {
		want = truthStandby
	}
	for _, dev := range truthIfs[1:] {
		if got := truthHeld(k, dev); got != want[dev] {
			bad = append(bad, fmt.Sprintf("%s shows %s %s, whose kernel holds %q on %s, not its %s address %s", who, unit, st, got, dev, kind, want[dev]))
		}
	}
	return bad
}

func truthSetDiff(what string, shown, kernel []string) []string {
	var bad []string
	for _, s := range shown {
		if !slices.Contains(kernel, s) {
			bad = append(bad, fmt.Sprintf("%s lists %q, the kernel has no such thing (kernel: %q)", what, s, kernel))
		}
	}
	for _, k := range kernel {
		if !slices.Contains(shown, k) {
			bad = append(bad, fmt.Sprintf("%s does not list %q, which the kernel has (shown: %q)", what, k, shown))
		}
	}
	return bad
}

// truthLinkWord says what is wrong with an interface's status word in
// show failover given whether its kernel link is up with carrier: "No
// Link" (or "Link Down") exactly when it is not.
func truthLinkWord(word string, up bool) string {
	if down := word == "No Link" || word == "Link Down"; down == up {
		return fmt.Sprintf(" is %q, the kernel's link is up: %v", word, up)
	}
	return ""
}

// truthCheck returns every place where u's show commands disagree with
// the kernels (its own and its mate's) or with the mate's own account.
func truthCheck(u, mate truthView) []string {
	if !u.running {
		return nil
	}
	s, k := u.shown, u.kernel
	var bad []string
	add := func(b ...string) {
		for _, x := range b {
			bad = append(bad, u.unit+": "+x)
		}
	}
	var kernelAddrs []string
	for _, dev := range truthIfs {
		for _, a := range k.addrs[dev] {
			kernelAddrs = append(kernelAddrs, dev+" "+a)
		}
	}
	add(truthSetDiff("show ip address (current)", s.current, kernelAddrs)...)
	add(truthSetDiff("show route (connected)", s.connected, k.connected)...)
	add(truthSetDiff("show route (static)", s.static, k.static)...)
	kgw := ""
	for _, r := range k.static {
		if gw, ok := strings.CutPrefix(r, "0.0.0.0/0 via "); ok {
			kgw = strings.Fields(gw)[0]
		}
	}
	if s.gateway != kgw {
		add(fmt.Sprintf("show route: Gateway of last resort %q, the kernel's default route is via %q", s.gateway, kgw))
	}

	for _, dev := range truthIfs {
		proto, addr := "down", "unassigned"
		if k.linkUp[dev] {
			proto = "up"
		}
		if len(k.addrs[dev]) == 1 {
			addr = k.addrs[dev][0]
		}
		if want := "line protocol is " + proto + ", IP address " + addr; s.ifaces[dev] != want {
			add(fmt.Sprintf("show interface %s: %q, the kernel: %q", dev, s.ifaces[dev], want))
		}
	}

	// The prompt's tags: the role, and act while the unit serves.
	tag := map[string]string{"primary": "/pri/", "secondary": "/sec/"}[u.unit] + "stby>"
	if truthRoleAddrs(s.this) == "system" {
		tag = strings.TrimSuffix(tag, "stby>") + "act>"
	}
	if !strings.Contains(s.prompt, tag) {
		add(fmt.Sprintf("the prompt is %q for a unit in state %q", s.prompt, s.this))
	}

	// This host.
	if s.this == "" {
		add("show failover state has no state for this host")
	}
	add(truthStateMatches("show failover state", s.this, "this host", k)...)
	if s.on {
		if s.thisF != s.this {
			add(fmt.Sprintf("show failover says this host is %q, show failover state %q", s.thisF, s.this))
		}
		for _, dev := range truthIfs {
			if got, held := s.thisIfs[dev], truthHeld(k, dev); got != held && !(got == "0.0.0.0" && held == "") {
				add(fmt.Sprintf("show failover: this host's interface %s (%s), the kernel holds %q", dev, got, held))
			}
			if bad := truthLinkWord(s.thisWords[dev], k.linkUp[dev]); bad != "" {
				add("show failover: this host's interface " + dev + bad)
			}
		}
	}

	// The failover LAN link: our side is down exactly when our kernel's
	// link is; with our side up, Normal only with the mate alive.
	if s.on {
		lan := "down"
		if k.linkUp["failover"] {
			lan = "up"
		}
		if s.lanUp != lan {
			add(fmt.Sprintf("show failover: Failover LAN Interface (%s), the kernel's link is %s", s.lanUp, lan))
		}
		if (s.cable == "My side not connected") != (lan == "down") {
			add(fmt.Sprintf("show failover: Cable status %q with our failover link %s", s.cable, lan))
		}
		if s.cable == "Normal" && (!mate.running || !mate.kernel.linkUp["failover"]) {
			add(fmt.Sprintf("show failover: Cable status %q, but the mate's daemon runs: %v, its failover link is up: %v", s.cable, mate.running, mate.kernel.linkUp["failover"]))
		}
	}

	// The other host.
	if s.on && s.othF != s.other {
		add(fmt.Sprintf("show failover says the other host is %q, show failover state %q", s.othF, s.other))
	}
	if !mate.running {
		if s.other != "Not Detected" && s.other != "Failed" {
			add(fmt.Sprintf("the mate's daemon is dead, show failover state says it is %q", s.other))
		}
		if s.on {
			for _, dev := range truthIfs {
				if got := s.otherIfs[dev]; got == truthHeld(k, dev) || (dev != "failover" && got != truthSystem[dev] && got != truthStandby[dev]) {
					add(fmt.Sprintf("show failover: the dead mate's interface %s (%s): not an address it can have had (this host holds %q)", dev, got, truthHeld(k, dev)))
				}
			}
		}
		return bad
	}
	if s.other != mate.shown.this {
		add(fmt.Sprintf("show failover state says the other host is %q, the mate says it is %q", s.other, mate.shown.this))
	}
	add(truthStateMatches("show failover state", s.other, "the other host", mate.kernel)...)
	if s.on {
		for _, dev := range truthIfs {
			if got, held := s.otherIfs[dev], truthHeld(mate.kernel, dev); got != held {
				add(fmt.Sprintf("show failover: the other host's interface %s (%s), the mate's kernel holds %q", dev, got, held))
			}
			// The mate's words travel in its hellos: judged while they do.
			if bad := truthLinkWord(s.otherWords[dev], mate.kernel.linkUp[dev]); s.cable == "Normal" && bad != "" {
				add("show failover: the other host's interface " + dev + bad)
			}
		}
		// The two readings are a moment apart: a second or two.
		if d := s.otherActive - mate.shown.thisActive; mate.shown.on && (d > 2 || d < -2) {
			add(fmt.Sprintf("show failover: the other host's Active time %d s, the mate says %d s", s.otherActive, mate.shown.thisActive))
		}
		if mate.shown.on && s.lastFailover != mate.shown.lastFailover {
			add(fmt.Sprintf("Last Failover at %q here, %q on the mate", s.lastFailover, mate.shown.lastFailover))
		}
	}
	return bad
}

// truthRead reads unit's shows and kernel (shows only while its daemon runs).
func (l *pairLab) truthRead(unit string, running bool) (truthView, error) {
	v := truthView{unit: unit, running: running}
	ns := l.unitNS(unit)
	a, err := exec.Command("ip", "-n", ns, "-j", "-4", "addr", "show").Output()
	if err != nil {
		return v, fmt.Errorf("failed to read the addresses of %s: %w", ns, err)
	}
	r, err := exec.Command("ip", "-n", ns, "-j", "-4", "route", "show", "table", "main").Output()
	if err != nil {
		return v, fmt.Errorf("failed to read the routes of %s: %w", ns, err)
	}
	if v.kernel, err = truthKernelOf(a, r); err != nil {
		return v, err
	}
	if !running {
		return v, nil
	}
	var outs [5]string
	for i, c := range []string{"show failover", "show failover state", "show ip address", "show route", "show interface"} {
		if outs[i], err = l.foshRun(unit, c); err != nil {
			return v, fmt.Errorf("%s on %s: %w\n%s", c, unit, err, outs[i])
		}
	}
	v.shown = truthParse(outs[0], outs[1], outs[2], outs[3], outs[4])
	c, err := api.Dial(filepath.Join(l.dir, "lab", unit+".sock"), false)
	if err != nil {
		return v, err
	}
	defer c.Close()
	rep, err := c.Do(api.Request{Op: api.OpPrompt})
	if err != nil {
		return v, fmt.Errorf("failed to read the prompt of %s: %w", unit, err)
	}
	v.shown.prompt = rep.Prompt
	v.shown.raw += "# prompt\n" + rep.Prompt + "\n"
	return v, nil
}

// truthSettle waits until the units are in the states want names (per
// running unit, as show failover state words them; "*" is any) and every show command
// of both agrees with the kernels twice in a row, a second apart; it
// reports what still disagrees after timeout.
func (l *pairLab) truthSettle(t *testing.T, event string, running map[string]bool, want map[string]string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	agreed := 0
	var bad []string
	var views [2]truthView
	for {
		bad = nil
		for i, u := range []string{"primary", "secondary"} {
			v, err := l.truthRead(u, running[u])
			if err != nil {
				bad = append(bad, err.Error())
			}
			views[i] = v
		}
		for i := range views {
			v := views[i]
			if w := want[v.unit]; v.running && v.shown.this != w && w != "*" {
				bad = append(bad, fmt.Sprintf("%s: state %q, the walk expects %q", v.unit, v.shown.this, w))
			}
			bad = append(bad, truthCheck(v, views[1-i])...)
		}
		if len(bad) == 0 {
			if agreed++; agreed == 2 {
				t.Logf("%s: both units tell the truth", event)
				return
			}
			time.Sleep(time.Second)
			continue
		}
		agreed = 0
		if time.Now().After(deadline) {
			break
		}
		time.Sleep(300 * time.Millisecond)
	}
	var b strings.Builder
	for _, v := range views {
		fmt.Fprintf(&b, "=== %s (daemon running: %v), kernel %+v\n%s", v.unit, v.running, v.kernel, v.shown.raw)
	}
	t.Errorf("%s: after %v the show commands still disagree with the kernels:\n  %s\n%s", event, timeout, strings.Join(bad, "\n  "), b.String())
}

// TestPairShowsTellTheTruth walks one lab through every event an operator
// causes and checks both units' show commands against the kernels after
// each.
func TestPairShowsTellTheTruth(t *testing.T) {
	l := newPairLabPrefixed(t, "", pairPrefix("ft"))
	running := map[string]bool{"primary": true, "secondary": true}
	lab := func(args ...string) func() {
		return func() {
			l.mustLab(args...)
			switch args[0] {
			case "kill", "stop":
				running[args[1]] = false
			case "start":
				running[args[1]] = true
			}
		}
	}
	// A power failure: the daemon dies with every link of the box.
	power := func(unit, how string) func() {
		return func() {
			if how == "cut" {
				lab("kill", unit)()
			}
			for _, i := range truthIfs {
				l.mustLab(how, unit+"-"+i)
			}
			if how == "restore" {
				lab("start", unit)()
			}
		}
	}
	fosh := func(unit string, lines ...string) func() {
		return func() { l.mustFosh(unit, lines...) }
	}
	conf := func(unit, line string) func() { return fosh(unit, "configure terminal", line) }
	// An uplink event: wait until both units route by default via gw.
	uplink := func(how, gw string) func() {
		return func() {
			l.mustLab(how, "isp1-upstream")
			deadline := time.Now().Add(30 * time.Second)
			for !l.defaultVia("primary", gw) || !l.defaultVia("secondary", gw) {
				if time.Now().After(deadline) {
					t.Errorf("%s isp1-upstream: the units do not route via %s after 30 s", how, gw)
					return
				}
				time.Sleep(200 * time.Millisecond)
			}
		}
	}
	// Each event, and the states it leaves the primary and the secondary
	// in ("" for a dead daemon, "*" for any). An event that changes no state is given
	// time to have its effects first (hold times, interface tests), so
	// that the check does not pass on the state before it.
	slow := pairIfHold + 4*time.Second
	steps := []struct {
		event    string
		do       func()
		pri, sec string
		wait     time.Duration
	}{
		{"lab up", func() {}, "Active", "Standby", 0},
		{"kill primary", lab("kill", "primary"), "", "Active", 0},
		{"start primary", lab("start", "primary"), "Standby", "Active", 0},
		{"power failure of the active secondary", power("secondary", "cut"), "Active", "", 0},
		{"power back on the secondary", power("secondary", "restore"), "Active", "Standby", 0},
		{"cut the failover switch", lab("cut", "failover-switch"), "Active", "Standby", slow},
		{"restore the failover switch", lab("restore", "failover-switch"), "Active", "Standby", slow},
		{"cut the active's failover cable", lab("cut", "primary-failover"), "Active", "Standby", slow},
		{"restore the active's failover cable", lab("restore", "primary-failover"), "Active", "Standby", slow},
		{"cut the active's inside link", lab("cut", "primary-inside"), "Failed", "Active", 0},
		{"the new active waits on inside beside a mate without link", func() {
			// Its interface test would fail on the quiet segment; with
			// the mate's side down there is nothing to compare with.
			time.Sleep(pairIfHold + 4*time.Second)
			if out := l.mustFosh("secondary", "show failover"); !strings.Contains(out, "                Interface inside (192.0.2.1): Waiting\n") {
				t.Errorf("the active secondary's inside beside a primary without link:\n%s", out)
			}
		}, "Failed", "Active", 0},
		{"restore the primary's inside link", lab("restore", "primary-inside"), "Standby", "Active", 0},
		{"cut the standby's outside link", lab("cut", "primary-outside"), "Failed", "Active", 0},
		{"failover reset on the failed standby, link still cut", fosh("primary", "failover reset"), "Failed", "Active", 2 * time.Second},
		{"restore the primary's outside link", lab("restore", "primary-outside"), "Standby", "Active", 0},
		{"no failover on the standby", conf("primary", "no failover"), "Pseudo-Standby", "Active", 0},
		{"failover active on the pseudo-standby", fosh("primary", "failover active"), "Disabled", "Standby", 0},
		{"no failover active on the unit serving with failover off", fosh("primary", "no failover active"), "Pseudo-Standby", "Active", 0},
		{"failover active on the pseudo-standby again", fosh("primary", "failover active"), "Disabled", "Standby", 0},
		{"failover on the serving unit beside a standby", conf("primary", "failover"), "Active", "Standby", 0},
		{"no failover active on the active", fosh("primary", "no failover active"), "Standby", "Active", 0},
		{"no failover on the active", conf("secondary", "no failover"), "Standby", "Disabled", 0},
		{"no failover on both", conf("primary", "no failover"), "Pseudo-Standby", "Disabled", 0},
		{"failover on the serving unit", conf("secondary", "failover"), "Pseudo-Standby", "Active", 0},
		{"failover on both again", conf("primary", "failover"), "Standby", "Active", 0},
		{"failover active on the standby", fosh("primary", "failover active"), "Active", "Standby", 0},
		{"no failover active on the active again", fosh("primary", "no failover active"), "Standby", "Active", 0},
		{"failover reset on both", func() { fosh("primary", "failover reset")(); fosh("secondary", "failover reset")() }, "Standby", "Active", 2 * time.Second},
		{"failover reload-standby", fosh("secondary", "failover reload-standby"), "Standby", "Active", 3 * time.Second},
		{"write standby", fosh("secondary", "write standby"), "Standby", "Active", time.Second},
		{"kill the standby", lab("kill", "primary"), "", "Active", 0},
		{"start the standby", lab("start", "primary"), "Standby", "Active", 0},
		{"clean stop of the active", lab("stop", "secondary"), "Active", "", 0},
		{"start the secondary", lab("start", "secondary"), "Active", "Standby", 0},
		{"ISP1's upstream fails", uplink("cut", "198.51.100.17"), "Active", "Standby", 0},
		{"ISP1's upstream is back", uplink("restore", "198.51.100.1"), "Active", "Standby", 0},
		// The whole outside segment dies: both units' tests fail, which
		// is nobody's fault, so the roles stay.
		{"the outside switch fails", lab("cut", "outside-switch"), "Active", "Standby", slow},
		{"the outside switch is back", lab("restore", "outside-switch"), "Active", "Standby", slow},
	}
	for _, s := range steps {
		s.do()
		time.Sleep(s.wait)
		l.truthSettle(t, s.event, running, map[string]string{"primary": s.pri, "secondary": s.sec}, 25*time.Second)
	}
}

// The checker catches each kind of lie: canned outputs of a healthy pair,
// then one wrong detail at a time.
func TestTruthCheckerCatchesLies(t *testing.T) {
	kernel := func(unit, kind string, gw string) truthKernel {
		addr := truthSystem
		if kind == "standby" {
			addr = truthStandby
		}
		k := truthKernel{addrs: map[string][]string{"failover": {truthLAN[unit] + "/29"}},
			linkUp: map[string]bool{"failover": true, "outside": true, "backup": true, "inside": true}}
		for _, dev := range truthIfs[1:] {
			k.addrs[dev] = []string{addr[dev] + "/28"}
			p := netip.MustParsePrefix(addr[dev] + "/28").Masked()
			k.connected = append(k.connected, p.String()+" "+dev)
		}
		k.connected = append(k.connected, "192.0.2.16/29 failover")
		k.static = []string{"0.0.0.0/0 via " + gw + " outside"}
		return k
	}
	show := func(unit, this, other string, my, mate map[string]string, myLAN, mateLAN, gw string) truthShown {
		role := map[string]string{"primary": "Primary", "secondary": "Secondary"}
		mateUnit := map[string]string{"primary": "secondary", "secondary": "primary"}[unit]
		ifl := func(addr map[string]string, lan string) string {
			s := "                Interface failover (" + lan + "): Normal\n"
			for _, dev := range truthIfs[1:] {
				s += "                Interface " + dev + " (" + addr[dev] + "): Normal\n"
			}
			return s
		}
		fo := "Failover On\nCable status: Normal\nFailover LAN Interface: failover failover (up)\nLast Failover at: 13:15:26 UTC Nov 30 2026\n" +
			"        This host: " + role[unit] + " - " + this + "\n                Active time: 4 (sec)\n" + ifl(my, myLAN) +
			"        Other host: " + role[mateUnit] + " - " + other + "\n                Active time: 4 (sec)\n" + ifl(mate, mateLAN) + "\n"
		st := "               State          Last Failure Reason      Date/Time\n" +
			"This host  -   " + role[unit] + "\n               " + fmt.Sprintf("%-15s", strings.Replace(this, "Standby", "Standby Ready", 1)) + "None\n" +
			"Other host -   " + role[mateUnit] + "\n               " + fmt.Sprintf("%-15s", strings.Replace(other, "Standby", "Standby Ready", 1)) + "None\n"
		ip := "System IP Addresses:\nCurrent IP Addresses:\n        ip address failover " + myLAN + " 255.255.255.248\n"
		rt := "Gateway of last resort is " + gw + " to network 0.0.0.0\n\n"
		for _, dev := range truthIfs[1:] {
			ip += "        ip address " + dev + " " + my[dev] + " 255.255.255.240\n"
			p := netip.MustParsePrefix(my[dev] + "/28").Masked()
			rt += "C    " + p.Addr().String() + " 255.255.255.240 is directly connected, " + dev + "\n"
		}
		rt += "C    192.0.2.16 255.255.255.248 is directly connected, failover\n"
		rt += "S*   0.0.0.0 0.0.0.0 [1/0] via " + gw + ", outside\n"
		ifs := ""
		for _, dev := range truthIfs {
			a, mask := my[dev], "255.255.255.240"
			if dev == "failover" {
				a, mask = myLAN, "255.255.255.248"
			}
			ifs += "interface " + dev + " \"" + dev + "\" is up, line protocol is up\n  Hardware is Linux, address is 0200.0000.0001\n" +
				"  IP address " + a + ", subnet mask " + mask + "\n  MTU 1500 bytes, BW unknown\n"
		}
		v := truthParse(fo, st, ip, rt, ifs)
		v.prompt = "fw/" + unit[:3] + "/stby> "
		if this == "Active" {
			v.prompt = "fw/" + unit[:3] + "/act> "
		}
		return v
	}
	gw := "198.51.100.1"
	healthy := func() (truthView, truthView) {
		return truthView{unit: "primary", running: true, kernel: kernel("primary", "system", gw),
				shown: show("primary", "Active", "Standby", truthSystem, truthStandby, "192.0.2.17", "192.0.2.18", gw)},
			truthView{unit: "secondary", running: true, kernel: kernel("secondary", "standby", gw),
				shown: show("secondary", "Standby", "Active", truthStandby, truthSystem, "192.0.2.18", "192.0.2.17", gw)}
	}
	p, s := healthy()
	if bad := append(truthCheck(p, s), truthCheck(s, p)...); len(bad) != 0 {
		t.Fatalf("a healthy pair has discrepancies: %q", bad)
	}
	for _, c := range []struct {
		name string
		lie  func(p, s *truthView)
		want string
	}{
		{"address listed the kernel lacks", func(p, _ *truthView) { p.kernel.addrs["inside"] = nil }, `show ip address (current) lists "inside 192.0.2.1/28"`},
		{"address held but not listed", func(p, _ *truthView) { p.kernel.addrs["inside"] = append(p.kernel.addrs["inside"], "192.0.2.2/28") }, `does not list "inside 192.0.2.2/28"`},
		{"connected route not in the kernel", func(p, _ *truthView) { p.kernel.connected = p.kernel.connected[1:] }, `show route (connected) lists "198.51.100.0/28 outside"`},
		{"default route not in the kernel", func(p, _ *truthView) { p.kernel.static = nil }, `Gateway of last resort "198.51.100.1"`},
		{"default route via the other gateway", func(_, s *truthView) { s.kernel.static = []string{"0.0.0.0/0 via 198.51.100.17 backup"} }, `does not list "0.0.0.0/0 via 198.51.100.17 backup"`},
		{"interface up without carrier", func(p, _ *truthView) { p.kernel.linkUp["backup"] = false }, `show interface backup: "line protocol is up, IP address 198.51.100.18/28"`},
		{"interface address not held", func(_, s *truthView) { s.kernel.addrs["outside"] = nil }, `show interface outside: "line protocol is up, IP address 198.51.100.3/28", the kernel: "line protocol is up, IP address unassigned"`},
		{"prompt of the other role", func(_, s *truthView) { s.shown.prompt = "fw/sec/act> " }, `the prompt is "fw/sec/act> " for a unit in state "Standby"`},
		{"cable normal without the mate's link", func(_, s *truthView) { s.kernel.linkUp["failover"] = false }, `primary: show failover: Cable status "Normal", but the mate's daemon runs: true, its failover link is up: false`},
		{"LAN link up without carrier", func(p, _ *truthView) { p.kernel.linkUp["failover"] = false }, `Failover LAN Interface (up), the kernel's link is down`},
		{"mate's active time stale", func(p, _ *truthView) { p.shown.otherActive = 0 }, `the other host's Active time 0 s, the mate says 4 s`},
		{"no link shown with carrier", func(_, s *truthView) { s.shown.thisWords["inside"] = "No Link" }, `secondary: show failover: this host's interface inside is "No Link", the kernel's link is up: true`},
		{"mate's link down not shown", func(_, s *truthView) { s.kernel.linkUp["backup"] = false }, `primary: show failover: the other host's interface backup is "Normal", the kernel's link is up: false`},
		{"mate's state wrong", func(p, _ *truthView) { p.shown.other, p.shown.othF = "Disabled", "Disabled" }, `the other host is "Disabled", the mate says it is "Standby"`},
		{"own state against the kernel", func(_, s *truthView) { s.shown.this, s.shown.thisF = "Active", "Active" }, `shows this host Active, whose kernel holds "198.51.100.3" on outside`},
		{"mate's address is ours", func(_, s *truthView) { s.shown.otherIfs["inside"] = "192.0.2.2" }, `other host's interface inside (192.0.2.2)`},
		{"last failover differs", func(_, s *truthView) { s.shown.lastFailover = "" }, `Last Failover at ""`},
		{"dead mate shown alive", func(p, s *truthView) { s.running = false }, `the mate's daemon is dead`},
		{"dead mate with our address", func(p, s *truthView) {
			s.running = false
			p.shown.other = "Not Detected"
			p.shown.otherIfs["outside"] = "198.51.100.2"
		}, `dead mate's interface outside (198.51.100.2)`},
	} {
		p, s := healthy()
		c.lie(&p, &s)
		bad := append(truthCheck(p, s), truthCheck(s, p)...)
		if !slices.ContainsFunc(bad, func(b string) bool { return strings.Contains(b, c.want) }) {
			t.Errorf("%s: want a discrepancy containing %q, got %q", c.name, c.want, bad)
		}
	}
}
