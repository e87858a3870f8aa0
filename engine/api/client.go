package api

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// DefaultSocket is where failoverd listens unless told otherwise.
const DefaultSocket = "/run/failoverd.sock"

// Timeouts of a client. A daemon that accepts the connection (the kernel
// does, into the listen backlog, even when the daemon is not accepting)
// but does not answer must not hang the operator's shell.
var (
	// HelloTimeout bounds the wait for the first reply of a session.
	HelloTimeout = 10 * time.Second
	// ReplyTimeout bounds the wait for any other reply; the slowest
	// command (failover exec mate) gives up after 10 s by itself.
	ReplyTimeout = 60 * time.Second
)

// ErrClosed is returned once the daemon has closed the session.
var ErrClosed = errors.New("failoverd closed the session")

// Client is a session over the engine's Unix socket. A goroutine reads
// the socket all the time, so the client learns at once when the daemon
// goes away (Done), not at its next request.
type Client struct {
	conn    net.Conn
	enc     *json.Encoder
	replies chan []byte
	done    chan struct{}
	quit    chan struct{} // closed by Close
	once    sync.Once
	mu      sync.Mutex
	err     error
	batches bool // the daemon takes OpBatch
}

// Dial opens a session. It fails with a clear message when nothing
// listens, when the daemon refuses the session, or when it does not answer
// within HelloTimeout.
func Dial(path string, interactive bool) (*Client, error) {
	conn, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("failed to connect to failoverd at %s: %w", path, err)
	}
	c := &Client{conn: conn, enc: json.NewEncoder(conn), replies: make(chan []byte, 1), done: make(chan struct{}), quit: make(chan struct{})}
	go c.read()
	rep, err := c.do(Request{Op: OpHello, Interactive: interactive, SSH: sshConnection()}, HelloTimeout)
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("failoverd at %s did not open a session: %w", path, err)
	}
	if rep.Failed() {
		conn.Close()
		return nil, fmt.Errorf("failoverd at %s refused the session: %s", path, rep.Err)
	}
	c.batches = rep.Batches
	return c, nil
}

// Batches says whether the daemon takes OpBatch requests.
func (c *Client) Batches() bool { return c.batches }

// read passes each reply line on until the connection ends.
func (c *Client) read() {
	r := bufio.NewReaderSize(c.conn, 64<<10)
	for {
		line, err := r.ReadBytes('\n')
		if err != nil {
			c.mu.Lock()
			c.err = ErrClosed
			if !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
				c.err = fmt.Errorf("%w: %v", ErrClosed, err)
			}
			c.mu.Unlock()
			close(c.done)
			return
		}
		select {
		case c.replies <- line:
		case <-c.quit:
		}
	}
}

// Done is closed when the daemon has closed the session (or Close was
// called).
func (c *Client) Done() <-chan struct{} { return c.done }

// Err says why Done was closed.
func (c *Client) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// Do sends one request and reads its reply.
func (c *Client) Do(req Request) (Reply, error) { return c.do(req, ReplyTimeout) }

func (c *Client) do(req Request, timeout time.Duration) (Reply, error) {
	var rep Reply
	c.conn.SetWriteDeadline(time.Now().Add(timeout))
	t := time.NewTimer(timeout)
	defer t.Stop()
	if err := c.enc.Encode(req); err != nil {
		// A daemon that refuses a session answers at once and closes:
		// its answer may be waiting although the request could not go.
		select {
		case line := <-c.replies:
			return rep, json.Unmarshal(line, &rep)
		case <-c.done:
			select {
			case line := <-c.replies:
				return rep, json.Unmarshal(line, &rep)
			default:
			}
		case <-t.C:
		}
		return rep, fmt.Errorf("failed to send to failoverd: %w", err)
	}
	var line []byte
	select {
	case line = <-c.replies:
	case <-c.done:
		// The reply may have arrived just before the end (exit).
		select {
		case line = <-c.replies:
		default:
			return rep, c.Err()
		}
	case <-t.C:
		// A late reply would answer the next request: the session is
		// over.
		c.Close()
		return rep, fmt.Errorf("no answer from failoverd within %v (too many sessions, or the daemon is stuck)", timeout)
	}
	if err := json.Unmarshal(line, &rep); err != nil {
		return rep, fmt.Errorf("failed to decode failoverd reply: %w", err)
	}
	return rep, nil
}

// sshConnection is the SSH client of the login this process runs in, as
// sshd sets it, or "".
func sshConnection() string {
	if v := os.Getenv("SSH_CONNECTION"); v != "" {
		return v
	}
	return os.Getenv("SSH_CLIENT")
}

// Close ends the session.
func (c *Client) Close() error {
	c.once.Do(func() { close(c.quit) })
	return c.conn.Close()
}

// Status asks for the machine-readable status.
func (c *Client) Status() (*Status, error) {
	rep, err := c.Do(Request{Op: OpStatus})
	if err != nil {
		return nil, err
	}
	if rep.Status == nil {
		return nil, fmt.Errorf("failed to get the status: %s", rep.Err)
	}
	return rep.Status, nil
}

// Subscribe turns the session into the event stream and calls f with each
// JSON line (without its newline) until the daemon ends the stream or f
// fails.
func (c *Client) Subscribe(f func(line []byte) error) error {
	if err := c.enc.Encode(Request{Op: OpSubscribe}); err != nil {
		return fmt.Errorf("failed to send to failoverd: %w", err)
	}
	for {
		var line []byte
		select {
		case line = <-c.replies:
		case <-c.done:
			select {
			case line = <-c.replies: // the last lines before the end
			default:
				if err := c.Err(); err != ErrClosed {
					return err
				}
				return nil
			}
		}
		if err := f(bytes.TrimSuffix(line, []byte("\n"))); err != nil {
			return err
		}
	}
}
