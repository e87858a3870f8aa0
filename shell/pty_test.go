package shell_test

// Interactive fosh on a pseudo-terminal: instant "?" help, Tab
// completion, Ctrl-Z. The engine runs in this test process without a
// dataplane (it touches no kernel state), serving a socket in a temporary
// directory; fosh is built from cmd/fosh and runs on the pty as an
// operator would run it.

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"

	"failover/engine"
	"failover/engine/cli"
)

var (
	buildOnce sync.Once
	foshBin   string
	buildErr  error
	buildDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// buildFosh builds cmd/fosh once for the package's tests.
func buildFosh(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "fosh-pty-")
		if buildErr != nil {
			return
		}
		foshBin = filepath.Join(buildDir, "fosh")
		out, err := exec.Command("go", "build", "-o", foshBin, "failover/cmd/fosh").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build cmd/fosh: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return foshBin
}

// serveEngine runs an engine with no dataplane on a socket for t.
func serveEngine(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("", "fosh-pty-sock-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	sock := filepath.Join(dir, "fo.sock")
	stop := startEngine(t, sock)
	t.Cleanup(stop)
	return sock
}

// startEngine serves a fresh engine on sock until stop is called; stop
// also closes every session's connection, as the end of the daemon's
// process would.
func startEngine(t *testing.T, sock string) (stop func()) {
	t.Helper()
	e, err := engine.New(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := cli.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	tl := &trackingListener{Listener: ln}
	ctx, cancel := context.WithCancel(context.Background())
	loop := make(chan struct{})
	go func() { e.Run(ctx); close(loop) }()
	go cli.New(e, cli.Limits{}).Serve(ctx, tl)
	var once sync.Once
	return func() {
		once.Do(func() {
			cancel()
			<-loop
			tl.closeAll()
			os.Remove(sock)
		})
	}
}

// trackingListener remembers the connections it accepted.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
}

// term is fosh running on a pty.
type term struct {
	t    *testing.T
	pty  *os.File
	cmd  *exec.Cmd
	mu   sync.Mutex
	buf  bytes.Buffer
	mark int // expect searches from here
	done chan struct{}
}

// startFosh runs "sh -c 'set -m; fosh ...; echo fosh exited $?'" on a
// pty: with job control on, fosh is a foreground job of a shell in its
// session, so a SIGTSTP would really stop it (and the shell would print
// the job as stopped) instead of being dropped as it is for an orphaned
// process group.
func startFosh(t *testing.T, cols uint16) *term {
	t.Helper()
	return startFoshOn(t, cols, serveEngine(t))
}

// startFoshOn runs fosh on a pty against the daemon at sock.
func startFoshOn(t *testing.T, cols uint16, sock string) *term {
	t.Helper()
	bin := buildFosh(t)
	cmd := exec.Command("bash", "--norc", "--noprofile", "-c", fmt.Sprintf("set -m; %q --socket %q; echo \"fosh exited $?\"", bin, sock))
	cmd.Env = append(os.Environ(), "TERM=xterm", "PS1=")
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 50, Cols: cols})
	if err != nil {
		t.Fatal(err)
	}
	tm := &term{t: t, pty: f, cmd: cmd, done: make(chan struct{})}
	go func() {
		defer close(tm.done)
		b := make([]byte, 4096)
		for {
			n, err := f.Read(b)
			tm.mu.Lock()
			tm.buf.Write(b[:n])
			tm.mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		f.Close()
		<-tm.done
		if t.Failed() {
			t.Logf("terminal output:\n%q", tm.output())
		}
	})
	tm.expect("pixfirewall> ")
	return tm
}

func (tm *term) output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.buf.String()
}

func (tm *term) send(s string) {
	tm.t.Helper()
	if _, err := io.WriteString(tm.pty, s); err != nil {
		tm.t.Fatalf("write to pty: %v", err)
	}
}

