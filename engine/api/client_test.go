package api

import (
	"bufio"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func listen(t *testing.T) (net.Listener, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "s")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln, path
}

// A daemon that never accepts (connections wait in the backlog) or never
// answers: Dial gives up with a clear message instead of hanging.
func TestDialTimeout(t *testing.T) {
	old := HelloTimeout
	HelloTimeout = 200 * time.Millisecond
	t.Cleanup(func() { HelloTimeout = old })
	_, path := listen(t) // never accepted
	start := time.Now()
	_, err := Dial(path, false)
	if err == nil || !strings.Contains(err.Error(), "no answer from failoverd within 200ms") {
		t.Fatalf("err = %v", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Fatalf("gave up after %v", d)
	}
}

// A refusal (e.g. too many sessions) is reported with the daemon's words,
// also when the daemon answers and closes before reading the request.
func TestDialRefused(t *testing.T) {
	for _, readFirst := range []bool{true, false} {
		ln, path := listen(t)
		go func() {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			if readFirst {
				bufio.NewReader(c).ReadBytes('\n')
			}
			c.Write([]byte(`{"err":"ERROR: too many sessions (64)","prompt":"","exit":true}` + "\n"))
			c.Close()
		}()
		_, err := Dial(path, true)
		if err == nil || !strings.Contains(err.Error(), "refused the session: ERROR: too many sessions (64)") {
			t.Fatalf("read first %v: err = %v", readFirst, err)
		}
	}
}

// Done fires as soon as the daemon closes the connection, with no request
// outstanding.
func TestClientDone(t *testing.T) {
	ln, path := listen(t)
	closeIt := make(chan struct{})
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		r := bufio.NewReader(c)
		r.ReadBytes('\n')
		c.Write([]byte(`{"prompt":"fw> "}` + "\n"))
		<-closeIt
		c.Close()
	}()
	c, err := Dial(path, true)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	select {
	case <-c.Done():
		t.Fatal("Done before the daemon closed")
	case <-time.After(50 * time.Millisecond):
	}
	close(closeIt)
	select {
	case <-c.Done():
	case <-time.After(5 * time.Second):
		t.Fatal("Done did not fire")
	}
	if _, err := c.Do(Request{Op: OpPrompt}); err == nil {
		t.Fatal("Do after the end succeeded")
	}
}
