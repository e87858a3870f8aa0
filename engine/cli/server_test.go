package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"failover/engine"
	"failover/engine/api"
)

// serveOn starts an engine and its control socket in a temp directory.
func serveOn(t *testing.T, o engine.Options, lim Limits) (*CLI, string) {
	t.Helper()
	e := runCLI(t, o, lim)
	sock := filepath.Join(t.TempDir(), "fo.sock")
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	go e.Serve(ctx, ln)
	return e, sock
}

// rawConn is a client that speaks the protocol by hand.
type rawConn struct {
	net.Conn
	r *bufio.Reader
}

func dialRaw(t *testing.T, sock string) *rawConn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return &rawConn{c, bufio.NewReaderSize(c, 1<<20)}
}

func (c *rawConn) send(t *testing.T, req api.Request) {
	t.Helper()
	b, _ := json.Marshal(req)
	if _, err := c.Write(append(b, '\n')); err != nil {
		t.Fatal(err)
	}
}

func (c *rawConn) recv() (api.Reply, error) {
	var rep api.Reply
	c.SetReadDeadline(time.Now().Add(20 * time.Second))
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return rep, err
	}
	return rep, json.Unmarshal(line, &rep)
}

func (c *rawConn) do(t *testing.T, req api.Request) api.Reply {
	t.Helper()
	c.send(t, req)
	rep, err := c.recv()
	if err != nil {
		t.Fatalf("%s request of %d bytes: %v", req.Op, len(req.Line), err)
	}
	return rep
}

// flakyListener fails its first n accepts the way a process out of file
// descriptors does.
type flakyListener struct {
	net.Listener
	fails atomic.Int32
}

func (l *flakyListener) Accept() (net.Conn, error) {
	if l.fails.Add(-1) >= 0 {
		return nil, &net.OpError{Op: "accept", Net: "unix", Err: os.NewSyscallError("accept4", syscall.EMFILE)}
	}
	return l.Listener.Accept()
}

// Accept errors are retried; the socket keeps serving.
func TestAcceptErrorsRetried(t *testing.T) {
	e := newTestEngine(t)
	sock := filepath.Join(t.TempDir(), "fo.sock")
	ln, err := Listen(sock)
	if err != nil {
		t.Fatal(err)
	}
	fl := &flakyListener{Listener: ln}
	fl.fails.Store(5)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- e.Serve(ctx, fl) }()
	c := dialRaw(t, sock)
	c.send(t, api.Request{Op: api.OpHello})
	rep, err := c.recv()
	select {
	case err := <-served:
		t.Fatalf("Serve ended after accept errors: %v", err)
	default:
	}
	if err != nil || rep.Prompt == "" {
		t.Fatalf("no session after accept errors: %+v %v", rep, err)
	}
}

// Sessions beyond the cap get one clear refusal line; a freed slot is
// usable again. Root keeps a reserve the others cannot take.
func TestSessionCap(t *testing.T) {
	lim := Limits{MaxSessions: 4, RootReserve: 2}
	_, sock := serveOn(t, engine.Options{}, lim)
	limit := lim.MaxSessions
	if os.Getuid() != 0 {
		limit -= lim.RootReserve
	}
	var open []*rawConn
	for range limit {
		c := dialRaw(t, sock)
		if r := c.do(t, api.Request{Op: api.OpHello}); r.Err != "" {
			t.Fatalf("session %d refused: %+v", len(open)+1, r)
		}
		open = append(open, c)
	}
	_, err := api.Dial(sock, false)
	if err == nil || !strings.Contains(err.Error(), "Too many sessions") {
		t.Fatalf("session over the cap: %v", err)
	}
	open[0].Close()
	// The slot is freed when the server sees the close.
	deadline := time.Now().Add(20 * time.Second)
	for {
		c, err := api.Dial(sock, false)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("slot not freed: %v", err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// A silent client is closed after the idle time.
func TestIdleSessionClosed(t *testing.T) {
	_, sock := serveOn(t, engine.Options{}, Limits{Idle: 200 * time.Millisecond})
	c := dialRaw(t, sock)
	c.do(t, api.Request{Op: api.OpHello})
	if _, err := c.recv(); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("idle session still open: %v", err)
	}
}

// A client that asks without reading is closed after the write timeout
// instead of holding its replies in the daemon.
func TestNonReadingSessionClosed(t *testing.T) {
	_, sock := serveOn(t, engine.Options{}, Limits{WriteTimeout: 200 * time.Millisecond})
	c := dialRaw(t, sock)
	const asked = 20000
	go func() {
		b, _ := json.Marshal(api.Request{Op: api.OpExec, Line: "show version"})
		b = append(b, '\n')
		for range asked {
			if _, err := c.Write(b); err != nil {
				return
			}
		}
	}()
	time.Sleep(2 * time.Second) // well past the write timeout
	got := 0
	for {
		if _, err := c.recv(); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				t.Fatalf("session still open after %d replies", got)
			}
			break
		}
		got++
	}
	if got >= asked {
		t.Fatalf("all %d replies were kept for a client that did not read", got)
	}
}

