package cli

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"

	"golang.org/x/sys/unix"
)

// Peer is who is at the other end of a session, for the log: the uid and
// pid the kernel reports for the socket's client (SO_PEERCRED, which the
// client cannot forge), and the SSH client address that fosh passes along
// when it runs under sshd (the client's own word: it is logged as such).
type Peer struct {
	Kind string // "socket", "console" or "mate"
	UID  int    // -1: unknown
	PID  int
	SSH  string // "ADDR PORT", or ""
}

var (
	consolePeer = Peer{Kind: "console", UID: -1}
	matePeer    = Peer{Kind: "mate", UID: -1}
)

// peerOf reads the socket client's credentials.
func peerOf(c net.Conn) (Peer, error) {
	p := Peer{Kind: "socket", UID: -1}
	uc, ok := c.(*net.UnixConn)
	if !ok {
		return p, errors.New("failed to read peer credentials: not a Unix socket")
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return p, fmt.Errorf("failed to read peer credentials: %w", err)
	}
	var cred *unix.Ucred
	var cerr error
	if err := raw.Control(func(fd uintptr) {
		cred, cerr = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	}); err != nil {
		return p, fmt.Errorf("failed to read peer credentials: %w", err)
	}
	if cerr != nil {
		return p, fmt.Errorf("failed to read peer credentials: %w", cerr)
	}
	p.UID, p.PID = int(cred.Uid), int(cred.Pid)
	return p, nil
}

// sshClient keeps the client address and port of an SSH_CONNECTION or
// SSH_CLIENT value ("ADDR PORT ..."), or "" when it is not one.
func sshClient(v string) string {
	f := strings.Fields(v)
	if len(f) < 2 || len(v) > 200 {
		return ""
	}
	a, err := netip.ParseAddr(f[0])
	if err != nil {
		return ""
	}
	var port uint16
	if _, err := fmt.Sscan(f[1], &port); err != nil || port == 0 {
		return ""
	}
	return fmt.Sprintf("%s %d", a, port)
}

// source names the peer in a syslog message: the SSH client as
// ADDR/PORT, else the local process.
func (p Peer) source() string {
	if addr, port, ok := strings.Cut(p.SSH, " "); ok {
		return addr + "/" + port
	}
	if p.UID >= 0 {
		return fmt.Sprintf("uid %d pid %d", p.UID, p.PID)
	}
	return p.Kind
}

// attrs are the peer's log attributes.
func (p Peer) attrs() []any {
	a := []any{"peer", p.Kind}
	if p.UID >= 0 {
		a = append(a, "uid", p.UID, "pid", p.PID)
	}
	if p.SSH != "" {
		a = append(a, "ssh_client", p.SSH)
	}
	return a
}
