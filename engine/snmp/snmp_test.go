package snmp

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"failover/engine/api"
)

func TestPassPersist(t *testing.T) {
	st := &api.Status{Failover: &api.FailoverStat{Enabled: true, Role: "Secondary", State: "Active",
		Mate: api.MateStat{Seen: true, Role: "Primary", State: "Failed"}}}
	calls := 0
	src := func() (*api.Status, error) { calls++; return st, nil }
	in := strings.Join([]string{
		"PING",
		"get", Root + ".1.2.1.1.1.3.7", // cfwHardwareStatusValue.secondaryUnit
		"get", Root + ".1.2.1.1.1.3.6",
		"get", Root + ".1.2.1.1.1.3.8", // no such row
		"getnext", Root, // the first object of the subtree
		"getnext", Root + ".1.2.1.1.1.2.7",
		"getnext", Root + ".1.2.1.1.1.4.7", // the last one: nothing after it
		"set", Root + ".1.2.1.1.1.3.6", "integer 2",
		"get", "not.an.oid",
	}, "\n") + "\n"
	var out bytes.Buffer
	if err := Serve(strings.NewReader(in), &out, src, time.Hour); err != nil {
		t.Fatal(err)
	}
	e := Root + ".1.2.1.1.1"
	want := strings.Join([]string{
		"PONG",
		e + ".3.7", "integer", "9",
		e + ".3.6", "integer", "4",
		"NONE",
		e + ".2.6", "string", "Failover Primary Unit",
		e + ".3.6", "integer", "4",
		"NONE",
		"not-writable",
		"NONE",
	}, "\n") + "\n"
	if out.String() != want {
		t.Errorf("got:\n%s\nwant:\n%s", out.String(), want)
	}
	if calls != 1 {
		t.Errorf("status fetched %d times, want once (cached)", calls)
	}
}

func TestRows(t *testing.T) {
	for _, c := range []struct {
		st        *api.Status
		pri, sec  int
		secDetail string
	}{
		{&api.Status{}, statusDown, statusDown, "Failover Off"},
		{&api.Status{Failover: &api.FailoverStat{Enabled: true, Role: "Primary", State: "Active"}}, statusActive, statusDown, "Not Detected (this unit does not hear its mate)"},
		{&api.Status{Failover: &api.FailoverStat{Enabled: true, Role: "Primary", State: "Standby", Mate: api.MateStat{Seen: true, State: "Active"}}}, statusStandby, statusActive, "Active unit"},
		{&api.Status{Failover: &api.FailoverStat{Enabled: true, Role: "Secondary", State: "Negotiation"}}, statusDown, statusOther, "Negotiation unit (this unit)"},
	} {
		r := rows(c.st)
		if r[primaryUnit].value != c.pri || r[secondaryUnit].value != c.sec || r[secondaryUnit].detail != c.secDetail {
			t.Errorf("%+v: rows %+v", c.st.Failover, r)
		}
	}
}

// Without the daemon every request is answered NONE (snmpd then says No
// Such Object) instead of stale or invented values.
func TestDaemonDown(t *testing.T) {
	var out bytes.Buffer
	src := func() (*api.Status, error) { return nil, errors.New("no daemon") }
	Serve(strings.NewReader("get\n"+Root+".1.2.1.1.1.3.6\n"), &out, src, time.Second)
	if out.String() != "NONE\n" {
		t.Errorf("got %q", out.String())
	}
}

func FuzzServe(f *testing.F) {
	f.Add("PING\nget\n.1.3.6.1.4.1.9.9.147.1.2.1.1.1.3.6\ngetnext\n.1.3\n")
	f.Add("set\n.1\ninteger 1\n")
	st := &api.Status{Failover: &api.FailoverStat{Enabled: true, Role: "Primary", State: "Active"}}
	f.Fuzz(func(t *testing.T, in string) {
		var out bytes.Buffer
		Serve(strings.NewReader(in), &out, func() (*api.Status, error) { return st, nil }, time.Hour)
		for _, l := range strings.Split(out.String(), "\n") {
			if strings.HasPrefix(l, ".") && !strings.HasPrefix(l, Root+".") {
				t.Fatalf("answered an OID outside the subtree: %q", l)
			}
		}
	})
}
