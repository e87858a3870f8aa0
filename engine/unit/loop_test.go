package unit

import (
	"testing"
	"time"

	"failover/engine/clock"
	"failover/engine/dataplane/dataplanetest"
	"failover/engine/transport"
)

// TestRealEventLoop runs two units the way the daemon does: packets read by
// the unit's own goroutine and everything posted to one event loop.
func TestRealEventLoop(t *testing.T) {
	net := transport.NewMemNetwork()
	clk := clock.NewFake()
	loop := make(chan func(), 4096)
	stop := make(chan struct{})
	go func() {
		for {
			select {
			case f := <-loop:
				f()
			case <-stop:
				return
			}
		}
	}()
	defer close(stop)
	post := func(f func()) { loop <- f }
	call := func(f func()) {
		done := make(chan struct{})
		post(func() { f(); close(done) })
		<-done
	}
	units := map[string]*Unit{}
	ev := &events{}
	for _, n := range []struct{ name, role string }{{"A", "primary"}, {"B", "secondary"}} {
		dp := dataplanetest.NewFake()
		for _, l := range allLinks {
			if err := dp.AddLink(l, ""); err != nil {
				t.Fatal(err)
			}
		}
		h := &fakeHooks{name: n.name, dp: dp, ev: ev}
		ep := net.Endpoint(n.name)
		defer ep.Close()
		u := New(Options{Clock: clk, DP: dp, Transport: ep, Post: post, Hooks: h})
		h.u = u
		units[n.name] = u
		cfg := testConfig(n.role)
		call(func() { u.Apply(cfg) })
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		var a, b State
		call(func() { a, b = units["A"].State(), units["B"].State() })
		if a == Active && b == Standby {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("A %s B %s", a, b)
		}
		clk.Advance(100 * time.Millisecond)
		time.Sleep(time.Millisecond)
	}
	call(func() {
		units["A"].Stop()
		units["B"].Stop()
	})
}
