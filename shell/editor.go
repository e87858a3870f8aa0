package shell

import (
	"fmt"
	"io"
	"strings"
)

// editor is the line being typed after a prompt, and what is on the
// terminal for it. It writes what a Cisco device writes: typed characters
// are echoed as typed and nothing else is sent unless the operator edits
// inside the line; then it sends the least that puts the screen right:
// backspaces to move left on the same row, the characters themselves to
// move right, spaces to erase, and a cursor-up escape sequence only to go
// back across a wrapped row.
//
// Positions are cells counted from the first cell of the prompt; every
// character takes one cell (the CLI's words are ASCII).
type editor struct {
	w      io.Writer
	width  func() int
	prompt []rune
	line   []rune
	pos    int  // cursor in line
	cur    int  // cursor cell on the terminal
	echo   bool // false while reading a password
	// wrapped is set when the last write ended exactly at the right
	// margin: terminals then keep the cursor on the last column until the
	// next character, so before moving it we first write the character
	// under it to land on the next row as assumed.
	wrapped bool
}

func newEditor(w io.Writer, width func() int, prompt string, echo bool) *editor {
	ed := &editor{w: w, width: width, prompt: []rune(prompt), echo: true}
	ed.writeCells(0, len(ed.prompt))
	ed.echo = echo
	return ed
}

func (ed *editor) cols() int {
	if w := ed.width(); w > 0 {
		return w
	}
	return 80 // the terminal does not say (serial consoles, some ptys)
}

func (ed *editor) put(s string) {
	if ed.echo || s == "\r\n" {
		io.WriteString(ed.w, s)
	}
}

// cell is what cell c shows: the prompt, the line, blank after it.
func (ed *editor) cell(c int) rune {
	switch {
	case c < len(ed.prompt):
		return ed.prompt[c]
	case c-len(ed.prompt) < len(ed.line):
		return ed.line[c-len(ed.prompt)]
	}
	return ' '
}

// writeCells writes cells [a, b), the cursor being at a.
func (ed *editor) writeCells(a, b int) {
	if b <= a {
		return
	}
	var s strings.Builder
	for c := a; c < b; c++ {
		s.WriteRune(ed.cell(c))
	}
	ed.put(s.String())
	ed.cur = b
	ed.wrapped = b%ed.cols() == 0
}

// moveTo puts the cursor on cell c.
func (ed *editor) moveTo(c int) {
	if c == ed.cur {
		return
	}
	if c > ed.cur {
		ed.writeCells(ed.cur, c)
		return
	}
	if ed.wrapped {
		ed.put(string(ed.cell(ed.cur)) + "\b")
		ed.wrapped = false
	}
	w := ed.cols()
	if up := ed.cur/w - c/w; up > 0 {
		ed.put(fmt.Sprintf("\x1b[%dA\r", up))
		if col := c % w; col > 0 {
			ed.put(fmt.Sprintf("\x1b[%dC", col))
		}
	} else {
		ed.put(strings.Repeat("\b", ed.cur-c))
	}
	ed.cur = c
}

func (ed *editor) cellOf(pos int) int { return len(ed.prompt) + pos }

// setPos moves the cursor within the line.
func (ed *editor) setPos(pos int) {
	ed.pos = max(0, min(pos, len(ed.line)))
	ed.moveTo(ed.cellOf(ed.pos))
}

// insert types s at the cursor.
func (ed *editor) insert(s []rune) {
	if len(s) == 0 {
		return
	}
	ed.line = append(ed.line[:ed.pos], append(append([]rune{}, s...), ed.line[ed.pos:]...)...)
	ed.writeCells(ed.cur, ed.cellOf(len(ed.line)))
	ed.setPos(ed.pos + len(s))
}

// replace changes the line to s with the cursor at pos, rewriting only
// from the first cell that differs.
func (ed *editor) replace(s []rune, pos int) {
	old := ed.line
	same := 0
	for same < len(old) && same < len(s) && old[same] == s[same] {
		same++
	}
	ed.line = append([]rune{}, s...)
	ed.moveTo(ed.cellOf(same))
	ed.writeCells(ed.cur, ed.cellOf(max(len(old), len(s))))
	ed.setPos(pos)
}

func (ed *editor) backspace() {
	if ed.pos > 0 {
		ed.replace(append(append([]rune{}, ed.line[:ed.pos-1]...), ed.line[ed.pos:]...), ed.pos-1)
	}
}

func (ed *editor) deleteUnder() {
	if ed.pos < len(ed.line) {
		ed.replace(append(append([]rune{}, ed.line[:ed.pos]...), ed.line[ed.pos+1:]...), ed.pos)
	}
}

// edit applies a key that only moves the cursor or changes the line;
// other keys are the caller's.
func (ed *editor) edit(k key) {
	switch k.code {
	case keyBackspace:
		ed.backspace()
	case keyDelete:
		ed.deleteUnder()
	case keyLeft:
		ed.setPos(ed.pos - 1)
	case keyRight:
		ed.setPos(ed.pos + 1)
	case keyHome:
		ed.setPos(0)
	case keyEnd:
		ed.setPos(len(ed.line))
	case keyKillStart:
		ed.replace(ed.line[ed.pos:], 0)
	case keyKillEnd:
		ed.replace(ed.line[:ed.pos], ed.pos)
	case keyKillWord:
		ed.killWord()
	}
}

func (ed *editor) killWord() {
	i := ed.pos
	for i > 0 && ed.line[i-1] == ' ' {
		i--
	}
	for i > 0 && ed.line[i-1] != ' ' {
		i--
	}
	ed.replace(append(append([]rune{}, ed.line[:i]...), ed.line[ed.pos:]...), i)
}

// finish moves past the line and ends it with CR LF; mark ("^C", "^Z") is
// written at its end first.
func (ed *editor) finish(mark string) {
	ed.moveTo(ed.cellOf(len(ed.line)))
	ed.put(mark)
	ed.put("\r\n")
	ed.cur, ed.wrapped = 0, false
}

// redraw writes the prompt and the line again on a fresh row (after help
// or a message printed under the line).
func (ed *editor) redraw() {
	ed.cur, ed.wrapped = 0, false
	ed.writeCells(0, ed.cellOf(len(ed.line)))
	ed.setPos(ed.pos)
}

func (ed *editor) String() string { return string(ed.line) }