// An over-long line is one error; the session goes on with the next.
func TestOverlongRequestContinues(t *testing.T) {
	_, sock := serveOn(t, engine.Options{}, Limits{})
	c := dialRaw(t, sock)
	c.do(t, api.Request{Op: api.OpHello})
	for _, n := range []int{100 << 10, 3 << 20} {
		r := c.do(t, api.Request{Op: api.OpExec, Line: "hostname " + strings.Repeat("x", n)})
		if !strings.Contains(r.Err, "line too long") || r.Prompt == "" {
			t.Fatalf("%d-byte line: %+v", n, r)
		}
		if r := c.do(t, api.Request{Op: api.OpExec, Line: "show version"}); r.Failed() {
			t.Fatalf("line after a %d-byte line: %+v", n, r)
		}
	}
}

// The socket is never visible with a looser mode than 0660, not even
// between bind and a chmod.
func TestSocketModeFromTheStart(t *testing.T) {
	old := syscall.Umask(0)
	defer syscall.Umask(old)
	dir := t.TempDir()
	for i := range 200 {
		sock := filepath.Join(dir, "fo.sock")
		seen := make(chan os.FileMode, 1)
		stop := make(chan struct{})
		go func() {
			var first os.FileMode
			defer func() { seen <- first }()
			for {
				select {
				case <-stop:
					return
				default:
				}
				if fi, err := os.Lstat(sock); err == nil {
					first = fi.Mode().Perm()
					return
				}
			}
		}()
		ln, err := Listen(sock)
		if err != nil {
			t.Fatal(err)
		}
		close(stop)
		if m := <-seen; m != 0 && m != 0o660 {
			t.Fatalf("try %d: socket seen with mode %v", i, m)
		}
		if fi, err := os.Lstat(sock); err != nil || fi.Mode().Perm() != 0o660 {
			t.Fatalf("socket mode %v %v", fi.Mode(), err)
		}
		ln.Close()
		os.Remove(sock)
	}
}

// Sessions are logged with who they are at start and end, and each
// configuration change names its session, without the secrets it sets.
func TestSessionsLogged(t *testing.T) {
	var buf syncBuffer
	_, sock := serveOn(t, engine.Options{Log: slog.New(slog.NewTextHandler(&buf, nil))}, Limits{})
	t.Setenv("SSH_CONNECTION", "203.0.113.7 50022 192.0.2.1 22")
	c, err := api.Dial(sock, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range []string{"enable", "conf t", "hostname fw-logged", "failover lan key s3cr3t-k3y", "enable password pw-s3cr3t"} {
		if r, err := c.Do(api.Request{Op: api.OpExec, Line: l}); err != nil || r.Failed() {
			t.Fatalf("%s: %+v %v", l, r, err)
		}
	}
	c.Close()
	uid := fmt.Sprintf("uid=%d pid=%d", os.Getuid(), os.Getpid())
	waitFor(t, "session end in the log", func() bool { return strings.Contains(buf.String(), "session ended") })
	out := buf.String()
	for _, want := range []string{
		"msg=\"session started\" session=1 peer=socket " + uid,
		"msg=\"session is an SSH login\" session=1 peer=socket " + uid + " ssh_client=\"203.0.113.7 50022\"",
		"msg=\"configuration changed\" session=1 peer=socket " + uid + " ssh_client=\"203.0.113.7 50022\" line=\"hostname fw-logged\"",
		"line=\"failover lan key ********\"",
		"msg=\"session ended\" session=1 peer=socket " + uid,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("log lacks %q", want)
		}
	}
	for _, secret := range []string{"s3cr3t-k3y", "pw-s3cr3t"} {
		if strings.Contains(out, secret) {
			t.Errorf("log shows the secret %q", secret)
		}
	}
	if t.Failed() {
		t.Log(out)
	}
}

// syncBuffer is a bytes.Buffer safe for a logger and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func waitFor(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("no %s in 20 s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
