package main

// End-to-end tests of fosh against a real failoverd.
//
// failoverd talks to the kernel (netlink) for the interfaces its
// configuration names, so it never runs in the host's network namespace
// here: every script and every Go test makes its own uniquely named
// namespace (fo-ts-<random>) with the interfaces its configuration uses,
// starts the daemon inside it with "ip netns exec", and deletes the
// namespace when it ends, failed or not. That needs root; the tests skip
// with a reason otherwise (CI runs as root).
//
// Golden files are the txtar scripts in testdata/script; regenerate the
// expected output with
//
//	go test ./cmd/fosh -run TestScripts -update
//
// and review the diff.

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"failover/engine/api"
)

var update = flag.Bool("update", false, "rewrite the expected output in testdata/script/*.txtar")

// failoverdBin is the daemon built for this test run (root only).
var failoverdBin string

func TestMain(m *testing.M) {
	// "fosh" inside scripts is this test binary running main's run().
	testscript.Main(buildingM{m}, map[string]func(){
		"fosh": func() { os.Exit(run()) },
	})
}

// buildingM builds failoverd into a temporary directory around the tests
// (only when they can run, i.e. as root).
type buildingM struct{ m *testing.M }

func (b buildingM) Run() int {
	flag.Parse()
	if os.Geteuid() != 0 || testing.Short() {
		return b.m.Run()
	}
	dir, err := os.MkdirTemp("", "fosh-e2e-bin-")
	if err != nil {
		fmt.Fprintf(os.Stderr, "failed to create a temporary directory: %v\n", err)
		return 1
	}
	defer os.RemoveAll(dir)
	failoverdBin = filepath.Join(dir, "failoverd")
	cmd := exec.Command("go", "build", "-o", failoverdBin, "failover/cmd/failoverd")
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "failed to build failoverd: %v\n%s", err, out)
		return 1
	}
	return b.m.Run()
}

func requireRoot(t testing.TB) {
	t.Helper()
	if testing.Short() {
		t.Skip("the end-to-end suite does not run with -short: it runs real daemons in namespaces")
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root: failoverd runs in a network namespace created for the test (ip netns add)")
	}
}

// defaultLinks are the interfaces every test namespace has unless a script
// names its own in a "links" file (one line, space separated).
var defaultLinks = []string{"outside", "inside", "backup", "lanfo"}

// newNetns creates a uniquely named namespace with links and returns its
// name and the function that deletes it (safe to call more than once).
func newNetns(links []string) (string, func(), error) {
	var rnd [5]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		return "", nil, err
	}
	ns := "fo-ts-" + hex.EncodeToString(rnd[:])
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		return "", nil, fmt.Errorf("ip netns add %s: %v: %s", ns, err, out)
	}
	var once sync.Once
	del := func() {
		once.Do(func() { exec.Command("ip", "netns", "del", ns).Run() })
	}
	ipn := func(args ...string) error {
		out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput()
		if err != nil {
			return fmt.Errorf("ip -n %s %s: %v: %s", ns, strings.Join(args, " "), err, out)
		}
		return nil
	}
	if err := ipn("link", "set", "lo", "up"); err != nil {
		del()
		return "", nil, err
	}
	for _, l := range links {
		// A dummy interface where the kernel has the module, otherwise a
		// veth pair whose peer stays in the namespace (both up: carrier).
		if ipn("link", "add", l, "type", "dummy") != nil {
			peer := "p-" + l
			if len(peer) > 15 {
				peer = peer[:15]
			}
			if err := ipn("link", "add", l, "type", "veth", "peer", "name", peer); err != nil {
				del()
				return "", nil, err
			}
			if err := ipn("link", "set", peer, "up"); err != nil {
				del()
				return "", nil, err
			}
		}
		if err := ipn("link", "set", l, "up"); err != nil {
			del()
			return "", nil, err
		}
	}
	return ns, del, nil
}

