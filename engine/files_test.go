package engine_test

import (
	"bytes"
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"failover/engine/api"

	. "failover/engine"
	"failover/engine/cli"
)

// within fails the test when f does not return in a generous time: the
// event loop or a session is stuck.
func within[T any](t *testing.T, what string, f func() T) T {
	t.Helper()
	ch := make(chan T, 1)
	go func() { ch <- f() }()
	select {
	case v := <-ch:
		return v
	case <-time.After(20 * time.Second):
		t.Fatalf("%s: no answer in 20 s (stuck)", what)
	}
	var zero T
	return zero
}

func startFileEngine(t *testing.T, path string, log *slog.Logger) (*Engine, context.CancelFunc, chan error) {
	t.Helper()
	e, err := New(Options{ConfigPath: path, Log: log})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.Run(ctx) }()
	t.Cleanup(cancel)
	return e, cancel, done
}

func privSession(t *testing.T, e *Engine) *cli.Session {
	t.Helper()
	s := sessionsOf(e).NewSession(false)
	mustExec(t, s, "enable")
	return s
}

// A FIFO at the startup-config path is refused at once; it neither hangs
// the session nor the loop.
func TestShowStartupRefusesFIFO(t *testing.T) {
	path := filepath.Join(t.TempDir(), "startup-config")
	e, _, _ := startFileEngine(t, path, nil)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Fatal(err)
	}
	s := privSession(t, e)
	r := within(t, "show startup-config on a FIFO", func() api.Reply { return s.Exec("show startup-config") })
	if !strings.Contains(r.Err, "not a regular file") {
		t.Fatalf("show startup-config on a FIFO: %+v", r)
	}
	// The mate's view goes through the same path.
	out := within(t, "exec show on a FIFO", func() string {
		ch := make(chan string, 1)
		e.Do(func() { e.UnitRequests().ExecShow("show startup-config", func(o string) { ch <- o }) })
		return <-ch
	})
	if !strings.Contains(out, "not a regular file") {
		t.Fatalf("mate's show startup-config on a FIFO: %q", out)
	}
}

