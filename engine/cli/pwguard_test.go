package cli

import (
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"failover/engine"
)

// recordSleeps makes the engine's password delay record its waits instead
// of sleeping.
func recordSleeps(e *CLI) func() []time.Duration {
	var mu sync.Mutex
	var got []time.Duration
	e.pw.sleep = func(d time.Duration, _ <-chan struct{}) bool {
		mu.Lock()
		got = append(got, d)
		mu.Unlock()
		return true
	}
	return func() []time.Duration {
		mu.Lock()
		defer mu.Unlock()
		return append([]time.Duration(nil), got...)
	}
}

// An interactive enable asks three times, then "% Bad passwords" and the
// session stays unprivileged; each failure is logged with the session's
// peer and makes the next try of that peer wait longer.
func TestEnableThreeTries(t *testing.T) {
	var buf syncBuffer
	e := runCLI(t, engine.Options{Log: slog.New(slog.NewTextHandler(&buf, nil))}, Limits{})
	sleeps := recordSleeps(e)
	admin := e.NewSession(false)
	mustExec(t, admin, "enable", "conf t", "enable password right-one", "end")

	s := e.newSession(true, Peer{Kind: "socket", UID: 1000, PID: 4242, SSH: "203.0.113.7 50022"})
	if r := s.Exec("enable"); !r.NeedPassword {
		t.Fatalf("enable: %+v", r)
	}
	for try := 1; try <= 2; try++ {
		if r := s.Enable("wrong"); !r.NeedPassword || r.Err != "" {
			t.Fatalf("wrong password %d: %+v, want to be asked again", try, r)
		}
	}
	r := s.Enable("wrong")
	if r.NeedPassword || r.Err != "% Bad passwords" || s.Priv() {
		t.Fatalf("third wrong password: %+v priv=%v", r, s.Priv())
	}
	if r := s.Enable("right-one"); !r.Failed() || s.Priv() {
		t.Fatalf("password after the three tries: %+v", r)
	}
	// A new enable gets three new tries; the right password works, after
	// the delay the failures earned.
	if r := s.Exec("enable"); !r.NeedPassword {
		t.Fatalf("enable again: %+v", r)
	}
	if r := s.Enable("right-one"); r.Failed() || !s.Priv() {
		t.Fatalf("right password: %+v", r)
	}
	want := []time.Duration{0, time.Second, 2 * time.Second, 4 * time.Second}
	if got := sleeps(); len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Errorf("delays before the checks %v, want %v", got, want)
	}
	out := buf.String()
	if n := strings.Count(out, `level=WARN msg="enable password rejected" session=2 peer=socket uid=1000 pid=4242 ssh_client="203.0.113.7 50022"`); n != 3 {
		t.Errorf("%d failures logged with the peer, want 3:\n%s", n, out)
	}
	if !strings.Contains(out, `%PIX-6-605004: Login denied from 203.0.113.7/50022 to socket for user \"enable_15\"`) {
		t.Errorf("no syslog message for the failures:\n%s", out)
	}
}

// A script gets one try per enable (its next line is not a second
// password); the third failure in a row says "% Bad passwords".
func TestEnableScript(t *testing.T) {
	e := newTestEngine(t)
	recordSleeps(e)
	mustExec(t, e.NewSession(false), "enable", "conf t", "enable password right-one", "end")
	s := e.NewSession(false)
	for try, want := range []string{"Invalid password", "Invalid password", "% Bad passwords"} {
		if r := s.Exec("enable"); !r.NeedPassword {
			t.Fatalf("enable: %+v", r)
		}
		if r := s.Enable("wrong"); r.NeedPassword || r.Err != want {
			t.Fatalf("try %d: %+v, want %q", try+1, r, want)
		}
	}
}

func TestPasswordDelayGrows(t *testing.T) {
	g := newPWGuard()
	for fails, want := range []time.Duration{0, 1, 2, 4, 8, 16, 30, 30, 30} {
		if got := g.delay(fails); got != want*time.Second {
			t.Errorf("delay after %d failures: %v, want %v", fails, got, want*time.Second)
		}
	}
	if got := g.delay(1000); got != 30*time.Second {
		t.Errorf("delay after 1000 failures: %v", got)
	}
}
