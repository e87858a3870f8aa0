// Package journal is a log/slog handler writing to the systemd journal
// (through github.com/coreos/go-systemd/v22/journal) with a priority per
// record. The PIX messages the engine logs ("%PIX-1-104001: ...") take
// the priority of their PIX severity (the same 0-7 scale as syslog) and
// carry their number as the structured field PIX_MESSAGE_ID, so that
// "journalctl PIX_MESSAGE_ID=104001" finds every takeover.
package journal

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"strings"

	"github.com/coreos/go-systemd/v22/journal"
)

// Sender delivers one journal entry (journal.Send, or a test's recorder).
type Sender func(message string, priority journal.Priority, vars map[string]string) error

// Handler is a slog.Handler for the journal.
type Handler struct {
	level  slog.Leveler
	ident  string
	send   Sender
	attrs  string // "k=v ..." of WithAttrs, already formatted
	prefix string // group prefix for keys
}

// New returns a handler logging records at level and above under the
// syslog identifier ident. A nil send uses the journal's socket.
func New(ident string, level slog.Leveler, send Sender) *Handler {
	if send == nil {
		send = journal.Send
	}
	return &Handler{level: level, ident: ident, send: send}
}

// Enabled reports whether records at l are logged.
func (h *Handler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.level.Level() }

// Handle sends one record.
func (h *Handler) Handle(_ context.Context, r slog.Record) error {
	vars := map[string]string{"SYSLOG_IDENTIFIER": h.ident}
	pri := levelPriority(r.Level)
	var kv strings.Builder
	kv.WriteString(h.attrs)
	pix := ""
	r.Attrs(func(a slog.Attr) bool {
		if s := a.Value.String(); a.Key == "msg" && strings.HasPrefix(s, "%PIX-") {
			pix = s
			return true
		}
		appendAttr(&kv, h.prefix, a)
		return true
	})
	msg := r.Message
	if sev, id, ok := ParsePIX(pix); ok {
		msg, pri = pix, journal.Priority(sev)
		vars["PIX_MESSAGE_ID"] = strconv.Itoa(id)
		vars["PIX_SEVERITY"] = strconv.Itoa(sev)
	}
	if kv.Len() > 0 {
		msg += " " + strings.TrimSpace(kv.String())
	}
	return h.send(msg, pri, vars)
}

// WithAttrs returns a handler that adds attrs to every record.
func (h *Handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	n := *h
	var b strings.Builder
	b.WriteString(h.attrs)
	for _, a := range attrs {
		appendAttr(&b, h.prefix, a)
	}
	n.attrs = b.String()
	return &n
}

// WithGroup returns a handler that qualifies later keys with name.
func (h *Handler) WithGroup(name string) slog.Handler {
	n := *h
	n.prefix = h.prefix + name + "."
	return &n
}

func appendAttr(b *strings.Builder, prefix string, a slog.Attr) {
	if a.Equal(slog.Attr{}) {
		return
	}
	if a.Value.Kind() == slog.KindGroup {
		for _, g := range a.Value.Group() {
			appendAttr(b, prefix+a.Key+".", g)
		}
		return
	}
	v := a.Value.Resolve().String()
	if strings.ContainsAny(v, " \"=") || v == "" {
		v = strconv.Quote(v)
	}
	fmt.Fprintf(b, " %s%s=%s", prefix, a.Key, v)
}

// levelPriority maps slog levels to syslog priorities.
func levelPriority(l slog.Level) journal.Priority {
	switch {
	case l >= slog.LevelError:
		return journal.PriErr
	case l >= slog.LevelWarn:
		return journal.PriWarning
	case l >= slog.LevelInfo:
		return journal.PriInfo
	}
	return journal.PriDebug
}

// ParsePIX reads the severity and number of "%PIX-S-NNNNNN: text".
func ParsePIX(msg string) (severity, id int, ok bool) {
	rest, found := strings.CutPrefix(msg, "%PIX-")
	if !found || len(rest) < 3 || rest[1] != '-' {
		return 0, 0, false
	}
	sev := int(rest[0] - '0')
	if sev < 0 || sev > 7 {
		return 0, 0, false
	}
	num, _, found := strings.Cut(rest[2:], ":")
	if !found || num == "" || len(num) > 9 || strings.Trim(num, "0123456789") != "" {
		return 0, 0, false
	}
	n, _ := strconv.Atoi(num)
	return sev, n, true
}
