package grammar

import (
	"fmt"
	"sort"
	"strings"
)

// HelpItem is one row of "?" output.
type HelpItem struct {
	Word string // keyword, placeholder label, or "<cr>"
	Help string
}

// Names supplies the interface names Tab may complete for a placeholder of
// type t: TIfName (nameif names), THWID (the box's interfaces) or TIfAny
// (both).
type Names func(t ValueType) []string

// helpCands are the candidates "?" and Tab consider in mode: at the start
// of a line only the mode's own commands (as IOS lists them), further on
// the whole lookup chain, since a command of a parent mode is accepted.
func (g *Grammar) helpCands(mode Mode, first bool) []cand {
	if first {
		out := append([]cand{}, g.byMode[mode]...)
		if mode == ModeConfig {
			// PIX lists show/write among configuration commands.
			out = append(out, g.byMode[ModeExec]...)
		}
		return out
	}
	var out []cand
	for _, m := range mode.Chain() {
		out = append(out, g.byMode[m]...)
	}
	return out
}

// Help answers "?" typed at the end of line (the text before the cursor).
// After a space it lists what may come next; right after a word it lists
// the keywords that complete that word. The string result is a fixed usage
// text when one is declared for the words typed (e.g. "failover ?").
func (g *Grammar) Help(mode Mode, line string) ([]HelpItem, string, *Error) {
	toks := Tokenize(line)
	partial := ""
	if len(toks) > 0 && !strings.HasSuffix(line, " ") && !strings.HasSuffix(line, "\t") {
		partial = toks[len(toks)-1].Text
		toks = toks[:len(toks)-1]
	}
	live, err := walk(g.visible(g.helpCands(mode, len(toks) == 0)), toks, line)
	if err != nil {
		return nil, "", err
	}
	if partial == "" {
		if u := g.usageFor(mode, live, toks); u != "" {
			return nil, u, nil
		}
	}
	i := len(toks)
	items := map[string]string{}
	cr := false
	for _, c := range live {
		switch {
		case absorbs(c.path, i):
			// Inside free text: only the end of the command can follow.
			cr = cr || partial == ""
		case i < len(c.path):
			a := c.path[i]
			if a.Kind == Keyword {
				if partial == "" || strings.HasPrefix(strings.ToLower(a.Word), strings.ToLower(partial)) {
					if items[a.Word] == "" {
						items[a.Word] = a.Help
					}
				}
			} else if partial == "" {
				items[a.Label()] = a.Help
			}
		case len(c.path) == i && partial == "":
			cr = true
		}
	}
	var out []HelpItem
	for w, h := range items {
		out = append(out, HelpItem{w, h})
	}
	sort.Slice(out, func(a, b int) bool {
		// Keywords first, alphabetically; placeholders after them.
		pa, pb := isPlaceholder(out[a].Word), isPlaceholder(out[b].Word)
		if pa != pb {
			return !pa
		}
		return out[a].Word < out[b].Word
	})
	if cr && partial == "" {
		out = append(out, HelpItem{Word: "<cr>"})
	}
	if len(out) == 0 {
		off := len(line)
		if partial != "" {
			off = len(line) - len(partial)
		}
		return nil, "", &Error{Kind: ErrInvalid, Offset: off}
	}
	return out, "", nil
}

func isPlaceholder(w string) bool {
	return strings.HasPrefix(w, "<") || strings.HasPrefix(w, "security<")
}

func (g *Grammar) visible(cs []cand) []cand {
	out := cs[:0:0]
	for _, c := range cs {
		if !c.decl.Hidden {
			out = append(out, c)
		}
	}
	return out
}

func (g *Grammar) usageFor(mode Mode, live []cand, toks []Token) string {
	if len(live) == 0 {
		return ""
	}
	for _, u := range g.usages {
		if len(u.Words) != len(toks) || !mode.IsConfig() && u.Mode.IsConfig() {
			continue
		}
		ok := true
		for i := range toks {
			for _, c := range live {
				if i >= len(c.path) || c.path[i].Kind != Keyword || c.path[i].Word != u.Words[i] {
					ok = false
				}
			}
		}
		if ok {
			return u.Text
		}
	}
	return ""
}

// FormatHelp lays help rows out as ASA does: two spaces, the word padded to
// the widest, its help.
func FormatHelp(items []HelpItem) []string {
	w := 0
	for _, it := range items {
		if len(it.Word) > w {
			w = len(it.Word)
		}
	}
	var out []string
	for _, it := range items {
		if it.Help == "" {
			out = append(out, "  "+it.Word)
			continue
		}
		out = append(out, fmt.Sprintf("  %-*s  %s", w, it.Word, it.Help))
	}
	return out
}

// Complete answers Tab at the end of line: the words that can replace the
// last (partial) word. Keywords complete; value placeholders never do,
// except interface names (if_name, hardware_id), taken from names.
func (g *Grammar) Complete(mode Mode, line string, names Names) []string {
	toks := Tokenize(line)
	partial := ""
	if len(toks) > 0 && !strings.HasSuffix(line, " ") {
		partial = toks[len(toks)-1].Text
		toks = toks[:len(toks)-1]
	}
	live, err := walk(g.visible(g.helpCands(mode, len(toks) == 0)), toks, line)
	if err != nil {
		return nil
	}
	i := len(toks)
	set := map[string]bool{}
	for _, c := range live {
		if i >= len(c.path) {
			continue
		}
		a := c.path[i]
		switch {
		case a.Kind == Keyword:
			if strings.HasPrefix(strings.ToLower(a.Word), strings.ToLower(partial)) {
				set[a.Word] = true
			}
		case (a.Type == TIfName || a.Type == THWID || a.Type == TIfAny) && names != nil:
			for _, n := range names(a.Type) {
				if strings.HasPrefix(n, partial) {
					set[n] = true
				}
			}
		}
	}
	out := make([]string, 0, len(set))
	for w := range set {
		out = append(out, w)
	}
	sort.Strings(out)
	return out
}

// CommonPrefix is the longest prefix shared by all words.
func CommonPrefix(words []string) string {
	if len(words) == 0 {
		return ""
	}
	p := words[0]
	for _, w := range words[1:] {
		for !strings.HasPrefix(w, p) {
			p = p[:len(p)-1]
		}
	}
	return p
}
