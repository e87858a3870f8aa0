// Package probetest is a scripted probe.Prober for tests of code that runs
// probes, kept out of the daemon.
package probetest

import (
	"context"
	"sync"
	"time"

	"failover/engine/probe"
)

// FakeRTT is the round-trip time the Fake reports for targets scripted up
// with Set(target, true).
const FakeRTT = time.Millisecond

// Fake is a scripted probe.Prober for unit tests of code that runs probes. Each
// target answers what Set or SetResult last said for it; a target never
// scripted fails with Err "no scripted result", so a test cannot pass by
// probing something it did not mean to. Fake never blocks and is safe for
// concurrent use.
type Fake struct {
	mu      sync.Mutex
	script  map[string]fakeEntry
	calls   map[string]int
	last    map[string]probe.Spec
	lastAny probe.Spec
	total   int
}

type fakeEntry struct {
	ok     bool
	result *probe.Result // set by SetResult; returned verbatim
}

var _ probe.Prober = (*Fake)(nil)

// NewFake returns a Fake with nothing scripted.
func NewFake() *Fake {
	return &Fake{}
}

func (f *Fake) initLocked() {
	if f.script == nil {
		f.script = make(map[string]fakeEntry)
		f.calls = make(map[string]int)
		f.last = make(map[string]probe.Spec)
	}
}

// Set scripts target as reachable (every packet answered in FakeRTT) or
// unreachable (none answered), counting packets from each call's probe.Spec.
func (f *Fake) Set(target string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.initLocked()
	f.script[target] = fakeEntry{ok: ok}
}

// SetResult scripts target to return r exactly, whatever the probe.Spec.
func (f *Fake) SetResult(target string, r probe.Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.initLocked()
	f.script[target] = fakeEntry{result: &r}
}

// Probe implements probe.Prober. A ctx that has already ended yields a failed
// probe.Result, as a real prober would give; the call is still counted.
func (f *Fake) Probe(ctx context.Context, s probe.Spec) probe.Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.initLocked()
	f.calls[s.Target]++
	f.total++
	f.last[s.Target] = s
	f.lastAny = s

	if ctx.Err() != nil {
		return probe.Result{Err: "probe cancelled"}
	}
	e, ok := f.script[s.Target]
	switch {
	case !ok:
		return probe.Result{Err: "no scripted result"}
	case e.result != nil:
		return *e.result
	}
	n := max(s.NumPackets, 1)
	if !e.ok {
		return probe.Result{Sent: n, Err: probe.NoReply(s.Timeout)}
	}
	return probe.Result{
		OK:            true,
		OverThreshold: s.Threshold > 0 && FakeRTT > s.Threshold,
		RTT:           FakeRTT,
		Sent:          n,
		Recv:          n,
	}
}

// Calls returns how many times target has been probed.
func (f *Fake) Calls(target string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[target]
}

// TotalCalls returns how many probes have run, over all targets.
func (f *Fake) TotalCalls() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.total
}

// LastSpec returns the probe.Spec of the latest probe of target, and whether
// there was one.
func (f *Fake) LastSpec(target string) (probe.Spec, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.last[target]
	return s, ok
}

// Last returns the probe.Spec of the latest probe of any target, and whether
// there was one.
func (f *Fake) Last() (probe.Spec, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastAny, f.total > 0
}
