package engine

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"

	"failover/engine/api"
)

// Listen opens the control socket (mode 0660), replacing a stale one.
func Listen(path string) (net.Listener, error) {
	if fi, err := os.Lstat(path); err == nil && fi.Mode()&os.ModeSocket != 0 {
		if c, err := net.Dial("unix", path); err == nil {
			c.Close()
			return nil, fmt.Errorf("failed to listen: another failoverd is running on %s", path)
		}
		os.Remove(path)
	}
	ln, err := net.Listen("unix", path)
	if err != nil {
		return nil, fmt.Errorf("failed to listen on %s: %w", path, err)
	}
	if err := os.Chmod(path, 0o660); err != nil {
		ln.Close()
		return nil, fmt.Errorf("failed to set socket mode: %w", err)
	}
	return ln, nil
}

// Serve runs one session per connection until ctx ends.
func (e *Engine) Serve(ctx context.Context, ln net.Listener) error {
	go func() { <-ctx.Done(); ln.Close() }()
	for {
		conn, err := ln.Accept()
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("failed to accept: %w", err)
		}
		go e.serveConn(conn)
	}
}

// serveConn handles one client. A malformed request gets an error reply;
// an oversized one ends the connection. Nothing a client sends can stop
// the daemon.
func (e *Engine) serveConn(conn net.Conn) {
	defer conn.Close()
	defer func() {
		if r := recover(); r != nil {
			e.log.Error("session crashed", "panic", r)
		}
	}()
	s := e.NewSession(false)
	r := bufio.NewReaderSize(conn, 16<<10)
	enc := json.NewEncoder(conn)
	for {
		line, err := readLimited(r, 64<<10)
		if err != nil {
			return
		}
		var req api.Request
		var rep api.Reply
		if err := json.Unmarshal(line, &req); err != nil {
			rep = s.reply(api.Reply{Err: "ERROR: malformed request"})
		} else if req.Op == api.OpSubscribe {
			e.streamEvents(conn, r)
			return
		} else {
			rep = s.Handle(req)
		}
		if err := enc.Encode(rep); err != nil {
			return
		}
		if rep.Exit {
			return
		}
	}
}

var errTooLong = errors.New("request too long")

func readLimited(r *bufio.Reader, max int) ([]byte, error) {
	var out []byte
	for {
		chunk, err := r.ReadSlice('\n')
		out = append(out, chunk...)
		if len(out) > max {
			return nil, errTooLong
		}
		if err == nil {
			return out, nil
		}
		if !errors.Is(err, bufio.ErrBufferFull) {
			return nil, err
		}
	}
}