// daemon is one failoverd inside a test namespace.
type daemon struct {
	ns, dir, sock, config string
	logLevel              string // "" = debug
	mu                    sync.Mutex
	cmd                   *exec.Cmd
	done                  chan error
}

func newDaemon(ns, dir string) *daemon {
	return &daemon{ns: ns, dir: dir, sock: filepath.Join(dir, "fo.sock"), config: filepath.Join(dir, "startup-config")}
}

// start runs failoverd in the namespace (config "" = dir/startup-config)
// and waits until its socket answers.
func (d *daemon) start(config string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd != nil {
		return errors.New("failoverd is already running")
	}
	if failoverdBin == "" {
		return errors.New("failoverd was not built")
	}
	if config == "" {
		config = d.config
	}
	if len(d.sock) > 100 {
		return fmt.Errorf("socket path too long for a Unix socket: %s", d.sock)
	}
	logf, err := os.OpenFile(filepath.Join(d.dir, "failoverd.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer logf.Close()
	level := d.logLevel
	if level == "" {
		level = "debug"
	}
	cmd := exec.Command("ip", "netns", "exec", d.ns, failoverdBin, "--config", config, "--socket", d.sock, "--log-level", level)
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("failed to start failoverd: %w", err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.Dial("unix", d.sock)
		if err == nil {
			c.Close()
			break
		}
		select {
		case err := <-done:
			return fmt.Errorf("failoverd exited at start (%v); see %s", err, logf.Name())
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			<-done
			return fmt.Errorf("failoverd did not open %s within 10s", d.sock)
		}
	}
	d.cmd, d.done = cmd, done
	return nil
}

// stop sends sig and waits for the daemon; it returns the exit error.
func (d *daemon) stop(sig os.Signal) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return errors.New("failoverd is not running")
	}
	d.cmd.Process.Signal(sig)
	var err error
	select {
	case err = <-d.done:
	case <-time.After(10 * time.Second):
		d.cmd.Process.Kill()
		<-d.done
		err = fmt.Errorf("failoverd did not exit within 10s of %v", sig)
	}
	d.cmd = nil
	return err
}

// running reports whether the daemon process is still alive.
func (d *daemon) running() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.cmd == nil {
		return false
	}
	select {
	case err := <-d.done:
		d.done <- err
		return false
	default:
		return true
	}
}

func (d *daemon) kill() {
	d.mu.Lock()
	running := d.cmd != nil
	d.mu.Unlock()
	if running {
		d.stop(syscall.SIGKILL)
	}
}

// ---- testscript ----

type daemonKey struct{}

func TestScripts(t *testing.T) {
	requireRoot(t)
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *update,
		RequireExplicitExec: true,
		RequireUniqueNames:  true,
		Setup:               setupScript,
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"startd": cmdStartd,
			"stopd":  cmdStopd,
			"killd":  cmdKilld,
			"alive":  cmdAlive,
		},
	})
}

// setupScript gives the script its namespace and daemon handle. The
// namespace goes away in a Defer, also when the script fails.
func setupScript(env *testscript.Env) error {
	links := defaultLinks
	if b, err := os.ReadFile(filepath.Join(env.WorkDir, "links")); err == nil {
		links = strings.Fields(string(b))
	}
	ns, del, err := newNetns(links)
	if err != nil {
		return err
	}
	d := newDaemon(ns, env.WorkDir)
	env.Defer(func() {
		d.kill()
		del()
	})
	env.Values[daemonKey{}] = d
	env.Setenv("NS", ns)
	env.Setenv("FAILOVERD", failoverdBin)
	env.Setenv("SOCK", d.sock)
	// A script that forgets --socket must never reach a daemon on the host.
	env.Setenv("FOSH_SOCKET", d.sock)
	return nil
}

func scriptDaemon(ts *testscript.TestScript) *daemon {
	return ts.Value(daemonKey{}).(*daemon)
}

