package unit

import (
	"strings"
	"testing"
	"time"
)

// fakeStateSync records what the unit tells connection replication.
type fakeStateSync struct {
	name   string
	ev     *events
	synced bool
	roles  []string
	got    []stateMsg
}

type stateMsg struct {
	kind                    uint8
	payload                 string
	fromActive, fromStandby bool
}

func (f *fakeStateSync) SetRole(active, standby bool) {
	r := "idle"
	switch {
	case active:
		r = "active"
	case standby:
		r = "standby"
	}
	f.roles = append(f.roles, r)
	f.ev.add(f.name + " statesync " + r)
}

func (f *fakeStateSync) Received(kind uint8, payload []byte, fromActive, fromStandby bool) {
	f.got = append(f.got, stateMsg{kind, string(payload), fromActive, fromStandby})
}

func (f *fakeStateSync) Stats() StateStats {
	return StateStats{Xlate: [4]uint64{1, 2, 3, 4}, TCPConn: [4]uint64{5, 6, 7, 8}, RecvQ: [3]uint64{9, 10, 11}}
}

func (f *fakeStateSync) Synced() bool { return f.synced }

func TestStatefulBulkSyncRolesAndMessages(t *testing.T) {
	p := newPair(t)
	p.stateful = true
	a := p.add("A", testConfig("primary"))
	b := p.add("B", testConfig("secondary"))
	if _, ok := p.until(time.Minute, func() bool { return a.u.State() == Active && b.u.State() == BulkSync }); !ok {
		t.Fatalf("states %s/%s, want Active/Bulk Sync", a.u.State(), b.u.State())
	}
	p.run(2 * time.Second)
	if b.u.State() != BulkSync {
		t.Fatalf("standby left Bulk Sync (%s) before replication was synced", b.u.State())
	}
	if !strings.Contains(b.u.ShowFailover(), "This host: Secondary - Bulk Sync") || !strings.Contains(a.u.ShowFailover(), "Other host: Secondary - Bulk Sync") {
		t.Errorf("show failover does not say Bulk Sync:\n%s\n%s", b.u.ShowFailover(), a.u.ShowFailover())
	}
	b.ss.synced = true
	if _, ok := p.until(time.Second, func() bool { return b.u.State() == Standby }); !ok {
		t.Fatalf("standby did not become Standby once synced: %s", b.u.State())
	}
	h := b.u.ShowHistory()
	if !strings.Contains(h, "Sync Config                Bulk Sync") || !strings.Contains(h, "Bulk Sync                  Standby") {
		t.Errorf("history lacks Sync Config -> Bulk Sync -> Standby:\n%s", h)
	}
	if got := a.ss.roles[len(a.ss.roles)-1]; got != "active" {
		t.Errorf("active unit's replication role %q", got)
	}
	if got := b.ss.roles[len(b.ss.roles)-1]; got != "standby" {
		t.Errorf("standby unit's replication role %q", got)
	}

	// Messages travel on the stateful link, marked by who the mate is.
	if !a.u.SendState(1, []byte("batch")) || !b.u.SendState(2, []byte("ack")) {
		t.Fatal("SendState failed")
	}
	p.settle()
	if len(b.ss.got) != 1 || b.ss.got[0] != (stateMsg{1, "batch", true, false}) {
		t.Errorf("standby received %+v", b.ss.got)
	}
	if len(a.ss.got) != 1 || a.ss.got[0] != (stateMsg{2, "ack", false, true}) {
		t.Errorf("active received %+v", a.ss.got)
	}
	show := a.u.ShowFailover()
	for _, want := range []string{
		"        xlate           1          2          3          4\n",
		"        tcp conn        5          6          7          8\n",
		"        Recv Q:         9       10      11\n",
	} {
		if !strings.Contains(show, want) {
			t.Errorf("show failover lacks %q:\n%s", want, show)
		}
	}

	// A planned switchover: the old active's replication stops before its
	// addresses go, the new one's starts before its addresses come.
	if err := a.u.NoFailoverActive(); err != nil {
		t.Fatal(err)
	}
	if _, ok := p.until(10*time.Second, func() bool { return a.u.State() != Active && b.u.State() == Active }); !ok {
		t.Fatalf("switchover: %s/%s", a.u.State(), b.u.State())
	}
	for _, pair := range [][2]string{
		{"A statesync standby", "A reconcile " + a.u.State().String()},
		{"B statesync active", "B reconcile Active"},
	} {
		i, j := p.ev.index(pair[0]), p.ev.index(pair[1])
		if i < 0 || j < 0 || i > j {
			t.Errorf("%q at %d, %q at %d: want the first before the second\n%q", pair[0], i, pair[1], j, p.ev.list)
		}
	}
}

// A mate that never completes the connection table does not keep the
// standby out of Standby for ever.
func TestBulkSyncGivesUp(t *testing.T) {
	p := newPair(t)
	p.stateful = true
	a := p.add("A", testConfig("primary"))
	b := p.add("B", testConfig("secondary"))
	if _, ok := p.until(time.Minute, func() bool { return a.u.State() == Active && b.u.State() == BulkSync }); !ok {
		t.Fatalf("states %s/%s, want Active/Bulk Sync", a.u.State(), b.u.State())
	}
	took, ok := p.until(2*bulkSyncLimit(b.u.hold()), func() bool { return b.u.State() == Standby })
	if !ok || took < bulkSyncLimit(b.u.hold())-time.Second {
		t.Errorf("Bulk Sync ended after %v (ok %v), want about %v", took, ok, bulkSyncLimit(b.u.hold()))
	}
}

// A unit that steps down in a planned switchover does not hold the
// connection table as a standby yet: it is in Bulk Sync, as a joining unit
// is, until it does, so show failover does not call it ready while a
// switchover back would be refused.
func TestSteppedDownUnitBulkSyncsFirst(t *testing.T) {
	p, a, b := statefulPair(t)
	a.ss.synced = false // A's table as a standby is still to come
	if err := a.u.NoFailoverActive(); err != nil {
		t.Fatal(err)
	}
	p.run(5 * time.Second)
	wantState(t, b, Active)
	wantState(t, a, BulkSync)
	if out := b.u.ShowFailover(); !strings.Contains(out, "Other host: Primary - Bulk Sync") {
		t.Errorf("the new active's show failover:\n%s", out)
	}
	// A switchover back is refused at once, with a reason, rather than
	// accepted and silently refused by the mate.
	if err := b.u.NoFailoverActive(); err == nil || !strings.Contains(err.Error(), "no standby unit is ready") {
		t.Errorf("no failover active beside a mate in Bulk Sync: %v", err)
	}
	p.settle()
	wantState(t, b, Active)
	a.ss.synced = true
	if _, ok := p.until(time.Minute, func() bool { return a.u.State() == Standby }); !ok {
		t.Fatalf("A did not become Standby once synced: %s", a.u.State())
	}
}
