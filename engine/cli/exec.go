package cli

import (
	"errors"
	"fmt"
	"strings"

	"failover/engine"
	"failover/engine/api"
	"failover/grammar"
)

// execCommand runs an EXEC command (loop only): the commands about the
// session itself here, every other one by the engine. Commands that wait
// on the network or the disk return a continuation that waits outside the
// loop.
func (s *Session) execCommand(inv *grammar.Invocation) (api.Reply, func() api.Reply) {
	if c, ok := commands[inv.Decl]; ok {
		return c(s, inv)
	}
	return s.e.Command(inv)
}

// command runs an EXEC command about the session (loop only); wait, when
// not nil, finishes it outside the loop.
type command func(s *Session, inv *grammar.Invocation) (r api.Reply, wait func() api.Reply)

// commands are the session's own EXEC commands, each registered against
// its declaration; the engine runs the others (engine.HasCommand), and
// configuration commands are engine/config's. Filled once, at init.
var commands map[*grammar.Decl]command

func init() {
	commands = map[*grammar.Decl]command{
		grammar.FailoverExecCmd: func(s *Session, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			return s.execMate(inv)
		},
		grammar.EnableCmd: func(s *Session, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			if s.priv {
				return api.Reply{}, nil
			}
			if s.e.Config().EnableHash == "" {
				s.priv = true
				return api.Reply{}, nil
			}
			s.pendingPw = true
			if s.interactive {
				s.badPw = 0 // each enable gets its three tries; the delay remembers
			}
			return api.Reply{NeedPassword: true}, nil
		},
		grammar.DisableCmd: func(s *Session, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			s.priv, s.mode, s.obj = false, grammar.ModeExec, ""
			return api.Reply{}, nil
		},
		grammar.ConfigureCmd: func(s *Session, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			s.mode, s.obj = grammar.ModeConfig, ""
			return api.Reply{}, nil
		},
		grammar.ExitCmd: func(s *Session, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			switch {
			case s.mode == grammar.ModeExec:
				return api.Reply{Exit: true}, nil
			default:
				s.mode = s.mode.Parent()
				if s.mode == grammar.ModeExec || s.mode == grammar.ModeConfig {
					s.obj = ""
				}
			}
			return api.Reply{}, nil
		},
		grammar.EndCmd: func(s *Session, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			s.mode, s.obj = grammar.ModeExec, ""
			return api.Reply{}, nil
		},
		grammar.TerminalPagerCmd: func(s *Session, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			s.termPager = inv.Int("lines") // "no terminal pager" leaves 0: no paging
			return api.Reply{}, nil
		},
		grammar.TerminalLengthCmd: func(s *Session, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			s.termPager = inv.Int("lines")
			return api.Reply{}, nil
		},
		grammar.TerminalWidthCmd: func(s *Session, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			s.width = inv.Int("columns")
			return api.Reply{}, nil
		},
		grammar.ShowCurprivCmd: func(s *Session, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			return api.Reply{Output: s.showCurpriv()}, nil
		},
		grammar.ShowHistoryCmd: func(s *Session, inv *grammar.Invocation) (api.Reply, func() api.Reply) {
			return api.Reply{Output: joinLines(s.history)}, nil
		},
	}
	commands[grammar.QuitCmd] = commands[grammar.ExitCmd]
}

// execMate runs a command on the mate (loop only); the session waits for
// the unit's answer, which always comes (output, error or the unit's own
// timeout), outside the loop.
func (s *Session) execMate(inv *grammar.Invocation) (api.Reply, func() api.Reply) {
	cmd := inv.Str("command")
	target := "mate"
	for _, w := range []string{"active", "standby"} {
		if inv.Words[w] {
			target = w
		}
	}
	// Without failover that is the answer, whatever the command.
	local, err := s.e.ExecTarget(target)
	if isFailoverExec(cmd) && !errors.Is(err, engine.ErrNoFailover) {
		return api.Reply{Err: "ERROR: failover exec cannot run failover exec"}, nil
	}
	if err != nil {
		return api.Reply{Err: api.ErrorText(err)}, nil
	}
	if local {
		// This unit is the target: the command runs here, in the
		// command mode failover exec keeps apart from the terminal's.
		if s.foExec == nil {
			s.foExec = s.c.newExecSession(s.peer)
		}
		return s.foExec.execOnLoop(cmd, "")
	}
	ch := make(chan api.Reply, 1)
	s.e.ExecMate(cmd, func(out string, err error) {
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
	return api.Reply{}, func() api.Reply {
		select {
		case r := <-ch:
			return r
		case <-s.e.Done():
			return api.Reply{Err: "ERROR: failoverd is stopping"}
		}
	}
}

// newExecSession is a session for failover exec: privileged (the operator
// who typed it is), starting in global configuration mode, as ASA's.
func (c *CLI) newExecSession(p Peer) *Session {
	s := c.newSessionOnLoop(false, p)
	s.priv, s.mode = true, grammar.ModeConfig
	return s
}

// isFailoverExec says whether cmd is itself a failover exec, which a
// failover exec may not run (it would bounce between the units).
func isFailoverExec(cmd string) bool {
	f := strings.Fields(strings.ToLower(cmd))
	return len(f) >= 2 && len(f[0]) >= 3 && strings.HasPrefix("failover", f[0]) && strings.HasPrefix("exec", f[1])
}

func (s *Session) showCurpriv() string {
	lvl, modes := 1, "P_UNPR"
	if s.priv {
		lvl, modes = 15, "P_PRIV"
	}
	if s.mode.IsConfig() {
		modes += " P_CONF"
	}
	return fmt.Sprintf("Current privilege level : %d\nCurrent Mode/s : %s\n", lvl, modes)
}

// sessionName names a session in config events: its number and who is
// behind it, as the log says ("session 3 (socket uid 1000 pid 4242)").
func (s *Session) sessionName() string {
	who := s.peer.Kind
	if s.peer.UID >= 0 {
		who += fmt.Sprintf(" uid %d pid %d", s.peer.UID, s.peer.PID)
	}
	if s.peer.SSH != "" {
		who += " ssh " + s.peer.SSH
	}
	return fmt.Sprintf("session %d (%s)", s.id, who)
}
