package snmp

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"failover/engine/api"
)

const entry = ".1.3.6.1.4.1.9.9.147.1.2.1.1.1"

func pairStatus(role, state, mateState string, mateSeen bool) *api.Status {
	return &api.Status{Failover: &api.FailoverStat{
		Enabled: true, Role: role, State: state, Cable: "Normal",
		Mate: api.MateStat{Seen: mateSeen, State: mateState},
		Interfaces: []api.IfStat{
			{Name: "inside", Device: "eth1"},
			{Name: "failover", Device: "eth3", FailoverIf: true},
		},
	}}
}

// table renders vars as "OID TYPE VALUE" lines.
func table(vars []Var) string {
	var b strings.Builder
	for _, v := range vars {
		b.WriteString(v.OID.String() + " " + string(v.Type) + " " + v.Value + "\n")
	}
	return b.String()
}

func TestTable(t *testing.T) {
	for _, c := range []struct {
		name string
		st   *api.Status
		want string
	}{
		{"primary active, mate standby", pairStatus("Primary", "Active", "Standby", true), `
.2.4 string Failover LAN Interface
.2.6 string Primary unit (this device)
.2.7 string Secondary unit
.3.4 integer 2
.3.6 integer 9
.3.7 integer 10
.4.4 string failover eth3: Normal
.4.6 string Active unit
.4.7 string Standby unit
`},
		{"secondary active, mate not seen", pairStatus("Secondary", "Active", "Standby", false), `
.2.4 string Failover LAN Interface
.2.6 string Primary unit
.2.7 string Secondary unit (this device)
.3.4 integer 2
.3.6 integer 3
.3.7 integer 9
.4.4 string failover eth3: Normal
.4.6 string Not Detected
.4.7 string Active unit
`},
		{"secondary negotiating, primary failed", pairStatus("Secondary", "Negotiation", "Failed", true), `
.2.4 string Failover LAN Interface
.2.6 string Primary unit
.2.7 string Secondary unit (this device)
.3.4 integer 2
.3.6 integer 4
.3.7 integer 1
.4.4 string failover eth3: Normal
.4.6 string Failed unit
.4.7 string Negotiation
`},
		{"no unit failover", &api.Status{}, `
.2.4 string Failover LAN Interface
.2.6 string Primary unit
.2.7 string Secondary unit
.3.4 integer 3
.3.6 integer 3
.3.7 integer 3
.4.4 string not Configured
.4.6 string Failover Off
.4.7 string Failover Off
`},
	} {
		t.Run(c.name, func(t *testing.T) {
			want := strings.ReplaceAll(strings.TrimPrefix(c.want, "\n"), "\n.", "\n"+entry+".")
			want = entry + want
			if got := table(Table(c.st)); got != want {
				t.Errorf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
	// The failover link's detail follows the cable.
	st := pairStatus("Primary", "Active", "Not Detected", false)
	st.Failover.Cable = "My side not connected"
	vars := Table(st)
	if v := find(vars, entry+".3.4"); v != "3" {
		t.Errorf("LAN link down: status %q, want 3", v)
	}
	if v := find(vars, entry+".4.4"); v != "failover eth3: My side not connected" {
		t.Errorf("LAN link down: detail %q", v)
	}
	// A disabled unit (failover configured but off) is "Failover Off".
	st = pairStatus("Primary", "Disabled", "Not Detected", false)
	st.Failover.Enabled = false
	if v := find(Table(st), entry+".4.6"); v != "Failover Off" {
		t.Errorf("failover off: detail %q", v)
	}
}

func find(vars []Var, oid string) string {
	for _, v := range vars {
		if v.OID.String() == oid {
			return v.Value
		}
	}
	return "<absent>"
}

func TestParseOID(t *testing.T) {
	for _, s := range []string{".1.3.6.1", "1.3.6.1", ".0", ".4294967295"} {
		o, err := ParseOID(s)
		if err != nil {
			t.Errorf("%q: %v", s, err)
			continue
		}
		if o.String() != "."+strings.TrimPrefix(s, ".") {
			t.Errorf("%q reads back as %q", s, o)
		}
	}
	for _, s := range []string{"", ".", "..1", ".1.", ".1..2", ".1.-2", ".1.+2", ".1. 2", ".4294967296", ".1.x", strings.Repeat(".1", MaxArcs+1)} {
		if o, err := ParseOID(s); err == nil {
			t.Errorf("%q parsed as %v", s, o)
		}
	}
	if _, err := ParseOID(strings.Repeat(".1", MaxArcs)); err != nil {
		t.Errorf("%d arcs: %v", MaxArcs, err)
	}
}

// session feeds in to Serve with the table of st and returns the output.
func session(t *testing.T, in string, st *api.Status) string {
	t.Helper()
	var out bytes.Buffer
	vars := Table(st)
	if err := Serve(strings.NewReader(in), &out, func() []Var { return vars }, slog.New(slog.DiscardHandler)); err != nil {
		t.Fatalf("Serve: %v", err)
	}
	return out.String()
}

func TestServe(t *testing.T) {
	st := pairStatus("Primary", "Active", "Standby", true)
	for _, c := range []struct{ name, in, want string }{
		{"ping", "PING\n", "PONG\n"},
		{"get", "get\n" + entry + ".3.6\n", entry + ".3.6\ninteger\n9\n"},
		{"get without the dot, CRLF", "get\r\n" + entry[1:] + ".3.7\r\n", entry + ".3.7\ninteger\n10\n"},
		{"get of a missing row", "get\n" + entry + ".3.5\n", "NONE\n"},
		{"get of the table", "get\n" + entry + "\n", "NONE\n"},
		{"getnext of the table", "getnext\n.1.3.6.1.4.1.9.9.147.1.2.1.1\n", entry + ".2.4\nstring\nFailover LAN Interface\n"},
		{"getnext between rows", "getnext\n" + entry + ".3.5\n", entry + ".3.6\ninteger\n9\n"},
		{"getnext of the last", "getnext\n" + entry + ".4.7\n", "NONE\n"},
		{"getnext past the table", "getnext\n.1.3.6.1.4.1.9.9.148\n", "NONE\n"},
		{"set", "set\n" + entry + ".3.6\ninteger 10\nget\n" + entry + ".3.6\n", "not-writable\n" + entry + ".3.6\ninteger\n9\n"},
		{"bad OID", "get\n.1.x\nPING\n", "NONE\nPONG\n"},
		{"blank lines and unknown commands get no answer", "\n\nDUMP\nPING\n", "PONG\n"},
		{"line too long", "get\n" + strings.Repeat(".1", MaxLine) + "\nPING\n", "NONE\nPONG\n"},
		{"last line without newline", "PING", "PONG\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := session(t, c.in, st); got != c.want {
				t.Errorf("in %q:\ngot  %q\nwant %q", c.in, got, c.want)
			}
		})
	}
	// A walk (getnext from the table until NONE) visits every variable
	// once, in order.
	var in strings.Builder
	next := ".1.3.6.1.4.1.9.9.147.1.2.1.1"
	var walked []string
	for range 20 {
		in.Reset()
		in.WriteString("getnext\n" + next + "\n")
		out := strings.Split(session(t, in.String(), st), "\n")
		if out[0] == "NONE" {
			break
		}
		walked = append(walked, out[0])
		next = out[0]
	}
	if len(walked) != 9 || walked[0] != entry+".2.4" || walked[8] != entry+".4.7" {
		t.Errorf("walk: %v", walked)
	}
}

func TestServeEOFWithinCommand(t *testing.T) {
	var out bytes.Buffer
	err := Serve(strings.NewReader("get\n"), &out, func() []Var { return nil }, slog.New(slog.DiscardHandler))
	if !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("err %v, want unexpected EOF", err)
	}
}

type fakeClient struct {
	st     *api.Status
	err    error
	calls  *int
	closed bool
}

func (f *fakeClient) Status() (*api.Status, error) { *f.calls++; return f.st, f.err }
func (f *fakeClient) Close() error                 { f.closed = true; return nil }

func TestSource(t *testing.T) {
	now := time.Unix(1000, 0)
	calls, dials := 0, 0
	var dialErr error
	cur := &fakeClient{st: pairStatus("Primary", "Active", "Standby", true), calls: &calls}
	var log bytes.Buffer
	s := &Source{
		Dial: func() (StatusClient, error) {
			dials++
			if dialErr != nil {
				return nil, dialErr
			}
			return cur, nil
		},
		MaxAge: time.Second,
		Log:    slog.New(slog.NewTextHandler(&log, nil)),
		Now:    func() time.Time { return now },
	}
	if v := find(s.Vars(), entry+".3.6"); v != "9" {
		t.Fatalf("first: %q", v)
	}
	// Within MaxAge the same table answers: no request.
	cur.st = pairStatus("Primary", "Standby", "Active", true)
	now = now.Add(500 * time.Millisecond)
	if v := find(s.Vars(), entry+".3.6"); v != "9" || calls != 1 {
		t.Fatalf("cached: %q after %d requests", v, calls)
	}
	// Past it, a fresh status on the same session.
	now = now.Add(time.Second)
	if v := find(s.Vars(), entry+".3.6"); v != "10" || calls != 2 || dials != 1 {
		t.Fatalf("refreshed: %q after %d requests, %d dials", v, calls, dials)
	}
	// The daemon restarted: the old session fails, a new one answers.
	old := cur
	old.err = errors.New("failoverd closed the session")
	cur = &fakeClient{st: pairStatus("Primary", "Active", "Standby", true), calls: &calls}
	now = now.Add(2 * time.Second)
	if v := find(s.Vars(), entry+".3.6"); v != "9" || !old.closed || dials != 2 {
		t.Fatalf("after a restart: %q, old closed %v, %d dials", v, old.closed, dials)
	}
	// The daemon is gone: an empty table, logged once.
	cur.err = errors.New("gone")
	dialErr = errors.New("connection refused")
	for range 3 {
		now = now.Add(2 * time.Second)
		if vars := s.Vars(); len(vars) != 0 {
			t.Fatalf("daemon gone: %d variables", len(vars))
		}
	}
	if n := strings.Count(log.String(), "failed to get the status"); n != 1 {
		t.Errorf("logged the failure %d times:\n%s", n, log.String())
	}
	// Back: the table returns at the next request, not MaxAge later.
	dialErr = nil
	cur = &fakeClient{st: pairStatus("Primary", "Standby", "Active", true), calls: &calls}
	now = now.Add(time.Millisecond)
	if v := find(s.Vars(), entry+".3.6"); v != "10" {
		t.Fatalf("back: %q", v)
	}
	s.Close()
	if !cur.closed {
		t.Error("Close left the session open")
	}
}

// FuzzPassPersist feeds arbitrary input to the reader and the server: no
// panic, every OID read is well formed, and the output is a sequence of
// whole answers (PONG, NONE, not-writable, or OID, type, value).
func FuzzPassPersist(f *testing.F) {
	for _, s := range []string{
		"PING\n", "get\n" + entry + ".3.6\n", "getnext\n.1.3\n", "set\n.1.3\ninteger 1\n",
		"get\n.1..3\n", "\r\n\nget", strings.Repeat("9", 3000) + "\nPING\n", "getnext\n" + entry + ".4.7\r\n",
	} {
		f.Add([]byte(s))
	}
	vars := Table(pairStatus("Primary", "Active", "Standby", true))
	f.Fuzz(func(t *testing.T, in []byte) {
		r := bufio.NewReaderSize(bytes.NewReader(in), 64)
		for {
			req, err := ReadRequest(r)
			if err != nil {
				break
			}
			if req.OID != nil {
				if len(req.OID) == 0 || len(req.OID) > MaxArcs {
					t.Fatalf("OID of %d arcs", len(req.OID))
				}
				if o, err := ParseOID(req.OID.String()); err != nil || o.Compare(req.OID) != 0 {
					t.Fatalf("OID %v does not read back: %v", req.OID, err)
				}
			}
			if len(req.Value) > MaxLine+2 {
				t.Fatalf("value of %d bytes", len(req.Value))
			}
		}
		var out bytes.Buffer
		_ = Serve(bytes.NewReader(in), &out, func() []Var { return vars }, slog.New(slog.DiscardHandler))
		lines := strings.Split(out.String(), "\n")
		if lines[len(lines)-1] != "" {
			t.Fatalf("output does not end a line: %q", out.String())
		}
		for i := 0; i < len(lines)-1; i++ {
			switch lines[i] {
			case "PONG", "NONE", "not-writable":
				continue
			}
			if i+2 >= len(lines) || find(vars, lines[i]) != lines[i+2] {
				t.Fatalf("answer at line %d is not a variable of the table: %q", i, out.String())
			}
			i += 2
		}
	})
}
