package engine

import (
	"context"
	"fmt"
	"strings"
	"time"

	"failover/engine/api"
	"failover/engine/config"
	"failover/engine/probe"
	"failover/grammar"
)

// fileWait bounds how long a session waits for the disk: the operator
// hears about a disk that does not answer well before a client gives up.
var fileWait = 30 * time.Second

// awaitFile waits for a file job's reply, at most fileWait; the job
// itself goes on (a save still lands when the disk answers).
func (e *Engine) awaitFile(ch <-chan api.Reply, what string) func() api.Reply {
	return e.awaitWithin(ch, fileWait, fmt.Sprintf("ERROR: the disk has not answered in %v: %s", fileWait, what))
}

// awaitWithin waits for a reply, for the engine to stop, or (limit > 0)
// for limit, then answers late.
func (e *Engine) awaitWithin(ch <-chan api.Reply, limit time.Duration, late string) func() api.Reply {
	return func() api.Reply {
		var timeout <-chan time.Time
		if limit > 0 {
			t := time.NewTimer(limit)
			defer t.Stop()
			timeout = t.C
		}
		select {
		case r := <-ch:
			return r
		case <-e.done:
			return api.Reply{Err: "ERROR: failoverd is stopping"}
		case <-timeout:
			return api.Reply{Err: late}
		}
	}
}

// ping prints PIX 6.3's ping output: three echoes, one line each.
func (e *Engine) ping(inv *grammar.Invocation) api.Reply {
	if e.prober == nil {
		return api.Reply{Err: "ERROR: ping is not available"}
	}
	host := inv.Str("host")
	var b strings.Builder
	for i := 0; i < 3; i++ {
		res := e.prober.Probe(context.Background(), probe.Spec{Target: host, NumPackets: 1, Timeout: time.Second, Threshold: time.Second, Size: 28})
		if res.OK {
			fmt.Fprintf(&b, "        %s response received -- %dms\n", host, res.RTT.Milliseconds())
		} else {
			fmt.Fprintf(&b, "        %s NO response received -- 1000ms\n", host)
		}
	}
	return api.Reply{Output: b.String()}
}

// command runs an EXEC command of the engine (loop only); wait, when not
// nil, finishes it outside the loop.
type command func(e *Engine, inv *grammar.Invocation) (r api.Reply, wait func() api.Reply)

// now is a command that does not wait.
func now(f func(e *Engine, inv *grammar.Invocation) api.Reply) command {
	return func(e *Engine, inv *grammar.Invocation) (api.Reply, func() api.Reply) { return f(e, inv), nil }
}

// commands are the engine's EXEC commands, each registered against its
// declaration; the session's own are in engine/cli, configuration
// commands in engine/config. Filled once, at init.
var commands map[*grammar.Decl]command

// HasCommand says whether the engine runs the command d.
func HasCommand(d *grammar.Decl) bool {
	_, ok := commands[d]
	return ok
}

// Command runs an EXEC command about the engine's state (loop only); the
// commands about a session itself are the session's (engine/cli).
// Commands that wait on the network or the disk return a continuation
// that waits outside the loop.
func (e *Engine) Command(inv *grammar.Invocation) (api.Reply, func() api.Reply) {
	c, ok := commands[inv.Decl]
	if !ok {
		return api.Reply{Err: fmt.Sprintf("ERROR: command %s is not implemented", inv.Decl.ID)}, nil
	}
	return c(e, inv)
}

