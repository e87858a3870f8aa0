package grammar

import (
	"fmt"
	"strings"
)

// Render prints a command from its declaration: the running-config line is
// derived from the same syntax the parser uses, so it parses back. It picks
// the path whose values are exactly those given and which contains every
// requested optional keyword, preferring the shortest such path.
func (g *Grammar) Render(d *Decl, values map[string]string, words ...string) (string, error) {
	if d == nil || g.byID[d.ID] != d {
		return "", fmt.Errorf("failed to render: the command is not in this grammar")
	}
	var best []*Atom
	for _, p := range d.paths {
		if !pathFits(p, values, words) {
			continue
		}
		if best == nil || len(p) < len(best) {
			best = p
		}
	}
	if best == nil {
		return "", fmt.Errorf("failed to render %s: no form takes values %v and keywords %v", d.ID, values, words)
	}
	parts := make([]string, 0, len(best))
	for _, a := range best {
		if a.Kind == Keyword {
			parts = append(parts, a.Word)
		} else {
			parts = append(parts, values[a.Name])
		}
	}
	return strings.Join(parts, " "), nil
}

// MustRender is Render for declarations known to the caller at compile
// time; an error there is a programming mistake caught by the round-trip
// tests, so it renders a visible marker instead of panicking in a daemon.
func (g *Grammar) MustRender(d *Decl, values map[string]string, words ...string) string {
	s, err := g.Render(d, values, words...)
	if err != nil {
		return "! " + err.Error()
	}
	return s
}

func pathFits(p []*Atom, values map[string]string, words []string) bool {
	n := 0
	has := map[string]bool{}
	for _, a := range p {
		has[a.Name] = true
		if a.Kind == Value {
			v, ok := values[a.Name]
			if !ok || v == "" {
				return false
			}
			n++
		}
	}
	if n != len(values) {
		return false
	}
	for _, w := range words {
		if !has[w] {
			return false
		}
	}
	return true
}
