package shell

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"golang.org/x/term"

	"failover/engine/api"
)

// Watched is a Backend that can tell when its daemon went away (the socket
// client); the shell then says so at once instead of at the next Enter.
type Watched interface {
	Done() <-chan struct{}
	Err() error
}

// Terminal is an interactive session on a terminal.
type Terminal struct {
	b      Backend
	in     *input
	inFile *os.File
	out    *os.File
	pager  int
	hist   history
	// dropped counts the characters of the current line beyond
	// api.MaxLine: not kept, only counted for the error message.
	dropped int
	// Redial, when set, opens a new session after the daemon went away;
	// the terminal waits for the daemon to come back instead of ending.
	Redial func() (Backend, error)
}

// errGone means the daemon went away during the session.
var errGone = errors.New("failoverd went away")

// NewTerminal prepares line editing on in/out (normally the process's
// stdin/stdout, which must be a terminal).
func NewTerminal(b Backend, in *os.File, out *os.File) (*Terminal, error) {
	if !term.IsTerminal(int(in.Fd())) {
		return nil, fmt.Errorf("failed to start line editing: %s is not a terminal", in.Name())
	}
	return &Terminal{b: b, in: inputFor(in), inFile: in, out: out}, nil
}

// write prints command output; the terminal is in raw mode, so line ends
// are sent as CR LF, as a device sends them.
func (t *Terminal) write(s string) { io.WriteString(t.out, crlf(s)) }

func crlf(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")
}

// CRLF is w with LF sent as CR LF: for other output on a terminal that a
// session has in raw mode (the daemon's log beside its console).
func CRLF(w io.Writer) io.Writer { return crlfWriter{w} }

type crlfWriter struct{ w io.Writer }

func (c crlfWriter) Write(p []byte) (int, error) {
	if _, err := io.WriteString(c.w, crlf(string(p))); err != nil {
		return 0, err
	}
	return len(p), nil
}

func (t *Terminal) width() int {
	w, _, err := term.GetSize(int(t.out.Fd()))
	if err != nil {
		return 0
	}
	return w
}

// done fires when the backend's daemon went away (never for backends that
// cannot tell).
func (t *Terminal) done() <-chan struct{} {
	if w, ok := t.b.(Watched); ok {
		return w.Done()
	}
	return nil
}

// Run reads and runs lines until the session ends.
func (t *Terminal) Run() error {
	st, err := term.MakeRaw(int(t.inFile.Fd()))
	if err != nil {
		return fmt.Errorf("failed to set the terminal to raw mode: %w", err)
	}
	defer term.Restore(int(t.inFile.Fd()), st)
	for {
		err := t.session()
		if !errors.Is(err, errGone) {
			return err
		}
		reason := err.Error()
		if w, ok := t.b.(Watched); ok && w.Err() != nil {
			reason = w.Err().Error()
		}
		t.write(fmt.Sprintf("\nfosh: lost the connection to failoverd: %s\n", reason))
		if t.Redial == nil {
			return err
		}
		if !t.reconnect() {
			return err
		}
	}
}

// reconnect waits for the daemon to come back (a new session, user EXEC).
// It gives up when the operator presses Ctrl-C or Ctrl-D, or input ends.
func (t *Terminal) reconnect() bool {
	t.write("fosh: waiting for failoverd to come back (Ctrl-C to quit)\n")
	keys := make(chan key)
	stop, exited := make(chan struct{}), make(chan struct{})
	// The reader must be gone before the session reads keys again.
	defer func() { close(stop); <-exited }()
	go func() {
		defer close(exited)
		for {
			k, ok := t.in.next(stop)
			if !ok {
				k = key{code: keyEOF}
			}
			select {
			case keys <- k:
			case <-stop:
				return
			}
			if !ok {
				return
			}
		}
	}()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for {
		if b, err := t.Redial(); err == nil {
			if c, ok := t.b.(io.Closer); ok {
				c.Close()
			}
			t.b = b
			t.write("fosh: connected to failoverd again (new session)\n")
			return true
		}
		select {
		case k := <-keys:
			if k.code == keyInterrupt || k.code == keyEOF {
				return false
			}
		case <-tick.C:
		}
	}
}

// lineEnd says how reading a line ended.
type lineEnd int

const (
	lineEntered lineEnd = iota
	lineInterrupted
	lineSuspended
	lineEOF
	lineGone
)

// session runs one session until it ends or its daemon goes away.
func (t *Terminal) session() error {
	rep, err := t.b.Do(api.Request{Op: api.OpPrompt})
	if err != nil {
		return fmt.Errorf("%w: %v", errGone, err)
	}
	prompt := rep.Prompt
	t.pager = rep.Pager
	for {
		line, end := t.readLine(prompt)
		switch end {
		case lineGone:
			return errGone
		case lineEOF:
			return nil
		case lineInterrupted:
			continue
		case lineSuspended:
			// Ctrl-Z is "end"; in EXEC it only gives a new prompt.
			rep, err := t.b.Do(api.Request{Op: api.OpExec, Line: "end"})
			if err != nil {
				return fmt.Errorf("%w: %v", errGone, err)
			}
			prompt = rep.Prompt
			continue
		}
		if t.dropped > 0 {
			// A pasted line too long to send: one error, and the paste
			// goes on with the next line.
			t.write(tooLong(len(line)+t.dropped) + "\n")
			continue
		}
		t.hist.add(line)
		rep, filters, err := run(t.b, line)
		if err != nil {
			return fmt.Errorf("%w: %v", errGone, err)
		}
		for rep.NeedPassword { // asked again after a wrong password
			pw, end := t.readPassword("Password: ")
			switch end {
			case lineGone:
				return errGone
			case lineEOF:
				return nil
			case lineEntered:
				if rep, err = t.b.Do(api.Request{Op: api.OpEnable, Password: pw}); err != nil {
					return fmt.Errorf("%w: %v", errGone, err)
				}
			default: // Ctrl-C: back to the prompt
				rep.NeedPassword = false
			}
		}
		out, ferr := applyFilters(rep.Output, filters)
		if ferr != nil {
			rep.Err, rep.Caret = api.ErrorText(ferr), 0
		}
		t.pager = rep.Pager
		if !t.page(out) {
			return errGone
		}
		if rep.Failed() {
			t.write(strings.Join(errorLines(prompt, line, rep, false), "\n") + "\n")
		}
		if rep.Exit {
			return nil
		}
		if rep.Prompt != "" {
			prompt = rep.Prompt
		}
	}
}

