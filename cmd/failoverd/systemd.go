package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/coreos/go-systemd/v22/daemon"

	"failover/engine"
)

// notifier speaks systemd's notify protocol (Type=notify): READY=1 once
// the control socket is open and the startup-config applied, STATUS= kept
// to the current failover state, WATCHDOG=1 while the event loop answers,
// STOPPING=1 at shutdown. Without $NOTIFY_SOCKET every call is a no-op.
type notifier struct {
	log  *slog.Logger
	e    *engine.Engine
	last string
}

func (n *notifier) send(state string) {
	if _, err := daemon.SdNotify(false, state); err != nil {
		n.log.Warn("failed to notify systemd", "state", state, "err", err)
	}
}

// ready waits for the event loop to have applied the startup-config (a
// status comes back only once Run has started serving requests) and
// tells systemd.
func (n *notifier) ready() {
	st := n.e.Status()
	n.last = engine.StatusLine(st)
	n.send(daemon.SdNotifyReady + "\nSTATUS=" + n.last)
}

// run keeps STATUS= current and feeds the watchdog until ctx ends.
func (n *notifier) run(ctx context.Context) {
	var dog <-chan time.Time
	interval, err := daemon.SdWatchdogEnabled(false)
	if err != nil {
		n.log.Warn("ignoring the watchdog settings", "err", err)
	}
	if interval > 0 {
		// Half the interval, as systemd advises; each ping needs the
		// event loop to run a function, so a stuck loop stops them.
		t := time.NewTicker(interval / 2)
		defer t.Stop()
		dog = t.C
		n.log.Info("systemd watchdog enabled", "interval", interval)
	}
	for {
		st, changed := n.e.Published()
		if line := engine.StatusLine(st); st != nil && line != n.last {
			n.last = line
			n.send("STATUS=" + line)
		}
		select {
		case <-ctx.Done():
			return
		case <-changed:
		case <-dog:
			if n.e.Alive(interval / 2) {
				n.send(daemon.SdNotifyWatchdog)
			} else {
				n.log.Error("event loop did not answer within half the watchdog interval")
			}
		}
	}
}

// stopping tells systemd the daemon is shutting down.
func (n *notifier) stopping() { n.send(daemon.SdNotifyStopping) }
