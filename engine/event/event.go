// Package event is the daemon's ordered event stream: state transitions,
// mate lost/found, interface test results, track and route changes and
// configuration changes. The parts emit on the engine's event loop; the
// stream numbers every event and hands it to subscribers (the control
// socket's "subscribe", notify hooks, the systemd status line) without
// ever waiting for them: a subscriber that falls behind its bounded queue
// loses its subscription (Overflowed) rather than slowing the loop.
package event

import (
	"sync"
	"time"
)

// Kind names what happened; the names are part of the JSON interface.
type Kind string

const (
	UnitState Kind = "unit.state"     // From, To, Reason
	MateFound Kind = "mate.found"     // the mate is heard again (Reason)
	MateLost  Kind = "mate.lost"      // the mate is no longer heard (Reason)
	IfTest    Kind = "interface.test" // Interface, To = Passed|Failed
	Track     Kind = "track.state"    // Track, From, To, Reason
	Route     Kind = "route"          // Dest, Interface, Gateway, To = added|removed
	Config    Kind = "config"         // Session, Line
	Overflow  Kind = "overflow"       // last line to a subscriber that fell behind
	// Subscribed is the first line of a stream (not numbered): After is the
	// last event before it, so a client can line the stream up with a
	// status (its event_seq).
	Subscribed Kind = "subscribed"
)

// Event is one numbered event. Fields not meaningful for a kind are empty.
type Event struct {
	Seq       uint64    `json:"seq"`
	Time      time.Time `json:"time"`
	Kind      Kind      `json:"kind"`
	Role      string    `json:"role,omitempty"` // Primary|Secondary, for unit events
	From      string    `json:"from,omitempty"`
	To        string    `json:"to,omitempty"`
	Reason    string    `json:"reason,omitempty"`
	Interface string    `json:"interface,omitempty"`
	Track     int       `json:"track,omitempty"`
	Dest      string    `json:"dest,omitempty"`
	Gateway   string    `json:"gateway,omitempty"`
	Session   string    `json:"session,omitempty"`
	Line      string    `json:"line,omitempty"`
	Dropped   uint64    `json:"dropped,omitempty"` // Overflow: events this subscriber missed
	After     uint64    `json:"after,omitempty"`   // Subscribed: the stream starts after this event
}

// Bus numbers events and fans them out. The zero value is not usable; a
// nil *Bus accepts and drops everything, so parts built without one (unit
// tests) need no checks.
type Bus struct {
	mu   sync.Mutex
	now  func() time.Time
	seq  uint64
	subs map[*Sub]struct{}
}

// NewBus returns a bus stamping events with now (the engine's clock).
func NewBus(now func() time.Time) *Bus {
	if now == nil {
		now = time.Now
	}
	return &Bus{now: now, subs: map[*Sub]struct{}{}}
}

// Emit numbers ev and queues it for every subscriber. It never blocks.
func (b *Bus) Emit(ev Event) {
	if b == nil {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	b.seq++
	ev.Seq = b.seq
	if ev.Time.IsZero() {
		ev.Time = b.now()
	}
	for s := range b.subs {
		select {
		case s.ch <- ev:
		default:
			// Full: this subscriber is cut off, never the loop slowed.
			s.dropped = b.seq - s.last
			delete(b.subs, s)
			close(s.ch)
			continue
		}
		s.last = ev.Seq
	}
}

// Seq is the number of the last event emitted (0: none yet).
func (b *Bus) Seq() uint64 {
	if b == nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.seq
}

// Sub is one subscription: events arrive on C in order, without gaps,
// until C is closed by Close or because the subscriber fell behind.
type Sub struct {
	b       *Bus
	ch      chan Event
	C       <-chan Event
	last    uint64 // last event queued
	start   uint64 // last event before the subscription
	dropped uint64 // set when cut off
}

// Subscribe returns a subscription whose queue holds up to n events.
func (b *Bus) Subscribe(n int) *Sub {
	ch := make(chan Event, max(n, 1))
	s := &Sub{b: b, ch: ch, C: ch}
	b.mu.Lock()
	defer b.mu.Unlock()
	s.last, s.start = b.seq, b.seq
	b.subs[s] = struct{}{}
	return s
}

// After is the number of the last event emitted before the subscription.
func (s *Sub) After() uint64 {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.start
}

// Overflowed reports, once C is closed, whether the subscription was cut
// off for falling behind, and how many events it missed at that moment.
func (s *Sub) Overflowed() (uint64, bool) {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.dropped, s.dropped > 0
}

// Close ends the subscription; C is closed.
func (s *Sub) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if _, ok := s.b.subs[s]; ok {
		delete(s.b.subs, s)
		close(s.ch)
	}
}

// Subscribers is the number of live subscriptions.
func (b *Bus) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}
