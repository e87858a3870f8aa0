package engine

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"strings"
	"sync/atomic"
	"time"

	"failover/engine/api"
	"failover/engine/clock"
	"failover/engine/event"
)

// observer is what the engine gives programs watching it: the ordered
// event stream and the latest status snapshot. The snapshot is built on
// the event loop and published through an atomic pointer, so readers off
// the loop (metrics, the systemd status line) never touch engine state.
type observer struct {
	bus        *event.Bus
	cfgVersion uint64 // running-config changes since start (loop only)
	status     atomic.Pointer[api.Status]
	changed    chan struct{} // a new snapshot was published (cap 1)
	cost       atomic.Int64  // how long building the last snapshot took (ns)
}

func newObserver(clk clock.Clock) observer {
	return observer{bus: event.NewBus(clk.Now), changed: make(chan struct{}, 1)}
}

// Unit and uplink status, when the parts provide it.
type (
	unitStatus   interface{ Status() *api.FailoverStat }
	uplinkStatus interface {
		Status() ([]api.SLAStat, []api.TrackStat, []api.RouteStat)
	}
)

// stateSyncStatus is what the connection replicator reports.
type stateSyncStatus interface{ Status() *api.StateSyncStat }

// Events is the event stream the parts emit on.
func (e *Engine) Events() *event.Bus { return e.obs.bus }

// statusOnLoop builds the machine-readable status (loop only).
func (e *Engine) statusOnLoop() *api.Status {
	s := &api.Status{
		Version: Version, Hostname: e.cfg.Hostname, Time: e.clk.Now(),
		ConfigVersion: e.obs.cfgVersion, EventSeq: e.obs.bus.Seq(),
		SLAs: []api.SLAStat{}, Tracks: []api.TrackStat{}, Routes: []api.RouteStat{},
	}
	if u, ok := e.unit.(unitStatus); ok {
		s.Failover = u.Status()
	}
	if r, ok := e.stateSync.(stateSyncStatus); ok {
		s.StateSync = r.Status()
	}
	if u, ok := e.uplink.(uplinkStatus); ok {
		s.SLAs, s.Tracks, s.Routes = u.Status()
	}
	return s
}

// Status returns a fresh status, built on the event loop.
func (e *Engine) Status() *api.Status {
	var s *api.Status
	e.do(func() { s = e.statusOnLoop() })
	return s
}

// publish stores a new snapshot and wakes the watcher (loop only).
func (e *Engine) publish() {
	t0 := time.Now()
	e.obs.status.Store(e.statusOnLoop())
	e.obs.cost.Store(int64(time.Since(t0)))
	select {
	case e.obs.changed <- struct{}{}:
	default:
	}
}

// Published returns the latest snapshot (nil before the first) and a
// channel that receives when a newer one is published. Safe anywhere.
func (e *Engine) Published() (*api.Status, <-chan struct{}) {
	return e.obs.status.Load(), e.obs.changed
}

// Publish keeps the snapshot current until ctx ends: after every event
// (a transition is visible at once) and every interval (counters). The
// loop builds each snapshot; this goroutine only asks for it.
func (e *Engine) Publish(ctx context.Context, interval time.Duration) {
	sub := e.obs.bus.Subscribe(64)
	defer sub.Close()
	t := time.NewTicker(interval)
	defer t.Stop()
	e.Post(e.publish)
	last := time.Now()
	for {
		select {
		case <-ctx.Done():
			return
		case _, ok := <-sub.C:
			if !ok { // fell behind: resubscribe, a snapshot is all it needs
				sub = e.obs.bus.Subscribe(64)
			}
		case <-t.C:
		}
		// Snapshots are at least ten builds apart, so that a stream of
		// events (a pasted configuration emits one per line) costs the
		// loop a tenth of its time at most, however large the snapshot.
		gap := min(10*time.Duration(e.obs.cost.Load()), interval)
		if wait := time.Until(last.Add(gap)); wait > 0 {
			select {
			case <-ctx.Done():
				return
			case <-time.After(wait):
			}
		}
		// Coalesce a burst of events into one snapshot.
		for drained := false; !drained; {
			select {
			case _, ok := <-sub.C:
				if !ok {
					sub = e.obs.bus.Subscribe(64)
				}
			default:
				drained = true
			}
		}
		last = time.Now()
		e.Post(e.publish)
	}
}

// Alive reports whether the event loop runs a function within timeout: the
// watchdog's proof that the loop is not stuck.
func (e *Engine) Alive(timeout time.Duration) bool {
	ch := make(chan struct{})
	go e.Post(func() { close(ch) })
	select {
	case <-ch:
		return true
	case <-time.After(timeout):
		return false
	case <-e.done:
		return false
	}
}

// configEvent records an accepted configuration change: who made it
// (a session, or "mate" for a replicated one) and the line, secrets
// already masked (loop only).
func (e *Engine) configEvent(who, line string) {
	e.obs.cfgVersion++
	e.obs.bus.Emit(event.Event{Kind: event.Config, Session: who, Line: line})
}

// StatusLine is the one-line summary for systemd's STATUS=, e.g.
// "Primary - Active, mate Standby; default route via outside".
func StatusLine(s *api.Status) string {
	if s == nil {
		return "starting"
	}
	var parts []string
	switch f := s.Failover; {
	case f == nil || !f.Enabled:
		parts = append(parts, "Failover Off")
	default:
		parts = append(parts, fmt.Sprintf("%s - %s, mate %s", f.Role, f.State, f.Mate.State))
	}
	for _, r := range s.Routes {
		if r.Selected && strings.HasSuffix(r.Destination, "/0") {
			parts = append(parts, "default route via "+r.Interface)
		}
	}
	return strings.Join(parts, "; ")
}

// lastLine is the command of a replicated block (the lines before it only
// enter its sub-mode).
func lastLine(block string) string {
	block = strings.TrimSpace(block)
	if i := strings.LastIndexByte(block, '\n'); i >= 0 {
		return strings.TrimSpace(block[i+1:])
	}
	return block
}

// Subscribers' queue and write limits: a client that does not read for
// this long, or falls this many events behind, is disconnected (its last
// line says how many events it missed) instead of holding anything up.
var (
	subscriberQueue   = 1024
	subscriberTimeout = 5 * time.Second
)

// StreamEvents turns a control connection into an event stream: one JSON
// event per line, in order, with sequence numbers, until the client
// closes the connection or falls behind.
func (e *Engine) StreamEvents(conn net.Conn, r io.Reader) {
	sub := e.obs.bus.Subscribe(subscriberQueue)
	defer sub.Close()
	timeout := subscriberTimeout
	// The client sends nothing more; reading only notices when it leaves.
	gone := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, r)
		close(gone)
	}()
	enc := json.NewEncoder(conn)
	conn.SetWriteDeadline(time.Now().Add(timeout))
	if err := enc.Encode(event.Event{Kind: event.Subscribed, Time: e.clk.Now(), After: sub.After()}); err != nil {
		return
	}
	for {
		select {
		case ev, ok := <-sub.C:
			if !ok {
				n, _ := sub.Overflowed()
				conn.SetWriteDeadline(time.Now().Add(time.Second))
				enc.Encode(event.Event{Kind: event.Overflow, Time: e.clk.Now(), Dropped: n})
				return
			}
			conn.SetWriteDeadline(time.Now().Add(timeout))
			if err := enc.Encode(ev); err != nil {
				return
			}
		case <-gone:
			return
		case <-e.done:
			return
		}
	}
}
