package probe

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// These tests probe through a real kernel: three fresh network namespaces
// joined by veth pairs, documentation addresses only.
//
//	ns A: va 192.0.2.1/32                 ns B (a router): vb 192.0.2.2/32, 192.0.2.130/32
//	  main:      192.0.2.2  dev va                         bc 192.0.2.9/32
//	             192.0.2.99 dev va  (nobody has it: no ARP reply, no echo reply)
//	             192.0.2.98 dev va  (the same)
//	             198.51.100.0/24 via 192.0.2.2
//	             203.0.113.0/24  via 192.0.2.2
//	  table 100: 192.0.2.130 dev va  (reached only via "fwmark 0x10 lookup 100")
//
//	ns B main: 192.0.2.1 dev vb, 192.0.2.10 dev bc
//	           no route to 198.51.100.0/24     (answers "net unreachable")
//	           unreachable 203.0.113.10        (answers "host unreachable")
//	           blackhole 203.0.113.66          (drops silently)
//	           203.0.113.200 via 192.0.2.10    (a loop with C: "TTL exceeded")
//	ns C: cb 192.0.2.10/32; main: 192.0.2.9 dev cb, 192.0.2.1 and 203.0.113.200 via 192.0.2.9
//
// A namespace is per OS thread, and pro-bing opens its socket on whatever
// thread its goroutine lands on, so the probe runs in a child process started
// by "ip netns exec" (this test binary, running TestHelperProcess) rather
// than in this process after setns.

const (
	helperEnv    = "FO_PROBE_HELPER_INPUT"
	helperMarker = "FO_PROBE_HELPER_RESULT "

	addrA      = "192.0.2.1"
	addrB      = "192.0.2.2"
	addrMarked = "192.0.2.130"
	addrNobody = "192.0.2.99"
	addrSilent = "192.0.2.98" // like addrNobody, for one subtest only
	addrBC     = "192.0.2.9"
	addrC      = "192.0.2.10"

	addrNoRoute     = "198.51.100.34" // B has no route to it
	addrHostUnreach = "203.0.113.10"  // B has an unreachable route to it
	addrBlackhole   = "203.0.113.66"  // B has a blackhole route to it
	addrLoop        = "203.0.113.200" // B and C route it to each other
	markTable       = "100"
	testMark        = 0x10
)

type helperInput struct {
	Spec        Spec
	Hosts       map[string]string // static name → address table replacing DNS
	CancelAfter time.Duration     // if set, cancel the probe's ctx after this
}

type helperOutput struct {
	Result  Result
	Elapsed time.Duration
}

// TestHelperProcess is not a test: it is the child half of the namespace
// tests, probing from inside namespace A and printing the Result.
func TestHelperProcess(t *testing.T) {
	raw := os.Getenv(helperEnv)
	if raw == "" {
		return
	}
	var in helperInput
	if err := json.Unmarshal([]byte(raw), &in); err != nil {
		t.Fatalf("failed to decode helper input: %v", err)
	}
	p := NewICMP(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug})))
	// Never let a test name reach a real resolver.
	p.LookupIP = func(_ context.Context, host string) ([]net.IP, error) {
		if a, ok := in.Hosts[host]; ok {
			return []net.IP{net.ParseIP(a)}, nil
		}
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if in.CancelAfter > 0 {
		time.AfterFunc(in.CancelAfter, cancel)
	}
	start := time.Now()
	r := p.Probe(ctx, in.Spec)
	out, err := json.Marshal(helperOutput{Result: r, Elapsed: time.Since(start)})
	if err != nil {
		t.Fatalf("failed to encode helper output: %v", err)
	}
	fmt.Printf("%s%s\n", helperMarker, out)
}

type testNetns struct{ a, b, c string }

