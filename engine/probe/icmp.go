package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync/atomic"
	"syscall"
	"time"

	probing "github.com/prometheus-community/pro-bing"
)

// StopMargin bounds how long Probe may run past Spec.Timeout. pro-bing's
// receive loop polls with read deadlines of up to ~100ms, so a stopped pinger
// needs a moment to unwind; past this margin Probe gives up on it and returns.
const StopMargin = 500 * time.Millisecond

// watchCloseWait bounds the wait for the ICMP error watch to unwind once its
// socket is closed (which ends its blocked read at once), and never extends
// Probe past Spec.Timeout plus StopMargin.
const watchCloseWait = 50 * time.Millisecond

const (
	// minPayload is the smallest ICMP payload pro-bing can send: it stores an
	// 8-byte send timestamp and a 16-byte tracker UUID in every request and
	// refuses to run with less. ASA's request-data-size may be smaller (its
	// default is 28, its minimum 0), so smaller sizes are raised to this.
	minPayload = 8 + 16
	// maxPayload is the largest payload that fits one IPv4 datagram
	// (65535 - 20 byte IP header - 8 byte ICMP header).
	maxPayload = 65535 - 20 - 8

	// maxSendInterval spaces the echo requests of one operation. ASA sends
	// them back to back; a few milliseconds apart keeps them from being
	// dropped as a burst by policers while leaving the timeout for replies.
	maxSendInterval = 10 * time.Millisecond
	minSendInterval = time.Millisecond
)

// LookupFunc resolves a host name to its addresses.
type LookupFunc func(ctx context.Context, host string) ([]net.IP, error)

// ICMP is the production Prober: ICMP echo over privileged raw sockets, one
// fresh pro-bing Pinger per probe (a Pinger can only run once). It holds no
// per-probe state, so one ICMP may serve concurrent probes.
type ICMP struct {
	log *slog.Logger

	// LookupIP resolves host-name targets. It is a field so tests can make
	// resolution fail without a query ever reaching a real resolver. Set it
	// before the first Probe; nil means the system resolver.
	LookupIP LookupFunc
}

var _ Prober = (*ICMP)(nil)

// NewICMP returns an ICMP prober using the system resolver. It needs
// CAP_NET_RAW for the raw socket, and CAP_NET_ADMIN when a Spec sets Mark.
func NewICMP(log *slog.Logger) *ICMP {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ICMP{log: log, LookupIP: systemLookup}
}

func systemLookup(ctx context.Context, host string) ([]net.IP, error) {
	// A fresh Resolver honours ctx in both the pure-Go and cgo paths.
	var r net.Resolver
	return r.LookupIP(ctx, "ip4", host)
}

