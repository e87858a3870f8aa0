package api

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"os"
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
	hello := Request{Op: OpHello, Interactive: interactive, SSH: sshConnection()}
	rep, err := c.Do(hello)
	if err != nil {
		// A refused client may find the socket closed before its hello
		// went out; the refusal line is still there to read.
		if r, rerr := c.read(); rerr == nil && r.Err != "" {
			rep, err = r, nil
		}
	}
	if err == nil && rep.Exit && rep.Err != "" {
		err = fmt.Errorf("failoverd refused the session: %s", rep.Err)
	}
	if err != nil {
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
	return c.read()
}

func (c *Client) read() (Reply, error) {
	var rep Reply
	line, err := c.r.ReadBytes('\n')
	if err != nil {
		return rep, fmt.Errorf("failed to read from failoverd: %w", err)
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
func (c *Client) Close() error { return c.conn.Close() }
