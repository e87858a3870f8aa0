package grammar

import "testing"

// Asking an invocation for a name its declaration does not have is a bug
// in a handler: it fails loudly instead of reading as "absent".
func TestInvocationUnknownNamePanics(t *testing.T) {
	g, err := Product()
	if err != nil {
		t.Fatal(err)
	}
	inv, perr := g.ParseChain(ModeConfig.Chain(), "hostname fw")
	if perr != nil {
		t.Fatal(perr)
	}
	if got := inv.Str("name"); got != "fw" {
		t.Fatalf("name = %q", got)
	}
	for _, ask := range []func(){
		func() { inv.Str("nmae") },
		func() { inv.Int("nmae") },
		func() { inv.Has("nmae") },
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("a misspelt value name did not panic")
				}
			}()
			ask()
		}()
	}
}