// Probe runs one SLA operation: Spec.NumPackets echo requests to Spec.Target,
// OK when at least one reply arrives within Spec.Timeout. It returns within
// Spec.Timeout plus StopMargin, sooner when ctx ends or all replies are in.
func (p *ICMP) Probe(ctx context.Context, s Spec) (res Result) {
	defer func() {
		// A probe is a measurement; a bug in it must not take the daemon down.
		if r := recover(); r != nil {
			p.log.Error("probe panicked", "target", s.Target, "panic", r)
			res = Result{Err: "internal probe error"}
		}
	}()

	if ctx.Err() != nil {
		return Result{Err: "probe cancelled"}
	}
	n, size, tos, err := checkSpec(s)
	if err != nil {
		return Result{Err: err.Error()}
	}

	deadline := time.Now().Add(s.Timeout)
	pctx, cancel := context.WithDeadline(ctx, deadline)
	defer cancel()

	ip, err := p.resolve(pctx, s.Target)
	if err != nil {
		if ctx.Err() == context.Canceled {
			return Result{Err: "probe cancelled"}
		}
		return Result{Err: err.Error()}
	}
	// Resolution ate into the timeout; the echo gets what is left.
	remaining := time.Until(deadline)
	if remaining <= 0 {
		return Result{Err: NoReply(s.Timeout)}
	}

	pinger := probing.New(ip.String())
	pinger.SetIPAddr(&net.IPAddr{IP: ip})
	// Raw sockets: unprivileged ping sockets depend on ping_group_range,
	// which is closed in new network namespaces.
	pinger.SetPrivileged(true)
	pinger.SetLogger(slogAdapter{p.log.With("target", s.Target, "addr", ip.String())})
	pinger.Count = n
	pinger.Size = size
	pinger.Timeout = remaining
	pinger.Interval = sendInterval(n, remaining)
	pinger.RecordRtts = false
	pinger.RecordTTLs = false
	// SO_MARK, not InterfaceName: pro-bing's InterfaceName only sets the
	// outgoing ifindex in a control message, which neither picks the
	// uplink's routing table nor its gateway. The mark lets "ip rule fwmark"
	// choose the table.
	if s.Mark != 0 {
		pinger.SetMark(uint(s.Mark))
	}
	if tos != 0 {
		pinger.SetTrafficClass(tos)
	}
	var setUp atomic.Bool
	pinger.OnSetup = func() { setUp.Store(true) }

	// Watch for routers answering the requests with ICMP errors; a match
	// stops the pinger at once instead of letting it wait out the timeout.
	var watch *errWatch
	if v4 := ip.To4(); v4 != nil {
		watch = startErrWatch(p.log.With("target", s.Target), v4, pinger.ID(), n, deadline,
			func() bool { return pinger.Statistics().PacketsRecv > 0 }, pinger.Stop)
		defer watch.close(0) // for the panic path; a no-op once closed below
	}

	done := make(chan error, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- fmt.Errorf("pinger panicked: %v", r)
			}
		}()
		done <- pinger.RunWithContext(pctx)
	}()

	// pro-bing stops on pctx, but it has unbounded retry loops on some send
	// errors (ENOBUFS, EACCES), so do not trust it to return: cap the wait.
	hard := time.NewTimer(time.Until(deadline) + StopMargin)
	defer hard.Stop()
	var runErr error
	select {
	case runErr = <-done:
	case <-hard.C:
		pinger.Stop()
		p.log.Warn("pinger did not stop in time; abandoning it", "target", s.Target)
	}

	// Close the watch; its goroutine ends with the socket. Waiting for it
	// stays within Timeout + StopMargin.
	icmpErr := watch.close(min(watchCloseWait, time.Until(deadline.Add(StopMargin))))

	st := pinger.Statistics()
	res = summarize(s, st.PacketsSent, st.PacketsRecv, st.AvgRtt)
	if res.OK {
		if runErr != nil && !isContextErr(runErr) {
			p.log.Debug("probe succeeded despite error", "target", s.Target, "err", runErr)
		}
		return res
	}
	switch {
	case ctx.Err() == context.Canceled:
		res.Err = "probe cancelled"
	case icmpErr != "":
		res.Err = icmpErr
	case runErr != nil && !isContextErr(runErr):
		res.Err = runFailure(runErr, setUp.Load(), st.PacketsSent)
		res.Unsent = setUp.Load() && st.PacketsSent == 0 && noSource(runErr)
	default:
		res.Err = NoReply(s.Timeout)
	}
	return res
}

// checkSpec validates s and returns the packet count, payload size and TOS
// to use, applying ASA's defaults and pro-bing's limits.
func checkSpec(s Spec) (n, size int, tos uint8, err error) {
	if s.Target == "" {
		return 0, 0, 0, errors.New("no target address")
	}
	if s.Timeout <= 0 {
		return 0, 0, 0, fmt.Errorf("invalid timeout %s", s.Timeout)
	}
	if s.TOS < 0 || s.TOS > 255 {
		return 0, 0, 0, fmt.Errorf("invalid tos %d", s.TOS)
	}
	if s.Size < 0 || s.Size > maxPayload {
		return 0, 0, 0, fmt.Errorf("invalid request-data-size %d", s.Size)
	}
	n = s.NumPackets
	if n < 1 {
		n = 1 // ASA's num-packets default
	}
	return n, max(s.Size, minPayload), uint8(s.TOS), nil
}

// sendInterval spaces n requests so that all are out within the first half
// of the timeout, leaving the rest for their replies.
func sendInterval(n int, timeout time.Duration) time.Duration {
	if n <= 1 {
		// The first request goes out at once; the interval is never used.
		return maxSendInterval
	}
	iv := timeout / time.Duration(2*(n-1))
	return min(max(iv, minSendInterval), maxSendInterval)
}

