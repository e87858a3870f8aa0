package shell_test

import (
	"fmt"
	"strings"
	"testing"

	"failover/engine/api"
)

// configure runs lines in a session of its own (script style).
func configure(t *testing.T, sock string, lines ...string) {
	t.Helper()
	c, err := api.Dial(sock, false)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	for _, l := range lines {
		rep, err := c.Do(api.Request{Op: api.OpExec, Line: l})
		if err != nil || rep.Failed() {
			t.Fatalf("%s: %v %s", l, err, rep.Err)
		}
	}
}

// goldenSession is every byte a client receives for a login, enable with
// its password, show failover, a configuration line and end: what an ASA
// sends. No escape sequence, no backspace, nothing after a prompt; the
// password is not echoed.
const goldenSession = "pixfirewall> enable\r\n" +
	"Password: \r\n" +
	"pixfirewall# show failover\r\n" +
	"Failover Off\r\n" +
	"Cable status: Normal\r\n" +
	"Reconnect timeout 0:00:00\r\n" +
	"pixfirewall# configure terminal\r\n" +
	"pixfirewall(config)# hostname fw1\r\n" +
	"fw1(config)# end\r\n" +
	"fw1# "

// The same bytes whatever a client sends for Enter: CR (a terminal,
// Ansible), LF (netmiko) or CR LF.
func TestPtyGoldenSession(t *testing.T) {
	for name, enter := range map[string]string{"CR": "\r", "LF": "\n", "CRLF": "\r\n"} {
		t.Run(name, func(t *testing.T) {
			sock := serveEngine(t)
			configure(t, sock, "enable", "configure terminal", "enable password s3cret", "end")
			tm := startFoshOn(t, 80, sock)
			for _, l := range []struct{ line, next string }{
				{"enable", "Password: "}, {"s3cret", "pixfirewall# "}, {"show failover", "pixfirewall# "},
				{"configure terminal", "pixfirewall(config)# "}, {"hostname fw1", "fw1(config)# "}, {"end", "fw1# "},
			} {
				tm.send(l.line + enter)
				tm.expect(l.next)
			}
			tm.settle()
			if got := tm.output(); got != goldenSession {
				t.Fatalf("session bytes:\n%q\nwant:\n%q", got, goldenSession)
			}
		})
	}
}

// Editing inside the line sends the least that redraws it: inserting a
// character rewrites the rest of the line and backspaces over it; the
// history recalls a line by rewriting only what differs.
func TestPtyEditing(t *testing.T) {
	tm := startFosh(t, 80)
	tm.send("show vrsion")
	tm.expect("show vrsion")
	tm.send("\x1b[D\x1b[D\x1b[D\x1b[D\x1bOD") // five times Left
	if got := tm.settle(); got != "\b\b\b\b\b" {
		t.Fatalf("Left arrows sent %q, want five backspaces", got)
	}
	tm.send("e")
	if got := tm.settle(); got != "ersion\b\b\b\b\b" {
		t.Fatalf("inserting sent %q", got)
	}
	tm.send("\r")
	tm.expect("\r\n")
	if out := plain(tm.expect("pixfirewall> ")); !strings.Contains(out, "Serial Number:") || strings.Contains(out, "ERROR") {
		t.Fatalf("edited line did not run as show version:\n%s", out)
	}
	// Ctrl-A, Ctrl-E, Ctrl-U.
	tm.send("sh curpriv\x01")
	tm.expect("sh curpriv")
	if got := tm.settle(); got != strings.Repeat("\b", len("sh curpriv")) {
		t.Fatalf("Ctrl-A sent %q", got)
	}
	tm.send("\x05")
	if got := tm.settle(); got != "sh curpriv" {
		t.Fatalf("Ctrl-E sent %q (it rewrites the characters it passes)", got)
	}
	tm.send("\x15")
	tm.settle()
	// Up recalls "show version": the line is empty, so it is just typed.
	tm.send("\x1b[A")
	if got := tm.settle(); got != "show version" {
		t.Fatalf("Up arrow sent %q", got)
	}
	// Down back to the empty line: blanks over the recalled text.
	tm.send("\x1b[B")
	want := strings.Repeat("\b", 12) + strings.Repeat(" ", 12) + strings.Repeat("\b", 12)
	if got := tm.settle(); got != want {
		t.Fatalf("Down arrow sent %q, want %q", got, want)
	}
	tm.send("show curpriv\r")
	tm.expect("Current privilege level : 1\r\n")
}

