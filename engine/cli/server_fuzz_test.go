package cli

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"testing"
)

// FuzzReadRequest: the control socket's framing returns every line of at
// most max bytes as sent, answers each longer one with errTooLong and its
// length, and always resumes at the next line.
func FuzzReadRequest(f *testing.F) {
	f.Add([]byte("{\"op\":\"hello\"}\n"), 16)
	f.Add(bytes.Repeat([]byte("x"), 5000), 64)
	f.Add([]byte("a\nbb\nccc\n\n"), 2)
	f.Fuzz(func(t *testing.T, in []byte, max int) {
		if max < 1 || max > 1<<16 {
			return
		}
		r := bufio.NewReaderSize(bytes.NewReader(in), 16) // chunks smaller than lines
		want := bytes.SplitAfter(in, []byte("\n"))
		for i, w := range want {
			line, n, err := readRequest(r, max)
			if len(w) == 0 { // after a final newline
				if !errors.Is(err, io.EOF) {
					t.Fatalf("end: %q %v", line, err)
				}
				return
			}
			complete := w[len(w)-1] == '\n'
			switch {
			case !complete:
				if err == nil {
					t.Fatalf("line %d without newline returned as complete", i)
				}
				return
			case len(w) > max:
				if !errors.Is(err, errTooLong) || n != len(w) || line != nil {
					t.Fatalf("line %d of %d bytes (max %d): %q %d %v", i, len(w), max, line, n, err)
				}
			default:
				if err != nil || !bytes.Equal(line, w) || n != len(w) {
					t.Fatalf("line %d: got %q %d %v, want %q", i, line, n, err, w)
				}
			}
		}
	})
}

// FuzzSSHClient: whatever a client puts in its hello, the SSH address
// logged is "" or an address and a port.
func FuzzSSHClient(f *testing.F) {
	f.Add("203.0.113.7 50022 192.0.2.1 22")
	f.Add("2001:db8::1 1 2001:db8::2 22")
	f.Add("x y")
	f.Fuzz(func(t *testing.T, v string) {
		got := sshClient(v)
		if got == "" {
			return
		}
		if again := sshClient(got); again != got {
			t.Fatalf("sshClient(%q) = %q, not stable: %q", v, got, again)
		}
	})
}
