package grammar

import (
	"strings"
	"testing"
)

// FuzzTokenize: tokens cover the line exactly, in order, with true offsets.
func FuzzTokenize(f *testing.F) {
	for _, s := range []string{"", "sh fail", "  failover   poll 5 ", "\tdescription it's ok | x", "show run | inc failover | exc poll"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		prev := 0
		for _, tok := range Tokenize(line) {
			if tok.Start < prev || tok.End <= tok.Start || line[tok.Start:tok.End] != tok.Text {
				t.Fatalf("bad token %+v in %q", tok, line)
			}
			if strings.ContainsAny(tok.Text, " \t") {
				t.Fatalf("token with blank %q", tok.Text)
			}
			prev = tok.End
		}
		SplitPipe(line)
	})
}

// FuzzParse: parsing, help and completion never panic in any mode, errors
// point inside the line, and whatever parses renders back to a line that
// parses to the same command.
func FuzzParse(f *testing.F) {
	for _, s := range []string{"failover poll 5", "no failover", "route outside 0.0.0.0 0.0.0.0 192.0.2.1 1 track 1",
		"failover polltime unit msec 200 holdtime msec 800", "sla monitor schedule 1 life forever start-time now", "sh fa", "ping 1.2.3.4", "logging trap err"} {
		f.Add(s)
	}
	g, err := Product()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, line string) {
		for m := ModeExec; m <= ModeTrack; m++ {
			inv, perr := g.Parse(m, line)
			g.Help(m, line)
			g.Complete(m, line, func(ValueType) []string { return []string{"outside"} })
			if perr != nil {
				if perr.Kind == ErrInvalid && (perr.Offset < 0 || perr.Offset > len(line)) {
					t.Fatalf("caret offset %d outside %q", perr.Offset, line)
				}
				continue
			}
			if inv.Negated {
				continue
			}
			var words []string
			for w := range inv.Words {
				words = append(words, w)
			}
			out, err := g.Render(inv.Decl, inv.Values, words...)
			if err != nil {
				t.Fatalf("%q parsed as %s but does not render: %v", line, inv.Decl.ID, err)
			}
			back, perr := g.Parse(m, out)
			if perr != nil || back.Decl.ID != inv.Decl.ID {
				t.Fatalf("%q rendered as %q which parses to %v %v", line, out, back, perr)
			}
		}
	})
}
