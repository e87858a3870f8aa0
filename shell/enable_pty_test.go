package shell_test

import (
	"strings"
	"testing"
)

// A wrong enable password is asked again, three tries in all, then
// "% Bad passwords" and the user EXEC prompt; Ctrl-C at "Password:" goes
// back to the prompt.
func TestPtyEnableThreeTries(t *testing.T) {
	sock := serveEngine(t)
	configure(t, sock, "enable", "configure terminal", "enable password s3cret", "end")
	tm := startFoshOn(t, 80, sock)
	tm.send("enable\r")
	tm.expect("Password: ")
	for _, pw := range []string{"wrong1", "wrong2"} {
		tm.send(pw + "\r")
		tm.expect("Password: ")
	}
	tm.send("wrong3\r")
	if got := plain(tm.expect("pixfirewall> ")); !strings.Contains(got, "% Bad passwords") {
		t.Fatalf("after three wrong passwords: %q", got)
	}
	tm.send("enable\r")
	tm.expect("Password: ")
	tm.send("\x03")
	tm.expect("pixfirewall> ")
	// (The right password now waits 4 s, the delay three failures earned;
	// the engine's tests cover it.)
	if out := tm.output(); strings.Contains(out, "wrong") {
		t.Fatalf("a password was echoed:\n%q", out)
	}
}
