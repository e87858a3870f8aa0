package shell_test

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestSSHLoginShell proves fosh works behind a real OpenSSH server, as
// operators use it: "ssh box 'show failover'" prints exactly that output
// (ForceCommand), and an interactive "ssh -t" session lands in the CLI with
// a terminal. sshd and failoverd run in a network namespace of the test's
// own, on its loopback only.
func TestSSHLoginShell(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root for a network namespace and sshd")
	}
	if testing.Short() {
		t.Skip("end-to-end test")
	}
	for _, bin := range []string{"/usr/sbin/sshd", "ssh", "ssh-keygen", "ip"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed: %v", bin, err)
		}
	}
	dir := t.TempDir()
	sshBuild(t, dir)
	ns := "fo-ssh-" + sshRandHex(4)
	sshRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	sshRun(t, "ip", "-n", ns, "link", "set", "lo", "up")

	sock := filepath.Join(dir, "fo.sock")
	d := exec.Command("ip", "netns", "exec", ns, filepath.Join(dir, "failoverd"), "--config", filepath.Join(dir, "startup-config"), "--socket", sock)
	d.Stderr = io.Discard
	if err := d.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Process.Kill(); d.Wait() })
	sshWaitFor(t, func() bool { _, err := os.Stat(sock); return err == nil })

	for _, k := range []string{"host", "user"} {
		sshRun(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(dir, k))
	}
	if err := os.Rename(filepath.Join(dir, "user.pub"), filepath.Join(dir, "authorized_keys")); err != nil {
		t.Fatal(err)
	}
	os.MkdirAll("/run/sshd", 0o755) // privilege separation directory
	cfg := fmt.Sprintf(`Port 2222
ListenAddress 127.0.0.1
HostKey %[1]s/host
AuthorizedKeysFile %[1]s/authorized_keys
PermitRootLogin prohibit-password
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
PidFile %[1]s/sshd.pid
ForceCommand %[1]s/fosh --socket %[2]s
`, dir, sock)
	if err := os.WriteFile(filepath.Join(dir, "sshd_config"), []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	sshd := exec.Command("ip", "netns", "exec", ns, "/usr/sbin/sshd", "-D", "-e", "-f", filepath.Join(dir, "sshd_config"))
	var sshdLog bytes.Buffer
	sshd.Stderr = &sshdLog
	if err := sshd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sshd.Process.Kill(); sshd.Wait() })

	sshArgs := func(extra ...string) []string {
		a := []string{"netns", "exec", ns, "ssh", "-i", filepath.Join(dir, "user"), "-p", "2222",
			"-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-o", "BatchMode=yes"}
		return append(append(a, extra...), "root@127.0.0.1")
	}
	var out []byte
	sshWaitFor(t, func() bool {
		var err error
		out, err = exec.Command("ip", append(sshArgs(), "show failover")...).Output()
		return err == nil
	})
	if want := "Failover Off\nCable status: Normal\nReconnect timeout 0:00:00\n"; string(out) != want {
		t.Fatalf("ssh box 'show failover' printed %q, want %q\nsshd: %s", out, want, sshdLog.String())
	}
	// A failing command makes ssh exit non-zero, as a monitoring script expects.
	if err := exec.Command("ip", append(sshArgs(), "show nonsense")...).Run(); err == nil {
		t.Fatal("a failing command exited 0 over ssh")
	}

	// Interactive: ssh -tt gives fosh a terminal on the server side.
	cmd := exec.Command("ip", sshArgs("-tt")...)
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
		case <-deadline:
			t.Fatalf("no %q on the terminal; screen:\n%s", want, s.buf.String())
		}
	}
	s.buf.Reset()
}