// startd [CONFIG]: start failoverd in the script's namespace with
// --config CONFIG (default $WORK/startup-config) --socket $WORK/fo.sock.
func cmdStartd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) > 1 {
		ts.Fatalf("usage: startd [config]")
	}
	cfg := ""
	if len(args) == 1 {
		cfg = ts.MkAbs(args[0])
	}
	ts.Check(scriptDaemon(ts).start(cfg))
}

// stopd: SIGTERM; the daemon must exit cleanly.
func cmdStopd(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: stopd")
	}
	if err := scriptDaemon(ts).stop(syscall.SIGTERM); err != nil {
		ts.Fatalf("failoverd did not stop cleanly on SIGTERM: %v", err)
	}
}

// killd: SIGKILL (a crash: no clean-up runs).
func cmdKilld(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 0 {
		ts.Fatalf("usage: killd")
	}
	err := scriptDaemon(ts).stop(syscall.SIGKILL)
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		ts.Fatalf("%v", err)
	}
}

// [!] alive: the daemon process is (not) running.
func cmdAlive(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 0 {
		ts.Fatalf("usage: alive")
	}
	if up := scriptDaemon(ts).running(); up == neg {
		ts.Fatalf("failoverd running = %v", up)
	}
}

// ---- Go tests against a daemon ----

// startTestDaemon makes a namespace and runs failoverd in it for t.
func startTestDaemon(t *testing.T) *daemon {
	t.Helper()
	requireRoot(t)
	ns, del, err := newNetns(defaultLinks)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(del)
	d := newDaemon(ns, t.TempDir())
	t.Cleanup(d.kill) // runs before del
	if err := d.start(""); err != nil {
		t.Fatal(err)
	}
	return d
}