// readLine edits one line after prompt.
func (t *Terminal) readLine(prompt string) (string, lineEnd) {
	ed := newEditor(t.out, t.width, prompt, true)
	t.hist.reset()
	t.dropped = 0
	for {
		k, ok := t.in.next(t.done())
		if !ok {
			if t.isGone() {
				return "", lineGone
			}
			ed.finish("")
			return "", lineEOF
		}
		switch k.code {
		case keyRune:
			if k.r == '?' {
				t.help(ed)
				continue
			}
			if len(ed.line) <= api.MaxLine {
				ed.insert([]rune{k.r})
			} else {
				t.dropped++
			}
		case keyEnter:
			ed.finish("")
			return ed.String(), lineEntered
		case keyEOF:
			if len(ed.line) == 0 {
				ed.finish("")
				return "", lineEOF
			}
			ed.deleteUnder()
		case keyUp, keyDown:
			if s, ok := t.hist.move(k.code == keyUp, ed.String()); ok {
				ed.replace([]rune(s), len([]rune(s)))
			}
		case keyTab:
			t.complete(ed)
		case keyRedraw:
			ed.finish("")
			ed.redraw()
		case keyInterrupt:
			ed.finish("^C")
			return "", lineInterrupted
		case keySuspend:
			ed.finish("^Z")
			return "", lineSuspended
		default:
			ed.edit(k)
		}
	}
}

func (t *Terminal) isGone() bool {
	select {
	case <-t.done():
		return true
	default:
		return false
	}
}

// readPassword reads a line without echoing anything of it.
func (t *Terminal) readPassword(prompt string) (string, lineEnd) {
	ed := newEditor(t.out, t.width, prompt, false)
	for {
		k, ok := t.in.next(t.done())
		if !ok {
			if t.isGone() {
				return "", lineGone
			}
			return "", lineEOF
		}
		switch k.code {
		case keyRune:
			ed.insert([]rune{k.r})
		case keyBackspace:
			ed.backspace()
		case keyKillStart:
			ed.replace(nil, 0)
		case keyEnter:
			ed.finish("")
			return ed.String(), lineEntered
		case keyInterrupt, keyEOF:
			ed.finish("")
			return "", lineInterrupted
		}
	}
}

// help answers "?" at once, as a device does: the "?" is echoed, the help
// goes under the line, and prompt and line are written again without it.
func (t *Terminal) help(ed *editor) {
	before := string(ed.line[:ed.pos])
	rep, err := t.b.Do(api.Request{Op: api.OpHelp, Line: before})
	ed.finish("?")
	switch {
	case err != nil:
		t.write(err.Error() + "\n")
	case rep.Failed():
		t.write(strings.Join(errorLines(string(ed.prompt), before, rep, false), "\n") + "\n")
	default:
		t.write(rep.Output)
	}
	ed.redraw()
}

// complete answers Tab: a unique completion is typed with a blank after
// it; several are typed as far as they agree, and listed when they agree
// no further than what is typed.
func (t *Terminal) complete(ed *editor) {
	before := string(ed.line[:ed.pos])
	rep, err := t.b.Do(api.Request{Op: api.OpComplete, Line: before})
	if err != nil || len(rep.Completions) == 0 {
		return
	}
	partial := ""
	if f := strings.Fields(before); len(f) > 0 && !strings.HasSuffix(before, " ") {
		partial = f[len(f)-1]
	}
	words := rep.Completions
	if len(words) == 1 {
		if len(words[0]) >= len(partial) {
			ed.insert([]rune(words[0][len(partial):] + " "))
		}
		return
	}
	common := words[0]
	for _, w := range words[1:] {
		n := 0
		for n < len(common) && n < len(w) && common[n] == w[n] {
			n++
		}
		common = common[:n]
	}
	if len(common) > len(partial) {
		ed.insert([]rune(common[len(partial):]))
		return
	}
	ed.finish("")
	t.write(strings.Join(words, "  ") + "\n")
	ed.redraw()
}

// history is the session's list of entered lines for the arrow keys.
type history struct {
	lines   []string
	at      int    // index being shown; len(lines) = the line being typed
	pending string // the line being typed before moving into the history
}

const historyLimit = 100

func (h *history) add(line string) {
	line = strings.TrimSpace(line)
	if line == "" || (len(h.lines) > 0 && h.lines[len(h.lines)-1] == line) {
		return
	}
	h.lines = append(h.lines, line)
	if len(h.lines) > historyLimit {
		h.lines = h.lines[1:]
	}
}

func (h *history) reset() { h.at = len(h.lines) }

// move goes one entry back (up) or forward; ok is false at either end.
func (h *history) move(up bool, current string) (string, bool) {
	if h.at == len(h.lines) {
		h.pending = current
	}
	switch {
	case up && h.at > 0:
		h.at--
	case !up && h.at < len(h.lines):
		h.at++
	default:
		return "", false
	}
	if h.at == len(h.lines) {
		return h.pending, true
	}
	return h.lines[h.at], true
}
