// Command failoverd is the engine: uplink failover and PIX-style unit
// failover for one Linux box, driven through its control socket.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	sdjournal "github.com/coreos/go-systemd/v22/journal"

	"golang.org/x/term"

	"failover/engine"
	"failover/engine/api"
	"failover/engine/cli"
	"failover/engine/dataplane"
	"failover/engine/hooks"
	"failover/engine/journal"
	"failover/engine/metrics"
	"failover/engine/probe"
	"failover/engine/version"
	"failover/shell"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintf(os.Stderr, "failoverd: %v\n", err)
		os.Exit(1)
	}
}

func run() error {
	cfgPath := flag.String("config", "/etc/failover/startup-config", "startup-config path")
	sock := flag.String("socket", api.DefaultSocket, "control socket path")
	console := flag.Bool("console", false, "run an operator session on stdin/stdout")
	level := flag.String("log-level", "info", "log level: debug, info, warn, error")
	checkOnly := flag.Bool("check", false, "check a startup-config (the argument, or --config) and exit: 0 valid, 1 errors, 2 unreadable")
	showVersion := flag.Bool("version", false, "print the version and exit")
	hookDir := flag.String("hooks", "/etc/failover/notify.d", "directory of notify hooks run on every event (root-owned; ignored when absent)")
	hookTimeout := flag.Duration("hook-timeout", 30*time.Second, "time a notify hook may run before it is killed")
	metricsAddr := flag.String("metrics", "", "serve Prometheus metrics on this address (host:port, e.g. 127.0.0.1:9105); off when empty")
	maxSessions := flag.Int("max-sessions", cli.DefaultLimits.MaxSessions, "control-socket sessions open at once (up to 4 of them kept for root)")
	sessionIdle := flag.Duration("session-idle", cli.DefaultLimits.Idle, "close a control-socket session that sends nothing for this long")
	flag.Parse()
	if *showVersion {
		fmt.Println(version.String("failoverd"))
		return nil
	}
	if *checkOnly {
		path := *cfgPath
		if flag.NArg() > 0 {
			path = flag.Arg(0)
		}
		os.Exit(check(path, os.Stdout, os.Stderr))
	}
	if flag.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see --help)", flag.Arg(0))
	}

	var lvl slog.Level
	if err := lvl.UnmarshalText([]byte(*level)); err != nil {
		return fmt.Errorf("failed to parse --log-level: %w", err)
	}
	// The console's line editor puts the terminal in raw mode, where a
	// bare LF does not return the carriage: log lines get CR LF there.
	var logOut io.Writer = os.Stderr
	if *console && term.IsTerminal(int(os.Stderr.Fd())) {
		logOut = shell.CRLF(os.Stderr)
	}
	log := newLogger(lvl, logOut)

	dp, err := dataplane.NewNetlink(log)
	if err != nil {
		return err
	}
	defer dp.Close()
	e, err := engine.New(engine.Options{
		Log: log, ConfigPath: *cfgPath, DP: dp, Prober: probe.NewICMP(log),
		NewUplink: newUplink, NewUnit: newUnit, NewStateSync: newStateSync, StatePath: *sock + ".macs",
	})
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	sessions := cli.New(e, cli.Limits{MaxSessions: *maxSessions, Idle: *sessionIdle})
	ln, err := cli.Listen(*sock)
	if err != nil {
		return err
	}
	defer os.Remove(*sock)
	if *hookDir != "" {
		(&hooks.Runner{Dir: *hookDir, Timeout: *hookTimeout, Log: log.With("part", "hooks")}).Start(ctx, e.Events())
	}
	loopDone := make(chan error, 1)
	go func() { loopDone <- e.Run(ctx) }()
	go func() {
		if err := sessions.Serve(ctx, ln); err != nil {
			log.Error("control socket failed", "err", err)
		}
	}()
	go e.Publish(ctx, time.Second)
	if *metricsAddr != "" {
		src := func() *api.Status { s, _ := e.Published(); return s }
		if err := metrics.Listen(ctx, *metricsAddr, src, log); err != nil {
			stop()
			<-loopDone
			return err
		}
	}
	sd := &notifier{log: log, e: e}
	sd.ready()
	go sd.run(ctx)
	log.Info("failoverd started", "config", *cfgPath, "socket", *sock)
	if *console {
		go runConsole(sessions, stop)
	}
	select {
	case err := <-loopDone:
		return err
	case <-ctx.Done():
	}
	sd.stopping()
	return <-loopDone
}

// newLogger logs to the journal, with a priority per message, when stderr
// is connected to it (systemd's StandardError=journal), else as text.
func newLogger(lvl slog.Level, out io.Writer) *slog.Logger {
	if ok, _ := sdjournal.StderrIsJournalStream(); ok {
		return slog.New(journal.New("failoverd", lvl, nil))
	}
	return slog.New(slog.NewTextHandler(out, &slog.HandlerOptions{Level: lvl}))
}

// runConsole is the router's console port: a session on the daemon's own
// stdin/stdout. Ending it does not stop the daemon unless stdin is closed.
func runConsole(sessions *cli.CLI, stop func()) {
	b := localBackend{sessions.NewSession(true)}
	if term.IsTerminal(int(os.Stdin.Fd())) {
		for {
			t, err := shell.NewTerminal(b, os.Stdin, os.Stdout)
			if err != nil {
				return
			}
			if err := t.Run(); err != nil {
				return
			}
			b = localBackend{sessions.NewSession(true)}
		}
	}
	shell.RunScript(b, os.Stdin, os.Stdout, os.Stderr)
}

type localBackend struct{ s *cli.Session }

func (l localBackend) Do(req api.Request) (api.Reply, error) { return l.s.Handle(req), nil }

// Batches: the session takes api.OpBatch requests.
func (l localBackend) Batches() bool { return true }
