package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"failover/engine"
	"failover/engine/api"
	"failover/engine/cli"
	"failover/shell"
)

// A configuration with every kind of failure: an unknown word (caret), an
// incomplete command, a value out of range, an unsupported PIX command, a
// semantic error (track on a missing SLA, route on an interface without an
// address), and good lines around them.
const badConfig = `hostname fw
interface outside auto
nameif outside outside security0
ip adress outside 198.51.100.2 255.255.255.240
failover poll
failover poll 99999
fixup protocol ftp 21
track 1 rtr 10 reachability
sla monitor 10
 type echo protocol ipIcmpEcho 203.0.113.1 interface outside
 frequency 1
route outside 0.0.0.0 0.0.0.0 198.51.100.1 1
`

func TestCheckReportsEachLineAsFoshDoes(t *testing.T) {
	// What fosh prints for the same lines typed into a configuration
	// session of a daemon (no dataplane: only the configuration matters).
	e, err := engine.New(engine.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go e.Run(ctx)
	s := cli.New(e, cli.Limits{}).NewSession(false)
	for _, l := range []string{"enable", "configure terminal"} {
		if r := s.Handle(api.Request{Op: api.OpExec, Line: l}); r.Failed() || r.NeedPassword {
			t.Fatalf("%s: %+v", l, r)
		}
	}
	var fout, ferr bytes.Buffer
	nf, err := shell.RunScript(backend{s}, strings.NewReader(badConfig), &fout, &ferr)
	if err != nil {
		t.Fatal(err)
	}

	var got bytes.Buffer
	n := checkText("fosh", badConfig, &got)
	if n != nf || n != 6 {
		t.Errorf("check counted %d errors, fosh %d, want 6", n, nf)
	}
	if got.String() != ferr.String() {
		t.Errorf("check output differs from fosh's\ncheck:\n%s\nfosh:\n%s", got.String(), ferr.String())
	}
	for _, want := range []string{
		"fosh: line 4: ip adress outside 198.51.100.2 255.255.255.240\n" + strings.Repeat(" ", len("fosh: line 4: ip ")) + "^\n",
		"fosh: line 5: failover poll\nERROR: % Incomplete command\n",
		"fosh: line 7: fixup protocol ftp 21\n",
		"fosh: line 8: track 1 rtr 10 reachability\n",
	} {
		if !strings.Contains(got.String(), want) {
			t.Errorf("check output lacks %q:\n%s", want, got.String())
		}
	}
}

type backend struct{ s *cli.Session }

func (b backend) Do(req api.Request) (api.Reply, error) { return b.s.Handle(req), nil }

func TestCheckExitStatus(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.cfg")
	bad := filepath.Join(dir, "bad.cfg")
	os.WriteFile(good, []byte("hostname fw\n: comment\n! comment\ninterface outside auto\n"), 0o600)
	os.WriteFile(bad, []byte(badConfig), 0o600)
	for _, c := range []struct {
		path   string
		status int
		errs   string
	}{
		{good, 0, ""},
		{bad, 1, bad + ": line 4: ip adress"},
		{filepath.Join(dir, "missing.cfg"), 2, "failed to read"},
	} {
		var out, errs bytes.Buffer
		if st := check(c.path, &out, &errs); st != c.status {
			t.Errorf("check %s = %d, want %d\n%s", c.path, st, c.status, errs.String())
		}
		if c.errs == "" && errs.Len() > 0 || !strings.Contains(errs.String(), c.errs) {
			t.Errorf("check %s printed %q, want %q", c.path, errs.String(), c.errs)
		}
	}
}

// The sample configurations must pass the check they are shipped with.
func TestCheckExamples(t *testing.T) {
	for _, f := range []string{"primary.cfg", "secondary.cfg", "uplink.cfg"} {
		var out, errs bytes.Buffer
		if st := check(filepath.Join("..", "..", "examples", f), &out, &errs); st != 0 {
			t.Errorf("examples/%s: status %d\n%s", f, st, errs.String())
		}
	}
}

// The script-mode error shown in the README is the one fosh prints (the
// check renders errors as fosh does, which the test above holds it to).
func TestReadmeSampleErrorIsReal(t *testing.T) {
	b, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	const first = "fosh: line 7: fixup protocol ftp 21\n"
	i := strings.Index(string(b), first)
	if i < 0 {
		t.Fatalf("README has no sample error starting %q", first)
	}
	sample, _, _ := strings.Cut(string(b)[i:], "```")
	var out bytes.Buffer
	checkText("fosh", "!\n!\n!\n!\n!\n!\nfixup protocol ftp 21\n", &out)
	if out.String() != sample {
		t.Errorf("README shows:\n%s\nfosh prints:\n%s", sample, out.String())
	}
}
