package engine

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"failover/engine/config"
	"failover/grammar"
)

// logBuffer is PIX's logging: the buffer behind show logging and the
// syslog hosts. Messages carry their level in "%PIX-L-NNNNNN".
type logBuffer struct {
	mu      sync.Mutex
	entries []string
	counts  map[string]int
	hosts   []net.Conn
	hostCfg []config.LogHost
}

const logBufferSize = 512

func newLogBuffer() *logBuffer { return &logBuffer{counts: map[string]int{}} }

func msgLevel(msg string) int {
	if strings.HasPrefix(msg, "%PIX-") && len(msg) > 6 {
		if n, err := strconv.Atoi(msg[5:6]); err == nil {
			return n
		}
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
		pri := 20*8 + lvl
		for _, h := range b.hosts {
			fmt.Fprintf(h, "<%d>%s", pri, stamped)
		}
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

// configure opens UDP sockets to the configured syslog hosts.
func (b *logBuffer) configure(c *config.Config) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if fmt.Sprint(b.hostCfg) == fmt.Sprint(c.Logging.Hosts) {
		return
	}
	for _, h := range b.hosts {
		h.Close()
	}
	b.hosts = nil
	b.hostCfg = append([]config.LogHost(nil), c.Logging.Hosts...)
	for _, h := range c.Logging.Hosts {
		conn, err := net.Dial("udp", net.JoinHostPort(h.IP.String(), "514"))
		if err == nil {
			b.hosts = append(b.hosts, conn)
		}
	}
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
	for _, h := range c.Logging.Hosts {
		fmt.Fprintf(&s, "        Logging to %s %s\n", h.If, h.IP)
	}
	fmt.Fprintf(&s, "    History logging: disabled\n")
	for _, e := range b.entries {
		s.WriteString(e + "\n")
	}
	return s.String()
}
