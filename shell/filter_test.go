package shell

import (
	"strings"
	"testing"

	"failover/grammar"
)

const sample = `: Saved
interface outside auto
nameif outside outside security0
hostname fw
route outside 0.0.0.0 0.0.0.0 192.0.2.1 1
route inside 192.0.2.128 255.255.255.128 198.51.100.254 1
: end
`

func TestApplyFilters(t *testing.T) {
	for _, tc := range []struct {
		line string // a show command with filters, split as the shell does
		want string
	}{
		{"show run", sample},
		{"show run | include ^route", "route outside 0.0.0.0 0.0.0.0 192.0.2.1 1\nroute inside 192.0.2.128 255.255.255.128 198.51.100.254 1\n"},
		{"show run | in outside", "interface outside auto\nnameif outside outside security0\nroute outside 0.0.0.0 0.0.0.0 192.0.2.1 1\n"},
		{"show run | exclude ^(:|route)", "interface outside auto\nnameif outside outside security0\nhostname fw\n"},
		{"show run | begin ^hostname", "hostname fw\nroute outside 0.0.0.0 0.0.0.0 192.0.2.1 1\nroute inside 192.0.2.128 255.255.255.128 198.51.100.254 1\n: end\n"},
		{"show run | b nomatch", ""},
		{"show run | grep security", "nameif outside outside security0\n"},
		{"show run | grep -v o", ": Saved\n: end\n"},
		{"show run | include route | exclude inside", "route outside 0.0.0.0 0.0.0.0 192.0.2.1 1\n"},
		{"show run | begin route | include inside", "route inside 192.0.2.128 255.255.255.128 198.51.100.254 1\n"},
		{"show run | include 192.0.2.1 1", "route outside 0.0.0.0 0.0.0.0 192.0.2.1 1\n"},                              // the pattern is the rest, spaces included
		{"show run | include a|b", ": Saved\ninterface outside auto\nnameif outside outside security0\nhostname fw\n"}, // "|" inside a word is part of the regexp
		{"show run | include x", ""},
	} {
		cmd, filters, perr := grammar.SplitPipe(tc.line)
		if perr != nil {
			t.Fatalf("%q: %v", tc.line, perr)
		}
		if cmd != "show run" {
			t.Errorf("%q: command %q", tc.line, cmd)
		}
		got, err := applyFilters(sample, filters)
		if err != nil {
			t.Fatalf("%q: %v", tc.line, err)
		}
		if got != tc.want {
			t.Errorf("%q:\ngot:\n%s\nwant:\n%s", tc.line, got, tc.want)
		}
	}
}

func TestApplyFiltersEdgeCases(t *testing.T) {
	// No trailing newline in, one out; empty text stays empty.
	got, err := applyFilters("a\nb", []grammar.Filter{{Kind: "include", Pattern: "b"}})
	if err != nil || got != "b\n" {
		t.Fatalf("got %q, %v", got, err)
	}
	if got, err := applyFilters("", []grammar.Filter{{Kind: "include", Pattern: "x"}}); err != nil || got != "" {
		t.Fatalf("empty text: got %q, %v", got, err)
	}
	// A bad regular expression is an error, not "no match".
	_, err = applyFilters(sample, []grammar.Filter{{Kind: "include", Pattern: "[unclosed"}})
	if err == nil || !strings.Contains(err.Error(), "invalid regular expression") {
		t.Fatalf("bad regexp: err = %v", err)
	}
	// A later bad filter fails the whole chain.
	_, err = applyFilters(sample, []grammar.Filter{{Kind: "include", Pattern: "o"}, {Kind: "grep", Pattern: "("}})
	if err == nil {
		t.Fatal("bad regexp in the second filter accepted")
	}
	// grep -v of everything.
	if got, _ := applyFilters(sample, []grammar.Filter{{Kind: "grep", Invert: true, Pattern: ""}}); got != "" {
		t.Fatalf("grep -v '' = %q", got)
	}
}
