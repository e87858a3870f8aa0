// Package lab holds the end-to-end tests and benchmarks of uplink failover:
// a real failoverd in a network namespace of the lab (lab.sh), configured
// through fosh, against the real kernel. They need root; without it every
// test and benchmark is skipped. Each test builds its own lab with a unique
// prefix and tears it down in t.Cleanup, also when it fails.
package lab

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

var (
	repoRoot     string // absolute path of the repository
	labScript    string // examples/lab/lab.sh
	failoverdBin string // built by TestMain
	foshBin      string
	isRoot       = os.Geteuid() == 0
)

// skipLab skips a test of this suite with -short (it builds namespaces and
// runs real daemons for seconds to minutes) and when not root.
func skipLab(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("the lab suite does not run with -short")
	}
	if !isRoot {
		tb.Skip("needs root: network namespaces (run the suite as root)")
	}
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

func runMain(m *testing.M) int {
	wd, err := os.Getwd()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	repoRoot = filepath.Clean(filepath.Join(wd, "..", ".."))
	labScript = filepath.Join(repoRoot, "examples", "lab", "lab.sh")
	flag.Parse()
	if !isRoot || testing.Short() {
		return m.Run() // every test skips
	}
	tmp, err := os.MkdirTemp("", "failover-lab-bin-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(tmp)
	build := exec.Command("go", "build", "-o", tmp+string(os.PathSeparator), "./cmd/failoverd", "./cmd/fosh")
	build.Dir = repoRoot
	if out, err := build.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the binaries: %v\n%s", err, out)
		return 1
	}
	failoverdBin = filepath.Join(tmp, "failoverd")
	foshBin = filepath.Join(tmp, "fosh")
	return m.Run()
}

// Lab is one lab (nine namespaces) and the primary unit's failoverd.
type Lab struct {
	tb     testing.TB
	Prefix string
	Dir    string // LAB_DIR; also holds pri.cfg, pri.sock, pri.log
	Cfg    string
	Sock   string
	Log    string
	env    []string
	daemon *exec.Cmd
	waited chan struct{}
}

