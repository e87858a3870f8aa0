package shell

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"
	"time"

	"failover/engine/api"
)

// fakeBackend answers from a table and records every request.
type fakeBackend struct {
	reqs    []api.Request
	replies map[string]api.Reply // by Line (exec) or "enable:"+Password
	failAt  int                  // 1-based request number that gets a transport error
}

func (f *fakeBackend) Do(req api.Request) (api.Reply, error) {
	f.reqs = append(f.reqs, req)
	if f.failAt == len(f.reqs) {
		return api.Reply{}, errors.New("connection reset")
	}
	key := strings.TrimSpace(req.Line)
	if req.Op == api.OpEnable {
		key = "enable:" + req.Password
	}
	if r, ok := f.replies[key]; ok {
		return r, nil
	}
	return api.Reply{}, nil
}

func (f *fakeBackend) lines() []string {
	var out []string
	for _, r := range f.reqs {
		if r.Op == api.OpEnable {
			out = append(out, "<password "+r.Password+">")
			continue
		}
		out = append(out, r.Line)
	}
	return out
}

func runScript(t *testing.T, b Backend, in string) (failed int, stdout, stderr string, err error) {
	t.Helper()
	var o, e bytes.Buffer
	failed, err = RunScript(b, strings.NewReader(in), &o, &e)
	return failed, o.String(), e.String(), err
}

func TestRunScriptOutputAndErrors(t *testing.T) {
	inv := api.Reply{Err: "ERROR: % Invalid input detected at '^' marker."}
	inv.CaretAt(5)
	b := &fakeBackend{replies: map[string]api.Reply{
		"show failover":    {Output: "Failover Off\nCable status: Normal\nReconnect timeout 0:00:00\n"},
		"show bogus":       inv,
		"show":             {Err: "ERROR: % Incomplete command"},
		"failover poll 20": {Err: "ERROR: poll time must be 3-15 seconds"},
		"show run":         {Output: "hostname fw\nroute outside 0.0.0.0 0.0.0.0 192.0.2.1 1\n"},
	}}
	in := "show failover\r\n" + // CRLF input (pasted from Windows)
		"show bogus\n" +
		"show\n" +
		"   failover poll 20   \n" +
		"show run | include route\n" +
		"show run | frob x\n" +
		"show run | include [\n"
	failed, out, errs, err := runScript(t, b, in)
	if err != nil {
		t.Fatal(err)
	}
	if failed != 5 {
		t.Errorf("failed = %d, want 5", failed)
	}
	wantOut := "Failover Off\nCable status: Normal\nReconnect timeout 0:00:00\n" +
		"route outside 0.0.0.0 0.0.0.0 192.0.2.1 1\n"
	if out != wantOut {
		t.Errorf("stdout:\n%s\nwant:\n%s", out, wantOut)
	}
	wantErr := "fosh: line 2: show bogus\n" +
		"                   ^\n" +
		"ERROR: % Invalid input detected at '^' marker.\n" +
		"fosh: line 3: show\n" +
		"ERROR: % Incomplete command\n" +
		"fosh: line 4: failover poll 20\n" +
		"ERROR: poll time must be 3-15 seconds\n" +
		"fosh: line 6: show run | frob x\n" +
		"                         ^\n" +
		"ERROR: % Invalid input detected at '^' marker.\n" +
		"fosh: line 7: show run | include [\n" +
		"ERROR: invalid regular expression \"[\": error parsing regexp: missing closing ]: `[`\n"
	if errs != wantErr {
		t.Errorf("stderr:\n%s\nwant:\n%s", errs, wantErr)
	}
	// The engine sees only commands, without CR and without filters; a
	// line whose filter does not parse is not sent at all.
	want := []string{"show failover", "show bogus", "show", "   failover poll 20   ", "show run", "show run"}
	if got := b.lines(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("requests %q, want %q", got, want)
	}
	for _, r := range b.reqs {
		if r.Op != api.OpExec {
			t.Errorf("unexpected op %q", r.Op)
		}
	}
}

func TestRunScriptQuestionMarkIsOrdinary(t *testing.T) {
	b := &fakeBackend{}
	failed, _, _, err := runScript(t, b, "failover ?\ndescription what?\n")
	if err != nil || failed != 0 {
		t.Fatalf("failed=%d err=%v", failed, err)
	}
	if got := b.lines(); len(got) != 2 || got[0] != "failover ?" || got[1] != "description what?" {
		t.Fatalf("requests %q", got)
	}
}

