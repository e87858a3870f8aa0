package config

import (
	"slices"
	"strings"
	"testing"

	"failover/grammar"
)

// splitLocal parts the rendered lines of c into those IsUnitLocal calls
// the unit's own and the others (sub-mode lines go with their block).
func splitLocal(t *testing.T, c *Config) (local, shared []string) {
	t.Helper()
	for _, l := range Render(c, RenderOpts{Secrets: true}) {
		if strings.HasPrefix(l, " ") {
			shared = append(shared, l)
			continue
		}
		inv, err := Parse(&Ctx{Mode: grammar.ModeConfig}, l)
		if err != nil {
			t.Fatalf("%q: %v", l, err)
		}
		if IsUnitLocal(c, inv.Decl, inv.Values) {
			local = append(local, l)
		} else {
			shared = append(shared, l)
		}
	}
	return local, shared
}

const secondaryBootstrap = `interface failover auto
nameif failover failover security0
ip address failover 192.0.2.17 255.255.255.248
failover ip address failover 192.0.2.18
failover lan unit secondary
failover lan interface failover
failover lan key othersecret
failover
`

// One meaning of "unit-local": the lines a bulk copy leaves out are
// exactly those IsUnitLocal names, and a bulk replace keeps exactly those
// of the receiving unit and takes every other line from the copy.
func TestUnitLocalOneMeaning(t *testing.T) {
	hashIter = 1
	active, errs := ApplyLines(New(), full)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	standby, errs := ApplyLines(New(), secondaryBootstrap)
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	localA, sharedA := splitLocal(t, active)
	if len(localA) < 6 {
		t.Fatalf("only %d unit-local lines in the full configuration: %q", len(localA), localA)
	}
	bulk := Render(active, RenderOpts{Secrets: true, SkipUnitLocal: true})
	if !slices.Equal(bulk, sharedA) {
		t.Errorf("the bulk copy is not the shared lines:\n%s\n---\n%s", Text(bulk), Text(sharedA))
	}
	copied, errs := ApplyLines(New(), Text(bulk))
	if len(errs) > 0 {
		t.Fatal(errs)
	}
	replaced := KeepLocal(standby, copied)
	localS, _ := splitLocal(t, standby)
	localR, sharedR := splitLocal(t, replaced)
	if !slices.Equal(localR, localS) {
		t.Errorf("bulk replace kept\n%s\nwant the standby's own\n%s", Text(localR), Text(localS))
	}
	if !slices.Equal(sharedR, sharedA) {
		t.Errorf("bulk replace has\n%s\nwant the active's\n%s", Text(sharedR), Text(sharedA))
	}
}
