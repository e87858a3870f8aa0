package cli

import (
	"context"
	"testing"

	"failover/engine"
)

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

// runCLI builds an engine, runs its loop until the test ends and attaches
// the sessions to it with the socket limits lim.
func runCLI(t *testing.T, o engine.Options, lim Limits) *CLI {
	t.Helper()
	e, err := engine.New(o)
	if err != nil {
		t.Fatal(err)
	}
	c := New(e, lim)
	ctx, cancel := contextWithCancel()
	go e.Run(ctx)
	t.Cleanup(cancel)
	return c
}

// newTestEngine runs an engine with nothing but the configuration.
func newTestEngine(t *testing.T) *CLI {
	t.Helper()
	return runCLI(t, engine.Options{}, Limits{})
}

func mustExec(t *testing.T, s *Session, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if r := s.Exec(l); r.Failed() {
			t.Fatalf("%q: %s", l, r.Err)
		}
	}
}
