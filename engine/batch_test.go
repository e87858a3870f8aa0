package engine_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"

	"failover/engine/api"
	"failover/engine/clock"
	"failover/engine/dataplane/dataplanetest"
	"failover/engine/probe/probetest"
	"failover/engine/transport"
	"failover/engine/unit"
	"failover/engine/uplink"

	. "failover/engine"
)

func newCountingEngine(t testing.TB, links ...string) (*Engine, *countingDP) {
	return newEngineOn(t, false, links...)
}

// newEngineOn runs an engine on a counting fake kernel with links; with
// parts, it has its real unit (alone on an in-memory network) and uplink.
func newEngineOn(t testing.TB, parts bool, links ...string) (*Engine, *countingDP) {
	t.Helper()
	fake := dataplanetest.NewFake()
	for i, l := range links {
		if err := fake.AddLink(l, fmt.Sprintf("02:00:00:00:00:%02x", i+1)); err != nil {
			t.Fatal(err)
		}
	}
	dp := &countingDP{Fake: fake, n: map[string]int{}}
	o := Options{DP: dp}
	if parts {
		clk := clock.NewFake()
		pr := probetest.NewFake()
		ep := transport.NewMemNetwork().Endpoint("a")
		t.Cleanup(func() { _ = ep.Close() })
		o.Clock, o.Prober = clk, pr
		o.NewUplink = func(e *Engine) Uplink {
			return uplink.New(uplink.Options{Clock: clk, DP: dp, Prober: pr, Post: e.Post, Syslog: e.Syslog})
		}
		o.NewUnit = func(e *Engine) Unit {
			return unit.New(unit.Options{Clock: clk, DP: dp, Transport: ep, Post: e.Post, Syslog: e.Syslog, Hooks: e.UnitRequests()})
		}
	}
	e, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { _ = e.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, dp
}

var batchScript = []string{
	"enable", "configure terminal",
	"interface eth0 auto", "interface eth1 auto",
	"nameif eth0 outside security0", "nameif eth1 inside security100",
	"ip address outside 198.51.100.2 255.255.255.240",
	"ip address outside 198.51.100.3 255.255.255.240",
	"ip address inside 192.0.2.1 255.255.255.240",
	"ip address inside 198.51.100.5 255.255.255.240", // overlaps: refused
	"bogus command",
	"show ip address", // sees what the kernel holds
	"interface eth1",
	" mtu inside 1400",
	" shutdown",
	" no shutdown",
	"exit",
	"hostname batched",
	"end",
	"show running-config",
	"show history",
}

// A batch gives each line the reply it gets alone, and leaves the same
// configuration and kernel state.
func TestBatchRepliesAsLines(t *testing.T) {
	one, dpOne := newCountingEngine(t, "eth0", "eth1")
	all, dpAll := newCountingEngine(t, "eth0", "eth1")
	s1, s2 := sessionsOf(one).NewSession(false), sessionsOf(all).NewSession(false)
	var want []api.Reply
	for _, l := range batchScript {
		want = append(want, s1.Exec(l))
	}
	got := s2.ExecBatch(batchScript)
	if len(got) != len(want) {
		t.Fatalf("%d replies for %d lines", len(got), len(want))
	}
	for i := range want {
		if !reflect.DeepEqual(got[i], want[i]) {
			t.Errorf("%q: batch %+v, alone %+v", batchScript[i], got[i], want[i])
		}
	}
	if !want[9].Failed() || !want[10].Failed() {
		t.Errorf("the bad lines did not fail: %+v %+v", want[9], want[10])
	}
	for _, l := range []string{"eth0", "eth1"} {
		a1, _ := dpOne.Addrs(l)
		a2, _ := dpAll.Addrs(l)
		k1, _ := dpOne.Link(l)
		k2, _ := dpAll.Link(l)
		if !reflect.DeepEqual(a1, a2) || k1.MTU != k2.MTU || k1.AdminUp != k2.AdminUp {
			t.Errorf("%s: alone %v %+v, batch %v %+v", l, a1, k1, a2, k2)
		}
	}
}

// A batch of configuration lines reaches the kernel once, at its end.
func TestBatchReachesKernelOnce(t *testing.T) {
	e, dp := newCountingEngine(t, "eth0")
	s := sessionsOf(e).NewSession(false)
	mustExec(t, s, "enable", "configure terminal", "interface eth0 auto", "nameif eth0 outside security0")
	var lines []string
	for i := 1; i <= 100; i++ {
		lines = append(lines, fmt.Sprintf("ip address outside 198.51.100.%d 255.255.255.0", i))
	}
	e.Do(func() {})
	dp.take()
	for _, r := range s.ExecBatch(lines) {
		if r.Failed() {
			t.Fatal(r.Err)
		}
	}
	e.Do(func() {})
	if n := dp.take(); n["AddrReplace"] != 1 || n["Links"] != 1 {
		t.Errorf("kernel calls for 100 lines in a batch: %v, want one reconcile", n)
	}
	addrs, _ := dp.Addrs("eth0")
	if len(addrs) != 1 || addrs[0].Prefix.String() != "198.51.100.100/24" {
		t.Errorf("eth0 holds %v", addrs)
	}
}
