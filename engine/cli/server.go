package cli

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"syscall"
	"time"

	"failover/engine/api"
)

// Limits bound what clients of the control socket can make the daemon
// hold. Zero fields take the defaults.
type Limits struct {
	// MaxSessions is the number of socket sessions open at once; a client
	// beyond it gets one refusal line and is closed.
	MaxSessions int
	// RootReserve of those sessions only root may open, so other local
	// users cannot lock the operator out.
	RootReserve int
	// Idle closes a session that sends nothing for this long.
	Idle time.Duration
	// WriteTimeout closes a session that does not read its reply in this
	// time.
	WriteTimeout time.Duration
}

// DefaultLimits are the control socket's limits unless told otherwise.
var DefaultLimits = Limits{MaxSessions: 32, RootReserve: 4, Idle: 30 * time.Minute, WriteTimeout: 30 * time.Second}

func (l Limits) withDefaults() Limits {
	d := DefaultLimits
	if l.MaxSessions <= 0 {
		l.MaxSessions = d.MaxSessions
	}
	if l.RootReserve <= 0 {
		l.RootReserve = min(d.RootReserve, l.MaxSessions-1)
	}
	if l.Idle <= 0 {
		l.Idle = d.Idle
	}
	if l.WriteTimeout <= 0 {
		l.WriteTimeout = d.WriteTimeout
	}
	return l
}

// maxRequest bounds one request line. Longer requests are read to their
// end without being kept and answered with one error: the session goes
// on with the next line.
const maxRequest = api.MaxRequest

// Listen opens the control socket, mode 0660 from the moment it exists
// (the umask is set around bind), replacing a stale one.
func Listen(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("failed to listen: another failoverd is running on %s", path)
		}
		os.Remove(path)
	}
	ln, err := listenMode(path, 0o660)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", path, err)
	}
	return ln, nil
}

// umaskMu serialises the process-wide umask change around bind.
var umaskMu sync.Mutex

func listenMode(path string, mode os.FileMode) (net.Listener, error) {
	umaskMu.Lock()
	old := syscall.Umask(0o777 &^ int(mode))
	ln, err := net.Listen("unix", path)
	syscall.Umask(old)
	umaskMu.Unlock()
	return ln, err
}

// server is the control socket's accept loop and its session count.
type server struct {
	c   *CLI
	lim Limits
	mu  sync.Mutex
	// Everything below is under mu.
	open        int
	refused     int // since the last refusal log line
	lastRefusal time.Time
}

// Serve runs one session per connection until ctx ends. Accept errors
// (EMFILE when the daemon runs out of descriptors, ...) are retried with a
// growing delay; they never end the server.
func (c *CLI) Serve(ctx context.Context, ln net.Listener) error {
	srv := &server{c: c, lim: c.lim}
	log := c.e.Log()
	go func() { <-ctx.Done(); ln.Close() }()
	var delay time.Duration
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			delay = min(max(2*delay, 5*time.Millisecond), time.Second)
			log.Warn("failed to accept a control connection, retrying", "err", err, "retry_in", delay)
			select {
			case <-time.After(delay):
			case <-ctx.Done():
				return nil
			}
			continue
		}
		delay = 0
		peer, err := peerOf(conn)
		if err != nil {
			log.Warn("control connection without credentials", "err", err)
		}
		if msg := srv.admit(peer); msg != "" {
			refuse(conn, msg)
			continue
		}
		go srv.serveConn(conn, peer)
	}
}

// admit counts a new session in, or returns why it is refused.
func (srv *server) admit(p Peer) string {
	srv.mu.Lock()
	defer srv.mu.Unlock()
	limit := srv.lim.MaxSessions
	if p.UID != 0 {
		limit -= srv.lim.RootReserve
	}
	if srv.open < limit {
		srv.open++
		return ""
	}
	// A flood of refused clients gives one log line a second, with a count.
	srv.refused++
	if now := time.Now(); now.Sub(srv.lastRefusal) >= time.Second {
		srv.c.e.Log().Warn("control session refused: too many sessions", append(p.attrs(), "open", srv.open, "refused", srv.refused)...)
		srv.lastRefusal, srv.refused = now, 0
	}
	return fmt.Sprintf("ERROR: %% Too many sessions (%d open): try again later", srv.open)
}

func (srv *server) release() {
	srv.mu.Lock()
	srv.open--
	srv.mu.Unlock()
}

// refuse answers a client that is not admitted with one reply line and
// closes it. The reply goes into the new socket's empty buffer, so it does
// not wait for the client.
func refuse(conn net.Conn, msg string) {
	defer conn.Close()
	conn.SetWriteDeadline(time.Now().Add(100 * time.Millisecond))
	json.NewEncoder(conn).Encode(api.Reply{Err: msg, Exit: true})
}

// serveConn handles one client. A malformed or over-long request gets an
// error reply and the session goes on; a client that stays silent past the
// idle time or does not read its replies is closed. Nothing a client sends
// can stop the daemon.
func (srv *server) serveConn(conn net.Conn, peer Peer) {
	c := srv.c
	log := c.e.Log()
	defer srv.release()
	defer conn.Close()
	s := c.newSession(false, peer)
	if s == nil {
		return // the engine is stopping
	}
	log.Info("session started", s.logAttrs()...)
	why := "closed by the client"
	defer func() {
		if r := recover(); r != nil {
			log.Error("session crashed", "panic", r)
			why = "crashed"
		}
		log.Info("session ended", append(s.logAttrs(), "why", why)...)
	}()
	r := bufio.NewReaderSize(conn, 16<<10)
	enc := json.NewEncoder(conn)
	for {
		conn.SetReadDeadline(time.Now().Add(srv.lim.Idle))
		line, n, err := readRequest(r, maxRequest)
		var rep api.Reply
		switch {
		case errors.Is(err, errTooLong):
			rep = s.reply(api.Reply{Err: fmt.Sprintf("ERROR: line too long (%d bytes, at most %d characters)", n, api.MaxLine)})
		case errors.Is(err, os.ErrDeadlineExceeded):
			why = fmt.Sprintf("idle for %v", srv.lim.Idle)
			return
		case err != nil:
			if !errors.Is(err, io.EOF) {
				why = err.Error()
			}
			return
		default:
			var req api.Request
			if err := json.Unmarshal(line, &req); err != nil {
				rep = s.reply(api.Reply{Err: "ERROR: malformed request"})
			} else if req.Op == api.OpSubscribe {
				why = "event stream ended"
				conn.SetReadDeadline(time.Time{}) // a subscriber only listens
				c.e.StreamEvents(conn, r)
				return
			} else {
				rep = s.Handle(req)
			}
		}
		conn.SetWriteDeadline(time.Now().Add(srv.lim.WriteTimeout))
		if err := enc.Encode(rep); err != nil {
			why = "reply not read: " + err.Error()
			return
		}
		if rep.Exit {
			why = "exit"
			return
		}
	}
}

var errTooLong = errors.New("request too long")

// readRequest reads one line of at most max bytes. A longer line is read
// to its end without being kept: errTooLong, with its length in n.
func readRequest(r *bufio.Reader, max int) (line []byte, n int, err error) {
	for {
		chunk, err := r.ReadSlice('\n')
		n += len(chunk)
		if n <= max {
			line = append(line, chunk...)
		} else {
			line = nil
		}
		switch {
		case err == nil && n > max:
			return nil, n, errTooLong
		case err == nil:
			return line, n, nil
		case !errors.Is(err, bufio.ErrBufferFull):
			return nil, n, err
		}
	}
}