func init() {
	commands = map[*grammar.Decl]command{
		// Commands that wait on the network or the disk.
		grammar.PingCmd: func(e *Engine, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			return api.Reply{}, func() api.Reply { return e.ping(inv) }
		},
		grammar.DirCmd: func(e *Engine, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			path := e.path
			return api.Reply{}, func() api.Reply { return showDir(path) }
		},
		grammar.ShowMemoryCmd: func(e *Engine, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			return api.Reply{}, showMemory
		},
		grammar.ShowStartupCmd: func(e *Engine, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			return e.showStartup()
		},
		grammar.WriteMemoryCmd: func(e *Engine, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			return e.writeMemory()
		},
		grammar.WriteEraseCmd: func(e *Engine, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			return e.writeErase()
		},
		// Commands that answer at once.
		grammar.ShowRunningCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			sect := grammar.NoSection
			for w := range inv.Words {
				if s := grammar.SectionNamed(w); s != grammar.NoSection && inv.Decl == grammar.ShowRunningCmd {
					sect = s
				}
			}
			// "all" would add the default values; this product's rendering
			// already prints every value that matters to a command, so it
			// shows the same lines.
			if sect == grammar.NoSection {
				return api.Reply{Output: configText(e.cfg, false)}
			}
			return api.Reply{Output: config.Text(config.Render(e.cfg, config.RenderOpts{Section: sect}))}
		}),
		grammar.MoreSystemRunningCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			return api.Reply{Output: configText(e.cfg, true)}
		}),
		grammar.WriteStandbyCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			r := e.unitAction(func() error { return e.unit.WriteStandby() })
			if !r.Failed() {
				r.Output = "Building configuration...\n[OK]\n" // as ASA prints it
			}
			return r
		}),
		grammar.FailoverActiveCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			if inv.Negated {
				return e.unitAction(func() error { return e.unit.NoFailoverActive() })
			}
			return e.unitAction(func() error { return e.unit.FailoverActive() })
		}),
		grammar.FailoverReloadStandbyCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			return e.unitAction(func() error { return e.unit.ReloadStandby() })
		}),
		grammar.FailoverResetCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			return e.unitAction(func() error { return e.unit.Reset() })
		}),
		grammar.ShowFailoverCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			if e.unit == nil {
				return api.Reply{Output: "Failover Off\nCable status: Normal\nReconnect timeout " + grammar.FormatHMS(e.cfg.Failover.Timeout) + "\n"}
			}
			for _, w := range []string{"history", "state", "interface", "statistics"} {
				if inv.Words[w] {
					return api.Reply{Output: e.unit.Show(w)}
				}
			}
			return api.Reply{Output: e.unit.ShowFailover()}
		}),
		grammar.ShowMonitorInterfaceCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			if e.unit == nil {
				return api.Reply{Err: "ERROR: failover is not available"}
			}
			return api.Reply{Output: e.unit.Show("monitor-interface")}
		}),
		grammar.ShowConnCountCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			// Counted by connection replication, which only runs with a
			// stateful failover link.
			if e.stateSync == nil {
				return api.Reply{Output: "0 in use, 0 most used\n"}
			}
			if inv.Decl == grammar.ShowConnCountCmd {
				return api.Reply{Output: e.stateSync.ShowConnCount()}
			}
			return api.Reply{Output: e.stateSync.ShowXlateCount()}
		}),
		grammar.ShowVersionCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			return api.Reply{Output: e.showVersion()}
		}),
		grammar.ShowInterfaceCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			return e.showInterface(inv.Str("interface_name"))
		}),
		grammar.ShowIPAddressCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			return api.Reply{Output: e.showIPAddress()}
		}),
		grammar.ShowLoggingCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			return api.Reply{Output: e.logs.show(e.cfg)}
		}),
		grammar.ClearLoggingCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			e.logs.clear()
			return api.Reply{}
		}),
		grammar.ShowRouteCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			if e.uplink == nil {
				return api.Reply{Err: "ERROR: route tracking is not available"}
			}
			return api.Reply{Output: e.uplink.ShowRoute(e.cfg, e.heldAddr)}
		}),
		grammar.ShowTrackCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			if e.uplink == nil {
				return api.Reply{Err: "ERROR: route tracking is not available"}
			}
			id := inv.Int("track_id")
			if id != 0 && e.cfg.Tracks[id] == nil {
				return api.Reply{Err: fmt.Sprintf("ERROR: track %d does not exist", id)}
			}
			return api.Reply{Output: e.uplink.ShowTrack(id)}
		}),
		grammar.ShowSLAConfigCmd: now(func(e *Engine, inv *grammar.Invocation) api.Reply {
			if e.uplink == nil {
				return api.Reply{Err: "ERROR: route tracking is not available"}
			}
			id := inv.Int("sla_id")
			if id != 0 && e.cfg.SLAs[id] == nil {
				return api.Reply{Err: fmt.Sprintf("ERROR: sla monitor %d does not exist", id)}
			}
			if inv.Decl == grammar.ShowSLAConfigCmd {
				return api.Reply{Output: e.uplink.ShowSLAConfig(e.cfg, id)}
			}
			return api.Reply{Output: e.uplink.ShowSLAOper(id)}
		}),
	}
	commands[grammar.WriteTerminalCmd] = commands[grammar.ShowRunningCmd]
	commands[grammar.ShowXlateCountCmd] = commands[grammar.ShowConnCountCmd]
	commands[grammar.ShowSLAOperCmd] = commands[grammar.ShowSLAConfigCmd]
	commands[grammar.CopyRunStartCmd] = commands[grammar.WriteMemoryCmd]
}

