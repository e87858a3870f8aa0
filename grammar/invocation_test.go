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

// Every section "show running-config" offers is a Section some
// declarations file their lines under, and the other way round.
func TestSectionsDeclared(t *testing.T) {
	g, err := Product()
	if err != nil {
		t.Fatal(err)
	}
	used := map[Section]int{}
	for _, d := range g.Decls() {
		used[d.Section]++
	}
	for s := SecInterface; s <= SecRoute; s++ {
		if SectionNamed(s.String()) != s {
			t.Errorf("section %v does not name itself", s)
		}
		if used[s] == 0 {
			t.Errorf("no command is in section %v", s)
		}
		if _, perr := g.ParseChain(ModeExec.Chain(), "show running-config "+s.String()); perr != nil {
			t.Errorf("show running-config %v: %v", s, perr)
		}
	}
}
