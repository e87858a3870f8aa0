package cli

import (
	"strings"
	"testing"

	"failover/engine"
	"failover/engine/config"
	"failover/engine/dataplane/dataplanetest"
	"failover/grammar"
)

// Every declared command is implemented: either a configuration handler
// or an EXEC action of the engine. A declaration without one would parse,
// show in "?" and then do nothing.
func TestEveryDeclarationIsImplemented(t *testing.T) {
	e := runCLI(t, engine.Options{DP: dataplanetest.NewFake()}, Limits{})
	g, err := grammar.Product()
	if err != nil {
		t.Fatal(err)
	}
	s := e.NewSession(false)
	for _, d := range g.Decls() {
		if config.IsConfigCommand(d) {
			continue
		}
		inv := &grammar.Invocation{Decl: d, Mode: grammar.ModeExec, Values: map[string]string{}, Words: map[string]bool{}}
		var r string
		e.e.Do(func() {
			s.priv, s.mode = true, grammar.ModeExec
			rep, _ := s.execCommand(inv)
			r = rep.Err
		})
		if strings.Contains(r, "not implemented") {
			t.Errorf("command %s (%q) has no implementation", d.ID, d.Syntax)
		}
	}
}