func newTestNetns(t *testing.T) testNetns {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("needs root to create network namespaces and raw sockets")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("needs the ip command (iproute2)")
	}
	var rnd [4]byte
	if _, err := rand.Read(rnd[:]); err != nil {
		t.Fatalf("failed to make a namespace name: %v", err)
	}
	prefix := "fo-pr-" + hex.EncodeToString(rnd[:])
	n := testNetns{a: prefix + "-a", b: prefix + "-b", c: prefix + "-c"}

	for _, ns := range []string{n.a, n.b, n.c} {
		ipCmd(t, "netns", "add", ns)
		t.Cleanup(func() {
			// Deleting the namespace also destroys its end of the veth.
			if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
				t.Errorf("failed to delete netns %s: %v: %s", ns, err, out)
			}
		})
	}
	// Created directly inside the namespaces, so no name ever appears in
	// (or collides in) the host's namespace.
	ipCmd(t, "-n", n.a, "link", "add", "va", "type", "veth", "peer", "name", "vb", "netns", n.b)

	ipCmd(t, "-n", n.a, "link", "set", "lo", "up")
	ipCmd(t, "-n", n.a, "link", "set", "va", "up")
	ipCmd(t, "-n", n.a, "addr", "add", addrA+"/32", "dev", "va")
	ipCmd(t, "-n", n.a, "route", "add", addrB+"/32", "dev", "va", "src", addrA)
	ipCmd(t, "-n", n.a, "route", "add", addrNobody+"/32", "dev", "va", "src", addrA)
	ipCmd(t, "-n", n.a, "route", "add", addrSilent+"/32", "dev", "va", "src", addrA)
	ipCmd(t, "-n", n.a, "route", "add", addrMarked+"/32", "dev", "va", "src", addrA, "table", markTable)
	ipCmd(t, "-n", n.a, "rule", "add", "fwmark", fmt.Sprintf("%#x", testMark), "lookup", markTable)
	// Replies from 192.0.2.130 have no route back in A's main table, so
	// strict or loose reverse-path filtering (inherited from the host)
	// would drop them. The effective value is the max of all and va.
	for _, key := range []string{"all", "va"} {
		ipCmd(t, "netns", "exec", n.a, "sysctl", "-q", "-w", "net.ipv4.conf."+key+".rp_filter=0")
	}

	ipCmd(t, "-n", n.b, "link", "set", "lo", "up")
	ipCmd(t, "-n", n.b, "link", "set", "vb", "up")
	ipCmd(t, "-n", n.b, "addr", "add", addrB+"/32", "dev", "vb")
	ipCmd(t, "-n", n.b, "addr", "add", addrMarked+"/32", "dev", "vb")
	ipCmd(t, "-n", n.b, "route", "add", addrA+"/32", "dev", "vb")

	// B routes for A, so it answers what it cannot deliver with ICMP errors.
	ipCmd(t, "-n", n.a, "route", "add", "198.51.100.0/24", "via", addrB, "dev", "va", "src", addrA)
	ipCmd(t, "-n", n.a, "route", "add", "203.0.113.0/24", "via", addrB, "dev", "va", "src", addrA)
	ipCmd(t, "-n", n.b, "route", "add", "unreachable", addrHostUnreach+"/32")
	ipCmd(t, "-n", n.b, "route", "add", "blackhole", addrBlackhole+"/32")

	ipCmd(t, "-n", n.b, "link", "add", "bc", "type", "veth", "peer", "name", "cb", "netns", n.c)
	ipCmd(t, "-n", n.b, "link", "set", "bc", "up")
	ipCmd(t, "-n", n.b, "addr", "add", addrBC+"/32", "dev", "bc")
	ipCmd(t, "-n", n.b, "route", "add", addrC+"/32", "dev", "bc", "src", addrBC)
	ipCmd(t, "-n", n.b, "route", "add", addrLoop+"/32", "via", addrC, "dev", "bc")
	ipCmd(t, "-n", n.c, "link", "set", "lo", "up")
	ipCmd(t, "-n", n.c, "link", "set", "cb", "up")
	ipCmd(t, "-n", n.c, "addr", "add", addrC+"/32", "dev", "cb")
	ipCmd(t, "-n", n.c, "route", "add", addrBC+"/32", "dev", "cb", "src", addrC)
	ipCmd(t, "-n", n.c, "route", "add", addrA+"/32", "via", addrBC, "dev", "cb")
	ipCmd(t, "-n", n.c, "route", "add", addrLoop+"/32", "via", addrBC, "dev", "cb")
	for _, r := range []struct{ ns, dev string }{{n.b, "bc"}, {n.c, "cb"}} {
		for _, kv := range []string{
			"net.ipv4.ip_forward=1",
			// No rate limit: every probe gets its error.
			"net.ipv4.icmp_ratelimit=0",
			// The B-C loop sends packets back out the interface they came
			// in on; redirects would only add noise.
			"net.ipv4.conf.all.send_redirects=0",
			"net.ipv4.conf." + r.dev + ".send_redirects=0",
		} {
			ipCmd(t, "netns", "exec", r.ns, "sysctl", "-q", "-w", kv)
		}
	}
	ipCmd(t, "netns", "exec", n.b, "sysctl", "-q", "-w", "net.ipv4.conf.vb.send_redirects=0")
	return n
}