func dial(t *testing.T, d *daemon) *api.Client {
	t.Helper()
	c, err := api.Dial(d.sock, false)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// do runs lines on c and fails the test on any error reply.
func do(t *testing.T, c *api.Client, lines ...string) string {
	t.Helper()
	var out strings.Builder
	for _, l := range lines {
		r, err := c.Do(api.Request{Op: api.OpExec, Line: l})
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if r.Failed() {
			t.Fatalf("%q: %s", l, r.Err)
		}
		out.WriteString(r.Output)
	}
	return out.String()
}

func runningConfig(t *testing.T, d *daemon) string {
	t.Helper()
	c, err := api.Dial(d.sock, false)
	if err != nil {
		t.Fatalf("daemon does not answer: %v", err)
	}
	defer c.Close()
	return do(t, c, "enable", "show running-config")
}

const baseConfig = `hostname fw-e2e
interface outside auto
interface inside auto
nameif outside outside security0
nameif inside inside security100
ip address outside 192.0.2.2 255.255.255.0
ip address inside 198.51.100.1 255.255.255.0
`

// TestConcurrentSessions holds two sessions open: what one configures the
// other sees at once, including its prompt, and interleaved changes from
// both all land.
func TestConcurrentSessions(t *testing.T) {
	d := startTestDaemon(t)
	a, b := dial(t, d), dial(t, d)
	do(t, a, "enable", "configure terminal")
	do(t, b, "enable")
	for _, l := range strings.Split(strings.TrimSpace(baseConfig), "\n") {
		do(t, a, l)
	}
	if out := do(t, b, "show running-config"); !strings.Contains(out, "hostname fw-e2e\n") || !strings.Contains(out, "ip address inside 198.51.100.1 255.255.255.0\n") {
		t.Fatalf("session b does not see a's configuration:\n%s", out)
	}
	r, err := b.Do(api.Request{Op: api.OpPrompt})
	if err != nil || r.Prompt != "fw-e2e# " {
		t.Fatalf("session b prompt = %q, %v; want %q", r.Prompt, err, "fw-e2e# ")
	}
	// b's own mode is its own: a is in config mode, b still in EXEC.
	r, _ = a.Do(api.Request{Op: api.OpPrompt})
	if r.Prompt != "fw-e2e(config)# " {
		t.Fatalf("session a prompt = %q", r.Prompt)
	}

	// Interleaved changes from both sessions at the same time.
	do(t, b, "configure terminal", "names")
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	for i, c := range []*api.Client{a, b} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := 1; j <= 20; j++ {
				line := fmt.Sprintf("name 203.0.113.%d host-%d-%d", i*100+j, i, j)
				r, err := c.Do(api.Request{Op: api.OpExec, Line: line})
				if err == nil && r.Failed() {
					err = errors.New(r.Err)
				}
				if err != nil {
					errs <- fmt.Errorf("%s: %v", line, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	run := runningConfig(t, d)
	for i := range 2 {
		for j := 1; j <= 20; j++ {
			want := fmt.Sprintf("name 203.0.113.%d host-%d-%d\n", i*100+j, i, j)
			if !strings.Contains(run, want) {
				t.Errorf("running-config lacks %q", want)
			}
		}
	}
	// A removal in one session is gone for the other.
	do(t, a, "no name 203.0.113.1 host-0-1")
	if out := do(t, b, "show running-config"); strings.Contains(out, "host-0-1\n") || !strings.Contains(out, "host-0-2\n") {
		t.Fatalf("b does not see a's removal:\n%s", out)
	}
}

// rawConn is a client that speaks the socket protocol by hand, to send
// what fosh never would.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, d *daemon) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", d.sock)
	if err != nil {
		t.Fatalf("daemon does not answer: %v", err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(20 * time.Second))
	return &rawConn{c, bufio.NewReader(c)}
}

func (c *rawConn) send(t *testing.T, raw string) (api.Reply, error) {
	t.Helper()
	if _, err := c.Write([]byte(raw)); err != nil {
		return api.Reply{}, err
	}
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return api.Reply{}, err
	}
	var r api.Reply
	if err := json.Unmarshal(line, &r); err != nil {
		t.Fatalf("bad reply %q: %v", line, err)
	}
	return r, nil
}

func reqJSON(op, line string) string {
	b, _ := json.Marshal(api.Request{Op: op, Line: line})
	return string(b) + "\n"
}

// TestRobustness sends what no terminal produces: oversized lines, control
// characters, invalid UTF-8, malformed requests, and clients that go away
// in the middle of a command. Each bad line is refused with an error, the
// daemon keeps running and the configuration does not change.
func TestRobustness(t *testing.T) {
	d := startTestDaemon(t)
	c := dial(t, d)
	do(t, c, "enable", "configure terminal")
	for _, l := range strings.Split(strings.TrimSpace(baseConfig), "\n") {
		do(t, c, l)
	}
	before := runningConfig(t, d)

	bad := []struct{ name, line, want string }{
		{"oversized", "hostname " + strings.Repeat("x", 5000), "line too long"},
		{"oversized comment", "! " + strings.Repeat("x", api.MaxLine), "line too long"},
		{"bell", "hostname a\x07b", "control characters"},
		{"escape sequence", "hostname \x1b[Aup", "control characters"},
		{"NUL", "hostname a\x00b", "control characters"},
		{"DEL", "hostname a\x7fb", "control characters"},
		{"C1 control", "hostname a\u0085b", "control characters"},
		{"carriage return inside", "hostname a\rb", "control characters"},
	}
	for _, tc := range bad {
		for _, op := range []string{api.OpExec, api.OpHelp, api.OpComplete} {
			r, err := c.Do(api.Request{Op: op, Line: tc.line})
			if err != nil {
				t.Fatalf("%s (%s): %v", tc.name, op, err)
			}
			if op == api.OpExec && !strings.Contains(r.Err, tc.want) {
				t.Errorf("%s: err = %q, want it to contain %q", tc.name, r.Err, tc.want)
			}
			if op == api.OpComplete && len(r.Completions) != 0 {
				t.Errorf("%s: completions %q for a bad line", tc.name, r.Completions)
			}
		}
	}

	// Invalid UTF-8 cannot travel inside a Go-encoded JSON string; send
	// the raw bytes. Whatever the decoder makes of them, the line must not
	// change the configuration.
	rc := dialRaw(t, d)
	for _, l := range []string{"enable", "configure terminal"} {
		if r, err := rc.send(t, reqJSON(api.OpExec, l)); err != nil || r.Failed() {
			t.Fatalf("%s: %v %q", l, err, r.Err)
		}
	}
	for _, raw := range []string{
		"{\"op\":\"exec\",\"line\":\"hostname \xff\xfe\"}\n",
		"{\"op\":\"exec\",\"line\":\"hostname ok\xc3\"}\n",
		"{\"op\":\"exec\",\"line\":\"\xed\xa0\x80\"}\n",
	} {
		r, err := rc.send(t, raw)
		if err != nil {
			t.Fatalf("invalid UTF-8 %q ended the session: %v", raw, err)
		}
		if !r.Failed() {
			t.Errorf("invalid UTF-8 %q was accepted (output %q)", raw, r.Output)
		}
	}
	// Malformed requests get an error reply and the session goes on.
	for _, raw := range []string{"not json\n", "{\"op\":42}\n", "{}\n", "{\"op\":\"bogus\"}\n", "\n"} {
		r, err := rc.send(t, raw)
		if err != nil {
			t.Fatalf("malformed request %q ended the session: %v", raw, err)
		}
		if !r.Failed() {
			t.Errorf("malformed request %q: no error", raw)
		}
	}
	if r, err := rc.send(t, reqJSON(api.OpPrompt, "")); err != nil || r.Prompt != "fw-e2e(config)# " {
		t.Fatalf("session lost its state after bad requests: %q %v", r.Prompt, err)
	}

	// A request far beyond any limit is one error; the session goes on.
	big := dialRaw(t, d)
	if r, err := big.send(t, reqJSON(api.OpExec, strings.Repeat("y", 1<<20))); err != nil || !strings.Contains(r.Err, "line too long") {
		t.Errorf("a 1 MiB request: %v %v; want one error", r.Err, err)
	}
	if r, err := big.send(t, reqJSON(api.OpPrompt, "")); err != nil || r.Prompt == "" {
		t.Errorf("session after a 1 MiB request: %+v %v", r, err)
	}

	// Clients that disconnect mid-command.
	for _, raw := range []string{
		`{"op":"exec","line":"hostname half`,             // half a request
		reqJSON(api.OpExec, "enable"),                    // gone before the reply
		reqJSON(api.OpExec, "ping inside 198.51.100.99"), // gone during a blocking command
		reqJSON(api.OpExec, "show running-config"),
	} {
		rc := dialRaw(t, d)
		rc.Write([]byte(raw))
		rc.Close()
	}
	// A session left at its Password: prompt.
	pw := dial(t, d)
	do(t, pw, "enable", "configure terminal", "enable password sekret")
	pc := dialRaw(t, d)
	if r, err := pc.send(t, reqJSON(api.OpExec, "enable")); err != nil || !r.NeedPassword {
		t.Fatalf("enable: %+v %v", r, err)
	}
	pc.Close()
	do(t, pw, "no enable password")
	// Many short connections.
	for range 50 {
		c, err := net.Dial("unix", d.sock)
		if err != nil {
			t.Fatalf("connection refused after abuse: %v", err)
		}
		c.Close()
	}

	time.Sleep(200 * time.Millisecond)
	if !d.running() {
		t.Fatal("failoverd died")
	}
	if after := runningConfig(t, d); after != before {
		t.Fatalf("configuration changed:\n--- before\n%s--- after\n%s", before, after)
	}
}
