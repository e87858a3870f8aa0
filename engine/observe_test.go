package engine

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"failover/engine/api"
	"failover/engine/event"
)

// serveTest serves the control socket of a fresh engine.
func serveTest(t *testing.T) (*Engine, string) {
	t.Helper()
	e := newTestEngine(t)
	sock := filepath.Join(t.TempDir(), "fo.sock")
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithCancel()
	t.Cleanup(cancel)
	go e.Serve(ctx, ln)
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
	return c, bufio.NewScanner(c)
}

func TestStatusAndConfigEvents(t *testing.T) {
	e, sock := serveTest(t)
	c, err := api.Dial(sock, false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	_, events := subscribe(t, sock)
	waitSubscribers(t, e, 1)

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

// waitSubscribers waits until n subscriptions exist on the bus.
func waitSubscribers(t *testing.T, e *Engine, n int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for e.obs.bus.Subscribers() < n {
		if time.Now().After(deadline) {
			t.Fatalf("%d subscribers after 5s, want %d", e.obs.bus.Subscribers(), n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A subscriber that does not read is cut off with an overflow line; the
// engine keeps accepting changes meanwhile, and others get every event.
func TestSlowSubscriberIsCutOff(t *testing.T) {
	// The stalled writer must still be waiting when the test reads it.
	defer func(d time.Duration) { subscriberTimeout = d }(subscriberTimeout)
	subscriberTimeout = time.Minute
	e, sock := serveTest(t)
	slow, _ := subscribe(t, sock)
	_, fast := subscribe(t, sock)
	waitSubscribers(t, e, 2)
	got := make(chan uint64, 1)
	go func() {
		var last uint64
		for fast.Scan() {
			var ev event.Event
			json.Unmarshal(fast.Bytes(), &ev)
			if ev.Seq != last+1 {
				t.Errorf("fast subscriber: seq %d after %d", ev.Seq, last)
			}
			last = ev.Seq
			if last == 5000 {
				break
			}
		}
		got <- last
	}()
	s := e.NewSession(false)
	execAll(t, s, "enable", "configure terminal")
	start := time.Now()
	for i := range 5000 {
		if r := s.Exec(fmt.Sprintf("hostname h%d", i)); r.Failed() {
			t.Fatal(r.Err)
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
	sc := bufio.NewScanner(slow)
	var last event.Event
	n := 0
	for sc.Scan() {
		if err := json.Unmarshal(sc.Bytes(), &last); err != nil {
			t.Fatal(err)
		}
		n++
	}
	if last.Kind != event.Overflow || last.Dropped == 0 || n >= 5000 {
		t.Errorf("slow subscriber: %d lines, last %+v; want an overflow line before the end", n, last)
	}
	if e.obs.bus.Subscribers() > 1 {
		t.Errorf("%d subscribers left, want the slow one gone", e.obs.bus.Subscribers())
	}
}