func ipCmd(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// probeIn runs one probe from inside namespace ns and returns its Result and
// how long Probe took.
func probeIn(t *testing.T, ns string, in helperInput) (Result, time.Duration) {
	t.Helper()
	exe, err := os.Executable()
	if err != nil {
		t.Fatalf("failed to find the test binary: %v", err)
	}
	raw, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "ip", "netns", "exec", ns, exe, "-test.run=^TestHelperProcess$", "-test.count=1")
	cmd.Env = append(os.Environ(), helperEnv+"="+string(raw))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	runErr := cmd.Run()
	t.Logf("helper log for %s:\n%s", in.Spec.Target, stderr.String())
	if runErr != nil {
		t.Fatalf("helper process failed: %v\nstdout:\n%s", runErr, stdout.String())
	}
	sc := bufio.NewScanner(&stdout)
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), helperMarker); ok {
			var out helperOutput
			if err := json.Unmarshal([]byte(line), &out); err != nil {
				t.Fatalf("failed to decode helper output %q: %v", line, err)
			}
			t.Logf("probe %+v → %+v in %s", in.Spec, out.Result, out.Elapsed)
			return out.Result, out.Elapsed
		}
	}
	t.Fatalf("helper printed no result; stdout:\n%s", stdout.String())
	return Result{}, 0
}

