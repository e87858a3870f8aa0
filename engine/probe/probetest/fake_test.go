package probetest

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"failover/engine/probe"
)

func TestFakeScripted(t *testing.T) {
	f := NewFake()
	f.Set("192.0.2.1", true)
	f.Set("192.0.2.2", false)
	ctx := context.Background()

	up := f.Probe(ctx, probe.Spec{Target: "192.0.2.1", NumPackets: 3, Timeout: time.Second, Threshold: time.Second})
	if !up.OK || up.OverThreshold || up.Sent != 3 || up.Recv != 3 || up.RTT != FakeRTT || up.Err != "" {
		t.Errorf("reachable target: got %+v", up)
	}
	down := f.Probe(ctx, probe.Spec{Target: "192.0.2.2", Timeout: time.Second})
	if down.OK || down.Recv != 0 || down.Sent != 1 || down.Err == "" {
		t.Errorf("unreachable target: got %+v", down)
	}
	unknown := f.Probe(ctx, probe.Spec{Target: "192.0.2.3", Timeout: time.Second})
	if unknown.OK || unknown.Err != "no scripted result" {
		t.Errorf("unscripted target: got %+v", unknown)
	}

	// Re-scripting takes effect on the next call.
	f.Set("192.0.2.2", true)
	if r := f.Probe(ctx, probe.Spec{Target: "192.0.2.2", Timeout: time.Second}); !r.OK {
		t.Errorf("after Set(true): got %+v", r)
	}
}

func TestFakeThreshold(t *testing.T) {
	f := NewFake()
	f.Set("192.0.2.1", true)
	r := f.Probe(context.Background(), probe.Spec{Target: "192.0.2.1", Timeout: time.Second, Threshold: FakeRTT / 2})
	if !r.OK || !r.OverThreshold {
		t.Errorf("threshold below FakeRTT: got %+v, want OK and OverThreshold", r)
	}
}

func TestFakeSetResult(t *testing.T) {
	f := NewFake()
	want := probe.Result{OK: true, OverThreshold: true, RTT: 7 * time.Millisecond, Sent: 5, Recv: 2}
	f.SetResult("gw.example", want)
	got := f.Probe(context.Background(), probe.Spec{Target: "gw.example", NumPackets: 1, Timeout: time.Second})
	if got != want {
		t.Errorf("got %+v, want %+v", got, want)
	}
	// SetResult replaces an earlier Set, and Set an earlier SetResult.
	f.Set("gw.example", false)
	if got := f.Probe(context.Background(), probe.Spec{Target: "gw.example", Timeout: time.Second}); got.OK {
		t.Errorf("after Set(false): got %+v", got)
	}
}

func TestFakeCallsAndLastSpec(t *testing.T) {
	var f Fake // the zero value must work too
	if _, ok := f.Last(); ok {
		t.Error("Last reported a probe before any ran")
	}
	if _, ok := f.LastSpec("192.0.2.1"); ok {
		t.Error("LastSpec reported a probe before any ran")
	}
	a1 := probe.Spec{Target: "192.0.2.1", Mark: 0x10, NumPackets: 1, Timeout: time.Second}
	a2 := probe.Spec{Target: "192.0.2.1", Mark: 0x20, NumPackets: 2, Timeout: 2 * time.Second, Size: 100, TOS: 8}
	b := probe.Spec{Target: "192.0.2.2", Mark: 0x30, Timeout: time.Second}
	for _, s := range []probe.Spec{a1, a2, b} {
		f.Probe(context.Background(), s)
	}
	if n := f.Calls("192.0.2.1"); n != 2 {
		t.Errorf("Calls(192.0.2.1) = %d, want 2", n)
	}
	if n := f.Calls("192.0.2.2"); n != 1 {
		t.Errorf("Calls(192.0.2.2) = %d, want 1", n)
	}
	if n := f.Calls("192.0.2.3"); n != 0 {
		t.Errorf("Calls(192.0.2.3) = %d, want 0", n)
	}
	if n := f.TotalCalls(); n != 3 {
		t.Errorf("TotalCalls = %d, want 3", n)
	}
	if s, ok := f.LastSpec("192.0.2.1"); !ok || s != a2 {
		t.Errorf("LastSpec(192.0.2.1) = %+v, %v; want %+v", s, ok, a2)
	}
	if s, ok := f.Last(); !ok || s != b {
		t.Errorf("Last = %+v, %v; want %+v", s, ok, b)
	}
}

func TestFakeCancelledContext(t *testing.T) {
	f := NewFake()
	f.Set("192.0.2.1", true)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := f.Probe(ctx, probe.Spec{Target: "192.0.2.1", Timeout: time.Second})
	if r.OK || r.Err == "" {
		t.Errorf("cancelled ctx: got %+v, want a failure", r)
	}
	if f.Calls("192.0.2.1") != 1 {
		t.Errorf("a cancelled probe should still be counted")
	}
}

// TestFakeConcurrent is meaningful under -race.
func TestFakeConcurrent(t *testing.T) {
	f := NewFake()
	const workers, each = 8, 200
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			target := fmt.Sprintf("192.0.2.%d", w%2+1)
			for i := range each {
				f.Set(target, i%2 == 0)
				f.SetResult("192.0.2.9", probe.Result{OK: true})
				f.Probe(context.Background(), probe.Spec{Target: target, Timeout: time.Second})
				f.Calls(target)
				f.LastSpec(target)
				f.Last()
			}
		}()
	}
	wg.Wait()
	if got, want := f.TotalCalls(), workers*each; got != want {
		t.Errorf("TotalCalls = %d, want %d", got, want)
	}
	if got, want := f.Calls("192.0.2.1")+f.Calls("192.0.2.2"), workers*each; got != want {
		t.Errorf("per-target calls sum to %d, want %d", got, want)
	}
}