// A FIFO at the startup-config or state path at start is an error, not a
// daemon that never starts.
func TestStartWithFIFOs(t *testing.T) {
	dir := t.TempDir()
	cfg, state := filepath.Join(dir, "startup-config"), filepath.Join(dir, "fo.sock.macs")
	for _, p := range []string{cfg, state} {
		if err := syscall.Mkfifo(p, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	err := within(t, "New with a FIFO startup-config", func() error { _, err := New(Options{ConfigPath: cfg}); return err })
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Fatalf("New with a FIFO startup-config: %v", err)
	}
	within(t, "MAC store on a FIFO", func() *MACStore { return NewMACStore(state, discard()) })
}

// blockSync makes every fsync wait until the returned release is called.
func blockSync(t *testing.T) (release func()) {
	t.Helper()
	gate := make(chan struct{})
	var once sync.Once
	slow := func(f *os.File) error { <-gate; return f.Sync() }
	SyncOverride.Store(&slow)
	release = func() { once.Do(func() { close(gate) }) }
	t.Cleanup(func() { release(); SyncOverride.Store(nil) })
	return release
}

// While the disk does not answer, `write memory` waits in its own
// session; other sessions, the standby's save and the shutdown go on.
func TestSlowDiskDoesNotHoldTheLoop(t *testing.T) {
	path := filepath.Join(t.TempDir(), "startup-config")
	e, cancel, done := startFileEngine(t, path, nil)
	a, b := privSession(t, e), privSession(t, e)
	mustExec(t, a, "conf t", "hostname fw-slow", "end")
	release := blockSync(t)
	wrote := make(chan api.Reply, 1)
	go func() { wrote <- a.Exec("write memory") }()
	if r := within(t, "show version during a slow write", func() api.Reply { return b.Exec("show version") }); r.Failed() {
		t.Fatalf("show version: %+v", r)
	}
	within(t, "the standby's write memory during a slow write", func() error {
		var err error
		e.Do(func() { err = e.WriteMemory() })
		return err
	})
	select {
	case r := <-wrote:
		t.Fatalf("write memory answered before the disk did: %+v", r)
	default:
	}
	release()
	r := within(t, "write memory", func() api.Reply { return <-wrote })
	if r.Failed() || !strings.Contains(r.Output, "[OK]") {
		t.Fatalf("write memory: %+v", r)
	}
	if txt, err := os.ReadFile(path); err != nil || !strings.Contains(string(txt), "hostname fw-slow") {
		t.Fatalf("saved file: %q %v", txt, err)
	}
	// SIGTERM with a stuck disk: the loop still ends.
	release = blockSync(t)
	e.Do(func() { _ = e.WriteMemory() }) // queued behind the stuck disk
	cancel()
	within(t, "Run after cancel with a stuck disk", func() error { return <-done })
	release()
	<-e.FilesIdle() // the late write ends before the temp dir goes
}

// Temp files of an interrupted save (they may hold the failover key) are
// removed at start and by `write erase`; other files are left alone.
func TestStaleTempsRemoved(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "startup-config")
	put := func(name string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte("failover lan key secret\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	stale := []string{put(".startup-config-123456"), put(".startup-config-9")}
	keep := []string{put(".startup-config-backup"), put("startup-config.old")}
	e, _, _ := startFileEngine(t, path, nil)
	s := privSession(t, e)
	// A save goes through the same queue as the cleanup, so after it the
	// cleanup has run.
	mustExec(t, s, "write memory")
	for _, p := range stale {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s left after start", p)
		}
	}
	stale = []string{put(".startup-config-777")}
	mustExec(t, s, "write erase")
	for _, p := range append(stale, keep...) {
		_, err := os.Stat(p)
		if gone := err != nil; gone != (p == stale[0]) {
			t.Errorf("%s: gone=%v after write erase", p, gone)
		}
	}
	if r := s.Exec("show startup-config"); r.Output != "No Configuration\n" {
		t.Fatalf("after write erase: %+v", r)
	}
}

// A startup-config that is a symlink stays one: reads and writes go to its
// target.
func TestStartupSymlinkFollowed(t *testing.T) {
	dir, store := t.TempDir(), t.TempDir()
	target := filepath.Join(store, "fw.conf")
	if err := os.WriteFile(target, []byte("hostname from-target\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "startup-config")
	if err := os.Symlink("../"+filepath.Base(store)+"/fw.conf", path); err != nil {
		t.Fatal(err)
	}
	e, _, _ := startFileEngine(t, path, nil)
	s := privSession(t, e)
	if r := s.Exec("show running-config"); !strings.Contains(r.Output, "hostname from-target") {
		t.Fatalf("startup not read through the link: %q", r.Output)
	}
	mustExec(t, s, "conf t", "hostname saved", "end", "write memory")
	fi, err := os.Lstat(path)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("startup-config is no longer a symlink: %v %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(target); !strings.Contains(string(b), "hostname saved") {
		t.Fatalf("target not written: %q", b)
	}
	if r := s.Exec("show startup-config"); !strings.Contains(r.Output, "hostname saved") {
		t.Fatalf("show startup-config: %+v", r)
	}
	for _, d := range []string{dir, store} {
		ents, _ := os.ReadDir(d)
		if len(ents) != 1 {
			t.Errorf("%s holds %d entries after the save, want 1", d, len(ents))
		}
	}
}

// Binary garbage in the startup-config logs the first rejected lines and
// a count, not one line each.
func TestRejectedStartupLinesCapped(t *testing.T) {
	path := filepath.Join(t.TempDir(), "startup-config")
	var garbage strings.Builder
	for range 1000 {
		garbage.WriteString("\x01\x02 junk line\n")
	}
	if err := os.WriteFile(path, []byte(garbage.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := New(Options{ConfigPath: path, Log: slog.New(slog.NewTextHandler(&buf, nil))}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if n := strings.Count(out, "startup-config line rejected"); n != MaxRejectedLogged {
		t.Errorf("%d rejected lines logged one by one, want %d", n, MaxRejectedLogged)
	}
	if !strings.Contains(out, "count=980") {
		t.Errorf("no count of the rest in the log:\n%s", out)
	}
}

// A disk that does not answer gets the operator an error in bounded time;
// the save itself goes on and lands when the disk answers.
func TestStuckDiskAnswersInTime(t *testing.T) {
	defer func(d time.Duration) { *FileWait = d }(*FileWait)
	*FileWait = 200 * time.Millisecond
	path := filepath.Join(t.TempDir(), "startup-config")
	e, _, _ := startFileEngine(t, path, nil)
	s := privSession(t, e)
	mustExec(t, s, "conf t", "hostname fw-late", "end")
	release := blockSync(t)
	r := within(t, "write memory on a stuck disk", func() api.Reply { return s.Exec("write memory") })
	if !strings.Contains(r.Err, "has not answered") || r.Prompt == "" {
		t.Fatalf("write memory on a stuck disk: %+v", r)
	}
	release()
	within(t, "the late save", func() bool {
		for {
			if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), "hostname fw-late") {
				return true
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}

// The MAC state file is written off the loop too: a stuck disk does not
// hold the unit that learns a burned-in MAC.
func TestMACStoreWritesOffTheLoop(t *testing.T) {
	state := filepath.Join(t.TempDir(), "fo.sock.macs")
	e, err := New(Options{StatePath: state})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.Run(ctx)
	release := blockSync(t)
	mac, _ := net.ParseMAC("02:00:00:00:00:01")
	within(t, "BurnedIn on a stuck disk", func() bool {
		e.Do(func() { e.MACs().BurnedIn("inside", 3, mac) })
		return true
	})
	release()
	within(t, "the late MAC store", func() bool {
		for {
			if b, err := os.ReadFile(state); err == nil && strings.Contains(string(b), "02:00:00:00:00:01") {
				return true
			}
			time.Sleep(20 * time.Millisecond)
		}
	})
}