func TestRunScriptEnablePassword(t *testing.T) {
	b := &fakeBackend{replies: map[string]api.Reply{
		"enable":       {NeedPassword: true},
		"enable:right": {},
		"enable:wrong": {Err: "Invalid password"},
		"show curpriv": {Output: "Current privilege level : 15\n"},
	}}
	// The line after "enable" answers Password: and is never run (nor
	// printed: it is a secret).
	failed, out, errs, err := runScript(t, b, "enable\nright\nshow curpriv\nenable\nwrong\n")
	if err != nil {
		t.Fatal(err)
	}
	if failed != 1 {
		t.Errorf("failed = %d, want 1", failed)
	}
	if out != "Current privilege level : 15\n" {
		t.Errorf("stdout %q", out)
	}
	if errs != "fosh: line 4: enable\nInvalid password\n" {
		t.Errorf("stderr %q", errs)
	}
	if strings.Contains(errs+out, "wrong") || strings.Contains(errs+out, "right") {
		t.Errorf("a password was printed: %q %q", out, errs)
	}
	want := []string{"enable", "<password right>", "show curpriv", "enable", "<password wrong>"}
	if got := b.lines(); strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("requests %q, want %q", got, want)
	}

	// enable as the last line: an empty password is sent, no hang.
	b = &fakeBackend{replies: map[string]api.Reply{"enable": {NeedPassword: true}, "enable:": {Err: "Invalid password"}}}
	failed, _, _, err = runScript(t, b, "enable\n")
	if err != nil || failed != 1 {
		t.Fatalf("enable at EOF: failed=%d err=%v", failed, err)
	}
}

func TestRunScriptExitStops(t *testing.T) {
	b := &fakeBackend{replies: map[string]api.Reply{"exit": {Exit: true}}}
	failed, _, _, err := runScript(t, b, "show version\nexit\nshow never\n")
	if err != nil || failed != 0 {
		t.Fatalf("failed=%d err=%v", failed, err)
	}
	if got := b.lines(); len(got) != 2 {
		t.Fatalf("lines after exit were run: %q", got)
	}
}

func TestRunScriptTransportError(t *testing.T) {
	b := &fakeBackend{failAt: 2}
	failed, _, _, err := runScript(t, b, "show a\nshow b\nshow c\n")
	if err == nil || failed == 0 {
		t.Fatalf("transport error not reported: failed=%d err=%v", failed, err)
	}
	if len(b.reqs) != 2 {
		t.Fatalf("script went on after a transport error: %d requests", len(b.reqs))
	}
}

func TestRunScriptLongLines(t *testing.T) {
	// An over-long line, of any length (beyond the reader's buffer too), is
	// one error naming its line number and its length; it is not sent (the
	// daemon would refuse it) and the lines after it run.
	for _, n := range []int{api.MaxLine + 1, 100 << 10, 3 << 20} {
		b := &fakeBackend{}
		in := "show a\n" + strings.Repeat("x", n) + "\r\nshow b\n" + strings.Repeat("y", api.MaxLine) + "\n"
		failed, _, errs, err := runScript(t, b, in)
		if err != nil || failed != 1 {
			t.Fatalf("%d: failed=%d err=%v", n, failed, err)
		}
		want := fmt.Sprintf("fosh: line 2: ERROR: line too long (%d characters, at most %d)\n", n, api.MaxLine)
		if errs != want {
			t.Fatalf("%d: stderr %q, want %q", n, errs[:min(len(errs), 200)], want)
		}
		if got := b.lines(); len(got) != 3 || got[0] != "show a" || got[1] != "show b" || len(got[2]) != api.MaxLine {
			t.Fatalf("%d: lines sent: %d", n, len(got))
		}
	}
}

func TestRunScriptComments(t *testing.T) {
	// Comments are the engine's business (a pasted running-config sends
	// them like any line); the script runner numbers every line.
	b := &fakeBackend{replies: map[string]api.Reply{"bad": {Err: "ERROR: x"}}}
	_, _, errs, _ := runScript(t, b, ": Saved\n!\n\nbad\n")
	if errs != "fosh: line 4: bad\nERROR: x\n" {
		t.Fatalf("stderr %q", errs)
	}
}

// watchedBackend is a fakeBackend whose daemon can go away.
type watchedBackend struct {
	fakeBackend
	done chan struct{}
}

func (w *watchedBackend) Done() <-chan struct{} { return w.done }
func (w *watchedBackend) Err() error            { return errors.New("failoverd closed the session") }

// A script waiting for its next input line ends at once, with a message,
// when the daemon goes away.
func TestRunScriptDaemonGone(t *testing.T) {
	b := &watchedBackend{done: make(chan struct{})}
	pr, pw := io.Pipe()
	defer pw.Close()
	res := make(chan error, 1)
	go func() {
		_, err := RunScript(b, pr, io.Discard, io.Discard)
		res <- err
	}()
	io.WriteString(pw, "show a\n")
	close(b.done)
	select {
	case err := <-res:
		if err == nil || !strings.Contains(err.Error(), "lost the connection to failoverd: failoverd closed the session") {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the script went on waiting for input after the daemon went away")
	}
}
