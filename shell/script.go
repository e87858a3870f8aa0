package shell

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"failover/engine/api"
	"failover/grammar"
)

// RunScript runs lines from r as if typed, for pasted configurations,
// "fosh < file" and "fosh -c". Output is only what commands print (stdout)
// and the error lines, each naming its line number (stderr); there are no
// prompts and no echo. "?" is an ordinary character here. It returns the
// number of failed lines; a transport error stops the script.
//
// Lines already read ahead (a paste, a file) go to the daemon in batches
// (api.OpBatch), which it applies as one change; the output and the
// errors are the same as line by line.
func RunScript(b Backend, r io.Reader, stdout, stderr io.Writer) (int, error) {
	if w, ok := b.(Watched); ok {
		r = newWatchedReader(r, w)
	}
	sc := script{b: b, lr: lineReader{r: bufio.NewReaderSize(r, 64<<10)}, stdout: stdout, stderr: stderr}
	if bb, ok := b.(batcher); ok {
		sc.batch = bb.Batches()
	}
	return sc.run()
}

// scriptLine is a line read and not yet run.
type scriptLine struct {
	n       int    // line number, from 1
	text    string // as read
	size    int    // its length, also when longer than kept
	cmd     string // without its output filters
	filters []grammar.Filter
	local   *api.Reply // an error found here: the line is not sent
}

type script struct {
	b              Backend
	lr             lineReader
	stdout, stderr io.Writer
	n, failed      int
	queue          []scriptLine
	batch          bool // the daemon takes batches
}

// read reads one line into the queue; false at the end of the input.
func (sc *script) read() bool {
	line, length, ok := sc.lr.next()
	if !ok {
		return false
	}
	sc.n++
	sl := scriptLine{n: sc.n, text: line, size: length}
	if length > api.MaxLine {
		sl.local = &api.Reply{Err: tooLong(length)}
	} else if cmd, filters, perr := grammar.SplitPipe(line); perr != nil {
		r := api.Reply{Err: api.ErrorText(perr)}
		if perr.Kind == grammar.ErrInvalid {
			r.CaretAt(perr.Offset)
		}
		sl.local = &r
	} else {
		sl.cmd, sl.filters = cmd, filters
	}
	sc.queue = append(sc.queue, sl)
	return true
}

func (sc *script) run() (int, error) {
	for {
		if len(sc.queue) == 0 && !sc.read() {
			break
		}
		// Lines already in the buffer join without waiting for input.
		for sc.batch && len(sc.queue) < api.MaxBatch && sc.lr.lineBuffered() && sc.read() {
		}
		if head := sc.queue[0]; head.local != nil {
			sc.queue = sc.queue[1:]
			if head.size > api.MaxLine {
				sc.failed++
				fmt.Fprintf(sc.stderr, "%s%s\n", errPrefix(head.n), head.local.Err)
			} else {
				sc.report(head, *head.local)
			}
			continue
		}
		reps, err := sc.send()
		if err != nil {
			return sc.failed + 1, err
		}
		for _, rep := range reps {
			sl := sc.queue[0]
			sc.queue = sc.queue[1:]
			if rep.NeedPassword {
				// The script's next line answers "Password:".
				if len(sc.queue) == 0 {
					sc.read()
				}
				pw := ""
				if len(sc.queue) > 0 {
					pw = sc.queue[0].text
					sc.queue = sc.queue[1:]
				}
				if rep, err = sc.b.Do(api.Request{Op: api.OpEnable, Password: pw}); err != nil {
					return sc.failed + 1, err
				}
			}
			sc.report(sl, rep)
			if rep.Exit {
				return sc.finish()
			}
		}
	}
	return sc.finish()
}

