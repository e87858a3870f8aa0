package shell

import (
	"fmt"
	"io"
	"strings"
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
			key := t.readMoreKey()
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

// readMoreKey shows the More prompt and reads one key. readline keeps reading
// the terminal in the background, so the key is taken through it (the
// rune filter ends the line on any key) rather than from stdin directly.
func (t *Terminal) readMoreKey() byte {
	t.moreKey.Store('q')
	t.moreMode.Store(true)
	t.rl.SetPrompt(more)
	_, err := t.rl.Readline()
	t.moreMode.Store(false)
	// Erase the More line: readline moved below it on its Enter.
	fmt.Fprint(t.out, "\033[A\r"+strings.Repeat(" ", len(more))+"\r")
	if err != nil {
		return 'q'
	}
	return byte(t.moreKey.Load())
}
