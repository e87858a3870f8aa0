package grammar

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var updateReadme = flag.Bool("update-readme", false, "rewrite the README's command reference from the declarations")

const (
	refBegin = "<!-- BEGIN COMMAND REFERENCE (generated: go test ./grammar -run TestReadmeReference -update-readme) -->"
	refEnd   = "<!-- END COMMAND REFERENCE -->"
)

// refRow is one command of the reference: its mode, usage and help.
type refRow struct {
	mode        Mode
	usage, help string
}

// refRows lists every visible declaration, grouped by mode, in PIX usage
// notation with its help (the README table and the manual page).
func refRows() []refRow {
	g, _ := Product()
	var rows []refRow
	for m := ModeExec; m <= ModeTrack; m++ {
		for _, d := range g.Decls() {
			if d.Hidden || d.Modes[0] != m {
				continue
			}
			syn := UsageSyntax(d.Syntax)
			if d.NoMin > 0 {
				syn = "[no] " + syn
			}
			help := ""
			// The help of the last keyword before any option or value
			// names the command best ("terminal width" -> "width").
			for _, tok := range scanSpec(d.Syntax) {
				if strings.ContainsAny(tok[:1], "[(<") {
					break
				}
				if h := d.Help[strings.Split(tok, "$")[0]]; h != "" {
					help = h
				}
			}
			if d.Priv {
				help += " (privileged)"
			}
			rows = append(rows, refRow{m, syn, help})
		}
	}
	return rows
}

// reference renders the rows as the README's Markdown tables.
func reference() string {
	var b strings.Builder
	rows := refRows()
	for i, r := range rows {
		if i == 0 || rows[i-1].mode != r.mode {
			b.WriteString("\n**" + r.mode.String() + "**\n\n| command | what it does |\n| --- | --- |\n")
		}
		b.WriteString("| `" + strings.ReplaceAll(r.usage, "|", "\\|") + "` | " + r.help + " |\n")
	}
	return b.String()
}

// TestReadmeReference keeps the README's command reference identical to
// what the declarations say.
func TestReadmeReference(t *testing.T) {
	raw, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	s := string(raw)
	i, j := strings.Index(s, refBegin), strings.Index(s, refEnd)
	if i < 0 || j < i {
		t.Fatal("README.md has no command reference markers")
	}
	want := s[:i+len(refBegin)] + "\n" + reference() + "\n" + s[j:]
	if *updateReadme {
		if err := os.WriteFile("../README.md", []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if want != s {
		t.Fatal("README command reference is out of date: run go test ./grammar -run TestReadmeReference -update-readme")
	}
}
