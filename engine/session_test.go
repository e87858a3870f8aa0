package engine

import (
	"strings"
	"testing"

	"failover/engine/api"
)

func newTestEngine(t *testing.T) *Engine {
	t.Helper()
	e, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := contextWithCancel()
	go e.Run(ctx)
	t.Cleanup(cancel)
	return e
}

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
	out := s.Exec("show history").Output
	if want := "enable\nshow version | include Version\nshow history\n"; out != want {
		t.Errorf("show history:\n%s\nwant:\n%s", out, want)
	}
	if r := s.Handle(api.Request{Op: api.OpExec, Line: "show version", Filter: "| include \x1b[2J"}); !r.Failed() {
		t.Error("a control character in the filter was accepted")
	}
}
