package shell

import (
	"fmt"
	"io"
	"strings"

	"golang.org/x/term"
)

const more = "<--- More --->"

// page prints text, stopping every page at "<--- More --->": space shows
// the next page, Enter the next line, q (or Ctrl-C) stops.
func (t *Terminal) page(text string) {
	if text == "" {
		return
	}
	lines := strings.SplitAfter(text, "\n")
	if lines[len(lines)-1] == "" {
		lines = lines[:len(lines)-1]
	}
	if t.pager <= 1 || len(lines) < t.pager {
		io.WriteString(t.out, text)
		return
	}
	budget := t.pager - 1
	for i := 0; i < len(lines); i++ {
		if budget == 0 {
			key := t.moreKey()
			switch key {
			case 'q', 'Q', 3:
				return
			case '\r', '\n':
				budget = 1
			default:
				budget = t.pager - 1
			}
		}
		io.WriteString(t.out, lines[i])
		budget--
	}
}

// moreKey shows the More prompt and reads one key in raw mode.
func (t *Terminal) moreKey() byte {
	fmt.Fprint(t.out, more)
	defer fmt.Fprint(t.out, "\r"+strings.Repeat(" ", len(more))+"\r")
	fd := int(t.in.Fd())
	if old, err := term.MakeRaw(fd); err == nil {
		defer term.Restore(fd, old)
	}
	var b [1]byte
	if n, err := t.in.Read(b[:]); n == 0 || err != nil {
		return 'q'
	}
	return b[0]
}
