package cli

import (
	"testing"

	"failover/engine"
	"failover/engine/config"
	"failover/grammar"
)

// Every declaration has exactly one handler, registered against the
// declaration itself: a configuration handler (engine/config), an EXEC
// command of the engine, or a command of the session. None would parse
// and do nothing; two would depend on which one the dispatch asks first.
func TestEveryDeclarationHasOneHandler(t *testing.T) {
	g, err := grammar.Product()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range g.Decls() {
		var by []string
		if config.IsConfigCommand(d) {
			by = append(by, "engine/config")
		}
		if engine.HasCommand(d) {
			by = append(by, "engine")
		}
		if _, ok := commands[d]; ok {
			by = append(by, "engine/cli")
		}
		if len(by) != 1 {
			t.Errorf("command %s (%q) has %d handlers %v, want 1", d.ID, d.Syntax, len(by), by)
		}
	}
	if n := len(g.Decls()); n != len(grammar.Decls()) {
		t.Errorf("the grammar has %d declarations, grammar.Decls %d", n, len(grammar.Decls()))
	}
}