// NewLab builds the network of a lab (lab.sh up --single --no-daemons) with
// a unique prefix and registers its teardown. It skips when not root.
func NewLab(tb testing.TB) *Lab {
	tb.Helper()
	skipLab(tb)
	var rb [2]byte
	if _, err := rand.Read(rb[:]); err != nil {
		tb.Fatal(err)
	}
	l := &Lab{tb: tb, Prefix: "fu" + hex.EncodeToString(rb[:]), Dir: tb.TempDir()}
	l.Cfg = filepath.Join(l.Dir, "pri.cfg")
	l.Sock = filepath.Join(l.Dir, "pri.sock")
	l.Log = filepath.Join(l.Dir, "pri.log")
	l.env = append(os.Environ(),
		"LAB_PREFIX="+l.Prefix,
		"LAB_DIR="+l.Dir,
		"FAILOVERD="+failoverdBin,
		"FOSH="+foshBin,
	)
	tb.Cleanup(func() {
		l.KillDaemon()
		if tb.Failed() {
			if b, err := os.ReadFile(l.Log); err == nil {
				tb.Logf("failoverd log (%s):\n%s", l.Prefix, tail(string(b), 60))
			}
			if out, err := l.labOut("status"); err == nil {
				tb.Logf("lab status:\n%s", out)
			}
		}
		if err := l.Run("down"); err != nil {
			tb.Errorf("lab.sh down: %v", err)
		}
		for _, ns := range []string{"inet", "up1", "up2", "isp1", "isp2", "sw", "pri", "sec", "client"} {
			if _, err := os.Stat("/run/netns/" + l.NS(ns)); err == nil {
				tb.Errorf("namespace %s still exists after lab.sh down", l.NS(ns))
			}
		}
	})
	if err := l.Run("up", "--single", "--no-daemons"); err != nil {
		tb.Fatalf("lab.sh up: %v", err)
	}
	return l
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// NS is the full name of one of the lab's namespaces ("pri" -> "fu1a2b-pri").
func (l *Lab) NS(name string) string { return l.Prefix + "-" + name }

// Run runs lab.sh with the lab's environment.
func (l *Lab) Run(args ...string) error {
	out, err := l.labOut(args...)
	if err != nil {
		l.tb.Logf("lab.sh %v: %v\n%s", args, err, out)
	}
	return err
}

func (l *Lab) labOut(args ...string) (string, error) {
	cmd := exec.Command(labScript, args...)
	cmd.Env = l.env
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// MustRun is Run that fails the test.
func (l *Lab) MustRun(args ...string) {
	l.tb.Helper()
	if err := l.Run(args...); err != nil {
		l.tb.Fatalf("lab.sh %v: %v", args, err)
	}
}

// StartDaemon starts failoverd in the pri namespace with the lab's config
// file (created empty if missing) and waits for its socket.
func (l *Lab) StartDaemon() {
	l.tb.Helper()
	if _, err := os.Stat(l.Cfg); os.IsNotExist(err) {
		if err := os.WriteFile(l.Cfg, nil, 0o600); err != nil {
			l.tb.Fatal(err)
		}
	}
	os.Remove(l.Sock)
	lf, err := os.OpenFile(l.Log, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		l.tb.Fatal(err)
	}
	fmt.Fprintf(lf, "=== test: starting failoverd %s ===\n", time.Now().Format(time.RFC3339Nano))
	cmd := exec.Command("ip", "netns", "exec", l.NS("pri"), failoverdBin, "--config", l.Cfg, "--socket", l.Sock)
	cmd.Stdout = lf
	cmd.Stderr = lf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		lf.Close()
		l.tb.Fatalf("starting failoverd: %v", err)
	}
	lf.Close()
	l.daemon = cmd
	l.waited = make(chan struct{})
	go func(c *exec.Cmd, done chan struct{}) {
		_ = c.Wait()
		close(done)
	}(cmd, l.waited)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if fi, err := os.Stat(l.Sock); err == nil && fi.Mode()&os.ModeSocket != 0 {
			return
		}
		select {
		case <-l.waited:
			l.tb.Fatalf("failoverd exited at start: %v", cmd.ProcessState)
		case <-time.After(50 * time.Millisecond):
		}
	}
	l.tb.Fatalf("failoverd: no socket %s after 10s", l.Sock)
}

// KillDaemon kill -9s the daemon this lab started (if running) and reaps it.
func (l *Lab) KillDaemon() {
	if l.daemon == nil {
		return
	}
	_ = l.daemon.Process.Signal(syscall.SIGKILL)
	select {
	case <-l.waited:
	case <-time.After(5 * time.Second):
		l.tb.Errorf("failoverd pid %d did not exit after SIGKILL", l.daemon.Process.Pid)
	}
	l.daemon = nil
}

