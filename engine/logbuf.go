package engine

import (
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"failover/engine/config"
	"failover/engine/journal"
	"failover/engine/syslogfwd"
	"failover/grammar"
)

// logBuffer is PIX's logging: the buffer behind show logging and the
// syslog hosts. Messages carry their level in "%PIX-L-NNNNNN".
type logBuffer struct {
	mu      sync.Mutex
	entries []string
	counts  map[string]int
	fwd     *syslogfwd.Forwarder
	targets []syslogfwd.Target // as last configured, in configuration order
}

const logBufferSize = 512

func newLogBuffer(log *slog.Logger) *logBuffer {
	return &logBuffer{counts: map[string]int{}, fwd: syslogfwd.New(log.With("part", "syslog"))}
}

// msgLevel is the PIX severity of a message; other text counts as
// informational.
func msgLevel(msg string) int {
	if sev, _, ok := journal.ParsePIX(msg); ok {
		return sev
	}
	return 6
}

func (b *logBuffer) add(now time.Time, msg string, c *config.Config) {
	b.mu.Lock()
	defer b.mu.Unlock()
	lvl := msgLevel(msg)
	if !c.Logging.On {
		return
	}
	stamped := stamp(now, msg, c)
	if c.Logging.Buffered >= lvl {
		b.entries = append(b.entries, stamped)
		if len(b.entries) > logBufferSize {
			b.entries = b.entries[1:]
		}
		b.counts["buffer"]++
	}
	if c.Logging.Trap >= lvl {
		b.counts["trap"]++
		// RFC 3164 with facility local4 (20), as PIX sends.
		b.fwd.Send(fmt.Sprintf("<%d>%s", 20*8+lvl, stamped))
	}
}

// stamp prefixes msg with its time when "logging timestamp" is on.
func stamp(now time.Time, msg string, c *config.Config) string {
	if c.Logging.Timestamp {
		return now.UTC().Format("Jan 02 2006 15:04:05") + ": " + msg
	}
	return msg
}

// console keeps a console message (not a syslog message: no level, no
// host) in the buffer, which is where the --console session reads it,
// stamped as the syslog lines around it are.
func (b *logBuffer) console(now time.Time, msg string, c *config.Config) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entries = append(b.entries, stamp(now, msg, c))
	if len(b.entries) > logBufferSize {
		b.entries = b.entries[1:]
	}
}

// configure points the forwarder at the configured syslog hosts. Nothing
// is dialled here: each target connects from its own goroutine, and keeps
// trying while its interface has no address.
func (b *logBuffer) configure(c *config.Config) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.targets = b.targets[:0]
	for _, h := range c.Logging.Hosts {
		t := syslogfwd.Target{Name: h.If, IP: h.IP, Proto: h.Proto, Port: h.Port}
		if t.Proto == "" {
			t.Proto, t.Port = "udp", grammar.SyslogUDPPort
		}
		if f := c.IfByName(h.If); f != nil {
			t.Dev = f.HW
		}
		b.targets = append(b.targets, t)
	}
	b.fwd.Configure(b.targets)
}

func (b *logBuffer) clear() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.entries = nil
}

func (b *logBuffer) show(c *config.Config) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	lvl := func(n int, what string) string {
		if n < 0 || !c.Logging.On {
			return "disabled"
		}
		return fmt.Sprintf("level %s, %d messages logged", grammar.Levels[n], b.counts[what])
	}
	var s strings.Builder
	on := "disabled"
	if c.Logging.On {
		on = "enabled"
	}
	fmt.Fprintf(&s, "Syslog logging: %s\n", on)
	ts := "disabled"
	if c.Logging.Timestamp {
		ts = "enabled"
	}
	fmt.Fprintf(&s, "    Facility: 20\n    Timestamp logging: %s\n    Standby logging: disabled\n", ts)
	fmt.Fprintf(&s, "    Console logging: %s\n", lvl(c.Logging.Console, "console"))
	fmt.Fprintf(&s, "    Monitor logging: disabled\n")
	fmt.Fprintf(&s, "    Buffer logging: %s\n", lvl(c.Logging.Buffered, "buffer"))
	fmt.Fprintf(&s, "    Trap logging: %s\n", lvl(c.Logging.Trap, "trap"))
	for i, h := range c.Logging.Hosts {
		pp := h.ProtoPort()
		if pp != "" {
			pp = " " + pp
		}
		fmt.Fprintf(&s, "        Logging to %s %s%s\n", h.If, h.IP, pp)
		if i < len(b.targets) {
			st := b.fwd.Stats(b.targets[i])
			fmt.Fprintf(&s, "            %d sent, %d queued, %d dropped", st.Sent, st.Queued, st.Dropped)
			if b.targets[i].Proto == "tcp" && st.Connected {
				s.WriteString(", connected")
			}
			if st.LastErr != "" {
				fmt.Fprintf(&s, ", last error: %s", st.LastErr)
			}
			s.WriteString("\n")
		}
	}
	fmt.Fprintf(&s, "    History logging: disabled\n")
	for _, e := range b.entries {
		s.WriteString(e + "\n")
	}
	return s.String()
}
