package cli

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"

	"failover/engine/api"
	"failover/engine/config"
	"failover/grammar"
)

// Session is one operator session: its mode, privilege and terminal
// settings live here, in the engine, so a client cannot claim a privilege
// it was not given.
type Session struct {
	c            *CLI
	e            Engine
	id           int
	interactive  bool
	priv         bool
	mode         grammar.Mode
	obj          string
	history      []string
	historyBytes int
	parses       int // lines parsed, for tests of the cost of a line
	termPager    int // -1: use the configuration's pager lines
	width        int
	pendingPw    bool
	badPw        int
	peer         Peer     // set before the session runs; SSH at its hello
	foExec       *Session // failover exec run on this unit: its own command mode
}

// NewSession starts a console session in user EXEC.
func (c *CLI) NewSession(interactive bool) *Session {
	s := c.newSession(interactive, consolePeer)
	if s != nil {
		c.e.Log().Info("session started", s.logAttrs()...)
	}
	return s
}

// newSession is nil when the engine has stopped.
func (c *CLI) newSession(interactive bool, p Peer) *Session {
	var s *Session
	c.e.Do(func() { s = c.newSessionOnLoop(interactive, p) })
	return s
}

func (c *CLI) newSessionOnLoop(interactive bool, p Peer) *Session {
	c.sessions++
	return &Session{c: c, e: c.e, id: c.sessions, interactive: interactive, mode: grammar.ModeExec, termPager: -1, width: 80, peer: p}
}

// logAttrs name the session in the log: its number and who it is.
func (s *Session) logAttrs() []any {
	return append([]any{"session", s.id}, s.peer.attrs()...)
}

// Handle answers one request; it is the whole session API.
func (s *Session) Handle(req api.Request) api.Reply {
	switch req.Op {
	case api.OpHello:
		var ssh string
		if req.SSH != "" {
			ssh = sshClient(req.SSH)
		}
		s.e.Do(func() {
			s.interactive = req.Interactive
			if ssh != "" && s.peer.SSH == "" {
				s.peer.SSH = ssh
				s.e.Log().Info("session is an SSH login", s.logAttrs()...)
			}
		})
		return s.reply(api.Reply{Batches: true})
	case api.OpExec:
		return s.exec(req.Line, req.Filter)
	case api.OpBatch:
		if len(req.Lines) > api.MaxBatch {
			return s.reply(api.Reply{Err: fmt.Sprintf("ERROR: too many lines in one batch (%d, at most %d)", len(req.Lines), api.MaxBatch)})
		}
		r := api.Reply{Replies: s.execBatch(req.Lines, req.Filters)}
		s.e.Batch(func() { s.stamp(&r) }) // the paste goes on: no hand-over yet
		return r
	case api.OpHelp:
		return s.Help(req.Line)
	case api.OpComplete:
		return s.Complete(req.Line)
	case api.OpEnable:
		return s.Enable(req.Password)
	case api.OpPrompt:
		return s.reply(api.Reply{})
	case api.OpStatus:
		return s.reply(api.Reply{Status: s.e.Status()})
	}
	return s.reply(api.Reply{Err: fmt.Sprintf("ERROR: unknown request %q", req.Op)})
}

func (s *Session) reply(r api.Reply) api.Reply {
	s.e.Do(func() { s.stamp(&r) })
	return r
}

// stamp sets the reply's prompt and pager (loop only).
func (s *Session) stamp(r *api.Reply) {
	r.Prompt = s.prompt()
	r.Pager = s.pager()
}

func (s *Session) pager() int {
	if s.termPager >= 0 {
		return s.termPager
	}
	return s.e.Config().PagerLines
}

// prompt builds "HOST[/pri/act][(config)]# " (loop only).
func (s *Session) prompt() string {
	c := s.e.Config()
	var b strings.Builder
	b.WriteString(c.Hostname)
	if len(c.Prompt) > 0 {
		prio, state := s.e.PromptTags()
		for _, w := range c.Prompt[1:] {
			switch {
			case w == "priority" && prio != "":
				b.WriteString("/" + prio)
			case w == "state" && state != "":
				b.WriteString("/" + state)
			}
		}
	}
	b.WriteString(s.mode.PromptTag())
	if s.priv {
		b.WriteString("# ")
	} else {
		b.WriteString("> ")
	}
	return b.String()
}

// checkLine refuses input that no terminal produces: invalid UTF-8,
// control characters, overlong lines.
func checkLine(line string) string {
	if len(line) > api.MaxLine {
		return fmt.Sprintf("ERROR: line too long (%d characters, at most %d)", len(line), api.MaxLine)
	}
	// JSON carries invalid UTF-8 from a client as U+FFFD, so that is
	// refused too: no terminal sends it as a character of a command.
	if !utf8.ValidString(line) || strings.ContainsRune(line, utf8.RuneError) {
		return "ERROR: input is not valid UTF-8"
	}
	for _, r := range line {
		if r != '\t' && unicode.IsControl(r) {
			return "ERROR: control characters are not allowed in commands"
		}
	}
	return ""
}

