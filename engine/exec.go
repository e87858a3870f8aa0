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

// execMate runs a show command on the mate (loop only); the session
// waits for the unit's answer, which always comes (output, error or the
// unit's own timeout), outside the loop.
func (s *Session) execMate(inv *grammar.Invocation) (api.Reply, func() api.Reply) {
	if s.e.unit == nil {
		return api.Reply{Err: "ERROR: failover is not available"}, nil
	}
	cmd := inv.Str("command")
	if isFailoverExec(cmd) {
		return api.Reply{Err: "ERROR: failover exec cannot run failover exec"}, nil
	}
	target := "mate"
	for _, w := range []string{"active", "standby"} {
		if inv.Words[w] {
			target = w
		}
	}
	local, err := s.e.unit.ExecTarget(target)
	if err != nil {
		return api.Reply{Err: api.ErrorText(err)}, nil
	}
	if local {
		// This unit is the target: the command runs here, in the
		// command mode failover exec keeps apart from the terminal's.
		if s.foExec == nil {
			s.foExec = s.e.newExecSession(s.peer)
		}
		return s.foExec.execOnLoop(cmd, "")
	}
	ch := make(chan api.Reply, 1)
	s.e.unit.ExecMate(cmd, func(out string, err error) {
		if err != nil {
			ch <- api.Reply{Err: api.ErrorText(err)}
			return
		}
		// The mate sends one text; a command it refused starts with its
		// error or warning, and is an error here too (a script's exit
		// status says so).
		if strings.HasPrefix(out, "ERROR: ") || strings.HasPrefix(out, "**** WARNING ****") {
			ch <- api.Reply{Err: strings.TrimRight(out, "\n")}
			return
		}
		ch <- api.Reply{Output: out}
	})
	return api.Reply{}, s.await(ch)
}

// await waits for a reply outside the loop, or for the engine to stop.
func (s *Session) await(ch <-chan api.Reply) func() api.Reply { return s.awaitWithin(ch, 0, "") }

// fileWait bounds how long a session waits for the disk: the operator
// hears about a disk that does not answer well before a client gives up.
var fileWait = 30 * time.Second

// awaitFile waits for a file job's reply, at most fileWait; the job
// itself goes on (a save still lands when the disk answers).
func (s *Session) awaitFile(ch <-chan api.Reply, what string) func() api.Reply {
	return s.awaitWithin(ch, fileWait, fmt.Sprintf("ERROR: the disk has not answered in %v: %s", fileWait, what))
}

// awaitWithin waits for a reply, for the engine to stop, or (limit > 0)
// for limit, then answers late.
func (s *Session) awaitWithin(ch <-chan api.Reply, limit time.Duration, late string) func() api.Reply {
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
		case <-s.e.done:
			return api.Reply{Err: "ERROR: failoverd is stopping"}
		case <-timeout:
			return api.Reply{Err: late}
		}
	}
}

// ping prints PIX 6.3's ping output: three echoes, one line each.
func (s *Session) ping(inv *grammar.Invocation) api.Reply {
	if s.e.prober == nil {
		return api.Reply{Err: "ERROR: ping is not available"}
	}
	host := inv.Str("host")
	var b strings.Builder
	for i := 0; i < 3; i++ {
		res := s.e.prober.Probe(context.Background(), probe.Spec{Target: host, NumPackets: 1, Timeout: time.Second, Threshold: time.Second, Size: 28})
		if res.OK {
			fmt.Fprintf(&b, "        %s response received -- %dms\n", host, res.RTT.Milliseconds())
		} else {
			fmt.Fprintf(&b, "        %s NO response received -- 1000ms\n", host)
		}
	}
	return api.Reply{Output: b.String()}
}

