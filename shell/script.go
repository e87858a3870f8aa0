package shell

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"failover/engine/api"
)

// RunScript runs lines from r as if typed, for pasted configurations,
// "fosh < file" and "fosh -c". Output is only what commands print (stdout)
// and the error lines, each naming its line number (stderr); there are no
// prompts and no echo. "?" is an ordinary character here. It returns the
// number of failed lines; a transport error stops the script.
func RunScript(b Backend, r io.Reader, stdout, stderr io.Writer) (int, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	failed, n := 0, 0
	next := func() (string, bool) {
		if !sc.Scan() {
			return "", false
		}
		n++
		return strings.TrimRight(sc.Text(), "\r"), true
	}
	for {
		line, ok := next()
		if !ok {
			break
		}
		rep, filters, err := run(b, line)
		if err != nil {
			return failed + 1, err
		}
		at := n // the line reported on failure, not the password's
		if rep.NeedPassword {
			// The script's next line answers "Password:".
			pw, _ := next()
			rep, err = b.Do(api.Request{Op: api.OpEnable, Password: pw})
			if err != nil {
				return failed + 1, err
			}
		}
		out, ferr := applyFilters(rep.Output, filters)
		if ferr != nil {
			rep.Err, rep.Caret = ferr.Error(), 0
		}
		io.WriteString(stdout, out)
		if rep.Failed() {
			failed++
			prefix := errPrefix(at)
			if _, caret := rep.CaretOffset(); !caret {
				fmt.Fprintf(stderr, "%s%s\n", prefix, strings.TrimSpace(line))
			}
			for _, l := range errorLines(prefix, line, rep, true) {
				fmt.Fprintln(stderr, l)
			}
		}
		if rep.Exit {
			break
		}
	}
	if err := sc.Err(); err != nil {
		return failed + 1, fmt.Errorf("failed to read input: %w", err)
	}
	return failed, nil
}
