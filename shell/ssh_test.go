package shell_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"io"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestSSHLoginShell proves fosh works behind a real OpenSSH server set up
// with examples/sshd-fosh.conf as written: "ssh box 'show failover'"
// prints exactly that output (ForceCommand through the user's shell), a
// script on stdin runs, and an interactive "ssh -tt" session lands in the
// CLI with a terminal.
func TestSSHLoginShell(t *testing.T) {
	b := startSSHBox(t)
	out, err := b.ssh("show failover").Output()
	if want := "Failover Off\nCable status: Normal\nReconnect timeout 0:00:00\n"; err != nil || string(out) != want {
		t.Fatalf("ssh box 'show failover' printed %q (%v), want %q", out, err, want)
	}
	// A failing command makes ssh exit non-zero, as a monitoring script expects.
	if err := b.ssh("show nonsense").Run(); err == nil {
		t.Fatal("a failing command exited 0 over ssh")
	}
	// A script on stdin (no terminal): its lines run, errors name their line.
	cmd := b.ssh()
	cmd.Stdin = strings.NewReader("enable\nshow curpriv\nshow bogus\n")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err = cmd.Output()
	if err == nil || !strings.Contains(string(out), "Current privilege level : 15") || !strings.HasPrefix(stderr.String(), "fosh: line 3: ") {
		t.Fatalf("script over ssh: err %v, stdout %q, stderr %q", err, out, stderr.String())
	}
	// Other programs are not reachable: the command asked for is a CLI line.
	if out, err := b.ssh("/bin/cat", "/etc/hostname").CombinedOutput(); err == nil || !strings.Contains(string(out), "ERROR") {
		t.Fatalf("ssh box /bin/cat ran: %v %q", err, out)
	}

	// Interactive: ssh -tt gives fosh a terminal on the server side.
	cmd = b.ssh("-tt")
	f, err := pty.Start(cmd)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	r := newSSHScreen(f)
	r.expect(t, "pixfirewall> ")
	io.WriteString(f, "enable\r")
	r.expect(t, "pixfirewall# ")
	io.WriteString(f, "show curpriv\r")
	r.expect(t, "Current privilege level : 15")
	io.WriteString(f, "exit\r")
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("ssh session did not end on exit")
	}
	// What the client received is plain text: no escape sequences.
	if strings.ContainsAny(r.all.String(), "\x1b\b") {
		t.Fatalf("the interactive session sent escape sequences or backspaces: %q", r.all.String())
	}

	// What the snippet warns about: with nologin as the shell, sshd cannot
	// run ForceCommand.
	sshRun(t, "usermod", "-s", "/usr/sbin/nologin", b.user)
	if out, _ := b.ssh("show failover").CombinedOutput(); !strings.Contains(string(out), "not available") {
		t.Fatalf("with nologin as the shell: %q", out)
	}
}

func sshBuild(t *testing.T, dir string) {
	t.Helper()
	out, err := exec.Command("go", "build", "-o", dir+"/", "failover/cmd/failoverd", "failover/cmd/fosh").CombinedOutput()
	if err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
}

func sshRun(t *testing.T, name string, args ...string) {
	t.Helper()
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
}

func sshRandHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func sshWaitFor(t *testing.T, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatal("timed out")
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// sshScreen accumulates what a terminal shows.
type sshScreen struct {
	ch  chan []byte
	buf bytes.Buffer
	all bytes.Buffer // everything received
}

func newSSHScreen(r io.Reader) *sshScreen {
	s := &sshScreen{ch: make(chan []byte, 64)}
	go func() {
		for {
			b := make([]byte, 4096)
			n, err := r.Read(b)
			if n > 0 {
				s.ch <- b[:n]
			}
			if err != nil {
				close(s.ch)
				return
			}
		}
	}()
	return s
}

func (s *sshScreen) expect(t *testing.T, want string) {
	t.Helper()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(s.buf.String(), want) {
		select {
		case b, ok := <-s.ch:
			if !ok {
				t.Fatalf("terminal closed before %q; screen:\n%s", want, s.buf.String())
			}
			s.buf.Write(b)
			s.all.Write(b)
		case <-deadline:
			t.Fatalf("no %q on the terminal; screen:\n%s", want, s.buf.String())
		}
	}
	s.buf.Reset()
}