func TestICMPNetns(t *testing.T) {
	if testing.Short() {
		t.Skip("creates network namespaces; skipped in -short mode")
	}
	n := newTestNetns(t)

	t.Run("reachable", func(t *testing.T) {
		s := Spec{Target: addrB, NumPackets: 3, Timeout: 2 * time.Second, Threshold: time.Second, Size: 28, TOS: 0xb8}
		r, took := probeIn(t, n.a, helperInput{Spec: s})
		if !r.OK || r.Recv < 1 || r.Sent != 3 || r.Err != "" {
			t.Errorf("got %+v, want OK with replies", r)
		}
		if r.RTT <= 0 || r.OverThreshold {
			t.Errorf("RTT %s OverThreshold %v; want a positive RTT under %s", r.RTT, r.OverThreshold, s.Threshold)
		}
		// All replies in: the probe must not sit out the rest of the timeout.
		if took >= s.Timeout {
			t.Errorf("took %s, want well under the %s timeout", took, s.Timeout)
		}
	})

	t.Run("over threshold", func(t *testing.T) {
		s := Spec{Target: addrB, NumPackets: 1, Timeout: 2 * time.Second, Threshold: time.Nanosecond}
		r, _ := probeIn(t, n.a, helperInput{Spec: s})
		if !r.OK || !r.OverThreshold {
			t.Errorf("got %+v, want OK and OverThreshold", r)
		}
	})

	t.Run("large payload", func(t *testing.T) {
		// Larger than the veth MTU: the request and reply are fragmented.
		s := Spec{Target: addrB, NumPackets: 1, Timeout: 2 * time.Second, Size: 4000}
		if r, _ := probeIn(t, n.a, helperInput{Spec: s}); !r.OK {
			t.Errorf("got %+v, want OK", r)
		}
	})

	t.Run("unreachable", func(t *testing.T) {
		s := Spec{Target: addrNobody, NumPackets: 2, Timeout: time.Second}
		r, took := probeIn(t, n.a, helperInput{Spec: s})
		if r.OK || r.Recv != 0 || r.Err == "" || r.Unsent {
			t.Errorf("got %+v, want a failure of requests that left", r)
		}
		if took > s.Timeout+StopMargin {
			t.Errorf("took %s, want at most %s", took, s.Timeout+StopMargin)
		}
		// The route exists, so it must have waited for replies, not failed fast.
		if took < s.Timeout-100*time.Millisecond {
			t.Errorf("gave up after %s, before the %s timeout", took, s.Timeout)
		}
	})

	// A router answering with an ICMP error ends the probe at once.
	for _, tc := range []struct {
		name, target, want string
	}{
		{"router has no route", addrNoRoute, "net unreachable from " + addrB},
		{"router has unreachable route", addrHostUnreach, "host unreachable from " + addrB},
		{"routing loop", addrLoop, "TTL exceeded from " + addrC},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := Spec{Target: tc.target, NumPackets: 3, Timeout: 2 * time.Second}
			r, took := probeIn(t, n.a, helperInput{Spec: s})
			if r.OK || r.Recv != 0 || r.Sent < 1 || r.Err != tc.want || r.Unsent {
				t.Errorf("got %+v, want a failure with Err %q", r, tc.want)
			}
			if took > 300*time.Millisecond {
				t.Errorf("took %s, want under 300ms: the ICMP error should end the probe", took)
			}
		})
	}

	t.Run("neighbour never answers", func(t *testing.T) {
		// When ARP for a directly connected target (or a gateway) fails,
		// after about 3s with the default neighbour settings, the kernel
		// answers the queued requests itself with "host unreachable".
		s := Spec{Target: addrSilent, NumPackets: 1, Timeout: 6 * time.Second}
		r, took := probeIn(t, n.a, helperInput{Spec: s})
		if want := "host unreachable from " + addrA; r.OK || r.Err != want || r.Unsent {
			t.Errorf("got %+v, want Err %q", r, want)
		}
		if took < 2*time.Second || took > 5*time.Second {
			t.Errorf("took %s, want the kernel's ARP failure time (about 3s)", took)
		}
	})

	t.Run("blackholed by router", func(t *testing.T) {
		// No answer at all: the probe still waits out its timeout.
		s := Spec{Target: addrBlackhole, NumPackets: 2, Timeout: time.Second}
		r, took := probeIn(t, n.a, helperInput{Spec: s})
		if r.OK || r.Recv != 0 || r.Err != NoReply(s.Timeout) {
			t.Errorf("got %+v, want Err %q", r, NoReply(s.Timeout))
		}
		if took < s.Timeout-100*time.Millisecond || took > s.Timeout+StopMargin {
			t.Errorf("took %s, want about the %s timeout", took, s.Timeout)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		// Not addrNobody: the kernel answers requests queued behind an ARP
		// resolution that fails (after about 3s) with "host unreachable",
		// which would end this probe if an earlier subtest's ARP attempt
		// happened to fail within its first 200ms.
		s := Spec{Target: addrBlackhole, NumPackets: 1, Timeout: 10 * time.Second}
		r, took := probeIn(t, n.a, helperInput{Spec: s, CancelAfter: 200 * time.Millisecond})
		if r.OK || r.Err != "probe cancelled" {
			t.Errorf("got %+v, want Err \"probe cancelled\"", r)
		}
		if took > 200*time.Millisecond+StopMargin {
			t.Errorf("took %s after a cancel at 200ms", took)
		}
	})

	t.Run("host name", func(t *testing.T) {
		s := Spec{Target: "uplink-b.invalid", NumPackets: 1, Timeout: 2 * time.Second}
		r, _ := probeIn(t, n.a, helperInput{Spec: s, Hosts: map[string]string{"uplink-b.invalid": addrB}})
		if !r.OK {
			t.Errorf("got %+v, want OK via the resolved address", r)
		}
	})

	t.Run("host name not resolving", func(t *testing.T) {
		s := Spec{Target: "nohost.invalid", NumPackets: 1, Timeout: time.Second}
		r, took := probeIn(t, n.a, helperInput{Spec: s})
		if r.OK || !strings.HasPrefix(r.Err, "DNS resolution failed for nohost.invalid") {
			t.Errorf("got %+v, want a DNS failure", r)
		}
		if took > s.Timeout+StopMargin {
			t.Errorf("took %s, want at most %s", took, s.Timeout+StopMargin)
		}
	})

	// This box has no route to the target at all (as a unit that does not
	// hold its addresses yet): nothing leaves, and the result says so
	// rather than posing as the path failing.
	t.Run("no route on this box", func(t *testing.T) {
		s := Spec{Target: addrMarked, NumPackets: 2, Timeout: time.Second}
		r, took := probeIn(t, n.a, helperInput{Spec: s})
		if want := "failed to send echo request: network is unreachable"; r.OK || r.Sent != 0 || r.Err != want || !r.Unsent {
			t.Errorf("got %+v, want Unsent with Err %q", r, want)
		}
		if took > s.Timeout+StopMargin {
			t.Errorf("took %s, want at most %s", took, s.Timeout+StopMargin)
		}
	})

	t.Run("fwmark steering", func(t *testing.T) {
		marked := Spec{Target: addrMarked, Mark: testMark, NumPackets: 2, Timeout: time.Second}
		if r, _ := probeIn(t, n.a, helperInput{Spec: marked}); !r.OK || r.Recv < 1 {
			t.Errorf("with mark %#x: got %+v, want OK through table %s", testMark, r, markTable)
		}

		for _, mark := range []uint32{0, 0x20} {
			s := marked
			s.Mark = mark
			r, took := probeIn(t, n.a, helperInput{Spec: s})
			if r.OK || r.Recv != 0 || r.Err == "" {
				t.Errorf("with mark %#x: got %+v, want a failure (no route outside table %s)", mark, r, markTable)
			}
			if took > s.Timeout+StopMargin {
				t.Errorf("with mark %#x: took %s, want at most %s", mark, took, s.Timeout+StopMargin)
			}
		}
	})
}
