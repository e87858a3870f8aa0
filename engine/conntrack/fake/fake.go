// Package fake is an in-memory conntrack table for tests of the
// replication logic: entries, injected events, and a record of writes.
package fake

import (
	"context"
	"errors"
	"slices"
	"sync"

	"failover/engine/conntrack"
)

// Table implements conntrack.Table in memory. It is safe for concurrent use.
type Table struct {
	mu      sync.Mutex
	entries map[conntrack.Key]conntrack.Entry
	applied []conntrack.Op
	// Refuse, when set, makes Apply fail ops it returns true for.
	Refuse   func(conntrack.Op) bool
	eventsOn bool
	dumps    int

	// Events wait in queue (under mu, so none can slip past a listener
	// that is going away) until the listener takes them; wake tells it.
	queue     [][]conntrack.Event
	overrun   bool
	wake      chan struct{}
	inFlight  int // event batches emitted and not yet handed to the listener
	listeners int
}

var _ conntrack.Table = (*Table)(nil)

// New returns an empty table.
func New() *Table {
	return &Table{entries: map[conntrack.Key]conntrack.Entry{}, wake: make(chan struct{}, 1)}
}

// Put sets an entry without an event (as if it existed before).
func (t *Table) Put(e conntrack.Entry) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.entries[e.Key()] = e
}

// Emit changes the table as the kernel would and reports the event to
// the listener, if one is subscribed (else, as in the kernel, to nobody).
func (t *Table) Emit(typ conntrack.EventType, e conntrack.Entry) {
	t.mu.Lock()
	if typ == conntrack.EventDestroy {
		delete(t.entries, e.Key())
	} else {
		t.entries[e.Key()] = e
	}
	if t.listeners > 0 {
		t.queue = append(t.queue, []conntrack.Event{{Type: typ, Entry: e}})
		t.inFlight++
	}
	t.mu.Unlock()
	t.signal()
}

func (t *Table) signal() {
	select {
	case t.wake <- struct{}{}:
	default:
	}
}

// InFlight is the number of emitted events the listener has not taken yet.
func (t *Table) InFlight() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.inFlight
}

// Overrun makes the running Listen fail, as a socket overrun does.
func (t *Table) Overrun() {
	t.mu.Lock()
	t.overrun = true
	t.mu.Unlock()
	t.signal()
}

// Listening says whether a listener is subscribed.
func (t *Table) Listening() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.listeners > 0
}

// Listen implements conntrack.Table.
func (t *Table) Listen(ctx context.Context, fn func([]conntrack.Event)) error {
	t.mu.Lock()
	t.listeners++
	t.mu.Unlock()
	defer func() {
		// Events nobody took die with the subscription.
		t.mu.Lock()
		defer t.mu.Unlock()
		t.listeners--
		if t.listeners == 0 {
			t.inFlight -= len(t.queue)
			t.queue = nil
		}
	}()
	fn(nil)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-t.wake:
		}
		t.mu.Lock()
		q, ov := t.queue, t.overrun
		t.queue, t.overrun = nil, false
		t.mu.Unlock()
		for _, b := range q {
			fn(b)
			t.mu.Lock()
			t.inFlight--
			t.mu.Unlock()
		}
		if ov {
			return errors.New("fake: overrun")
		}
	}
}

// Dump implements conntrack.Table.
func (t *Table) Dump(context.Context) ([]conntrack.Entry, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.dumps++
	return t.sortedLocked(), nil
}

func (t *Table) sortedLocked() []conntrack.Entry {
	out := make([]conntrack.Entry, 0, len(t.entries))
	for _, e := range t.entries {
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b conntrack.Entry) int {
		if a.Orig.SrcPort != b.Orig.SrcPort {
			return int(a.Orig.SrcPort) - int(b.Orig.SrcPort)
		}
		return a.Orig.Src.Compare(b.Orig.Src)
	})
	return out
}

// Apply implements conntrack.Table.
func (t *Table) Apply(ops []conntrack.Op) []error {
	t.mu.Lock()
	defer t.mu.Unlock()
	errs := make([]error, len(ops))
	for i, op := range ops {
		if t.Refuse != nil && t.Refuse(op) {
			errs[i] = errors.New("fake: refused")
			continue
		}
		t.applied = append(t.applied, op)
		if op.Kind == conntrack.OpDelete {
			delete(t.entries, op.Entry.Key())
		} else {
			t.entries[op.Entry.Key()] = op.Entry
		}
	}
	return errs
}

// SetEvents implements conntrack.Table.
func (t *Table) SetEvents() error {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.eventsOn = true
	return nil
}

// EventsOn says whether SetEvents was called.
func (t *Table) EventsOn() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.eventsOn
}

// Close implements conntrack.Table.
func (t *Table) Close() error { return nil }

// Entries returns the table's entries, ordered by source port.
func (t *Table) Entries() []conntrack.Entry {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.sortedLocked()
}

// Applied returns every op applied so far.
func (t *Table) Applied() []conntrack.Op {
	t.mu.Lock()
	defer t.mu.Unlock()
	return slices.Clone(t.applied)
}

// Dumps counts Dump calls.
func (t *Table) Dumps() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.dumps
}
