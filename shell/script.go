package shell

import (
	"bufio"
	"errors"
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
	lr := lineReader{r: bufio.NewReaderSize(r, 64<<10)}
	// Lines are read in a goroutine so that a daemon going away while the
	// input is slow (a script feeding lines over time) ends the run at
	// once with a message, not at the next line.
	lines := make(chan scriptLine)
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		defer close(lines)
		for {
			line, length, ok := lr.next()
			if !ok {
				return
			}
			select {
			case lines <- scriptLine{line, length}:
			case <-stop:
				return
			}
		}
	}()
	var gone <-chan struct{}
	if w, ok := b.(Watched); ok {
		gone = w.Done()
	}
	failed, n := 0, 0
	var size int // the length of the line read last
	next := func() (string, bool, error) {
		select {
		case l, ok := <-lines:
			if ok {
				n++
			}
			size = l.length
			return l.text, ok, nil
		case <-gone:
			return "", false, fmt.Errorf("lost the connection to failoverd: %w", b.(Watched).Err())
		}
	}
	for {
		line, ok, err := next()
		if err != nil {
			return failed + 1, err
		}
		if !ok {
			if lr.err != nil { // the reader has ended: no race on err
				return failed + 1, fmt.Errorf("failed to read input: %w", lr.err)
			}
			break
		}
		if size > api.MaxLine {
			// Not sent: the daemon would refuse it anyway.
			failed++
			fmt.Fprintf(stderr, "%s%s\n", errPrefix(n), tooLong(size))
			continue
		}
		rep, filters, err := run(b, line)
		if err != nil {
			return failed + 1, err
		}
		at := n // the line reported on failure, not the password's
		if rep.NeedPassword {
			// The script's next line answers "Password:".
			pw, _, _ := next()
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
	return failed, nil
}

type scriptLine struct {
	text   string
	length int
}

// lineReader reads lines of any length, keeping at most api.MaxLine+1
// bytes of each: an over-long line in a paste is one error (its length is
// still counted), and the lines after it run.
type lineReader struct {
	r   *bufio.Reader
	err error
}

func (lr *lineReader) next() (line string, length int, ok bool) {
	var kept []byte
	for {
		chunk, err := lr.r.ReadSlice('\n')
		length += len(chunk)
		if room := api.MaxLine + 2 - len(kept); room > 0 {
			kept = append(kept, chunk[:min(room, len(chunk))]...)
		}
		switch {
		case err == nil:
		case errors.Is(err, bufio.ErrBufferFull):
			continue
		case errors.Is(err, io.EOF):
			if length == 0 {
				return "", 0, false
			}
		default:
			lr.err = err
			if length == 0 {
				return "", 0, false
			}
		}
		// Drop the line end (LF or CR LF) from the text and its length.
		for _, c := range []byte{'\n', '\r'} {
			if len(chunk) > 0 && chunk[len(chunk)-1] == c {
				chunk = chunk[:len(chunk)-1]
				length--
				if len(kept) > 0 && kept[len(kept)-1] == c {
					kept = kept[:len(kept)-1]
				}
			}
		}
		return string(kept), length, true
	}
}