// When the daemon goes away, fosh says so at once (no key pressed), waits,
// and opens a new session in user EXEC when it is back.
func TestPtyReconnect(t *testing.T) {
	sock := serveEngine(t)
	stop := startEngine(t, sock+"2")
	tm := startFoshOn(t, 80, sock+"2")
	tm.send("enable\r")
	tm.expect("pixfirewall# ")
	tm.send("show cur")
	tm.expect("show cur")
	stop()
	tm.expect("\r\nfosh: lost the connection to failoverd: failoverd closed the session\r\n")
	tm.expect("fosh: waiting for failoverd to come back (Ctrl-C to quit)\r\n")
	stop = startEngine(t, sock+"2")
	t.Cleanup(stop)
	tm.expect("fosh: connected to failoverd again (new session)\r\n")
	tm.expect("pixfirewall> ")
	tm.send("show curpriv\r")
	tm.expect("Current privilege level : 1\r\n")
	// Without a daemon, Ctrl-C ends the wait and fosh.
	stop()
	tm.expect("waiting for failoverd to come back")
	tm.send("\x03")
	tm.expect("fosh exited 1")
}

// An over-long line in a paste is one error with its true length; the
// paste goes on with the next line.
func TestPtyLongLinePaste(t *testing.T) {
	tm := startFosh(t, 80)
	tm.send(strings.Repeat("x", 5000) + "\rshow curpriv\r")
	tm.expect("\r\nERROR: line too long (5000 characters, at most 4096)\r\npixfirewall> show curpriv\r\n")
	tm.expect("Current privilege level : 1\r\n")
}

// The pager stops every page at "<--- More --->": Enter shows one more
// line, space a page, q ends; the More prompt is erased with blanks.
func TestPtyPager(t *testing.T) {
	tm := startFosh(t, 80)
	tm.send("enable\r")
	tm.expect("pixfirewall# ")
	tm.send("configure terminal\r")
	tm.expect("pixfirewall(config)# ")
	for i := 1; i <= 12; i++ {
		tm.send(fmt.Sprintf("name 192.0.2.%d host%d\r", i, i))
		tm.expect("pixfirewall(config)# ")
	}
	tm.send("end\r")
	tm.expect("pixfirewall# ")
	tm.send("terminal pager 5\r")
	tm.expect("pixfirewall# ")
	tm.send("show running-config | include ^name\r")
	page := tm.expect("<--- More --->")
	if got := strings.Count(page, "\r\nname "); got != 4 {
		t.Fatalf("first page has %d lines, want 4 (5 with the More line):\n%q", got, page)
	}
	tm.send("\r")
	erase := "\r" + strings.Repeat(" ", len("<--- More --->")) + "\r"
	if one := tm.expect("<--- More --->"); one != erase+"name 192.0.2.5 host5\r\n" {
		t.Fatalf("Enter showed %q, want one line", one)
	}
	tm.send(" ")
	if next := tm.expect("<--- More --->"); strings.Count(next, "name ") != 4 {
		t.Fatalf("space showed %q, want a page", next)
	}
	tm.send("q")
	if rest := tm.expect("pixfirewall# "); rest != erase {
		t.Fatalf("after q: %q", rest)
	}
	if strings.Contains(tm.output(), "\x1b") {
		t.Fatalf("the pager sent escape sequences: %q", tm.output())
	}
}