// Exec runs one line. The common case is one loop turn: the line is
// parsed once and run with the engine's state, and the reply carries the
// new prompt. Commands that wait (on the network or the disk) hand back a
// continuation that waits in the session's goroutine, never on the loop.
func (s *Session) Exec(line string) api.Reply { return s.exec(line, "") }

// exec runs line; filter is the output filter the client applies itself,
// which show history keeps with the line as it was typed.
func (s *Session) exec(line, filter string) api.Reply {
	if msg := checkLine(line + filter); msg != "" {
		return s.reply(api.Reply{Err: msg})
	}
	var r api.Reply
	var wait func() api.Reply
	s.e.Do(func() {
		r, wait = s.execOnLoop(line, filter)
		if wait == nil {
			s.stamp(&r)
		}
	})
	if wait != nil {
		return s.reply(wait())
	}
	return r
}

// History keeps the last maxHistory lines, and at most maxHistoryBytes
// of them, so a session's memory stays small whatever it types.
const (
	maxHistory      = 100
	maxHistoryBytes = 16 << 10
)

func (s *Session) addHistory(line string) {
	s.history = append(s.history, strings.TrimSpace(line))
	s.historyBytes += len(s.history[len(s.history)-1])
	for len(s.history) > maxHistory || (s.historyBytes > maxHistoryBytes && len(s.history) > 1) {
		s.historyBytes -= len(s.history[0])
		s.history = s.history[1:]
	}
}

func (s *Session) parse(line string) (*grammar.Invocation, api.Reply, bool) {
	s.parses++
	x := &config.Ctx{Mode: s.mode, Obj: s.obj}
	inv, err := config.Parse(x, line)
	if err == nil {
		if inv.Decl.Priv && !s.priv {
			return nil, api.Reply{Err: "ERROR: % Command requires privileged mode: use \"enable\" first"}, false
		}
		return inv, api.Reply{}, true
	}
	if perr, ok := err.(*grammar.Error); ok {
		if s.mode == grammar.ModeExec && perr.Kind == grammar.ErrInvalid {
			if _, cerr := config.Parse(&config.Ctx{Mode: grammar.ModeConfig}, line); cerr == nil {
				return nil, api.Reply{Err: "ERROR: % Command requires configuration mode: use \"configure terminal\" first"}, false
			}
		}
		r := api.Reply{Err: api.ErrorText(perr)}
		if perr.Kind == grammar.ErrInvalid || perr.Kind == grammar.ErrValue {
			r.CaretAt(perr.Offset)
		}
		return nil, r, false
	}
	return nil, api.Reply{Err: api.ErrorText(err)}, false
}

// execOnLoop parses line and runs it (loop only). wait, when not nil,
// finishes the command outside the loop.
// filter is the line's output filter, which the client applies; the
// history keeps it with the line.
func (s *Session) execOnLoop(line, filter string) (r api.Reply, wait func() api.Reply) {
	line = strings.TrimRight(line, " \t\r")
	if config.IsComment(line) {
		return api.Reply{}, nil
	}
	if filter = strings.TrimSpace(filter); filter != "" {
		s.addHistory(line + " " + filter)
	} else {
		s.addHistory(line)
	}
	inv, bad, ok := s.parse(line)
	if !ok {
		return bad, nil
	}
	if config.IsConfigCommand(inv.Decl) {
		return s.configure(inv, line), nil
	}
	s.e.Flush() // other commands see what the parts and the kernel hold
	return s.execCommand(inv)
}

// configure applies a configuration command and moves the session to
// the mode the command enters.
func (s *Session) configure(inv *grammar.Invocation, line string) api.Reply {
	x := &config.Ctx{Mode: s.mode, Obj: s.obj}
	r := s.e.Configure(inv, line, x, s.sessionName(), s.logAttrs())
	if !r.Failed() {
		s.mode, s.obj = x.NextMode, x.NextObj
	}
	return r
}

func joinLines(l []string) string {
	if len(l) == 0 {
		return ""
	}
	return strings.Join(l, "\n") + "\n"
}

// Help answers "?".
func (s *Session) Help(line string) api.Reply {
	if msg := checkLine(line); msg != "" {
		return s.reply(api.Reply{Err: msg})
	}
	g, _ := grammar.Product()
	items, usage, err := g.Help(s.mode, line)
	switch {
	case err != nil:
		r := api.Reply{Err: api.ErrorText(err)}
		if err.Kind == grammar.ErrInvalid {
			r.CaretAt(err.Offset)
		}
		return s.reply(r)
	case usage != "":
		return s.reply(api.Reply{Output: usage + "\n"})
	}
	if !s.priv {
		items = s.hidePriv(g, line, items)
	}
	return s.reply(api.Reply{Output: joinLines(grammar.FormatHelp(items))})
}