// summarize turns pinger statistics into a Result (Err left to the caller).
// A Threshold of zero or less means no threshold.
func summarize(s Spec, sent, recv int, avg time.Duration) Result {
	r := Result{Sent: sent, Recv: recv, OK: recv > 0}
	if r.OK {
		r.RTT = avg
		r.OverThreshold = s.Threshold > 0 && avg > s.Threshold
	}
	return r
}

// resolve returns the address to probe: the target itself when it is an IP
// address, else the first IPv4 address the host name resolves to now.
func (p *ICMP) resolve(ctx context.Context, target string) (net.IP, error) {
	if ip := net.ParseIP(target); ip != nil {
		if v4 := ip.To4(); v4 != nil {
			return v4, nil
		}
		return ip, nil
	}
	lookup := p.LookupIP
	if lookup == nil {
		lookup = systemLookup
	}
	type answer struct {
		ips []net.IP
		err error
	}
	ch := make(chan answer, 1)
	// In a goroutine so that a resolver ignoring ctx cannot hold the probe
	// past its timeout.
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- answer{err: fmt.Errorf("resolver panicked: %v", r)}
			}
		}()
		ips, err := lookup(ctx, target)
		ch <- answer{ips, err}
	}()
	var a answer
	select {
	case a = <-ch:
	case <-ctx.Done():
		a.err = ctx.Err()
	}
	if a.err != nil {
		return nil, fmt.Errorf("DNS resolution failed for %s: %s", target, dnsReason(a.err))
	}
	for _, ip := range a.ips {
		if v4 := ip.To4(); v4 != nil {
			return v4, nil
		}
	}
	return nil, fmt.Errorf("DNS resolution failed for %s: no IPv4 address", target)
}

// dnsReason says in a few words why a lookup failed; the host name is
// already in the surrounding message.
func dnsReason(err error) string {
	if isContextErr(err) {
		return "timeout"
	}
	var de *net.DNSError
	if errors.As(err, &de) {
		switch {
		case de.IsNotFound:
			return "no such host"
		case de.IsTimeout:
			return "timeout"
		case de.Err != "":
			return de.Err
		}
	}
	return err.Error()
}

// runFailure words an error from the pinger by the stage it failed at.
func runFailure(err error, setUp bool, sent int) string {
	switch {
	case !setUp:
		return "failed to open ICMP socket: " + shortErr(err)
	case sent == 0:
		return "failed to send echo request: " + shortErr(err)
	default:
		return "ICMP socket error: " + shortErr(err)
	}
}

// noSource says whether a send error means this box has no way out
// towards the target: no route (ENETUNREACH), no source address
// (EADDRNOTAVAIL) or the route's link down (ENETDOWN). EHOSTUNREACH is not
// among them: on a raw socket it reports a neighbour that did not answer,
// which is the path failing.
func noSource(err error) bool {
	return errors.Is(err, syscall.ENETUNREACH) || errors.Is(err, syscall.EADDRNOTAVAIL) || errors.Is(err, syscall.ENETDOWN)
}

// shortErr drops the "sendmsg ip4 0.0.0.0->192.0.2.1:" prefixes of socket
// errors, keeping the errno text an operator can act on.
func shortErr(err error) string {
	var errno syscall.Errno
	if errors.As(err, &errno) {
		return errno.Error()
	}
	return err.Error()
}

func isContextErr(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// slogAdapter routes pro-bing's logging into slog. pro-bing logs per-packet
// send and parse errors as "Fatalf" yet carries on; the probe's Result
// already reports failure, so those are only worth Debug.
type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Fatalf(format string, v ...any) { a.logf(slog.LevelDebug, format, v) }
func (a slogAdapter) Errorf(format string, v ...any) { a.logf(slog.LevelDebug, format, v) }
func (a slogAdapter) Warnf(format string, v ...any)  { a.logf(slog.LevelWarn, format, v) }
func (a slogAdapter) Infof(format string, v ...any)  { a.logf(slog.LevelDebug, format, v) }
func (a slogAdapter) Debugf(format string, v ...any) { a.logf(slog.LevelDebug, format, v) }

func (a slogAdapter) logf(level slog.Level, format string, v []any) {
	// Checked first so that disabled debug output costs no formatting.
	if a.l.Enabled(context.Background(), level) {
		a.l.Log(context.Background(), level, fmt.Sprintf(format, v...))
	}
}
