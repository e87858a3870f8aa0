// Package hooks runs the operator's notify hooks: the executables of a
// directory named by the daemon's own command line (never by the CLI: CLI
// access must not grant code execution as root), for every event of the
// event stream, in event order and one at a time. Each hook gets the event
// as arguments (KIND TO FROM), as FAILOVER_* environment variables and as
// one JSON object on stdin; it runs with a timeout, after which its
// process group is killed, and its exit status and first output lines are
// logged. Hooks run in their own goroutine fed by a bounded subscription,
// so a slow hook delays later hooks, never the state machine.
package hooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"syscall"
	"time"

	"failover/engine/event"
)

// Queue is how many events may wait for the hooks; beyond that the hooks
// miss events (logged with their number) rather than hold memory.
const Queue = 1024

// maxOutput bounds what is kept of a hook's output for the log.
const maxOutput = 2048

// Runner runs the hooks of one directory.
type Runner struct {
	Dir     string
	Timeout time.Duration
	Log     *slog.Logger
	// Done, when set, is called after each event's hooks ran (tests).
	Done func(event.Event)
}

// Start subscribes to bus at once (no event emitted after Start returns is
// missed) and feeds the hooks until ctx ends.
func (r *Runner) Start(ctx context.Context, bus *event.Bus) {
	go r.run(ctx, bus, bus.Subscribe(Queue))
}

func (r *Runner) run(ctx context.Context, bus *event.Bus, sub *event.Sub) {
	defer func() { sub.Close() }()
	for {
		select {
		case <-ctx.Done():
			return
		case ev, ok := <-sub.C:
			if !ok {
				n, _ := sub.Overflowed()
				r.Log.Error("notify hooks fell behind: events not passed to them", "missed", n)
				sub = bus.Subscribe(Queue)
				continue
			}
			r.runAll(ctx, ev)
			if r.Done != nil {
				r.Done(ev)
			}
		}
	}
}

// runAll runs every usable hook for ev, in name order. The directory is
// read at each event, so adding or removing a hook needs no restart.
func (r *Runner) runAll(ctx context.Context, ev event.Event) {
	for _, path := range r.hooks() {
		r.runHook(ctx, path, ev)
	}
}

// hooks lists the executables of Dir that may run: regular files, owned
// by root, writable by nobody else, in a directory with the same
// properties. Anything else is skipped with a warning, so that a file
// another user could change never runs as root.
func (r *Runner) hooks() []string {
	if err := safe(r.Dir, true); err != nil {
		if !errors.Is(err, fs.ErrNotExist) {
			r.Log.Warn("notify hooks not run", "dir", r.Dir, "err", err)
		}
		return nil
	}
	ents, err := os.ReadDir(r.Dir)
	if err != nil {
		r.Log.Warn("failed to read the notify hook directory", "dir", r.Dir, "err", err)
		return nil
	}
	var out []string
	for _, e := range ents {
		name := e.Name()
		if name[0] == '.' || slices.Contains([]string{"~", ".dpkg-old", ".dpkg-new", ".dpkg-dist", ".bak"}, filepath.Ext(name)) || name[len(name)-1] == '~' {
			continue
		}
		p := filepath.Join(r.Dir, name)
		if err := safe(p, false); err != nil {
			r.Log.Warn("notify hook skipped", "hook", p, "err", err)
			continue
		}
		out = append(out, p)
	}
	return out
}

// safe checks owner and mode of a hook or of the hook directory.
func safe(p string, dir bool) error {
	fi, err := os.Lstat(p)
	if err != nil {
		return err
	}
	st, ok := fi.Sys().(*syscall.Stat_t)
	switch {
	case dir && !fi.IsDir():
		return fmt.Errorf("not a directory")
	case !dir && !fi.Mode().IsRegular():
		return fmt.Errorf("not a regular file")
	case !dir && fi.Mode().Perm()&0o111 == 0:
		return fmt.Errorf("not executable")
	case !ok || st.Uid != 0:
		return fmt.Errorf("not owned by root")
	case fi.Mode().Perm()&0o022 != 0:
		return fmt.Errorf("writable by group or others (mode %04o)", fi.Mode().Perm())
	}
	return nil
}

// Env is the environment a hook gets for ev: a fixed PATH and the event.
func Env(ev event.Event) []string {
	env := []string{
		"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
		"FAILOVER_EVENT=" + string(ev.Kind),
		"FAILOVER_SEQ=" + strconv.FormatUint(ev.Seq, 10),
		"FAILOVER_TIME=" + ev.Time.UTC().Format(time.RFC3339Nano),
	}
	for k, v := range map[string]string{
		"ROLE": ev.Role, "FROM": ev.From, "TO": ev.To, "REASON": ev.Reason, "INTERFACE": ev.Interface,
		"DEST": ev.Dest, "GATEWAY": ev.Gateway, "SESSION": ev.Session, "LINE": ev.Line,
	} {
		if v != "" {
			env = append(env, "FAILOVER_"+k+"="+v)
		}
	}
	if ev.Track != 0 {
		env = append(env, "FAILOVER_TRACK="+strconv.Itoa(ev.Track))
	}
	slices.Sort(env[4:])
	return env
}

// runHook runs one hook for one event and logs how it ended.
func (r *Runner) runHook(ctx context.Context, path string, ev event.Event) {
	in, _ := json.Marshal(ev)
	ctx, cancel := context.WithTimeout(ctx, r.Timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, string(ev.Kind), ev.To, ev.From)
	cmd.Env = Env(ev)
	cmd.Dir = "/"
	cmd.Stdin = bytes.NewReader(append(in, '\n'))
	out := &capped{max: maxOutput}
	cmd.Stdout, cmd.Stderr = out, out
	// Its own process group, so a timeout kills what it started too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = time.Second
	start := time.Now()
	err := cmd.Run()
	attrs := []any{"hook", path, "event", ev.Kind, "seq", ev.Seq, "took", time.Since(start).Round(time.Millisecond)}
	if out.Len() > 0 {
		attrs = append(attrs, "output", out.String())
	}
	switch {
	case ctx.Err() == context.DeadlineExceeded:
		r.Log.Error("notify hook killed after its timeout", append(attrs, "timeout", r.Timeout)...)
	case err != nil:
		r.Log.Warn("notify hook failed", append(attrs, "err", err)...)
	default:
		r.Log.Info("notify hook ran", append(attrs, "exit", 0)...)
	}
}

// capped keeps the first max bytes written to it.
type capped struct {
	bytes.Buffer
	max int
}

func (c *capped) Write(p []byte) (int, error) {
	if room := c.max - c.Len(); room > 0 {
		c.Buffer.Write(p[:min(len(p), room)])
	}
	return len(p), nil
}
