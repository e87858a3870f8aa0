// Package shell is the operator's side of a session: line editing, instant
// "?" help, Tab completion, the pager, output filters and script mode. It
// holds no device state: every line goes to the engine through a Backend.
package shell

import (
	"fmt"
	"strings"

	"failover/engine/api"
	"failover/grammar"
)

// Backend carries requests to the engine (a socket client, or an
// in-process session for the daemon's console).
type Backend interface {
	Do(req api.Request) (api.Reply, error)
}

// batcher is a Backend that says whether its daemon takes api.OpBatch.
type batcher interface {
	Batches() bool
}

// run sends one line, splitting off output filters first (they are the
// shell's business: the engine sees only the command).
func run(b Backend, line string) (api.Reply, []grammar.Filter, error) {
	if len(line) > api.MaxLine {
		return api.Reply{Err: tooLong(len(line))}, nil, nil
	}
	cmd, filters, perr := grammar.SplitPipe(line)
	if perr != nil {
		r := api.Reply{Err: api.ErrorText(perr)}
		if perr.Kind == grammar.ErrInvalid {
			r.CaretAt(perr.Offset)
		}
		return r, nil, nil
	}
	rep, err := b.Do(api.Request{Op: api.OpExec, Line: cmd, Filter: filterText(line, cmd)})
	return rep, filters, err
}

// errorLines renders a failed reply under prefix+line (the caret counts the
// prefix, which is the prompt on a terminal).
func errorLines(prefix, line string, rep api.Reply, echo bool) []string {
	off, ok := rep.CaretOffset()
	if !ok {
		return strings.Split(strings.TrimRight(rep.Err, "\n"), "\n")
	}
	// The caret marks invalid input and wrong values alike; the message
	// under it is the engine's.
	return append(grammar.CaretLines(prefix, line, off, echo), strings.Split(strings.TrimRight(rep.Err, "\n"), "\n")...)
}

// tooLong is the error for a line the daemon would refuse; it is not
// sent (the engine says the same for a line that reaches it).
func tooLong(n int) string {
	return fmt.Sprintf("ERROR: line too long (%d characters, at most %d)", n, api.MaxLine)
}

func errPrefix(n int) string { return fmt.Sprintf("fosh: line %d: ", n) }

// filterText is the output filter part of line as typed ("| include X"),
// sent along so that show history lists the line whole.
func filterText(line, cmd string) string {
	if !strings.HasPrefix(line, cmd) {
		return ""
	}
	return strings.TrimSpace(line[len(cmd):])
}
