package shell

import (
	"strings"
	"testing"
)

// Any byte stream a client sends, decoded into keys and applied to the
// editor, keeps the screen equal to prompt and line; the decoder always
// consumes what it reports and never more than it has.
func FuzzDecodeKey(f *testing.F) {
	for _, s := range []string{"show failover\r", "\x1b[D\x1b[Cx\x7f", "\x1b[1;5C\x1b[3~\x01\x05\x0b", "ab\x1b", "\xe2\x82", "é?\t\x15\x17", "\x1b[200~paste\x1b[201~"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, width := range []int{9, 80} {
			sc := &screen{t: t, width: width}
			ed := newEditor(sc, func() int { return width }, "fw# ", true)
			rest := b
			for len(rest) > 0 {
				k, n := decodeKey(rest)
				if n < 0 || n > len(rest) {
					t.Fatalf("decodeKey(%q) consumed %d", rest, n)
				}
				if n == 0 {
					if len(rest) > 32 {
						t.Fatalf("decodeKey waits for more after %d bytes: %q", len(rest), rest)
					}
					break // the beginning of a key; a terminal would send the rest
				}
				rest = rest[n:]
				applyKey(ed, k)
				if want := strings.TrimRight("fw# "+string(ed.line), " "); sc.text() != want {
					t.Fatalf("screen %q, want %q after %q", sc.text(), want, b)
				}
			}
		}
	})
}

// applyKey is the editing part of Terminal.readLine, without a daemon.
func applyKey(ed *editor, k key) {
	switch k.code {
	case keyRune:
		ed.insert([]rune{k.r})
	case keyEOF:
		ed.deleteUnder()
	default:
		ed.edit(k)
	}
}
