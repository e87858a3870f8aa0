package shell

import (
	"os"
	"sync"
	"time"
	"unicode/utf8"
)

// key is one keystroke: a printable rune, or one of the editing keys.
type key struct {
	code keyCode
	r    rune // the character, for keyRune
}

type keyCode int

const (
	keyRune keyCode = iota
	keyEnter
	keyBackspace
	keyDelete // the character under the cursor (Delete, Ctrl-D on a non-empty line)
	keyLeft
	keyRight
	keyUp
	keyDown
	keyHome
	keyEnd
	keyTab
	keyKillStart // Ctrl-U: delete before the cursor
	keyKillEnd   // Ctrl-K: delete from the cursor to the end
	keyKillWord  // Ctrl-W: delete the word before the cursor
	keyRedraw    // Ctrl-L, Ctrl-R
	keyInterrupt // Ctrl-C
	keyEOF       // Ctrl-D
	keySuspend   // Ctrl-Z: "end" on a Cisco CLI
	keyIgnored   // anything else (unknown escape sequences, other controls)
)

// controls maps single control bytes to keys (Emacs bindings, as IOS and
// PIX have them).
var controls = map[byte]keyCode{
	1: keyHome, 2: keyLeft, 3: keyInterrupt, 4: keyEOF, 5: keyEnd, 6: keyRight,
	8: keyBackspace, 9: keyTab, 10: keyEnter, 11: keyKillEnd, 12: keyRedraw,
	13: keyEnter, 14: keyDown, 16: keyUp, 18: keyRedraw, 21: keyKillStart,
	23: keyKillWord, 26: keySuspend, 127: keyBackspace,
}

// csi maps the final part of "ESC [ ..." and "ESC O ..." sequences.
var csi = map[string]keyCode{
	"A": keyUp, "B": keyDown, "C": keyRight, "D": keyLeft, "H": keyHome, "F": keyEnd,
	"1~": keyHome, "7~": keyHome, "4~": keyEnd, "8~": keyEnd, "3~": keyDelete,
	"200~": keyIgnored, "201~": keyIgnored, // bracketed paste markers
}

// decodeKey takes one key from the front of b. n is 0 when b holds only the
// beginning of a key (a split escape sequence or UTF-8 character).
func decodeKey(b []byte) (k key, n int) {
	if len(b) == 0 {
		return key{}, 0
	}
	c := b[0]
	if c == 27 {
		return decodeEscape(b)
	}
	if code, ok := controls[c]; ok {
		return key{code: code, r: rune(c)}, 1
	}
	if c < 32 {
		return key{code: keyIgnored}, 1
	}
	if !utf8.FullRune(b) {
		return key{}, 0
	}
	r, size := utf8.DecodeRune(b)
	if r == utf8.RuneError {
		return key{code: keyIgnored}, size
	}
	return key{code: keyRune, r: r}, size
}

func decodeEscape(b []byte) (key, int) {
	if len(b) < 2 {
		return key{}, 0
	}
	if b[1] != '[' && b[1] != 'O' {
		return key{code: keyIgnored}, 2 // Alt-x and the like
	}
	// Parameters (digits, ';') then one final byte.
	for i := 2; i < len(b); i++ {
		if c := b[i]; c >= 0x40 && c <= 0x7e {
			seq := string(b[2 : i+1])
			if code, ok := csi[seq]; ok {
				return key{code: code}, i + 1
			}
			if len(seq) > 1 { // modified arrows: ESC [ 1 ; 5 C
				if code, ok := csi[seq[len(seq)-1:]]; ok && seq[len(seq)-1] != '~' {
					return key{code: code}, i + 1
				}
			}
			return key{code: keyIgnored}, i + 1
		}
		if i > 16 {
			return key{code: keyIgnored}, i + 1
		}
	}
	return key{}, 0
}

// input reads a terminal in a goroutine, so that a session can wait for a
// key and for its daemon at the same time. There is one reader per file:
// a console opens a new session on the same terminal after each one ends.
type input struct {
	ch     chan []byte // closed at end of input
	buf    []byte      // bytes read but not yet decoded
	lastCR bool        // the last key returned was a CR
}

var (
	inputsMu sync.Mutex
	inputs   = map[*os.File]*input{}
)

func inputFor(f *os.File) *input {
	inputsMu.Lock()
	defer inputsMu.Unlock()
	if in, ok := inputs[f]; ok {
		return in
	}
	in := &input{ch: make(chan []byte, 16)}
	inputs[f] = in
	go func() {
		defer close(in.ch)
		for {
			b := make([]byte, 4096)
			n, err := f.Read(b)
			if n > 0 {
				in.ch <- b[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	return in
}

// escWait is how long a lone ESC waits for the rest of its sequence.
const escWait = 50 * time.Millisecond

// next returns the next key. ok is false at the end of input or when
// cancel is closed first.
func (in *input) next(cancel <-chan struct{}) (k key, ok bool) {
	for {
		if k, n := decodeKey(in.buf); n > 0 {
			in.buf = in.buf[n:]
			// CR LF (what some clients send for Enter) is one Enter,
			// not an Enter and an empty line.
			afterCR := in.lastCR
			in.lastCR = k.code == keyEnter && k.r == '\r'
			if afterCR && k.code == keyEnter && k.r == '\n' {
				continue
			}
			return k, true
		}
		var timeout <-chan time.Time
		if len(in.buf) > 0 {
			timeout = time.After(escWait)
		}
		select {
		case b, open := <-in.ch:
			if !open {
				return key{}, false
			}
			in.buf = append(in.buf, b...)
		case <-timeout:
			in.buf = in.buf[1:] // an incomplete sequence that never completed
			return key{code: keyIgnored}, true
		case <-cancel:
			return key{}, false
		}
	}
}
