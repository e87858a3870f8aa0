package shell

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"sync/atomic"

	"github.com/chzyer/readline"

	"failover/engine/api"
)

// Terminal is an interactive session on a terminal.
type Terminal struct {
	b     Backend
	rl    *readline.Instance
	in    *os.File
	out   io.Writer
	ctrlZ atomic.Bool
	pager int
	// moreKey, while non-zero, makes the next key end the line: it is how
	// the pager reads one key through readline, which owns the terminal.
	moreMode atomic.Bool
	moreKey  atomic.Int32
	// prompt is the prompt on screen now; the "?" handler reprints it
	// above the help, as a device does.
	prompt atomic.Value
	// stdin is readline's reader of in, closed to end the session.
	stdin io.Closer
}

// NewTerminal prepares line editing on in/out (normally the process's
// stdin/stdout, which must be a terminal).
func NewTerminal(b Backend, in *os.File, out *os.File) (*Terminal, error) {
	// Cancelable: readline's Close waits for its reader, which would
	// otherwise sit in a read on the terminal, so "exit" hung until the
	// next key was pressed. readline does not close it itself.
	stdin := readline.NewCancelableStdin(in)
	t := &Terminal{b: b, in: in, out: out, stdin: stdin}
	cfg := &readline.Config{
		Stdin:  stdin,
		Stdout: out,
		Stderr: out,
		// readline disables Tab completion when the terminal reports a
		// width of 0 (serial consoles, some ptys): fall back to 80.
		FuncGetWidth: func() int {
			if w := readline.GetScreenWidth(); w > 0 {
				return w
			}
			return 80
		},
		FuncFilterInputRune: t.filterRune,
		AutoComplete:        completer{t},
		HistoryLimit:        100,
		InterruptPrompt:     "^C",
	}
	cfg.SetListener(t.onKey)
	rl, err := readline.NewEx(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to start line editing: %w", err)
	}
	t.rl = rl
	return t, nil
}

// filterRune turns Ctrl-Z into "end", as on IOS/PIX. readline would send
// SIGTSTP to the process group, which suspends an SSH login shell; we
// swallow it and end the current line as an interrupt.
func (t *Terminal) filterRune(r rune) (rune, bool) {
	// The filter runs on readline's key loop, the goroutine that prints
	// InterruptPrompt right after, so setting it here is race-free.
	if t.moreMode.Load() {
		t.moreKey.Store(int32(r))
		return readline.CharEnter, true
	}
	switch r {
	case readline.CharCtrlZ:
		t.ctrlZ.Store(true)
		t.rl.Config.InterruptPrompt = "^Z"
		return readline.CharInterrupt, true
	case readline.CharInterrupt:
		t.rl.Config.InterruptPrompt = "^C"
	}
	return r, true
}

// onKey answers "?" at once: the help goes under the line, the line is
// redrawn with the cursor where it was, and the "?" is not kept.
func (t *Terminal) onKey(line []rune, pos int, key rune) ([]rune, int, bool) {
	if key != '?' || pos == 0 || line[pos-1] != '?' {
		return nil, 0, false
	}
	before := string(line[:pos-1])
	rep, err := t.b.Do(api.Request{Op: api.OpHelp, Line: before})
	var msg string
	switch {
	case err != nil:
		msg = err.Error() + "\n"
	case rep.Failed():
		p, _ := t.prompt.Load().(string)
		msg = strings.Join(errorLines(p, before, rep, false), "\n") + "\n"
	default:
		msg = rep.Output
	}
	newLine := append(append([]rune{}, line[:pos-1]...), line[pos:]...)
	// Written through readline's stdout: it clears the edit line, prints,
	// and redraws prompt and line below.
	prompt, _ := t.prompt.Load().(string)
	fmt.Fprintf(t.rl.Stdout(), "%s%s\n%s", prompt, string(line), msg)
	return newLine, pos - 1, true
}

type completer struct{ t *Terminal }

// Do implements readline.AutoCompleter: it returns the suffixes that
// complete the word under the cursor.
func (c completer) Do(line []rune, pos int) ([][]rune, int) {
	before := string(line[:pos])
	rep, err := c.t.b.Do(api.Request{Op: api.OpComplete, Line: before})
	if err != nil || len(rep.Completions) == 0 {
		return nil, 0
	}
	partial := ""
	if !strings.HasSuffix(before, " ") {
		f := strings.Fields(before)
		partial = f[len(f)-1]
	}
	var out [][]rune
	for _, w := range rep.Completions {
		if len(w) < len(partial) {
			continue
		}
		suffix := w[len(partial):]
		if len(rep.Completions) == 1 {
			suffix += " "
		}
		out = append(out, []rune(suffix))
	}
	return out, len([]rune(partial))
}

// Run reads and runs lines until the session ends.
func (t *Terminal) Run() error {
	defer func() {
		t.stdin.Close()
		t.rl.Close()
	}()
	rep, err := t.b.Do(api.Request{Op: api.OpPrompt})
	if err != nil {
		return err
	}
	prompt := rep.Prompt
	t.pager = rep.Pager
	for {
		t.rl.SetPrompt(prompt)
		t.prompt.Store(prompt)
		line, err := t.rl.Readline()
		switch {
		case errors.Is(err, readline.ErrInterrupt):
			if !t.ctrlZ.Swap(false) {
				continue // Ctrl-C abandons the line
			}
			line = "end"
		case errors.Is(err, io.EOF):
			return nil
		case err != nil:
			return fmt.Errorf("failed to read a line: %w", err)
		}
		rep, filters, err := run(t.b, line)
		if err != nil {
			return err
		}
		if rep.NeedPassword {
			pw, perr := t.rl.ReadPassword("Password: ")
			if perr != nil {
				return nil
			}
			rep, err = t.b.Do(api.Request{Op: api.OpEnable, Password: string(pw)})
			if err != nil {
				return err
			}
		}
		out, ferr := applyFilters(rep.Output, filters)
		if ferr != nil {
			rep.Err, rep.Caret = ferr.Error(), 0
		}
		t.pager = rep.Pager
		t.page(out)
		if rep.Failed() {
			for _, l := range errorLines(prompt, line, rep, false) {
				fmt.Fprintln(t.out, l)
			}
		}
		if rep.Exit {
			return nil
		}
		prompt = rep.Prompt
	}
}
