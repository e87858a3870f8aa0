package grammar

import (
	"flag"
	"os"
	"strings"
	"testing"
)

var updateMan = flag.Bool("update-man", false, "rewrite the configuration reference manual page from the declarations")

const manPath = "../examples/package/failover-config.5"

// roffEscape protects what roff would take as requests or escapes.
func roffEscape(s string) string {
	s = strings.ReplaceAll(s, `\`, `\e`)
	s = strings.ReplaceAll(s, "-", `\-`)
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "'") {
		s = `\&` + s
	}
	return s
}

// manReference renders failover-config(5): the same rows as the README's
// table, one tagged paragraph per command, a section per mode.
func manReference() string {
	var b strings.Builder
	b.WriteString(`.\" Generated from the command declarations: go test ./grammar -run TestManReference -update-man
.TH FAILOVER\-CONFIG 5 "" "failover" "File Formats"
.SH NAME
failover\-config \- configuration commands of failoverd and fosh
.SH DESCRIPTION
The startup-config of
.BR failoverd (8)
and what
.BR fosh (1)
accepts are the same PIX/ASA command lines. Keywords may be abbreviated to
any unique prefix; \fBno\fR before a command marked [no] undoes it. The
running-config prints every command in the form given here, and every
printed line reads back to the same configuration.
Words in angle brackets are values, square brackets are optional and
a|b is a choice.
`)
	rows := refRows()
	for i, r := range rows {
		if i == 0 || rows[i-1].mode != r.mode {
			b.WriteString(".SH \"" + strings.ToUpper(roffEscape(r.mode.String())) + " MODE\"\n")
		}
		b.WriteString(".TP\n.B " + roffEscape(r.usage) + "\n" + roffEscape(r.help) + "\n")
	}
	b.WriteString(".SH SEE ALSO\n.BR failoverd (8),\n.BR fosh (1)\n")
	return b.String()
}

// TestManReference keeps the manual page identical to the declarations.
func TestManReference(t *testing.T) {
	want := manReference()
	if *updateMan {
		if err := os.WriteFile(manPath, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	got, err := os.ReadFile(manPath)
	if err != nil || string(got) != want {
		t.Fatalf("%s is out of date (%v): run go test ./grammar -run TestManReference -update-man", manPath, err)
	}
}
