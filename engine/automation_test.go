package engine_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	. "failover/engine"
)

// newFileEngine runs an engine without a dataplane whose startup-config is
// a file in a temporary directory.
func newFileEngine(t *testing.T) (*Engine, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "startup-config")
	return runEngine(t, Options{ConfigPath: path}), path
}

var checksumRe = regexp.MustCompile(`(?m)^Cryptochecksum:[0-9a-f]{32}$`)

func grepChecksum(t *testing.T, text string) string {
	t.Helper()
	m := checksumRe.FindAllString(text, -1)
	if len(m) != 1 {
		t.Fatalf("want one Cryptochecksum line, found %d in:\n%s", len(m), text)
	}
	return m[0]
}

// The Cryptochecksum line is what automation compares between the running
// and the saved configuration: equal exactly when they are the same.
func TestCryptochecksum(t *testing.T) {
	e, path := newFileEngine(t)
	s := sessionsOf(e).NewSession(false)
	mustExec(t, s, "enable", "configure terminal", "hostname fw1")
	run := func() string { return grepChecksum(t, s.Exec("show running-config").Output) }
	first := run()
	if r := s.Exec("show startup-config"); strings.Contains(r.Output, "Cryptochecksum") {
		t.Fatalf("no startup-config yet, but it shows a checksum:\n%s", r.Output)
	}
	mustExec(t, s, "write memory")
	if got := grepChecksum(t, s.Exec("show startup-config").Output); got != first {
		t.Fatalf("saved checksum %s, running %s", got, first)
	}
	if again := run(); again != first {
		t.Fatalf("checksum changed without a change: %s then %s", first, again)
	}
	mustExec(t, s, "failover lan key secret1")
	withKey := run()
	if withKey == first {
		t.Fatal("checksum did not change with the failover key")
	}
	mustExec(t, s, "failover lan key secret2")
	if run() == withKey {
		t.Fatal("checksum did not change when only the (masked) key changed")
	}
	mustExec(t, s, "no failover lan key", "no hostname")
	mustExec(t, s, "hostname fw1")
	if run() != first {
		t.Fatal("checksum differs for the same configuration reached another way")
	}
	// The saved file carries the line and loads without a rejected line.
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	e2, err := New(Options{ConfigPath: path, Log: discard()})
	if err != nil {
		t.Fatal(err)
	}
	if grepChecksum(t, ConfigText(e2.Config(), false)) != grepChecksum(t, string(b)) {
		t.Fatal("a restarted engine has another checksum for the saved configuration")
	}
}

func TestAutomationCommands(t *testing.T) {
	e, path := newFileEngine(t)
	s := sessionsOf(e).NewSession(true)
	mustExec(t, s, "enable", "configure terminal", "hostname fw9", "pager lines 20", "failover lan key k3y", "end")
	if r := s.Exec("no terminal pager"); r.Failed() || r.Pager != 0 {
		t.Fatalf("no terminal pager: %+v", r)
	}
	mustExec(t, s, "terminal pager 0", "terminal width 511")

	v := s.Exec("show version").Output
	for _, re := range []string{`Version (\S+)`, `(?m)^fw9 up \d+ mins? \d+ secs?$`, `(?m)^Hardware:\s+Linux `, `(?m)^Serial Number: (FO[0-9A-F]{9}|unknown)$`} {
		if !regexp.MustCompile(re).MatchString(v) {
			t.Errorf("show version lacks %s:\n%s", re, v)
		}
	}
	if m := regexp.MustCompile(`(?m)^(.+) up`).FindStringSubmatch(v); m == nil || m[1] != "fw9" {
		t.Errorf("the first \"up\" line does not name the host: %q", m)
	}

	all := s.Exec("show running-config all").Output
	if all != s.Exec("show running-config").Output || !strings.Contains(all, "failover lan key ********") {
		t.Errorf("show running-config all:\n%s", all)
	}
	if more := s.Exec("more system:running-config").Output; !strings.Contains(more, "failover lan key k3y\n") || grepChecksum(t, more) != grepChecksum(t, all) {
		t.Errorf("more system:running-config:\n%s", more)
	}
	mustExec(t, s, "write memory")
	d := s.Exec("dir")
	if d.Failed() || !strings.HasPrefix(d.Output, "Directory of "+filepath.Dir(path)+"/\n") ||
		!regexp.MustCompile(`(?m)^\d+ +-rw- +\d+ .* startup-config$`).MatchString(d.Output) ||
		!regexp.MustCompile(`(?m)^\d+ bytes total \(\d+ bytes free/\d+% free\)$`).MatchString(d.Output) {
		t.Errorf("dir: %+v", d)
	}
	m := s.Exec("show memory")
	for _, l := range []string{"Free", "Used", "Total"} {
		if !regexp.MustCompile(`(?m)^` + l + ` memory: +[1-9]\d* bytes \(\s*\d+%\)$`).MatchString(m.Output) {
			t.Errorf("show memory lacks the %s line: %+v", l, m)
		}
	}
	// Unprivileged sessions cannot list files or see the key.
	u := sessionsOf(e).NewSession(false)
	for _, l := range []string{"dir", "more system:running-config", "show running-config all"} {
		if r := u.Exec(l); !strings.Contains(r.Err, "privileged") {
			t.Errorf("%s in user EXEC: %+v", l, r)
		}
	}
	if r := u.Exec("show memory"); r.Failed() {
		t.Errorf("show memory in user EXEC: %+v", r)
	}
}

func TestFormatUptime(t *testing.T) {
	for _, c := range []struct {
		s    int
		want string
	}{{5, "0 mins 5 secs"}, {61, "1 min 1 sec"}, {3600 + 120, "1 hour 2 mins"}, {86400*3 + 3600, "3 days 1 hour"}, {86400, "1 day 0 hours"}} {
		if got := FormatUptime(time.Duration(c.s) * time.Second); got != c.want {
			t.Errorf("%d s: %q, want %q", c.s, got, c.want)
		}
	}
}
