package journal

import (
	"bytes"
	"encoding/binary"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// The handler talks to the journal's real socket path, which go-systemd
// does not let us move; so the test re-runs itself in a private mount
// namespace with a tmpfs over /run and plays journald there.
const childEnv = "FAILOVER_JOURNAL_TEST_CHILD"

func TestJournalSocket(t *testing.T) {
	if os.Getenv(childEnv) == "" {
		if os.Geteuid() != 0 {
			t.Skip("needs root: a private mount namespace for a journal socket of the test's own")
		}
		if _, err := exec.LookPath("unshare"); err != nil {
			t.Skip("needs unshare (util-linux)")
		}
		self, err := os.Executable()
		if err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c",
			`mount -t tmpfs tmpfs /run && exec "$0" -test.run '^TestJournalSocket$' -test.v`, self)
		cmd.Env = append(os.Environ(), childEnv+"=1")
		out, err := cmd.CombinedOutput()
		if err != nil || !bytes.Contains(out, []byte("--- PASS: TestJournalSocket")) {
			t.Fatalf("child test: %v\n%s", err, out)
		}
		return
	}

	if err := os.MkdirAll("/run/systemd/journal", 0o755); err != nil {
		t.Fatal(err)
	}
	ln, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: "/run/systemd/journal/socket", Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()

	log := slog.New(New("failoverd", slog.LevelInfo, nil)).With("part", "unit")
	log.Info("syslog", "msg", "%PIX-1-104001: (Secondary) Switching to ACTIVE - HELLO not heard from mate")
	log.Info("syslog", "msg", "%PIX-6-622001: Adding tracked route 0.0.0.0 0.0.0.0 198.51.100.17, distance 254")
	log.Debug("not logged below the level")
	log.Warn("failed to listen", "iface", "eth1", "err", "no such device")

	want := []map[string]string{
		{"PRIORITY": "1", "PIX_MESSAGE_ID": "104001", "PIX_SEVERITY": "1", "SYSLOG_IDENTIFIER": "failoverd",
			"MESSAGE": "%PIX-1-104001: (Secondary) Switching to ACTIVE - HELLO not heard from mate part=unit"},
		{"PRIORITY": "6", "PIX_MESSAGE_ID": "622001",
			"MESSAGE": "%PIX-6-622001: Adding tracked route 0.0.0.0 0.0.0.0 198.51.100.17, distance 254 part=unit"},
		{"PRIORITY": "4", "PIX_MESSAGE_ID": "",
			"MESSAGE": `failed to listen part=unit iface=eth1 err="no such device"`},
	}
	buf := make([]byte, 1<<16)
	for i, w := range want {
		ln.SetReadDeadline(time.Now().Add(5 * time.Second))
		n, _, err := ln.ReadFromUnix(buf)
		if err != nil {
			t.Fatalf("entry %d: %v", i, err)
		}
		got := parseNative(t, buf[:n])
		for k, v := range w {
			if got[k] != v {
				t.Errorf("entry %d: %s = %q, want %q (entry %q)", i, k, got[k], v, got)
			}
		}
	}
}

// parseNative decodes journald's native protocol: KEY=value lines, or KEY,
// newline, a little-endian 64-bit length, the value and a newline.
func parseNative(t *testing.T, b []byte) map[string]string {
	t.Helper()
	m := map[string]string{}
	for len(b) > 0 {
		nl := bytes.IndexByte(b, '\n')
		if nl < 0 {
			t.Fatalf("unterminated field %q", b)
		}
		line := string(b[:nl])
		if k, v, ok := strings.Cut(line, "="); ok {
			m[k] = v
			b = b[nl+1:]
			continue
		}
		b = b[nl+1:]
		n := binary.LittleEndian.Uint64(b[:8])
		m[line] = string(b[8 : 8+n])
		b = b[8+n+1:]
	}
	return m
}

func TestParsePIX(t *testing.T) {
	for _, c := range []struct {
		in      string
		sev, id int
		ok      bool
	}{
		{"%PIX-1-104001: (Primary) Switching to ACTIVE", 1, 104001, true},
		{"%PIX-7-0: x", 7, 0, true},
		{"%PIX-8-104001: x", 0, 0, false},
		{"%PIX-1-: x", 0, 0, false},
		{"%PIX-1-104001 no colon", 0, 0, false},
		{"%PIX-", 0, 0, false},
		{"PIX-1-104001: x", 0, 0, false},
		{"%PIX-1-+5: x", 0, 0, false},
	} {
		sev, id, ok := ParsePIX(c.in)
		if sev != c.sev || id != c.id || ok != c.ok {
			t.Errorf("ParsePIX(%q) = %d, %d, %v; want %d, %d, %v", c.in, sev, id, ok, c.sev, c.id, c.ok)
		}
	}
}

func FuzzParsePIX(f *testing.F) {
	f.Add("%PIX-1-104001: (Primary) Switching to ACTIVE")
	f.Add("%PIX-6-622001:")
	f.Fuzz(func(t *testing.T, s string) {
		sev, id, ok := ParsePIX(s)
		if ok && (sev < 0 || sev > 7 || id < 0 || !strings.HasPrefix(s, "%PIX-")) {
			t.Fatalf("ParsePIX(%q) = %d, %d, true", s, sev, id)
		}
	})
}