// execCommand runs an EXEC command (loop only). Commands that wait on
// the network or the disk return a continuation that waits outside the
// loop.
func (s *Session) execCommand(inv *grammar.Invocation) (api.Reply, func() api.Reply) {
	switch inv.Decl.ID {
	case "ping":
		return api.Reply{}, func() api.Reply { return s.ping(inv) }
	case "dir":
		path := s.e.path
		return api.Reply{}, func() api.Reply { return showDir(path) }
	case "show-memory":
		return api.Reply{}, showMemory
	case "failover-exec":
		return s.execMate(inv)
	case "show-startup":
		return s.showStartup()
	case "write-memory", "copy-run-start":
		return s.writeMemory()
	case "write-erase":
		return s.writeErase()
	}
	return s.execNow(inv), nil
}

// execNow runs an EXEC command that does not wait (loop only).
func (s *Session) execNow(inv *grammar.Invocation) api.Reply {
	e := s.e
	switch inv.Decl.ID {
	case "enable":
		if s.priv {
			return api.Reply{}
		}
		if e.cfg.EnableHash == "" {
			s.priv = true
			return api.Reply{}
		}
		s.pendingPw = true
		if s.interactive {
			s.badPw = 0 // each enable gets its three tries; the delay remembers
		}
		return api.Reply{NeedPassword: true}
	case "disable":
		s.priv, s.mode, s.obj = false, grammar.ModeExec, ""
	case "configure":
		s.mode, s.obj = grammar.ModeConfig, ""
	case "exit", "quit":
		switch {
		case s.mode == grammar.ModeExec:
			return api.Reply{Exit: true}
		default:
			s.mode = s.mode.Parent()
			if s.mode == grammar.ModeExec || s.mode == grammar.ModeConfig {
				s.obj = ""
			}
		}
	case "end":
		s.mode, s.obj = grammar.ModeExec, ""
	case "terminal-pager":
		s.termPager = inv.Int("lines") // "no terminal pager" leaves 0: no paging
	case "terminal-length":
		s.termPager = inv.Int("lines")
	case "terminal-width":
		s.width = inv.Int("columns")
	case "show-running", "write-terminal":
		sect := grammar.NoSection
		for w := range inv.Words {
			if s := grammar.SectionNamed(w); s != grammar.NoSection && inv.Decl.ID == "show-running" {
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
	case "more-system-running":
		return api.Reply{Output: configText(e.cfg, true)}
	case "write-standby":
		r := s.unitAction(func() error { return e.unit.WriteStandby() })
		if !r.Failed() {
			r.Output = "Building configuration...\n[OK]\n" // as ASA prints it
		}
		return r
	case "failover-active":
		if inv.Negated {
			return s.unitAction(func() error { return e.unit.NoFailoverActive() })
		}
		return s.unitAction(func() error { return e.unit.FailoverActive() })
	case "failover-reload-standby":
		return s.unitAction(func() error { return e.unit.ReloadStandby() })
	case "failover-reset":
		return s.unitAction(func() error { return e.unit.Reset() })
	case "show-failover":
		if e.unit == nil {
			return api.Reply{Output: "Failover Off\nCable status: Normal\nReconnect timeout " + grammar.FormatHMS(e.cfg.Failover.Timeout) + "\n"}
		}
		for _, w := range []string{"history", "state", "interface", "statistics"} {
			if inv.Words[w] {
				return api.Reply{Output: e.unit.Show(w)}
			}
		}
		return api.Reply{Output: e.unit.ShowFailover()}
	case "show-monitor-interface":
		if e.unit == nil {
			return api.Reply{Err: "ERROR: failover is not available"}
		}
		return api.Reply{Output: e.unit.Show("monitor-interface")}
	case "show-conn-count", "show-xlate-count":
		// Counted by connection replication, which only runs with a
		// stateful failover link.
		if e.stateSync == nil {
			return api.Reply{Output: "0 in use, 0 most used\n"}
		}
		if inv.Decl.ID == "show-conn-count" {
			return api.Reply{Output: e.stateSync.ShowConnCount()}
		}
		return api.Reply{Output: e.stateSync.ShowXlateCount()}
	case "show-version":
		return api.Reply{Output: e.showVersion()}
	case "show-interface":
		return e.showInterface(inv.Str("interface_name"))
	case "show-ip-address":
		return api.Reply{Output: e.showIPAddress()}
	case "show-curpriv":
		return api.Reply{Output: s.showCurpriv()}
	case "show-history":
		return api.Reply{Output: joinLines(s.history)}
	case "show-logging":
		return api.Reply{Output: e.logs.show(e.cfg)}
	case "clear-logging":
		e.logs.clear()
	case "show-route":
		if e.uplink == nil {
			return api.Reply{Err: "ERROR: route tracking is not available"}
		}
		return api.Reply{Output: e.uplink.ShowRoute(e.cfg, e.heldAddr)}
	case "show-track":
		if e.uplink == nil {
			return api.Reply{Err: "ERROR: route tracking is not available"}
		}
		id := inv.Int("track_id")
		if id != 0 && e.cfg.Tracks[id] == nil {
			return api.Reply{Err: fmt.Sprintf("ERROR: track %d does not exist", id)}
		}
		return api.Reply{Output: e.uplink.ShowTrack(id)}
	case "show-sla-config", "show-sla-oper":
		if e.uplink == nil {
			return api.Reply{Err: "ERROR: route tracking is not available"}
		}
		id := inv.Int("sla_id")
		if id != 0 && e.cfg.SLAs[id] == nil {
			return api.Reply{Err: fmt.Sprintf("ERROR: sla monitor %d does not exist", id)}
		}
		if inv.Decl.ID == "show-sla-config" {
			return api.Reply{Output: e.uplink.ShowSLAConfig(e.cfg, id)}
		}
		return api.Reply{Output: e.uplink.ShowSLAOper(id)}
	default:
		return api.Reply{Err: fmt.Sprintf("ERROR: command %s is not implemented", inv.Decl.ID)}
	}
	return api.Reply{}
}

func (s *Session) unitAction(f func() error) api.Reply {
	if s.e.unit == nil {
		return api.Reply{Err: "ERROR: failover is not available"}
	}
	if err := f(); err != nil {
		return api.Reply{Err: api.ErrorText(err)}
	}
	return api.Reply{}
}

// writeMemory saves the running configuration off the loop, then asks
// the standby to save too.
func (s *Session) writeMemory() (api.Reply, func() api.Reply) {
	e := s.e
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
	return api.Reply{}, s.awaitFile(ch, "the save goes on and lands when it answers")
}

func (s *Session) writeErase() (api.Reply, func() api.Reply) {
	ch := make(chan api.Reply, 1)
	err := s.e.eraseStartup(func(err error) {
		if err != nil {
			ch <- api.Reply{Err: api.ErrorText(err)}
			return
		}
		ch <- api.Reply{Output: "[OK]\n"}
	})
	if err != nil {
		return api.Reply{Err: api.ErrorText(err)}, nil
	}
	return api.Reply{}, s.awaitFile(ch, "the erase goes on and lands when it answers")
}

// showStartup reads the startup-config off the loop. Anything but a
// regular file at the path is refused, so a FIFO cannot hang the session.
func (s *Session) showStartup() (api.Reply, func() api.Reply) {
	ch := make(chan api.Reply, 1)
	err := s.e.readStartup(func(text string, err error) {
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
	return api.Reply{}, s.awaitFile(ch, "failed to read the startup-config")
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

// newExecSession is a session for failover exec: privileged (the operator
// who typed it is), starting in global configuration mode, as ASA's.
func (e *Engine) newExecSession(p Peer) *Session {
	s := e.newSessionOnLoop(false, p)
	s.priv, s.mode = true, grammar.ModeConfig
	return s
}

// isFailoverExec says whether cmd is itself a failover exec, which a
// failover exec may not run (it would bounce between the units).
func isFailoverExec(cmd string) bool {
	f := strings.Fields(strings.ToLower(cmd))
	return len(f) >= 2 && len(f[0]) >= 3 && strings.HasPrefix("failover", f[0]) && strings.HasPrefix("exec", f[1])
}
