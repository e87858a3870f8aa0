package main

import (
	"errors"
	"failover/engine/api"
	"fmt"
	"io"
	"os"
	"strings"

	"failover/engine/config"
	"failover/grammar"
)

// check parses and validates a startup-config offline, as the daemon loads
// it at start, and prints each failed line as fosh prints the errors of a
// script ("PATH: line N: ..." with the caret under the offending word). It
// returns the exit status: 0 when every line applies, 1 when any fails, 2
// when the file cannot be read. Nothing is applied to the system.
func check(path string, stdout, stderr io.Writer) int {
	b, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "failoverd: failed to read %s: %v\n", path, err)
		return 2
	}
	n := checkText(path, string(b), stderr)
	if n > 0 {
		fmt.Fprintf(stderr, "%s: %d line(s) rejected\n", path, n)
		return 1
	}
	fmt.Fprintf(stdout, "%s: configuration OK\n", path)
	return 0
}

// checkText writes the errors of text under name and returns their number.
func checkText(name, text string, w io.Writer) int {
	_, errs := config.ApplyLines(config.New(), text)
	for _, err := range errs {
		for _, l := range checkLines(name, err) {
			fmt.Fprintln(w, l)
		}
	}
	return len(errs)
}

// checkLines renders one error as the shell's script mode does.
func checkLines(name string, err error) []string {
	var le *config.LineError
	if !errors.As(err, &le) {
		return []string{name + ": " + err.Error()}
	}
	prefix := fmt.Sprintf("%s: line %d: ", name, le.N)
	line := strings.TrimRight(le.Line, "\r")
	var ge *grammar.Error
	msg := strings.Split(strings.TrimRight(api.ErrorText(le.Err), "\n"), "\n")
	if errors.As(le.Err, &ge) && (ge.Kind == grammar.ErrInvalid || ge.Kind == grammar.ErrValue) {
		return append(grammar.CaretLines(prefix, line, ge.Offset, true), msg...)
	}
	return append([]string{prefix + strings.TrimSpace(line)}, msg...)
}
