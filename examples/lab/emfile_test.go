package lab

import (
	"crypto/rand"
	"encoding/hex"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"failover/engine/api"
)

// A daemon out of file descriptors keeps its control socket: accept
// errors (EMFILE) are retried, and once clients leave, new sessions open.
func TestControlSocketSurvivesEMFILE(t *testing.T) {
	skipLab(t)
	var rb [4]byte
	rand.Read(rb[:])
	ns := "fe" + hex.EncodeToString(rb[:])
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	dir := t.TempDir()
	sock := filepath.Join(dir, "fo.sock")
	logf, err := os.Create(filepath.Join(dir, "failoverd.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	// 40 descriptors: the daemon's own (netlink, epoll, the socket, ...)
	// and a few sessions; 60 clients run it out.
	cmd := exec.Command("ip", "netns", "exec", ns, "prlimit", "--nofile=40", failoverdBin,
		"--config", filepath.Join(dir, "startup-config"), "--socket", sock)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	deadline := time.Now().Add(20 * time.Second)
	for {
		if c, err := net.Dial("unix", sock); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("failoverd did not open its socket")
		}
		time.Sleep(50 * time.Millisecond)
	}
	var hogs []net.Conn
	for range 60 {
		c, err := net.Dial("unix", sock)
		if err != nil {
			break // backlog full: enough
		}
		hogs = append(hogs, c)
	}
	// Give the daemon time to hit the limit.
	waitLog := time.Now().Add(20 * time.Second)
	for {
		b, _ := os.ReadFile(logf.Name())
		if strings.Contains(string(b), "too many open files") {
			break
		}
		if time.Now().After(waitLog) {
			t.Fatalf("the daemon never ran out of descriptors; log:\n%s", b)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, c := range hogs {
		c.Close()
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		c, err := api.Dial(sock, false)
		if err == nil {
			r, err := c.Do(api.Request{Op: api.OpExec, Line: "show version"})
			c.Close()
			if err != nil || r.Failed() {
				t.Fatalf("show version after EMFILE: %+v %v", r, err)
			}
			break
		}
		if time.Now().After(deadline) {
			b, _ := os.ReadFile(logf.Name())
			t.Fatalf("no session 30 s after the clients left: %v\n%s", err, tail(string(b), 30))
		}
		time.Sleep(200 * time.Millisecond)
	}
}
