package shell

import (
	"strings"
)

const more = "<--- More --->"

// page prints text, stopping every page at "<--- More --->": space shows
// the next page, Enter the next line, q (or Ctrl-C) stops. It returns false
// when the daemon went away while waiting for a key.
func (t *Terminal) page(text string) bool {
	if text == "" {
		return true
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if t.pager <= 1 || len(lines) < t.pager {
		t.write(text)
		return true
	}
	budget := t.pager - 1
	for i := 0; i < len(lines); i++ {
		if budget == 0 {
			t.write(more)
			k, ok := t.in.next(t.done())
			// Erase the More prompt with blanks: no escape sequences.
			t.write("\r" + strings.Repeat(" ", len(more)) + "\r")
			switch {
			case !ok:
				return !t.isGone()
			case k.code == keyInterrupt || k.code == keyRune && (k.r == 'q' || k.r == 'Q'):
				return true
			case k.code == keyEnter:
				budget = 1
			default:
				budget = t.pager - 1
			}
		}
		t.write(lines[i])
		budget--
	}
	return true
}
