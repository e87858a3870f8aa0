package engine_test

import (
	"context"
	"sync"
	"testing"

	"failover/engine/api"
	"failover/engine/cli"

	. "failover/engine"
)

func contextWithCancel() (context.Context, context.CancelFunc) {
	return context.WithCancel(context.Background())
}

var discard = Discard

// sessions holds each engine's operator sessions: one cli.CLI per engine,
// as failoverd has.
var sessions struct {
	sync.Mutex
	of map[*Engine]*cli.CLI
}

// sessionsOf returns e's sessions, attaching them on first use.
func sessionsOf(e *Engine) *cli.CLI {
	sessions.Lock()
	defer sessions.Unlock()
	if sessions.of == nil {
		sessions.of = map[*Engine]*cli.CLI{}
	}
	c := sessions.of[e]
	if c == nil {
		c = cli.New(e, cli.Limits{})
		sessions.of[e] = c
	}
	return c
}

// newTestEngine runs an engine with nothing but the configuration.
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

func execAll(t *testing.T, s *cli.Session, lines ...string) []api.Reply {
	t.Helper()
	var out []api.Reply
	for _, l := range lines {
		out = append(out, s.Exec(l))
	}
	return out
}