// hidePriv drops privileged EXEC commands from help in user EXEC, where
// they cannot run.
func (s *Session) hidePriv(g *grammar.Grammar, line string, items []grammar.HelpItem) []grammar.HelpItem {
	if strings.TrimSpace(line) != "" {
		return items
	}
	priv := map[string]bool{}
	open := map[string]bool{}
	for _, d := range g.Decls() {
		first := strings.Fields(d.Syntax)[0]
		for _, m := range d.Modes {
			if m == grammar.ModeExec {
				if d.Priv {
					priv[first] = true
				} else {
					open[first] = true
				}
			}
		}
	}
	// In EXEC, "no" only negates privileged actions (no failover active).
	priv["no"] = true
	var out []grammar.HelpItem
	for _, it := range items {
		if priv[it.Word] && !open[it.Word] {
			continue
		}
		out = append(out, it)
	}
	return out
}

// Complete answers Tab.
func (s *Session) Complete(line string) api.Reply {
	if msg := checkLine(line); msg != "" {
		return s.reply(api.Reply{})
	}
	g, _ := grammar.Product()
	var named, hw []string
	s.e.Do(func() { named, hw = s.e.Config().IfNames(), s.e.HardwareIDs() })
	words := g.Complete(s.mode, line, func(t grammar.ValueType) []string {
		switch t {
		case grammar.TIfName:
			return named
		case grammar.THWID:
			return hw
		}
		return append(slices.Clone(hw), named...)
	})
	return s.reply(api.Reply{Completions: words})
}

// maxPasswordTries is how many wrong passwords one `enable` takes before
// the session drops back, as on ASA.
const maxPasswordTries = 3

// Enable checks the password answered to "Password:". An interactive
// session is asked again after a wrong password, up to three tries in
// all; then "% Bad passwords" and the session stays in user EXEC. Every
// failure is logged with who the session is, and each further try of the
// same peer waits longer (pwGuard).
func (s *Session) Enable(pw string) api.Reply {
	var hash string
	var pending bool
	var peer Peer
	s.e.Do(func() { hash, pending, peer = s.e.Config().EnableHash, s.pendingPw, s.peer })
	if !pending {
		return s.reply(api.Reply{Err: "ERROR: no password was asked for"})
	}
	// The wait and the hashing run here, off the loop.
	ok, fails, err := s.c.pw.check(fmt.Sprintf("%s uid %d", peer.Kind, peer.UID), s.e.Done(), func() bool {
		return hash == "" || config.CheckPassword(hash, pw)
	})
	if err != nil {
		return api.Reply{Err: api.ErrorText(err)}
	}
	var r api.Reply
	s.e.Do(func() {
		if ok {
			s.pendingPw, s.priv, s.badPw = false, true, 0
			s.e.Log().Info("enable succeeded", s.logAttrs()...)
			s.e.Syslog("%PIX-5-502103: User priv level changed: Uname: enable_15 From: 1 To: 15")
			return
		}
		s.badPw++
		s.e.Log().Warn("enable password rejected", append(s.logAttrs(), "try", s.badPw, "failures_in_a_row", fails)...)
		s.e.Syslog(fmt.Sprintf("%%PIX-6-605004: Login denied from %s to %s for user \"enable_15\"", peer.source(), peer.Kind))
		switch {
		case s.badPw >= maxPasswordTries:
			s.pendingPw, s.badPw = false, 0
			r.Err = "% Bad passwords"
		case s.interactive:
			r.NeedPassword = true // asked again
		default:
			// A script's next line is not a second password.
			s.pendingPw = false
			r.Err = "Invalid password"
		}
	})
	return s.reply(r)
}

// Priv reports the session's privilege (for tests).
func (s *Session) Priv() bool {
	var p bool
	s.e.Do(func() { p = s.priv })
	return p
}

// ExecBatch runs lines as consecutive Exec calls would and returns their
// replies. Configuration lines change the model at once (later lines of
// the batch see them) but are handed to the parts and the kernel together,
// before a line that is not configuration, before any other request, or a
// moment after the batch when no other batch of the paste follows: a
// pasted configuration costs a few copies of the configuration, not one
// per line. Each line's error is kept in its reply. The batch stops after a
// line that asks for a password or ends the session.
func (s *Session) ExecBatch(lines []string) []api.Reply { return s.execBatch(lines, nil) }

// execBatch is ExecBatch with each line's output filter (see exec).
func (s *Session) execBatch(lines, filters []string) []api.Reply {
	out := make([]api.Reply, 0, len(lines))
	for len(out) < len(lines) {
		var wait func() api.Reply
		s.e.Batch(func() {
			for len(out) < len(lines) {
				line, filter := lines[len(out)], ""
				if len(out) < len(filters) {
					filter = filters[len(out)]
				}
				if msg := checkLine(line + filter); msg != "" {
					r := api.Reply{Err: msg}
					s.stamp(&r)
					out = append(out, r)
					continue
				}
				var r api.Reply
				if r, wait = s.execOnLoop(line, filter); wait != nil {
					return
				}
				s.stamp(&r)
				out = append(out, r)
				if r.NeedPassword || r.Exit {
					return
				}
			}
		})
		if wait != nil {
			out = append(out, s.reply(wait()))
			continue
		}
		if last := out[len(out)-1]; last.NeedPassword || last.Exit {
			break
		}
	}
	return out
}
