package lab

// End-to-end test of what watches a pair: the Prometheus endpoint, the
// JSON status, the event stream and the notify hooks of both units,
// across a takeover (kill -9 of the active unit's daemon).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"failover/engine/api"
	"failover/engine/event"
	"failover/engine/metrics"
)

const obsMetricsAddr = "127.0.0.1:9105"

// obsScrape fetches /metrics from inside ns and parses it with the
// Prometheus text parser.
func obsScrape(tb testing.TB, ns string) map[string]*dto.MetricFamily {
	tb.Helper()
	var conn net.Conn
	if err := pairInNS(ns, func() error {
		var err error
		conn, err = net.DialTimeout("tcp", obsMetricsAddr, 5*time.Second)
		return err
	}); err != nil {
		tb.Fatalf("connecting to the metrics of %s: %v", ns, err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	fmt.Fprintf(conn, "GET /metrics HTTP/1.0\r\nHost: %s\r\n\r\n", obsMetricsAddr)
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		tb.Fatalf("scrape of %s: %v", ns, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		tb.Fatalf("scrape of %s: %s", ns, resp.Status)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		tb.Fatalf("metrics of %s do not parse: %v", ns, err)
	}
	return fams
}

// obsStatus runs fosh --json status on unit.
func (l *pairLab) obsStatus(unit string) api.Status {
	l.tb.Helper()
	out, err := exec.Command("ip", "netns", "exec", l.unitNS(unit), l.fosh, "--socket", filepath.Join(l.dir, "lab", unit+".sock"), "--json", "status").Output()
	if err != nil {
		l.tb.Fatalf("fosh --json status on %s: %v", unit, err)
	}
	var s api.Status
	if err := json.Unmarshal(out, &s); err != nil {
		l.tb.Fatalf("fosh --json status on %s: %v\n%s", unit, err, out)
	}
	return s
}

// obsEvents is a running "fosh --events".
type obsEvents struct {
	cmd  *exec.Cmd
	mu   sync.Mutex
	evs  []event.Event
	bad  []string
	done chan struct{}
}

func (l *pairLab) obsStartEvents(unit string) *obsEvents {
	l.tb.Helper()
	o := &obsEvents{done: make(chan struct{})}
	o.cmd = exec.Command("ip", "netns", "exec", l.unitNS(unit), l.fosh, "--socket", filepath.Join(l.dir, "lab", unit+".sock"), "--events")
	out, err := o.cmd.StdoutPipe()
	if err != nil {
		l.tb.Fatal(err)
	}
	if err := o.cmd.Start(); err != nil {
		l.tb.Fatal(err)
	}
	l.tb.Cleanup(func() { o.cmd.Process.Kill(); o.cmd.Wait() })
	go func() {
		defer close(o.done)
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			var ev event.Event
			o.mu.Lock()
			if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
				o.bad = append(o.bad, sc.Text())
			} else {
				o.evs = append(o.evs, ev)
			}
			o.mu.Unlock()
		}
	}()
	// The first line says the subscription is in place.
	deadline := time.Now().Add(10 * time.Second)
	for len(o.snapshot()) == 0 {
		if time.Now().After(deadline) {
			l.tb.Fatalf("fosh --events on %s printed nothing in 10 s", unit)
		}
		time.Sleep(20 * time.Millisecond)
	}
	return o
}

func (o *obsEvents) snapshot() []event.Event {
	o.mu.Lock()
	defer o.mu.Unlock()
	return append([]event.Event(nil), o.evs...)
}

// obsHook records each call (namespace, arguments, sequence number) in
// rec; each unit runs in its own namespace, which ip netns identify names.
const obsHook = `#!/bin/sh
ns=$(ip netns identify $$)
echo "$ns $1 to=$2 from=$3 seq=$FAILOVER_SEQ reason=$FAILOVER_REASON json=$(cat)" >> %s
`

