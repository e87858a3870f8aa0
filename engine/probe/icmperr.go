package probe

import (
	"encoding/binary"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// pro-bing's receive loop drops every ICMP message but an echo reply, so an
// on-path router answering a probe with Destination Unreachable or Time
// Exceeded would leave the probe waiting out its whole timeout. errWatch
// listens for those errors on a second raw ICMP socket (a raw ICMP socket gets
// a copy of every ICMP message the host receives) and ends the probe as soon
// as one quotes one of the probe's own echo requests.

// errWatch watches for ICMP errors about one probe. Its zero value is unusable;
// start one with startErrWatch.
type errWatch struct {
	conn      *icmp.PacketConn
	done      chan struct{} // closed when the reading goroutine has returned
	closeOnce sync.Once

	mu  sync.Mutex
	err string // the first matching error, as the Result's Err
}

// errWatchReadSize holds any ICMP error: the kernel quotes at most 576 bytes.
const errWatchReadSize = 1500

// startErrWatch opens the watching socket and starts reading it until
// deadline or close. It returns nil, after logging at debug, when the socket
// cannot be opened: the probe then works as before, without the fast path.
//
// A match calls stop, unless hasReply reports that an echo reply already
// arrived (the probe has succeeded; a later error must not cut it short).
// target must be a 4-byte IPv4 address; id and count are the pinger's echo
// identifier and number of requests (sequences 0 to count-1).
func startErrWatch(log *slog.Logger, target net.IP, id, count int, deadline time.Time, hasReply func() bool, stop func()) *errWatch {
	conn, err := icmp.ListenPacket("ip4:icmp", "0.0.0.0")
	if err != nil {
		log.Debug("cannot watch for ICMP errors; probe falls back to its timeout", "err", err)
		return nil
	}
	// Only errors are of interest: let the kernel drop the rest (echo
	// replies to every prober on the box, for one) before they reach us.
	var f ipv4.ICMPFilter
	f.SetAll(true)
	f.Accept(ipv4.ICMPTypeDestinationUnreachable)
	f.Accept(ipv4.ICMPTypeTimeExceeded)
	if err := conn.IPv4PacketConn().SetICMPFilter(&f); err != nil {
		log.Debug("cannot filter the ICMP error socket; reading every ICMP message", "err", err)
	}
	if err := conn.SetReadDeadline(deadline); err != nil {
		conn.Close()
		log.Debug("cannot watch for ICMP errors; probe falls back to its timeout", "err", err)
		return nil
	}
	w := &errWatch{conn: conn, done: make(chan struct{})}
	go w.read(log, target, id, count, hasReply, stop)
	return w
}

func (w *errWatch) read(log *slog.Logger, target net.IP, id, count int, hasReply func() bool, stop func()) {
	defer close(w.done)
	defer func() {
		// A bug here must cost the fast path only, never the daemon.
		if r := recover(); r != nil {
			log.Error("ICMP error watch panicked", "panic", r)
		}
	}()
	buf := make([]byte, errWatchReadSize)
	for {
		n, peer, err := w.conn.ReadFrom(buf)
		if err != nil {
			// Deadline reached or socket closed: the probe is over. Any
			// other read error is not worth retrying within one probe.
			return
		}
		what, ok := matchError(buf[:n], target, id, count)
		if !ok {
			continue
		}
		if hasReply() {
			return
		}
		from := "unknown"
		if a, ok := peer.(*net.IPAddr); ok && a != nil {
			from = a.IP.String()
		}
		w.mu.Lock()
		w.err = what + " from " + from
		w.mu.Unlock()
		stop()
		return
	}
}

// close closes the socket, which ends the reading goroutine's blocked read
// at once, and waits for that goroutine for at most wait (not at all when
// wait <= 0). It returns the error seen, if any. It may be called more than
// once, and on a nil w (no watch was running).
func (w *errWatch) close(wait time.Duration) string {
	if w == nil {
		return ""
	}
	w.closeOnce.Do(func() { w.conn.Close() })
	if wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-w.done:
		case <-t.C:
		}
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.err
}