func (e *Engine) unitAction(f func() error) api.Reply {
	if e.unit == nil {
		return api.Reply{Err: "ERROR: failover is not available"}
	}
	if err := f(); err != nil {
		return api.Reply{Err: api.ErrorText(err)}
	}
	return api.Reply{}
}

// writeMemory saves the running configuration off the loop, then asks
// the standby to save too.
func (e *Engine) writeMemory() (api.Reply, func() api.Reply) {
	ch := make(chan api.Reply, 1)
	err := e.saveStartup(func(err error) {
		if err != nil {
			ch <- api.Reply{Err: api.ErrorText(err)}
			return
		}
		// The mate is asked from the loop, after our own save succeeded.
		e.Post(func() {
			r := api.Reply{Output: "Building configuration...\n[OK]\n"}
			if e.unit != nil && e.cfg.Failover.Enabled {
				if err := e.unit.WriteMemory(); err != nil {
					r.Err = "WARNING: mate not saved: " + err.Error()
				}
			}
			ch <- r
		})
	})
	if err != nil {
		return api.Reply{Err: api.ErrorText(err)}, nil
	}
	return api.Reply{}, e.awaitFile(ch, "the save goes on and lands when it answers")
}

func (e *Engine) writeErase() (api.Reply, func() api.Reply) {
	ch := make(chan api.Reply, 1)
	err := e.eraseStartup(func(err error) {
		if err != nil {
			ch <- api.Reply{Err: api.ErrorText(err)}
			return
		}
		ch <- api.Reply{Output: "[OK]\n"}
	})
	if err != nil {
		return api.Reply{Err: api.ErrorText(err)}, nil
	}
	return api.Reply{}, e.awaitFile(ch, "the erase goes on and lands when it answers")
}

// showStartup reads the startup-config off the loop. Anything but a
// regular file at the path is refused, so a FIFO cannot hang the session.
func (e *Engine) showStartup() (api.Reply, func() api.Reply) {
	ch := make(chan api.Reply, 1)
	err := e.readStartup(func(text string, err error) {
		switch {
		case err != nil:
			ch <- api.Reply{Err: api.ErrorText(err)}
		case strings.TrimSpace(text) == "":
			ch <- api.Reply{Output: "No Configuration\n"} // none, or after write erase
		default:
			ch <- api.Reply{Output: maskKey(text)}
		}
	})
	if err != nil {
		return api.Reply{Err: api.ErrorText(err)}, nil
	}
	return api.Reply{}, e.awaitFile(ch, "failed to read the startup-config")
}

// maskKey hides the failover key when the startup-config is displayed.
func maskKey(text string) string {
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		for _, p := range []string{"failover lan key ", "failover key "} {
			if strings.HasPrefix(l, p) {
				lines[i] = p + config.MaskedKey
			}
		}
	}
	return strings.Join(lines, "\n")
}
