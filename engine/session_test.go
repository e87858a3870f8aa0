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