// expect waits (5 s at most) for s in the output after the mark, moves
// the mark past it and returns what came before it.
func (tm *term) expect(s string) string {
	tm.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		out := tm.output()
		if i := strings.Index(out[tm.mark:], s); i >= 0 {
			before := out[tm.mark : tm.mark+i]
			tm.mark += i + len(s)
			return before
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %q; output after the mark:\n%q", s, out[tm.mark:])
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// settle waits until the output has been quiet for a moment and returns
// everything after the mark (moving the mark to the end).
func (tm *term) settle() string {
	tm.t.Helper()
	last, since := -1, time.Now()
	for time.Since(since) < 300*time.Millisecond {
		time.Sleep(20 * time.Millisecond)
		if n := len(tm.output()); n != last {
			last, since = n, time.Now()
		}
	}
	out := tm.output()
	rest := out[tm.mark:]
	tm.mark = len(out)
	return rest
}

var ansi = regexp.MustCompile(`\x1b\[[0-9;?]*[A-Za-z]`)

// plain strips escape sequences and carriage returns.
func plain(s string) string {
	return strings.ReplaceAll(ansi.ReplaceAllString(s, ""), "\r", "")
}

// run types line and Enter and waits for last, a text only the command's
// output contains. It returns the plain output up to and including last.
func (tm *term) run(line, last string) string {
	tm.t.Helper()
	tm.send(line + "\r")
	return plain(tm.expect(last) + last)
}

func (tm *term) enterConfig() {
	tm.t.Helper()
	// A prompt with a new mode appears only once the command has run.
	tm.send("enable\r")
	tm.expect("pixfirewall# ")
	tm.send("configure terminal\r")
	tm.expect("pixfirewall(config)# ")
}

const seedUsage = `usage: [no] failover [active]
        failover ip address <if_name> <ip_address>
        failover timeout <hh:mm:ss>
        failover reset
        failover link <if_name>
`

// "failover ?" without Enter prints PIX's usage text at once, redraws
// the line without the "?", and the line goes on being edited.
func TestPtyHelpFailover(t *testing.T) {
	tm := startFosh(t, 80)
	tm.enterConfig()
	tm.send("failover ?")
	tm.expect("usage: [no] failover [active]")
	got := plain("usage: [no] failover [active]" + tm.settle())
	if !strings.HasPrefix(got, seedUsage) {
		t.Fatalf("help is not PIX's usage text:\n%s", got)
	}
	// The line is redrawn after the help, without the "?", and nothing
	// runs yet (no Enter was typed).
	i := strings.LastIndex(got, "pixfirewall(config)# ")
	if i < len(seedUsage) {
		t.Fatalf("prompt not redrawn after the help:\n%s", got)
	}
	if line := got[i:]; line != "pixfirewall(config)# failover " {
		t.Fatalf("redrawn line = %q, want %q", line, "pixfirewall(config)# failover ")
	}
	// Typing goes on at the cursor: the line runs as "failover poll 7".
	tm.send("poll 7\r")
	tm.expect("poll 7\r\n")
	if out := plain(tm.settle()); strings.Contains(out, "ERROR") {
		t.Fatalf("the line after help failed:\n%s", out)
	}
	out := tm.run("show running-config | include ^failover poll", "\r\nfailover poll ")
	if rest := tm.expect("\r\n"); rest != "7" {
		t.Fatalf("failover poll is %q after the help, want 7:\n%s", rest, out)
	}

	// "WORD?" lists the keywords completing WORD; Ctrl-U clears the line.
	tm.send("show fail?")
	tm.expect("\r\n  failover")
	after := plain(tm.settle())
	if !strings.HasSuffix(after, "pixfirewall(config)# show fail") {
		t.Fatalf("line not redrawn after WORD? help:\n%q", after)
	}
	tm.send("\x15") // Ctrl-U
	out = tm.run("show curpriv", "Current Mode/s : P_PRIV P_CONF\r\n")
	if strings.Contains(out, "ERROR") {
		t.Fatalf("Ctrl-U did not clear the line:\n%s", out)
	}
}

// "?" at an empty prompt lists the mode's commands with their help;
// "?" after an invalid word puts the caret under it.
func TestPtyHelpList(t *testing.T) {
	tm := startFosh(t, 80)
	tm.send("?")
	tm.expect("  terminal  Set terminal line parameters\r\n")
	top := plain(tm.settle())
	if strings.Contains(top, "configure") {
		t.Errorf("? in user EXEC lists configure:\n%s", top)
	}
	tm.send("show ?")
	// The help, then prompt and line written again (the column width
	// follows the longest keyword, so it is matched loosely).
	list := plain(tm.expect("\r\npixfirewall> show "))
	for _, want := range []string{`(?m)^  failover +Show failover status$`, `(?m)^  curpriv +Display current privilege level$`, `(?m)^  version +Display system software and hardware status$`} {
		if !regexp.MustCompile(want).MatchString(list) {
			t.Errorf("show ? lacks %s:\n%s", want, list)
		}
	}
	if after := tm.settle(); after != "" {
		t.Errorf("more after the redrawn line: %q", after)
	}
	tm.send("\x15bogus ?")
	tm.expect("\r\n             ^\r\nERROR: % Invalid input detected at '^' marker.\r\n")
	if after := plain(tm.settle()); !strings.HasSuffix(after, "pixfirewall> bogus ") {
		t.Errorf("line not redrawn after an invalid ?:\n%q", after)
	}
}

// Tab completes the unique keyword; with a terminal width of 0 too (some
// ptys and serial consoles report none).
func TestPtyTab(t *testing.T) {
	for _, cols := range []uint16{80, 0} {
		t.Run(fmt.Sprintf("cols=%d", cols), func(t *testing.T) {
			tm := startFosh(t, cols)
			tm.send("sh fa\t")
			// Typed characters are echoed and Tab types the rest of
			// the word: nothing else is sent.
			if got := tm.settle(); got != "sh failover " {
				t.Fatalf("echo of \"sh fa\" Tab = %q, want %q", got, "sh failover ")
			}
			tm.run("", "\r\nFailover Off\r\nCable status: Normal\r\nReconnect timeout 0:00:00\r\n")
			// Interface names complete from the configuration.
			tm.enterConfig()
			tm.run("nameif eth9 outside security0", "\r\n")
			tm.send("mtu ou\t")
			tm.expect("pixfirewall(config)# mtu outside ")
			// A value placeholder never completes.
			tm.send("\t")
			if after := plain(tm.settle()); strings.Contains(after, "<") {
				t.Errorf("Tab completed a placeholder: %q", after)
			}
		})
	}
}

// Ctrl-Z in configuration mode is "end": back to privileged EXEC, and the
// process is not suspended.
func TestPtyCtrlZ(t *testing.T) {
	tm := startFosh(t, 80)
	tm.enterConfig()
	tm.send("sla monitor 5\r")
	tm.expect("pixfirewall(config-sla-monitor)# ")
	tm.send("\x1a")
	tm.expect("\r\n")
	tm.expect("pixfirewall# ")
	out := tm.run("show curpriv", "Current Mode/s : P_PRIV")
	if rest := tm.expect("\r\n"); rest != "" {
		t.Fatalf("not in privileged EXEC after Ctrl-Z: mode %q\n%s", rest, out)
	}
	if o := tm.output(); strings.Contains(o, "fosh exited") || strings.Contains(o, "Stopped") {
		t.Fatalf("fosh was suspended or ended by Ctrl-Z:\n%q", o)
	}
	// Ctrl-C abandons the line; exit in EXEC ends the session cleanly.
	tm.send("show bogus\x03")
	tm.expect("^C")
	tm.run("exit", "fosh exited 0")
	if o := plain(tm.output()); strings.Contains(o, "ERROR") {
		t.Fatalf("unexpected error:\n%s", o)
	}
}