func TestPairObservedAcrossTakeover(t *testing.T) {
	hookDir := t.TempDir() // root-owned, mode 0700
	rec := filepath.Join(t.TempDir(), "hook-calls")
	if err := os.WriteFile(filepath.Join(hookDir, "10-record"), []byte(fmt.Sprintf(obsHook, rec)), 0o755); err != nil {
		t.Fatal(err)
	}
	l := newPairLabPrefixed(t, "", pairPrefix("fp"), "FAILOVERD_ARGS=--metrics "+obsMetricsAddr+" --hooks "+hookDir)
	l.waitPair("primary", "secondary", 20*time.Second)
	secNS := l.unitNS("secondary")

	// Before: the secondary is a standby that sees its mate.
	m := obsScrape(t, secNS)
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"failover_unit_state", []string{"state", "standby"}, 1},
		{"failover_unit_state", []string{"state", "active"}, 0},
		{"failover_unit_role", []string{"role", "secondary"}, 1},
		{"failover_mate_seen", nil, 1},
		{"failover_mate_state", []string{"state", "active"}, 1},
		{"failover_unit_enabled", nil, 1},
	} {
		if v, ok := metrics.Sample(m, c.name, c.labels...); !ok || v != c.want {
			t.Errorf("before: %s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	if v, _ := metrics.Sample(m, "failover_messages_received_total", "type", "hello"); v == 0 {
		t.Error("before: no hellos counted as received")
	}

	evs := l.obsStartEvents("secondary")
	start := time.Now()
	l.mustLab("kill", "primary")
	l.waitState("secondary", "Active", start, pairHold+10*time.Second)

	// The metrics follow the status the daemon shows (the snapshot is
	// republished on every event: poll briefly for it).
	var st api.Status
	deadline := time.Now().Add(10 * time.Second)
	for {
		m = obsScrape(t, secNS)
		st = l.obsStatus("secondary")
		if v, _ := metrics.Sample(m, "failover_unit_state", "state", "active"); v == 1 || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if st.Failover == nil || st.Failover.State != "Active" || st.Failover.Mate.Seen || st.Failover.Mate.State != "Not Detected" {
		t.Fatalf("status after the takeover: %+v", st.Failover)
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"failover_unit_state", []string{"state", "active"}, 1},
		{"failover_unit_state", []string{"state", "standby"}, 0},
		{"failover_mate_seen", nil, 0},
		{"failover_mate_state", []string{"state", "not_detected"}, 1},
		{"failover_unit_transitions_total", []string{"state", "active", "reason", "HELLO not heard from mate"}, 1},
		{"failover_unit_state_change_timestamp_seconds", nil, float64(st.Failover.StateSince.UnixNano()) / 1e9},
	} {
		if v, ok := metrics.Sample(m, c.name, c.labels...); !ok || v != c.want {
			t.Errorf("after: %s%v = %v (present %v), want %v", c.name, c.labels, v, ok, c.want)
		}
	}
	if st.StateSync == nil {
		t.Error("no stateful failover in the status")
	} else if v, ok := metrics.Sample(m, "failover_statesync_enabled"); !ok || (v == 1) != st.StateSync.Enabled {
		t.Errorf("failover_statesync_enabled = %v (present %v), status says %v", v, ok, st.StateSync.Enabled)
	}
	for _, i := range st.Failover.Interfaces {
		state := strings.ReplaceAll(strings.ToLower(i.Status), " ", "_")
		if v, ok := metrics.Sample(m, "failover_interface_state", "interface", i.Name, "state", state); !ok || v != 1 {
			t.Errorf("interface %s is %s in the status, metric %v (present %v)", i.Name, i.Status, v, ok)
		}
	}
	for _, r := range st.Routes {
		if v, ok := metrics.Sample(m, "failover_route_selected", "destination", r.Destination, "gateway", r.Gateway); !ok || (v == 1) != r.Selected {
			t.Errorf("route %+v: failover_route_selected = %v (present %v)", r, v, ok)
		}
	}

	// The event stream: mate lost, then Standby -> Active, numbered in order.
	lost, active := -1, -1
	got := evs.snapshot()
	for i, ev := range got {
		if i > 1 && ev.Seq != got[i-1].Seq+1 {
			t.Errorf("event %d: seq %d after %d", i, ev.Seq, got[i-1].Seq)
		}
		switch {
		case ev.Kind == event.MateLost && lost < 0:
			lost = i
		case ev.Kind == event.UnitState && ev.From == "Standby" && ev.To == "Active":
			active = i
		}
	}
	if got[0].Kind != event.Subscribed || lost < 0 || active < lost {
		t.Errorf("events: want subscribed, then mate.lost before Standby -> Active; got %+v", got)
	}

	// The hooks: each unit's calls in event order; the secondary's include
	// its whole life (negotiation, standby) and the takeover.
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatalf("no hook ran: %v", err)
	}
	var secCalls []string
	last := map[string]int{}
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		var seq int
		for _, w := range f {
			fmt.Sscanf(w, "seq=%d", &seq)
		}
		if seq <= last[f[0]] {
			t.Errorf("hook calls of %s out of order: seq %d after %d", f[0], seq, last[f[0]])
		}
		last[f[0]] = seq
		if f[0] == secNS && f[1] == "unit.state" {
			secCalls = append(secCalls, strings.Join(f[1:4], " "))
		}
	}
	// Its life in order: negotiation first, standby later, active last
	// (the sync states between them are the unit's business).
	want := []string{"unit.state to=Negotiation from=Disabled", "unit.state to=Standby", "unit.state to=Active from=Standby"}
	at := 0
	for _, c := range secCalls {
		if at < len(want) && strings.HasPrefix(c, want[at]) {
			at++
		}
	}
	if at != len(want) || !strings.HasPrefix(secCalls[len(secCalls)-1], want[len(want)-1]) {
		t.Fatalf("secondary's unit.state hook calls %q, want %q in this order, the last last\nall calls:\n%s", secCalls, want, b)
	}
	t.Logf("secondary's state hooks: %q; %d events streamed", secCalls, len(got))
	if last[l.unitNS("primary")] == 0 {
		t.Error("the primary's hooks never ran")
	}
}
