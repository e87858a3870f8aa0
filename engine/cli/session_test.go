package cli

import (
	"strings"
	"testing"

	"failover/engine"
	"failover/engine/api"
)

func execAll(t *testing.T, s *Session, lines ...string) []api.Reply {
	t.Helper()
	var out []api.Reply
	for _, l := range lines {
		out = append(out, s.Exec(l))
	}
	return out
}

func TestSessionUnsupported(t *testing.T) {
	e := newTestEngine(t)
	s := e.NewSession(false)
	r := execAll(t, s, "enable", "conf t", "fixup protocol ftp 21")
	if !strings.Contains(r[2].Err, "does not support") || r[2].Caret != 0 {
		t.Fatalf("got %+v", r[2])
	}
}

// show history lists each line as typed, output filter included, although
// the client applies the filter itself and the engine runs the command only.
func TestShowHistoryKeepsFilters(t *testing.T) {
	e := newTestEngine(t)
	s := e.NewSession(false)
	s.Handle(api.Request{Op: api.OpExec, Line: "enable"})
	r := s.Handle(api.Request{Op: api.OpExec, Line: "show version", Filter: "| include Version"})
	if r.Failed() || !strings.Contains(r.Output, "Version") {
		t.Fatalf("show version: %+v", r)
	}
	s.Handle(api.Request{Op: api.OpExec, Line: "! a comment"})
	s.Handle(api.Request{Op: api.OpBatch, Lines: []string{"show clock", "show version"}, Filters: []string{"", "| grep -v x"}})
	out := s.Exec("show history").Output
	if want := "enable\nshow version | include Version\nshow clock\nshow version | grep -v x\nshow history\n"; out != want {
		t.Errorf("show history:\n%s\nwant:\n%s", out, want)
	}
	if r := s.Handle(api.Request{Op: api.OpExec, Line: "show version", Filter: "| include \x1b[2J"}); !r.Failed() {
		t.Error("a control character in the filter was accepted")
	}
}

// A line costs one parse and one turn of the event loop: history, parse,
// run and the new prompt all happen in that turn.
func TestOneParseOneTurnPerLine(t *testing.T) {
	e := newTestEngine(t)
	s := e.NewSession(false)
	execAll(t, s, "enable", "configure terminal")
	for _, line := range []string{"hostname fw-turns", "show running-config", "no such command", "interface eth0 auto", "exit", "show version"} {
		var turns0, turns1 uint64
		var parses0, parses1 int
		e.e.Do(func() { turns0, parses0 = e.e.(*engine.Engine).Turns(), s.parses })
		r := s.Exec(line)
		e.e.Do(func() { turns1, parses1 = e.e.(*engine.Engine).Turns(), s.parses })
		// turns1 counts the measuring turn itself.
		if turns := turns1 - turns0 - 1; turns != 1 {
			t.Errorf("%q took %d loop turns, want 1", line, turns)
		}
		if p := parses1 - parses0; p != 1 {
			t.Errorf("%q was parsed %d times, want 1", line, p)
		}
		if r.Prompt == "" {
			t.Errorf("%q: reply without a prompt", line)
		}
	}
}

// Without a failover unit, failover exec says so, whatever it was asked
// to run (a nested failover exec included).
func TestFailoverExecWithoutFailover(t *testing.T) {
	e := newTestEngine(t)
	s := e.NewSession(false)
	execAll(t, s, "enable")
	for _, line := range []string{"failover exec mate show version", "failover exec standby failover exec mate show version"} {
		if r := s.Exec(line); r.Err != "ERROR: failover is not available" {
			t.Errorf("%q: %+v", line, r)
		}
	}
}
