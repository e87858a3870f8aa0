package engine

import (
	"strings"
	"testing"
	"time"

	"failover/engine/config"
)

// Console messages sit in the buffer like the syslog lines around them:
// stamped only once "logging timestamp" is on.
func TestLogBufferStampsConsoleLinesAsSyslog(t *testing.T) {
	b := newLogBuffer(discard())
	c := config.New()
	c.Logging.On, c.Logging.Buffered, c.Logging.Trap = true, 6, -1
	now := time.Date(2026, 4, 26, 12, 0, 0, 0, time.UTC)
	b.add(now, "%PIX-6-000001: first", c)
	b.console(now, "Beginning configuration replication: Sending to mate.", c)
	c.Logging.Timestamp = true
	b.add(now, "%PIX-6-000002: second", c)
	b.console(now, "End Configuration Replication to mate", c)
	out := b.show(c)
	_, entries, _ := strings.Cut(out, "History logging: disabled\n")
	want := "%PIX-6-000001: first\n" +
		"Beginning configuration replication: Sending to mate.\n" +
		"Apr 26 2026 12:00:00: %PIX-6-000002: second\n" +
		"Apr 26 2026 12:00:00: End Configuration Replication to mate\n"
	if entries != want {
		t.Errorf("buffer:\n%s\nwant:\n%s", entries, want)
	}
}
