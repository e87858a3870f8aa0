package api

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"time"
)

// DefaultSocket is where failoverd listens unless told otherwise.
const DefaultSocket = "/run/failoverd.sock"

// Client is a session over the engine's Unix socket.
type Client struct {
	conn net.Conn
	r    *bufio.Reader
	enc  *json.Encoder
}

// Dial opens a session.
func Dial(path string, interactive bool) (*Client, error) {
	conn, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return nil, fmt.Errorf("failed to connect to failoverd at %s: %w", path, err)
	}
	c := &Client{conn: conn, r: bufio.NewReaderSize(conn, 64<<10), enc: json.NewEncoder(conn)}
	if _, err := c.Do(Request{Op: OpHello, Interactive: interactive}); err != nil {
		conn.Close()
		return nil, err
	}
	return c, nil
}

// Do sends one request and reads its reply.
func (c *Client) Do(req Request) (Reply, error) {
	var rep Reply
	if err := c.enc.Encode(req); err != nil {
		return rep, fmt.Errorf("failed to send to failoverd: %w", err)
	}
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return rep, fmt.Errorf("failed to read from failoverd: %w", err)
	}
	if err := json.Unmarshal(line, &rep); err != nil {
		return rep, fmt.Errorf("failed to decode failoverd reply: %w", err)
	}
	return rep, nil
}

// Close ends the session.
func (c *Client) Close() error { return c.conn.Close() }

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
// JSON line (without its newline) until the stream ends or f fails.
func (c *Client) Subscribe(f func(line []byte) error) error {
	if err := c.enc.Encode(Request{Op: OpSubscribe}); err != nil {
		return fmt.Errorf("failed to send to failoverd: %w", err)
	}
	for {
		line, err := c.r.ReadBytes('\n')
		if len(line) > 0 {
			if ferr := f(line[:len(line)-1]); ferr != nil {
				return ferr
			}
		}
		if err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("failed to read events: %w", err)
		}
	}
}
