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

// These tests probe through a real kernel: two fresh network namespaces
// joined by a veth pair, documentation addresses only (192.0.2.0/24).
//
//	ns A: va 192.0.2.1/32                 ns B: vb 192.0.2.2/32, 192.0.2.130/32
//	  main:      192.0.2.2  dev va          main: 192.0.2.1 dev vb
//	             192.0.2.99 dev va  (nobody has it: no ARP reply, no echo reply)
//	  table 100: 192.0.2.130 dev va  (reached only via "fwmark 0x10 lookup 100")
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
	markTable  = "100"
	testMark   = 0x10
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

type testNetns struct{ a, b string }

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
	n := testNetns{a: prefix + "-a", b: prefix + "-b"}

	for _, ns := range []string{n.a, n.b} {
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
		if r.OK || r.Recv != 0 || r.Err == "" {
			t.Errorf("got %+v, want a failure", r)
		}
		if took > s.Timeout+StopMargin {
			t.Errorf("took %s, want at most %s", took, s.Timeout+StopMargin)
		}
		// The route exists, so it must have waited for replies, not failed fast.
		if took < s.Timeout-100*time.Millisecond {
			t.Errorf("gave up after %s, before the %s timeout", took, s.Timeout)
		}
	})

	t.Run("cancelled", func(t *testing.T) {
		s := Spec{Target: addrNobody, NumPackets: 1, Timeout: 10 * time.Second}
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
