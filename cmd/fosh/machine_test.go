package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"io"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"failover/engine"
	"failover/engine/api"
	"failover/engine/cli"
	"failover/engine/event"
)

// fosh --json status and fosh --events against a daemon's control socket
// (an engine without a dataplane: only the configuration is involved).
func TestJSONStatusAndEvents(t *testing.T) {
	e, err := engine.New(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.Run(ctx)
	sock := filepath.Join(t.TempDir(), "fo.sock")
	ln, err := cli.Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	go cli.New(e, cli.Limits{}).Serve(ctx, ln)

	pr, pw := io.Pipe()
	done := make(chan int, 1)
	var errs bytes.Buffer
	go func() { done <- machineOutput(sock, false, true, nil, pw, &errs); pw.Close() }()
	lines := bufio.NewScanner(pr)
	c, err := api.Dial(sock, false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Do(api.Request{Op: api.OpExec, Line: "enable"})
	c.Do(api.Request{Op: api.OpExec, Line: "configure terminal"})
	got := make(chan event.Event)
	go func() {
		for lines.Scan() {
			var ev event.Event
			if err := json.Unmarshal(lines.Bytes(), &ev); err != nil {
				t.Errorf("event line %q: %v", lines.Text(), err)
			}
			got <- ev
		}
		close(got)
	}()
	next := func() event.Event {
		select {
		case ev := <-got:
			return ev
		case <-time.After(10 * time.Second):
			t.Fatal("no event line in 10 s")
		}
		return event.Event{}
	}
	if ev := next(); ev.Kind != event.Subscribed {
		t.Fatalf("first line %+v, want the subscribed line", ev)
	}
	if r, err := c.Do(api.Request{Op: api.OpExec, Line: "hostname fwa"}); err != nil || r.Failed() {
		t.Fatalf("%v %+v", err, r)
	}
	first := next()
	if first.Kind != event.Config || !strings.HasPrefix(first.Line, "hostname fw") || first.Seq == 0 {
		t.Errorf("first event %+v", first)
	}

	var out bytes.Buffer
	if st := machineOutput(sock, true, false, []string{"status"}, &out, &errs); st != 0 {
		t.Fatalf("--json status: %d %s", st, errs.String())
	}
	var s api.Status
	if err := json.Unmarshal(out.Bytes(), &s); err != nil {
		t.Fatalf("status is not JSON: %v\n%s", err, out.String())
	}
	if !strings.HasPrefix(s.Hostname, "fw") || s.EventSeq < first.Seq || s.ConfigVersion != s.EventSeq {
		t.Errorf("status %+v", s)
	}
	if st := machineOutput(sock, true, false, []string{"bogus"}, &out, &errs); st != 2 {
		t.Errorf("--json bogus: status %d, want 2", st)
	}

	cancel() // the daemon stops: the stream ends and fosh exits 0
	for range got {
	}
	select {
	case st := <-done:
		if st != 0 {
			t.Errorf("--events exited %d: %s", st, errs.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("--events did not end with the daemon")
	}
}
