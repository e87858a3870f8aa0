package probe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// These tests need no privileges: each fails before a socket is opened.

func testLogger(t *testing.T) *slog.Logger {
	t.Helper()
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Helper()
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

func TestCheckSpec(t *testing.T) {
	ok := Spec{Target: "192.0.2.1", Timeout: time.Second}
	tests := []struct {
		name     string
		mod      func(*Spec)
		wantN    int
		wantSize int
		wantTOS  uint8
		wantErr  string
	}{
		{"defaults", func(*Spec) {}, 1, minPayload, 0, ""},
		{"asa default size", func(s *Spec) { s.Size = 28; s.NumPackets = 5; s.TOS = 0xb8 }, 5, 28, 0xb8, ""},
		{"size below pro-bing minimum", func(s *Spec) { s.Size = 1 }, 1, minPayload, 0, ""},
		{"largest size", func(s *Spec) { s.Size = maxPayload }, 1, maxPayload, 0, ""},
		{"size too large", func(s *Spec) { s.Size = maxPayload + 1 }, 0, 0, 0, "invalid request-data-size 65508"},
		{"negative size", func(s *Spec) { s.Size = -1 }, 0, 0, 0, "invalid request-data-size -1"},
		{"negative packets", func(s *Spec) { s.NumPackets = -3 }, 1, minPayload, 0, ""},
		{"no target", func(s *Spec) { s.Target = "" }, 0, 0, 0, "no target address"},
		{"zero timeout", func(s *Spec) { s.Timeout = 0 }, 0, 0, 0, "invalid timeout 0s"},
		{"tos too large", func(s *Spec) { s.TOS = 256 }, 0, 0, 0, "invalid tos 256"},
		{"negative tos", func(s *Spec) { s.TOS = -1 }, 0, 0, 0, "invalid tos -1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := ok
			tc.mod(&s)
			n, size, tos, err := checkSpec(s)
			if tc.wantErr != "" {
				if err == nil || err.Error() != tc.wantErr {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("unexpected err %v", err)
			}
			if n != tc.wantN || size != tc.wantSize || tos != tc.wantTOS {
				t.Errorf("got n=%d size=%d tos=%d, want n=%d size=%d tos=%d", n, size, tos, tc.wantN, tc.wantSize, tc.wantTOS)
			}
		})
	}
}

func TestSendInterval(t *testing.T) {
	tests := []struct {
		n       int
		timeout time.Duration
		want    time.Duration
	}{
		{1, 5 * time.Second, maxSendInterval},
		{0, time.Millisecond, maxSendInterval},
		{5, 5 * time.Second, maxSendInterval},
		{5, 40 * time.Millisecond, 5 * time.Millisecond},
		{100, 10 * time.Millisecond, minSendInterval},
	}
	for _, tc := range tests {
		if got := sendInterval(tc.n, tc.timeout); got != tc.want {
			t.Errorf("sendInterval(%d, %s) = %s, want %s", tc.n, tc.timeout, got, tc.want)
		}
		// All requests must be out within the timeout unless the floor forbids it.
		if got := sendInterval(tc.n, tc.timeout); got > minSendInterval && time.Duration(tc.n-1)*got > tc.timeout {
			t.Errorf("sendInterval(%d, %s) = %s spreads requests past the timeout", tc.n, tc.timeout, got)
		}
	}
}

func TestSummarize(t *testing.T) {
	ms := time.Millisecond
	tests := []struct {
		name      string
		threshold time.Duration
		sent      int
		recv      int
		avg       time.Duration
		want      Result
	}{
		{"all answered", 100 * ms, 3, 3, 10 * ms, Result{OK: true, RTT: 10 * ms, Sent: 3, Recv: 3}},
		{"one of three", 100 * ms, 3, 1, 10 * ms, Result{OK: true, RTT: 10 * ms, Sent: 3, Recv: 1}},
		{"none", 100 * ms, 3, 0, 0, Result{Sent: 3}},
		{"over threshold", 5 * ms, 1, 1, 6 * ms, Result{OK: true, OverThreshold: true, RTT: 6 * ms, Sent: 1, Recv: 1}},
		{"at threshold", 5 * ms, 1, 1, 5 * ms, Result{OK: true, RTT: 5 * ms, Sent: 1, Recv: 1}},
		{"no threshold", 0, 1, 1, time.Hour, Result{OK: true, RTT: time.Hour, Sent: 1, Recv: 1}},
	}
	for _, tc := range tests {
		got := summarize(Spec{Threshold: tc.threshold}, tc.sent, tc.recv, tc.avg)
		if got != tc.want {
			t.Errorf("%s: got %+v, want %+v", tc.name, got, tc.want)
		}
	}
}

func TestErrorWording(t *testing.T) {
	sendErr := &net.OpError{Op: "write", Net: "ip4:icmp", Err: os.NewSyscallError("sendmsg", syscall.ENETUNREACH)}
	if got, want := runFailure(sendErr, true, 0), "failed to send echo request: network is unreachable"; got != want {
		t.Errorf("send failure: got %q, want %q", got, want)
	}
	if got, want := runFailure(os.NewSyscallError("socket", syscall.EPERM), false, 0), "failed to open ICMP socket: operation not permitted"; got != want {
		t.Errorf("socket failure: got %q, want %q", got, want)
	}
	if got, want := runFailure(errors.New("boom"), true, 2), "ICMP socket error: boom"; got != want {
		t.Errorf("later failure: got %q, want %q", got, want)
	}
	if got, want := dnsReason(&net.DNSError{Err: "no such host", Name: "x", IsNotFound: true}), "no such host"; got != want {
		t.Errorf("dnsReason(not found) = %q, want %q", got, want)
	}
	if got, want := dnsReason(fmt.Errorf("lookup: %w", context.DeadlineExceeded)), "timeout"; got != want {
		t.Errorf("dnsReason(deadline) = %q, want %q", got, want)
	}
}

func TestProbeDNSFailure(t *testing.T) {
	p := NewICMP(testLogger(t))
	var asked []string
	p.LookupIP = func(ctx context.Context, host string) ([]net.IP, error) {
		asked = append(asked, host)
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	start := time.Now()
	r := p.Probe(context.Background(), Spec{Target: "nohost.invalid", NumPackets: 1, Timeout: time.Second})
	if r.OK || r.Recv != 0 || r.Sent != 0 {
		t.Errorf("got %+v, want a failure with nothing sent", r)
	}
	if want := "DNS resolution failed for nohost.invalid: no such host"; r.Err != want {
		t.Errorf("Err = %q, want %q", r.Err, want)
	}
	if len(asked) != 1 || asked[0] != "nohost.invalid" {
		t.Errorf("resolver asked %q, want [nohost.invalid]", asked)
	}
	if d := time.Since(start); d > 100*time.Millisecond {
		t.Errorf("a failed lookup took %s", d)
	}
}

func TestProbeDNSNoIPv4(t *testing.T) {
	p := NewICMP(testLogger(t))
	p.LookupIP = func(context.Context, string) ([]net.IP, error) {
		return []net.IP{net.ParseIP("2001:db8::1")}, nil
	}
	r := p.Probe(context.Background(), Spec{Target: "v6only.invalid", Timeout: time.Second})
	if want := "DNS resolution failed for v6only.invalid: no IPv4 address"; r.OK || r.Err != want {
		t.Errorf("got %+v, want Err %q", r, want)
	}
}

// A resolver that ignores its context must not hold the probe past Timeout.
func TestProbeDNSHangBounded(t *testing.T) {
	p := NewICMP(testLogger(t))
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	p.LookupIP = func(context.Context, string) ([]net.IP, error) {
		<-release
		return nil, errors.New("released")
	}
	const timeout = 300 * time.Millisecond
	start := time.Now()
	r := p.Probe(context.Background(), Spec{Target: "slow.invalid", Timeout: timeout})
	d := time.Since(start)
	if want := "DNS resolution failed for slow.invalid: timeout"; r.OK || r.Err != want {
		t.Errorf("got %+v, want Err %q", r, want)
	}
	if d < timeout-20*time.Millisecond || d > timeout+StopMargin {
		t.Errorf("took %s, want about %s", d, timeout)
	}
}

// Cancelling ctx during resolution ends the probe at once.
func TestProbeCancelDuringDNS(t *testing.T) {
	p := NewICMP(testLogger(t))
	ctx, cancel := context.WithCancel(context.Background())
	p.LookupIP = func(ctx context.Context, _ string) ([]net.IP, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	}
	start := time.Now()
	r := p.Probe(ctx, Spec{Target: "gw.invalid", Timeout: 10 * time.Second})
	if r.OK || r.Err != "probe cancelled" {
		t.Errorf("got %+v, want Err \"probe cancelled\"", r)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("cancelled probe took %s", d)
	}
}

func TestProbeResolverPanic(t *testing.T) {
	p := NewICMP(testLogger(t))
	p.LookupIP = func(context.Context, string) ([]net.IP, error) { panic("resolver bug") }
	r := p.Probe(context.Background(), Spec{Target: "gw.invalid", Timeout: time.Second})
	if r.OK || !strings.HasPrefix(r.Err, "DNS resolution failed for gw.invalid") {
		t.Errorf("got %+v, want a DNS failure", r)
	}
}

func TestProbeInvalidSpec(t *testing.T) {
	p := NewICMP(nil) // nil logger must be tolerated
	for _, s := range []Spec{
		{Target: "192.0.2.1"},
		{Target: "192.0.2.1", Timeout: -time.Second},
		{Timeout: time.Second},
		{Target: "192.0.2.1", Timeout: time.Second, TOS: 1000},
	} {
		if r := p.Probe(context.Background(), s); r.OK || r.Err == "" || r.Sent != 0 {
			t.Errorf("Probe(%+v) = %+v, want a failure with nothing sent", s, r)
		}
	}
}

func TestProbeAlreadyCancelled(t *testing.T) {
	p := NewICMP(testLogger(t))
	p.LookupIP = func(context.Context, string) ([]net.IP, error) {
		t.Error("resolver called for a cancelled probe")
		return nil, errors.New("unexpected")
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := p.Probe(ctx, Spec{Target: "gw.invalid", Timeout: time.Second}); r.OK || r.Err != "probe cancelled" {
		t.Errorf("got %+v, want Err \"probe cancelled\"", r)
	}
}
