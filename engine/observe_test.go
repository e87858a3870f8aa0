package engine_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"failover/engine/api"
	"failover/engine/event"

	. "failover/engine"
	"failover/engine/cli"
)

// serveTest serves the control socket of a fresh engine.
func serveTest(t *testing.T) (*Engine, string) {
	t.Helper()
	e := newTestEngine(t)
	sock := filepath.Join(t.TempDir(), "fo.sock")
	ln, err := cli.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithCancel()
	t.Cleanup(cancel)
	go sessionsOf(e).Serve(ctx, ln)
	return e, sock
}

// subscribe opens a connection and turns it into an event stream.
func subscribe(t *testing.T, sock string) (net.Conn, *bufio.Scanner) {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if err := json.NewEncoder(c).Encode(api.Request{Op: api.OpSubscribe}); err != nil {
		t.Fatal(err)
	}
	// The first line says the subscription is in place, and since when.
	sc := bufio.NewScanner(c)
	var ev event.Event
	if !sc.Scan() || json.Unmarshal(sc.Bytes(), &ev) != nil || ev.Kind != event.Subscribed || ev.Seq != 0 {
		t.Fatalf("first line of the stream %q, want a subscribed line", sc.Text())
	}
	return c, sc
}

func TestStatusAndConfigEvents(t *testing.T) {
	_, sock := serveTest(t)
	c, err := api.Dial(sock, false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, events := subscribe(t, sock)

	for _, l := range []string{"enable", "configure terminal", "hostname edge1", "failover lan key s3cret", "end"} {
		if r, err := c.Do(api.Request{Op: api.OpExec, Line: l}); err != nil || r.Failed() {
			t.Fatalf("%s: %v %+v", l, err, r)
		}
	}
	who := fmt.Sprintf("session 1 (socket uid %d pid %d)", os.Getuid(), os.Getpid())
	want := []event.Event{
		{Seq: 1, Kind: event.Config, Session: who, Line: "hostname edge1"},
		{Seq: 2, Kind: event.Config, Session: who, Line: "failover lan key ********"},
	}
	for _, w := range want {
		if !events.Scan() {
			t.Fatalf("stream ended: %v", events.Err())
		}
		var ev event.Event
		if err := json.Unmarshal(events.Bytes(), &ev); err != nil {
			t.Fatalf("bad event line %q: %v", events.Text(), err)
		}
		if ev.Seq != w.Seq || ev.Kind != w.Kind || ev.Session != w.Session || ev.Line != w.Line || ev.Time.IsZero() {
			t.Errorf("event %s, want %+v", events.Text(), w)
		}
	}

	r, err := c.Do(api.Request{Op: api.OpStatus})
	if err != nil || r.Status == nil {
		t.Fatalf("status: %v %+v", err, r)
	}
	if r.Status.Hostname != "edge1" || r.Status.ConfigVersion != 2 || r.Status.EventSeq != 2 || r.Status.Version != Version {
		t.Errorf("status = %+v", r.Status)
	}
}

// A subscriber that does not read is cut off with an overflow line; the
// engine keeps accepting changes meanwhile, and others get every event.
func TestSlowSubscriberIsCutOff(t *testing.T) {
	// The stalled writer must still be waiting when the test reads it.
	defer func(d time.Duration) { *SubscriberTimeout = d }(*SubscriberTimeout)
	*SubscriberTimeout = time.Minute
	e, sock := serveTest(t)
	_, slow := subscribe(t, sock)
	_, fast := subscribe(t, sock)
	got := make(chan uint64, 1)
	var progress atomic.Uint64
	go func() {
		var last uint64
		for fast.Scan() {
			var ev event.Event
			json.Unmarshal(fast.Bytes(), &ev)
			if ev.Seq != last+1 {
				t.Errorf("fast subscriber: seq %d after %d", ev.Seq, last)
			}
			last = ev.Seq
			progress.Store(last)
			if last == 5000 {
				break
			}
		}
		got <- last
	}()
	s := sessionsOf(e).NewSession(false)
	execAll(t, s, "enable", "configure terminal")
	start := time.Now()
	for i := range 5000 {
		if r := s.Exec(fmt.Sprintf("hostname h%d", i)); r.Failed() {
			t.Fatal(r.Err)
		}
		// A reader is "fast" when it keeps within its queue: on a loaded
		// machine one line per loop turn can outrun it, so let it catch
		// up before it is a queue behind.
		for wait := time.Now(); e.Bus().Seq() > progress.Load()+uint64(*SubscriberQueue/2) && time.Since(wait) < 10*time.Second; {
			time.Sleep(time.Millisecond)
		}
	}
	t.Logf("5000 changes in %v with a stalled subscriber", time.Since(start))
	select {
	case n := <-got:
		if n != 5000 {
			t.Errorf("fast subscriber got up to seq %d, want 5000", n)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("fast subscriber did not get every event")
	}
	// Now read the slow one: some events, then the overflow line, then EOF.
	var last event.Event
	n := 0
	for slow.Scan() {
		if err := json.Unmarshal(slow.Bytes(), &last); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if last.Kind != event.Overflow || last.Dropped == 0 || n >= 5000 {
		t.Errorf("slow subscriber: %d lines, last %+v; want an overflow line before the end", n, last)
	}
	if e.Bus().Subscribers() > 1 {
		t.Errorf("%d subscribers left, want the slow one gone", e.Bus().Subscribers())
	}
}

// The watchdog's proof of life fails while the loop is stuck, and comes
// back when it runs again.
func TestAliveNeedsTheLoop(t *testing.T) {
	e := newTestEngine(t)
	if !e.Alive(5 * time.Second) {
		t.Fatal("idle loop not alive")
	}
	release := make(chan struct{})
	e.Post(func() { <-release })
	if e.Alive(100 * time.Millisecond) {
		t.Error("a stuck loop reported alive")
	}
	close(release)
	if !e.Alive(5 * time.Second) {
		t.Error("loop not alive again after it was released")
	}
}

// Published snapshots follow events: a config change is visible in the
// next snapshot without waiting for the periodic one.
func TestPublishFollowsEvents(t *testing.T) {
	e := newTestEngine(t)
	ctx, cancel := contextWithCancel()
	defer cancel()
	go e.Publish(ctx, time.Hour)
	s := sessionsOf(e).NewSession(false)
	execAll(t, s, "enable", "configure terminal", "hostname pub1")
	deadline := time.Now().Add(5 * time.Second)
	for {
		st, changed := e.Published()
		if st != nil && st.Hostname == "pub1" {
			break
		}
		select {
		case <-changed:
		case <-time.After(time.Until(deadline)):
			t.Fatalf("published status %+v, want hostname pub1", st)
		}
	}
	if got := StatusLine(e.Status()); got != "Failover Off" {
		t.Errorf("StatusLine = %q", got)
	}
}
