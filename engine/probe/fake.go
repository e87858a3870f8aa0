package probe

import (
	"context"
	"sync"
	"time"
)

// FakeRTT is the round-trip time the Fake reports for targets scripted up
// with Set(target, true).
const FakeRTT = time.Millisecond

// Fake is a scripted Prober for unit tests of code that runs probes. Each
// target answers what Set or SetResult last said for it; a target never
// scripted fails with Err "no scripted result", so a test cannot pass by
// probing something it did not mean to. Fake never blocks and is safe for
// concurrent use.
type Fake struct {
	mu      sync.Mutex
	script  map[string]fakeEntry
	calls   map[string]int
	last    map[string]Spec
	lastAny Spec
	total   int
}

type fakeEntry struct {
	ok     bool
	result *Result // set by SetResult; returned verbatim
}

var _ Prober = (*Fake)(nil)

// NewFake returns a Fake with nothing scripted.
func NewFake() *Fake {
	return &Fake{}
}

func (f *Fake) initLocked() {
	if f.script == nil {
		f.script = make(map[string]fakeEntry)
		f.calls = make(map[string]int)
		f.last = make(map[string]Spec)
	}
}

// Set scripts target as reachable (every packet answered in FakeRTT) or
// unreachable (none answered), counting packets from each call's Spec.
func (f *Fake) Set(target string, ok bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.initLocked()
	f.script[target] = fakeEntry{ok: ok}
}

// SetResult scripts target to return r exactly, whatever the Spec.
func (f *Fake) SetResult(target string, r Result) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.initLocked()
	f.script[target] = fakeEntry{result: &r}
}

// Probe implements Prober. A ctx that has already ended yields a failed
// Result, as a real prober would give; the call is still counted.
func (f *Fake) Probe(ctx context.Context, s Spec) Result {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.initLocked()
	f.calls[s.Target]++
	f.total++
	f.last[s.Target] = s
	f.lastAny = s

	if ctx.Err() != nil {
		return Result{Err: "probe cancelled"}
	}
	e, ok := f.script[s.Target]
	switch {
	case !ok:
		return Result{Err: "no scripted result"}
	case e.result != nil:
		return *e.result
	}
	n := max(s.NumPackets, 1)
	if !e.ok {
		return Result{Sent: n, Err: noReply(s.Timeout)}
	}
	return Result{
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

// LastSpec returns the Spec of the latest probe of target, and whether
// there was one.
func (f *Fake) LastSpec(target string) (Spec, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	s, ok := f.last[target]
	return s, ok
}

// Last returns the Spec of the latest probe of any target, and whether
// there was one.
func (f *Fake) Last() (Spec, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.lastAny, f.total > 0
}