// Fosh runs fosh in the pri namespace with stdin as a script and the given
// arguments; it returns the combined output and the exit error.
func (l *Lab) Fosh(stdin string, args ...string) (string, error) {
	a := append([]string{"netns", "exec", l.NS("pri"), foshBin, "--socket", l.Sock}, args...)
	cmd := exec.Command("ip", a...)
	cmd.Stdin = strings.NewReader(stdin)
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// Configure pipes a configuration through fosh in script mode (enable,
// configure terminal, the lines, end) and requires exit status 0.
func (l *Lab) Configure(config string) {
	l.tb.Helper()
	script := "enable\n\nconfigure terminal\n" + config + "\nend\n"
	out, err := l.Fosh(script)
	if err != nil {
		l.tb.Fatalf("fosh script: %v\n%s", err, out)
	}
}

// Show runs fosh -c for each line (after enable) and returns the output.
func (l *Lab) Show(lines ...string) string {
	l.tb.Helper()
	args := []string{"-c", "enable"}
	for _, s := range lines {
		args = append(args, "-c", s)
	}
	out, err := l.Fosh("", args...)
	if err != nil {
		l.tb.Errorf("fosh %v: %v\n%s", lines, err, out)
	}
	return out
}

// Exec runs a command in one of the lab's namespaces.
func (l *Lab) Exec(ns string, name string, args ...string) (string, error) {
	a := append([]string{"netns", "exec", l.NS(ns), name}, args...)
	out, err := exec.Command("ip", a...).CombinedOutput()
	return string(out), err
}

// IP runs "ip -n NS ARGS..." and fails the test on error.
func (l *Lab) IP(ns string, args ...string) string {
	l.tb.Helper()
	a := append([]string{"-n", l.NS(ns)}, args...)
	out, err := exec.Command("ip", a...).CombinedOutput()
	if err != nil {
		l.tb.Fatalf("ip %v: %v\n%s", a, err, out)
	}
	return string(out)
}

// DefaultRoutes returns the lines of "ip route show default" in pri's main table.
func (l *Lab) DefaultRoutes() []string {
	l.tb.Helper()
	return nonEmptyLines(l.IP("pri", "route", "show", "default"))
}

func nonEmptyLines(s string) []string {
	var r []string
	for _, line := range strings.Split(s, "\n") {
		if strings.TrimSpace(line) != "" {
			r = append(r, strings.TrimSpace(line))
		}
	}
	return r
}

// Route substrings of the two default routes failoverd installs.
const (
	viaISP1 = "via 198.51.100.1 dev outside"
	viaISP2 = "via 198.51.100.17 dev backup"
)

// routeIs reports whether the main table has exactly one default route and
// it contains want ("" = no default route at all).
func routeIs(routes []string, want string) bool {
	if want == "" {
		return len(routes) == 0
	}
	return len(routes) == 1 && strings.Contains(routes[0], want)
}

// WaitRoute polls pri's default route until it is want (see routeIs) or the
// timeout passes; it returns the time it took, and fails the test on timeout.
func (l *Lab) WaitRoute(want string, timeout time.Duration) time.Duration {
	l.tb.Helper()
	start := time.Now()
	var routes []string
	for time.Since(start) < timeout {
		routes = l.DefaultRoutes()
		if routeIs(routes, want) {
			return time.Since(start)
		}
		time.Sleep(20 * time.Millisecond)
	}
	l.tb.Fatalf("default route is %q after %v, want %q", routes, timeout, orNone(want))
	return 0
}

func orNone(s string) string {
	if s == "" {
		return "(no default route)"
	}
	return s
}

// HoldRoute checks that the default route stays want for d.
func (l *Lab) HoldRoute(want string, d time.Duration) {
	l.tb.Helper()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		if routes := l.DefaultRoutes(); !routeIs(routes, want) {
			l.tb.Fatalf("default route changed to %q, want it to stay %q", routes, orNone(want))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Ping pings the Internet server from the client; it returns ping's output
// and whether it exited 0.
func (l *Lab) Ping(args ...string) (string, bool) {
	a := append(append([]string{}, args...), "203.0.113.10")
	out, err := l.Exec("client", "ping", a...)
	return out, err == nil
}

// LinkStats are an interface's packet counters.
type LinkStats struct{ RxPackets, TxPackets uint64 }

// Stats reads the counters of an interface in one of the lab's namespaces.
func (l *Lab) Stats(ns, ifname string) LinkStats {
	l.tb.Helper()
	out := l.IP(ns, "-j", "-s", "link", "show", "dev", ifname)
	var v []struct {
		Stats64 struct {
			Rx struct {
				Packets uint64 `json:"packets"`
			} `json:"rx"`
			Tx struct {
				Packets uint64 `json:"packets"`
			} `json:"tx"`
		} `json:"stats64"`
	}
	if err := json.Unmarshal([]byte(out), &v); err != nil || len(v) != 1 {
		l.tb.Fatalf("parsing ip -j -s link show %s in %s: %v\n%s", ifname, ns, err, out)
	}
	return LinkStats{RxPackets: v[0].Stats64.Rx.Packets, TxPackets: v[0].Stats64.Tx.Packets}
}

// Interfaces of the unit (as uplink.cfg); every test starts from these.
const baseInterfaces = `interface outside auto
interface backup auto
interface inside auto
nameif outside outside security0
nameif backup backup security0
nameif inside inside security100
ip address outside 198.51.100.2 255.255.255.240
ip address backup 198.51.100.18 255.255.255.240
ip address inside 192.0.2.1 255.255.255.240
`

// slaConfig is one SLA probing target through ifname.
func slaConfig(id int, target, ifname, timing string) string {
	return fmt.Sprintf(`sla monitor %d
 type echo protocol ipIcmpEcho %s interface %s
 num-packets 1
%s
sla monitor schedule %d life forever start-time now
`, id, target, ifname, timing, id)
}

// ---------------------------------------------------------------- ping log

// PingLog is a running "ping -D -O" from the client.
type PingLog struct {
	cmd *exec.Cmd
	out bytes.Buffer
}

// StartPing starts "ping -i INTERVAL -D -O 203.0.113.10" in the client.
func (l *Lab) StartPing(interval string) *PingLog {
	l.tb.Helper()
	p := &PingLog{}
	p.cmd = exec.Command("ip", "netns", "exec", l.NS("client"), "ping", "-n", "-i", interval, "-D", "-O", "203.0.113.10")
	p.cmd.Stdout = &p.out
	p.cmd.Stderr = &p.out
	if err := p.cmd.Start(); err != nil {
		l.tb.Fatal(err)
	}
	l.tb.Cleanup(func() { p.Stop() })
	return p
}

// Stop interrupts ping and waits for it.
func (p *PingLog) Stop() {
	if p.cmd == nil || p.cmd.ProcessState != nil {
		return
	}
	_ = p.cmd.Process.Signal(syscall.SIGINT)
	_ = p.cmd.Wait()
}

// Reply is one echo reply: its sequence number and when it arrived.
type Reply struct {
	Seq int
	At  time.Time
}

var replyRE = regexp.MustCompile(`^\[(\d+)\.(\d+)\] \d+ bytes from 203\.0\.113\.10: icmp_seq=(\d+)`)

// Replies parses the echo replies (call after Stop).
func (p *PingLog) Replies() []Reply {
	var r []Reply
	sc := bufio.NewScanner(bytes.NewReader(p.out.Bytes()))
	for sc.Scan() {
		m := replyRE.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		sec, _ := strconv.ParseInt(m[1], 10, 64)
		frac := m[2]
		for len(frac) < 9 {
			frac += "0"
		}
		nsec, _ := strconv.ParseInt(frac[:9], 10, 64)
		seq, _ := strconv.Atoi(m[3])
		r = append(r, Reply{Seq: seq, At: time.Unix(sec, nsec)})
	}
	return r
}

// Lost counts the sequence numbers from 1 to the last answered one that got
// no reply (the last, possibly in-flight, requests are not counted).
func Lost(replies []Reply) int {
	if len(replies) == 0 {
		return -1
	}
	seen := map[int]bool{}
	last := 0
	for _, r := range replies {
		seen[r.Seq] = true
		if r.Seq > last {
			last = r.Seq
		}
	}
	lost := 0
	for s := 1; s <= last; s++ {
		if !seen[s] {
			lost++
		}
	}
	return lost
}

// FirstReplyAfter is the first reply that arrived after t.
func FirstReplyAfter(replies []Reply, t time.Time) (Reply, bool) {
	for _, r := range replies {
		if r.At.After(t) {
			return r, true
		}
	}
	return Reply{}, false
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
