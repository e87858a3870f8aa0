package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"failover/engine/event"
)

func needRoot(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root: hooks run only when owned by root")
	}
}

// logBuf is a concurrency-safe log sink.
type logBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuf) Write(p []byte) (int, error) { l.mu.Lock(); defer l.mu.Unlock(); return l.b.Write(p) }
func (l *logBuf) String() string              { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// start runs a Runner on dir and returns the bus, a channel of events
// whose hooks finished, and the log.
func start(t *testing.T, dir string, timeout time.Duration) (*event.Bus, chan event.Event, *logBuf) {
	t.Helper()
	bus := event.NewBus(nil)
	done := make(chan event.Event, 100)
	lb := &logBuf{}
	r := &Runner{Dir: dir, Timeout: timeout, Log: slog.New(slog.NewTextHandler(lb, nil)), Done: func(ev event.Event) { done <- ev }}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	r.Start(ctx, bus)
	return bus, done, lb
}

func writeHook(t *testing.T, dir, name, script string, mode os.FileMode) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+script), mode); err != nil {
		t.Fatal(err)
	}
	os.Chmod(p, mode) // not filtered by the umask
	return p
}

func waitDone(t *testing.T, done chan event.Event, n int) {
	t.Helper()
	for range n {
		select {
		case <-done:
		case <-time.After(20 * time.Second):
			t.Fatal("hooks did not finish")
		}
	}
}

// Hooks run in name order for each event, events in order, one hook at a
// time, with the event as arguments, environment and JSON on stdin; files
// another user could change are skipped.
func TestHooksOrderArgsAndSafety(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	rec := filepath.Join(t.TempDir(), "calls")
	line := `echo "$(basename $0) $# [$1] [$2] [$3] seq=$FAILOVER_SEQ role=$FAILOVER_ROLE reason=$FAILOVER_REASON track=$FAILOVER_TRACK home=${HOME:-none} $(cat)" >>` + rec + "\n"
	writeHook(t, dir, "10-first", line, 0o755)
	writeHook(t, dir, "20-second", line, 0o700)
	writeHook(t, dir, "30-groupwritable", line, 0o775)
	writeHook(t, dir, "40-notexec", line, 0o644)
	writeHook(t, dir, "50-old~", line, 0o755)
	other := writeHook(t, dir, "60-notroot", line, 0o755)
	if err := os.Chown(other, 65534, 65534); err != nil {
		t.Fatal(err)
	}
	bus, done, lb := start(t, dir, 10*time.Second)
	bus.Emit(event.Event{Kind: event.UnitState, Role: "Secondary", From: "Standby", To: "Active", Reason: "HELLO not heard from mate"})
	bus.Emit(event.Event{Kind: event.Track, Track: 1, From: "Up", To: "Down", Reason: "SLA 10: Timeout"})
	waitDone(t, done, 2)

	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(string(b)), "\n")
	want := []string{
		"10-first 3 [unit.state] [Active] [Standby] seq=1 role=Secondary reason=HELLO not heard from mate track= home=none ",
		"20-second 3 [unit.state] [Active] [Standby] seq=1 ",
		"10-first 3 [track.state] [Down] [Up] seq=2 role= reason=SLA 10: Timeout track=1 ",
		"20-second 3 [track.state] [Down] [Up] seq=2 ",
	}
	if len(lines) != len(want) {
		t.Fatalf("hook calls:\n%s\nwant %d lines", b, len(want))
	}
	for i, w := range want {
		if !strings.HasPrefix(lines[i], w) {
			t.Errorf("call %d:\n got %s\nwant %s...", i, lines[i], w)
		}
		var ev event.Event
		js := lines[i][strings.Index(lines[i], "{"):]
		if err := json.Unmarshal([]byte(js), &ev); err != nil || ev.Seq != uint64(i/2+1) {
			t.Errorf("call %d stdin %q: %v", i, js, err)
		}
	}
	for _, skipped := range []string{"30-groupwritable", "40-notexec", "60-notroot"} {
		if !strings.Contains(lb.String(), skipped) {
			t.Errorf("no warning about %s in the log:\n%s", skipped, lb.String())
		}
	}
	if strings.Contains(lb.String(), "50-old~") {
		t.Error("a backup file was considered as a hook")
	}
}

// A hook that hangs does not hold the event stream: events are emitted and
// queued while it runs, and it is killed (with what it started) at its
// timeout, its failure logged.
func TestSlowHookTimesOut(t *testing.T) {
	needRoot(t)
	dir := t.TempDir()
	marks := t.TempDir()
	writeHook(t, dir, "slow", `touch `+marks+`/started-$FAILOVER_SEQ
sleep 60 &
echo $! > `+marks+`/child-$FAILOVER_SEQ
wait
`, 0o755)
	bus, done, lb := start(t, dir, 300*time.Millisecond)
	bus.Emit(event.Event{Kind: event.Config, Line: "hostname a"})
	for {
		if _, err := os.Stat(filepath.Join(marks, "started-1")); err == nil {
			break
		}
		time.Sleep(5 * time.Millisecond)
	}
	// The hook of event 1 is running: emitting more must not wait for it.
	for range 5 {
		bus.Emit(event.Event{Kind: event.Config, Line: "hostname b"})
	}
	if _, err := os.Stat(filepath.Join(marks, "started-2")); err == nil {
		t.Fatal("the second event's hook started while the first still ran")
	}
	waitDone(t, done, 6)
	if n := strings.Count(lb.String(), "killed after its timeout"); n != 6 {
		t.Errorf("%d timeouts logged, want 6:\n%s", n, lb.String())
	}
	pid, _ := os.ReadFile(filepath.Join(marks, "child-1"))
	// Gone, or a zombie waiting for init to reap it.
	if st, err := os.ReadFile("/proc/" + strings.TrimSpace(string(pid)) + "/stat"); err == nil && !strings.Contains(string(st), ") Z ") {
		t.Errorf("the hook's child survived the timeout: %s", st)
	}
}

// Without the directory nothing runs and nothing is logged.
func TestMissingDirectory(t *testing.T) {
	bus, done, lb := start(t, filepath.Join(t.TempDir(), "none"), time.Second)
	bus.Emit(event.Event{Kind: event.Config})
	waitDone(t, done, 1)
	if lb.String() != "" {
		t.Errorf("log: %s", lb.String())
	}
}
