package shell

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"failover/engine/api"
)

// batchBackend takes batches as the daemon does: each line answered as
// an exec request would be, stopping after a reply that asks for a
// password or ends the session.
type batchBackend struct {
	fakeBackend
	batches [][]string
}

func (b *batchBackend) Batches() bool { return true }

func (b *batchBackend) Do(req api.Request) (api.Reply, error) {
	if req.Op != api.OpBatch {
		return b.fakeBackend.Do(req)
	}
	b.batches = append(b.batches, req.Lines)
	var out []api.Reply
	for _, l := range req.Lines {
		r, err := b.fakeBackend.Do(api.Request{Op: api.OpExec, Line: l})
		if err != nil {
			return api.Reply{}, err
		}
		out = append(out, r)
		if r.NeedPassword || r.Exit {
			break
		}
	}
	return api.Reply{Replies: out}, nil
}

// A script sent in batches prints exactly what it prints line by line,
// and the daemon runs the same lines in the same order.
func TestRunScriptBatchesAsLines(t *testing.T) {
	inv := api.Reply{Err: "ERROR: % Invalid input detected at '^' marker."}
	inv.CaretAt(5)
	replies := map[string]api.Reply{
		"show failover":    {Output: "Failover Off\n"},
		"show bogus":       inv,
		"failover poll 20": {Err: "ERROR: poll time must be 3-15 seconds"},
		"show run":         {Output: "hostname fw\nroute outside 0.0.0.0 0.0.0.0 192.0.2.1 1\n"},
		"enable":           {NeedPassword: true},
		"enable:right":     {},
		"enable:wrong":     {Err: "Invalid password"},
		"exit":             {Exit: true},
	}
	var many strings.Builder
	for i := range 1500 {
		fmt.Fprintf(&many, "hostname h%d\n", i)
	}
	for _, in := range []string{
		"show failover\r\nshow bogus\nshow\n   failover poll 20   \nshow run | include route\nshow run | frob x\nshow run | include [\n",
		"enable\nright\nshow failover\nenable\nwrong\nshow run\n",
		"show failover\n" + strings.Repeat("x", api.MaxLine+1) + "\nshow run\nexit\nshow never\n",
		many.String() + "show bogus\n" + many.String(),
		"enable\n",
	} {
		line := &fakeBackend{replies: replies}
		batch := &batchBackend{fakeBackend: fakeBackend{replies: replies}}
		var o1, e1, o2, e2 bytes.Buffer
		f1, err1 := RunScript(line, strings.NewReader(in), &o1, &e1)
		f2, err2 := RunScript(batch, strings.NewReader(in), &o2, &e2)
		name := in[:min(len(in), 30)]
		if f1 != f2 || (err1 == nil) != (err2 == nil) || o1.String() != o2.String() || e1.String() != e2.String() {
			t.Errorf("%q: line by line failed=%d err=%v\n%s%s\nbatches failed=%d err=%v\n%s%s",
				name, f1, err1, o1.String(), e1.String(), f2, err2, o2.String(), e2.String())
		}
		if got, want := strings.Join(batch.lines(), "|"), strings.Join(line.lines(), "|"); got != want {
			t.Errorf("%q: batches ran %q, lines %q", name, got, want)
		}
		for _, b := range batch.batches {
			if len(b) > api.MaxBatch {
				t.Errorf("%q: a batch of %d lines", name, len(b))
			}
		}
	}
}

// Lines are sent together: a 5000-line paste is a handful of requests.
func TestRunScriptBatchesFew(t *testing.T) {
	var in strings.Builder
	for i := range 5000 {
		fmt.Fprintf(&in, "hostname h%d\n", i)
	}
	b := &batchBackend{}
	if failed, err := RunScript(b, strings.NewReader(in.String()), &bytes.Buffer{}, &bytes.Buffer{}); failed != 0 || err != nil {
		t.Fatalf("failed=%d err=%v", failed, err)
	}
	if len(b.reqs) != 5000 || len(b.batches) > 10 {
		t.Errorf("%d lines in %d batches", len(b.reqs), len(b.batches))
	}
}
