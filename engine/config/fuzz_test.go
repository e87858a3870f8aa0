package config

import (
	"testing"
)

// FuzzApplyLines: any text applies without panicking, and whatever
// configuration results renders to text that parses back to itself.
func FuzzApplyLines(f *testing.F) {
	f.Add(full)
	f.Add("nameif outside outside security0\nip address outside 192.0.2.1 255.255.255.0\nroute outside 0.0.0.0 0.0.0.0 192.0.2.9\n")
	f.Add("sla monitor 1\n type echo protocol ipIcmpEcho 192.0.2.1 interface x\n frequency 1\n")
	hashIter = 1 // PBKDF2 cost would dominate every input with "enable password"
	f.Fuzz(func(t *testing.T, text string) {
		c, _ := ApplyLines(New(), text)
		first := Text(Render(c, RenderOpts{Secrets: true}))
		c2, errs := ApplyLines(New(), first)
		if len(errs) > 0 {
			t.Fatalf("rendered configuration does not parse back: %v\n%s", errs, first)
		}
		if second := Text(Render(c2, RenderOpts{Secrets: true})); second != first {
			t.Fatalf("round trip differs:\n%s\n---\n%s", first, second)
		}
	})
}