// send runs the lines at the head of the queue that can go together and
// returns a reply for each line run (a prefix of them).
func (sc *script) send() ([]api.Reply, error) {
	k, size := 0, 0
	for sc.batch && k < len(sc.queue) && k < api.MaxBatch && sc.queue[k].local == nil {
		enc, _ := json.Marshal(sc.queue[k].cmd)
		if k > 0 && size+len(enc)+1 > api.MaxBatchBytes {
			break
		}
		size += len(enc) + 1
		k++
	}
	if k > 1 {
		lines, filters := make([]string, k), make([]string, k)
		for i := range lines {
			lines[i], filters[i] = sc.queue[i].cmd, filterText(sc.queue[i].text, sc.queue[i].cmd)
		}
		rep, err := sc.b.Do(api.Request{Op: api.OpBatch, Lines: lines, Filters: filters})
		if err != nil {
			return nil, err
		}
		if len(rep.Replies) == 0 || len(rep.Replies) > k {
			return nil, fmt.Errorf("failed to run a batch of %d lines: %d replies", k, len(rep.Replies))
		}
		return rep.Replies, nil
	}
	sl := sc.queue[0]
	rep, err := sc.b.Do(api.Request{Op: api.OpExec, Line: sl.cmd, Filter: filterText(sl.text, sl.cmd)})
	return []api.Reply{rep}, err
}

// report prints what a line gave: its filtered output, and its error
// under its line number.
func (sc *script) report(sl scriptLine, rep api.Reply) {
	out, ferr := applyFilters(rep.Output, sl.filters)
	if ferr != nil {
		rep.Err, rep.Caret = api.ErrorText(ferr), 0
	}
	io.WriteString(sc.stdout, out)
	if !rep.Failed() {
		return
	}
	sc.failed++
	prefix := errPrefix(sl.n)
	if _, caret := rep.CaretOffset(); !caret {
		fmt.Fprintf(sc.stderr, "%s%s\n", prefix, strings.TrimSpace(sl.text))
	}
	for _, l := range errorLines(prefix, sl.text, rep, true) {
		fmt.Fprintln(sc.stderr, l)
	}
}

func (sc *script) finish() (int, error) {
	if errors.Is(sc.lr.err, errLost) {
		return sc.failed + 1, sc.lr.err
	}
	if sc.lr.err != nil {
		return sc.failed + 1, fmt.Errorf("failed to read input: %w", sc.lr.err)
	}
	return sc.failed, nil
}

// lineReader reads lines of any length, keeping at most api.MaxLine+1
// bytes of each: an over-long line in a paste is one error (its length is
// still counted), and the lines after it run.
type lineReader struct {
	r   *bufio.Reader
	err error
}

// lineBuffered says whether a whole line is already buffered, so that
// reading it does not wait for input.
func (lr *lineReader) lineBuffered() bool {
	n := lr.r.Buffered()
	if n == 0 {
		return false
	}
	b, _ := lr.r.Peek(n)
	return bytes.IndexByte(b, '\n') >= 0
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

// errLost ends a script whose daemon went away.
var errLost = errors.New("lost the connection to failoverd")

// watchedReader reads the script's input in a goroutine, so that a daemon
// going away while the input is slow (a program feeding lines over time)
// ends the run at once with a message, not at the next line.
type watchedReader struct {
	chunks  chan []byte // closed at the end of the input
	readErr error       // why the input ended; set before chunks is closed
	rest    []byte
	w       Watched
}

func newWatchedReader(r io.Reader, w Watched) *watchedReader {
	wr := &watchedReader{chunks: make(chan []byte), w: w}
	go func() {
		for {
			b := make([]byte, 32<<10)
			n, err := r.Read(b)
			if n > 0 {
				select {
				case wr.chunks <- b[:n]:
				case <-w.Done():
					return
				}
			}
			if err != nil {
				wr.readErr = err
				close(wr.chunks)
				return
			}
		}
	}()
	return wr
}

func (wr *watchedReader) Read(p []byte) (int, error) {
	if len(wr.rest) == 0 {
		select {
		case b, ok := <-wr.chunks:
			if !ok {
				return 0, wr.readErr
			}
			wr.rest = b
		case <-wr.w.Done():
			return 0, fmt.Errorf("%w: %v", errLost, wr.w.Err())
		}
	}
	n := copy(p, wr.rest)
	wr.rest = wr.rest[n:]
	return n, nil
}