// matchError reports whether b, an ICMP message without its IP header, is a
// Destination Unreachable or Time Exceeded about one of a probe's echo
// requests: the quoted original datagram is an unfragmented-or-first-fragment
// ICMP Echo Request to target (4 bytes) with identifier id and a sequence
// below count. It returns the error in a few words ("net unreachable").
//
// Fragmentation Needed is not a match: it is path-MTU signalling, not
// unreachability. The kernel learns the smaller MTU from it and fragments the
// probe's later requests, which may well be answered.
func matchError(b []byte, target net.IP, id, count int) (string, bool) {
	m, err := icmp.ParseMessage(ipv4.ICMPTypeEchoReply.Protocol(), b)
	if err != nil {
		return "", false
	}
	var quote []byte
	var what string
	switch body := m.Body.(type) {
	case *icmp.DstUnreach:
		if m.Type != ipv4.ICMPTypeDestinationUnreachable || m.Code == codeFragNeeded {
			return "", false
		}
		quote, what = body.Data, unreachName(m.Code)
	case *icmp.TimeExceeded:
		if m.Type != ipv4.ICMPTypeTimeExceeded {
			return "", false
		}
		quote, what = body.Data, timeExceededName(m.Code)
	default:
		return "", false
	}
	if !quotesEcho(quote, target, id, count) {
		return "", false
	}
	return what, true
}

// quotesEcho reports whether q, the original datagram quoted in an ICMP
// error, is one of the probe's echo requests.
func quotesEcho(q []byte, target net.IP, id, count int) bool {
	if len(q) < 20 || q[0]>>4 != 4 {
		return false
	}
	hl := int(q[0]&0x0f) * 4
	if hl < 20 || len(q) < hl+8 {
		return false // the quote must reach the echo identifier and sequence
	}
	if q[9] != 1 { // protocol ICMP
		return false
	}
	if binary.BigEndian.Uint16(q[6:8])&0x1fff != 0 {
		return false // a later fragment: no ICMP header in it
	}
	t4 := target.To4()
	if t4 == nil || !net.IP(q[16:20]).Equal(t4) {
		return false
	}
	e := q[hl:]
	if e[0] != byte(ipv4.ICMPTypeEcho) || e[1] != 0 {
		return false
	}
	if int(binary.BigEndian.Uint16(e[4:6])) != id {
		return false
	}
	// pro-bing numbers a fresh pinger's requests from 0, wrapping at 65536.
	if seq := int(binary.BigEndian.Uint16(e[6:8])); count <= 65535 && seq >= count {
		return false
	}
	return true
}

const codeFragNeeded = 4

// unreachCodes names the Destination Unreachable codes of RFC 792 (0-5) and
// RFC 1122 / RFC 1812 (6-15).
var unreachCodes = [...]string{
	0:  "net unreachable",
	1:  "host unreachable",
	2:  "protocol unreachable",
	3:  "port unreachable",
	4:  "fragmentation needed and DF set",
	5:  "source route failed",
	6:  "destination network unknown",
	7:  "destination host unknown",
	8:  "source host isolated",
	9:  "net administratively prohibited",
	10: "host administratively prohibited",
	11: "net unreachable for TOS",
	12: "host unreachable for TOS",
	13: "communication administratively prohibited",
	14: "host precedence violation",
	15: "precedence cutoff in effect",
}

func unreachName(code int) string {
	if code >= 0 && code < len(unreachCodes) {
		return unreachCodes[code]
	}
	return fmt.Sprintf("destination unreachable (code %d)", code)
}

func timeExceededName(code int) string {
	switch code {
	case 0:
		return "TTL exceeded"
	case 1:
		return "fragment reassembly time exceeded"
	}
	return fmt.Sprintf("time exceeded (code %d)", code)
}
