package main

import (
	"bytes"
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
)

// buildDaemon builds this command into a temporary directory.
func buildDaemon(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "failoverd")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// testNetns makes a namespace with a veth pair (lanfo, its peer up) and
// removes it when the test ends.
func testNetns(t *testing.T) string {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root: failoverd runs in a network namespace made for the test")
	}
	var rnd [4]byte
	rand.Read(rnd[:])
	ns := "fo-sd-" + hex.EncodeToString(rnd[:])
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v: %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	for _, args := range [][]string{
		{"link", "set", "lo", "up"},
		{"link", "add", "lanfo", "type", "veth", "peer", "name", "p-lanfo"},
		{"link", "set", "p-lanfo", "up"},
		{"link", "set", "lanfo", "up"},
	} {
		if out, err := exec.Command("ip", append([]string{"-n", ns}, args...)...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v: %s", args, err, out)
		}
	}
	return ns
}

// testDaemon is a failoverd started by a test in its namespace.
type testDaemon struct {
	cmd    *exec.Cmd
	sock   string
	exited chan error // receives Wait's result once
	logs   bytes.Buffer
}

// startDaemon runs failoverd in ns with cfg as its startup-config, env
// added to its environment and args added to its command line. It is
// killed when the test ends, and its log shown when the test failed.
func startDaemon(t *testing.T, ns, bin, cfg string, env []string, args ...string) *testDaemon {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "startup-config")
	if err := os.WriteFile(path, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	d := &testDaemon{sock: filepath.Join(dir, "fo.sock"), exited: make(chan error, 1)}
	d.cmd = exec.Command("ip", append([]string{"netns", "exec", ns, bin, "--config", path, "--socket", d.sock}, args...)...)
	d.cmd.Env = append(os.Environ(), env...)
	d.cmd.Stdout, d.cmd.Stderr = &d.logs, &d.logs
	if err := d.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { err := d.cmd.Wait(); done <- err; d.exited <- err }()
	t.Cleanup(func() {
		d.cmd.Process.Kill()
		<-done
		if t.Failed() {
			t.Logf("failoverd log:\n%s", d.logs.String())
		}
	})
	return d
}

// A failoverd started as systemd would start a Type=notify service with
// WatchdogSec: the test plays systemd on a NOTIFY_SOCKET of its own.
func TestSystemdNotify(t *testing.T) {
	ns := testNetns(t)
	bin := buildDaemon(t)
	dir := t.TempDir()
	cfg := `hostname sdtest
interface lanfo auto
nameif lanfo failover security0
ip address failover 192.0.2.1 255.255.255.252
failover ip address failover 192.0.2.2
failover lan unit primary
failover lan interface failover
failover polltime unit msec 200 holdtime msec 800
failover
`
	notify := filepath.Join(dir, "notify")
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: notify, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	msgs := make(chan string, 100)
	go func() {
		buf := make([]byte, 4096)
		for {
			n, _, err := ln.ReadFromUnix(buf)
			if err != nil {
				close(msgs)
				return
			}
			msgs <- string(buf[:n])
		}
	}()

	d := startDaemon(t, ns, bin, cfg, []string{"NOTIFY_SOCKET=" + notify, "WATCHDOG_USEC=400000"}, "--hooks", "")
	sock := d.sock

	next := func(what string) string {
		t.Helper()
		select {
		case m, ok := <-msgs:
			if !ok {
				t.Fatalf("notify socket closed waiting for %s", what)
			}
			return m
		case <-time.After(10 * time.Second):
			t.Fatalf("no notification in 10s waiting for %s", what)
		}
		return ""
	}
	first := next("READY=1")
	if !strings.Contains(first, "READY=1") || !strings.Contains(first, "STATUS=Primary - Negotiation, mate Not Detected") {
		t.Fatalf("first notification %q, want READY=1 with the negotiating status", first)
	}
	// READY means the control socket already answers.
	if c, err := net.Dial("unix", sock); err != nil {
		t.Errorf("control socket not ready at READY=1: %v", err)
	} else {
		c.Close()
	}

	watchdogs, active := 0, false
	deadline := time.Now().Add(10 * time.Second)
	for (watchdogs < 3 || !active) && time.Now().Before(deadline) {
		switch m := next("WATCHDOG=1 and the active status"); {
		case m == "WATCHDOG=1":
			watchdogs++
		case m == "STATUS=Primary - Active, mate Not Detected":
			active = true
		case strings.HasPrefix(m, "STATUS="):
		default:
			t.Errorf("unexpected notification %q", m)
		}
	}
	if watchdogs < 3 || !active {
		t.Fatalf("got %d watchdog pings, active status %v", watchdogs, active)
	}

	d.cmd.Process.Signal(syscall.SIGTERM)
	for m := next("STOPPING=1"); m != "STOPPING=1"; m = next("STOPPING=1") {
		if m != "WATCHDOG=1" && !strings.HasPrefix(m, "STATUS=") {
			t.Errorf("unexpected notification %q", m)
		}
	}
	select {
	case err := <-d.exited:
		if err != nil {
			t.Errorf("failoverd exited with %v after SIGTERM", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("failoverd did not exit after SIGTERM")
	}
}
