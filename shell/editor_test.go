package shell

import (
	"bytes"
	"math/rand"
	"strconv"
	"strings"
	"testing"
)

// screen is a minimal terminal: printable characters with the usual
// deferred wrap at the right margin, BS, CR, LF, ESC[nA and ESC[nC. Any
// other escape sequence fails the test.
type screen struct {
	t        *testing.T
	width    int
	rows     [][]rune
	row, col int
	pending  bool // deferred wrap: the last column was written
}

func (s *screen) Write(p []byte) (int, error) {
	in := []rune(string(p))
	for i := 0; i < len(in); i++ {
		switch c := in[i]; c {
		case '\b':
			s.pending = false
			if s.col > 0 {
				s.col--
			}
		case '\r':
			s.pending, s.col = false, 0
		case '\n':
			s.pending = false
			s.row++
		case 27:
			j := i + 2
			for j < len(in) && in[j] >= '0' && in[j] <= '9' {
				j++
			}
			if in[i+1] != '[' || j >= len(in) {
				s.t.Fatalf("unexpected escape %q", string(in[i:]))
			}
			n, _ := strconv.Atoi(string(in[i+2 : j]))
			switch in[j] {
			case 'A':
				s.row -= n
			case 'C':
				s.col = min(s.col+n, s.width-1)
			default:
				s.t.Fatalf("unexpected escape %q", string(in[i:j+1]))
			}
			s.pending = false
			i = j
		default:
			if s.pending {
				s.row, s.col, s.pending = s.row+1, 0, false
			}
			for len(s.rows) <= s.row {
				s.rows = append(s.rows, []rune(strings.Repeat(" ", s.width)))
			}
			s.rows[s.row][s.col] = c
			if s.col == s.width-1 {
				s.pending = true
			} else {
				s.col++
			}
		}
	}
	return len(p), nil
}

// text is what the screen shows, rows joined, trailing blanks dropped.
func (s *screen) text() string {
	var b strings.Builder
	for _, r := range s.rows {
		b.WriteString(string(r))
	}
	return strings.TrimRight(b.String(), " ")
}

// Random edits on narrow terminals: after every key the screen shows the
// prompt and the line, and the cursor is where the line's cursor is.
func TestEditorScreen(t *testing.T) {
	rng := rand.New(rand.NewSource(1))
	for _, width := range []int{7, 10, 13, 80} {
		for trial := 0; trial < 200; trial++ {
			sc := &screen{t: t, width: width}
			ed := newEditor(sc, func() int { return width }, "fw(config)# ", true)
			var ops []string
			for step := 0; step < 40; step++ {
				switch op := rng.Intn(11); op {
				case 0, 1, 2, 3:
					ed.insert([]rune(string(rune('a' + rng.Intn(26)))))
					ops = append(ops, "ins")
				case 4:
					ed.backspace()
					ops = append(ops, "bs")
				case 5:
					ed.setPos(ed.pos - 1 - rng.Intn(3))
					ops = append(ops, "left")
				case 6:
					ed.setPos(ed.pos + 1 + rng.Intn(3))
					ops = append(ops, "right")
				case 7:
					ed.deleteUnder()
					ops = append(ops, "del")
				case 8:
					s := strings.Repeat("x", rng.Intn(25))
					ed.replace([]rune(s), len(s))
					ops = append(ops, "hist")
				case 9:
					ed.killWord()
					ops = append(ops, "kw")
				case 10:
					ed.setPos(0)
					ops = append(ops, "home")
				}
				want := strings.TrimRight("fw(config)# "+string(ed.line), " ")
				if got := sc.text(); got != want {
					t.Fatalf("width %d after %v: screen %q, want %q", width, ops, got, want)
				}
				c := ed.cellOf(ed.pos)
				row, col := c/width, c%width
				srow, scol := sc.row, sc.col
				if sc.pending {
					// The deferred wrap: the next character goes to the
					// next row, where the editor counts the cursor.
					srow, scol = srow+1, 0
				}
				if srow != row || scol != col {
					t.Fatalf("width %d after %v: cursor at %d,%d, want %d,%d", width, ops, srow, scol, row, col)
				}
			}
		}
	}
}

// Typing at the end of the line sends exactly the characters, even across
// the right margin.
func TestEditorPlainEcho(t *testing.T) {
	var b bytes.Buffer
	ed := newEditor(&b, func() int { return 10 }, "fw# ", true)
	for _, r := range "show running-config" {
		ed.insert([]rune{r})
	}
	ed.finish("")
	if got := b.String(); got != "fw# show running-config\r\n" {
		t.Fatalf("got %q", got)
	}
	b.Reset()
	pw := newEditor(&b, func() int { return 10 }, "Password: ", false)
	for _, r := range "s3cret" {
		pw.insert([]rune{r})
	}
	pw.backspace()
	pw.finish("")
	if got := b.String(); got != "Password: \r\n" || pw.String() != "s3cre" {
		t.Fatalf("password: sent %q, read %q", got, pw.String())
	}
}
