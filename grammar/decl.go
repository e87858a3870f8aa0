package grammar

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

// Mode is a CLI mode. Configuration sub-modes have a parent mode in which
// commands are tried when they don't match in the sub-mode.
type Mode int

const (
	ModeExec    Mode = iota // user and privileged EXEC
	ModeConfig              // global configuration
	ModeIf                  // ASA interface sub-mode
	ModeSLA                 // sla monitor N
	ModeSLAEcho             // sla monitor N / type echo
	ModeTrack               // track N
)

var modeInfo = map[Mode]struct {
	name, prompt string
	parent       Mode
}{
	ModeExec:    {"exec", "", ModeExec},
	ModeConfig:  {"config", "(config)", ModeExec},
	ModeIf:      {"config-if", "(config-if)", ModeConfig},
	ModeSLA:     {"config-sla-monitor", "(config-sla-monitor)", ModeConfig},
	ModeSLAEcho: {"config-sla-monitor-echo", "(config-sla-monitor-echo)", ModeSLA},
	ModeTrack:   {"config-track", "(config-track)", ModeConfig},
}

func (m Mode) String() string {
	if i, ok := modeInfo[m]; ok {
		return i.name
	}
	return "Mode(" + strconv.Itoa(int(m)) + ")"
}

// PromptTag is what the prompt shows after the host name, e.g. "(config)".
func (m Mode) PromptTag() string { return modeInfo[m].prompt }

// Parent is the mode a sub-mode falls back to; EXEC is its own parent.
func (m Mode) Parent() Mode { return modeInfo[m].parent }

// IsConfig reports whether m is global configuration or one of its sub-modes.
func (m Mode) IsConfig() bool { return m != ModeExec }

// Chain is the lookup order from m: the mode itself, its parents up to
// global configuration, then EXEC (PIX runs show and write in config mode).
func (m Mode) Chain() []Mode {
	var out []Mode
	for cur := m; ; cur = cur.Parent() {
		out = append(out, cur)
		if cur == ModeExec {
			return out
		}
	}
}

// Decl declares one command once: its syntax drives parsing, "?" help, Tab
// completion, the "no" form and the running-config line.
type Decl struct {
	ID     string // names the command in errors; handlers are registered against the *Decl itself
	Modes  []Mode
	Syntax string
	Help   map[string]string // atom name -> one-line help
	Errs   map[string]string // value name -> message for a wrong value
	Priv   bool              // EXEC command that needs privileged EXEC
	// NoMin is how many leading atoms "no" needs (the rest become
	// optional); 0 means the command has no "no" form.
	NoMin int
	// NoOnly means the command exists only in its "no" form.
	NoOnly bool
	// Hidden commands parse but are not offered by "?" or Tab (ASA input
	// forms that have a native spelling).
	Hidden bool
	// Local says what of the command each unit of a failover pair keeps
	// for itself: it is accepted on the standby, never replicated, left out
	// of the bulk copy and kept through a bulk replace.
	Local Locality
	// Section is the part of the running-config its line belongs to
	// (show running-config SECTION).
	Section Section

	paths [][]*Atom
	names map[string]bool // every atom name its paths have
}

// Section is a part of the running-config, as "show running-config
// SECTION" names it; NoSection lines show only in the whole configuration.
type Section int

const (
	NoSection Section = iota
	SecInterface
	SecLogging
	SecFailover
	SecSLA
	SecTrack
	SecRoute
)

var sectionWords = [...]string{"", "interface", "logging", "failover", "sla", "track", "route"}

// String is the section's keyword ("" for NoSection).
func (s Section) String() string {
	if s >= 0 && int(s) < len(sectionWords) {
		return sectionWords[s]
	}
	return "Section(" + strconv.Itoa(int(s)) + ")"
}

// SectionNamed returns the section a keyword names, or NoSection.
func SectionNamed(word string) Section {
	for i, w := range sectionWords {
		if w != "" && w == word {
			return Section(i)
		}
	}
	return NoSection
}

// Locality is how much of a command is the unit's own.
type Locality int

const (
	Shared    Locality = iota // replicated like any configuration
	UnitLocal                 // always the unit's own (role, LAN interface, key, failover on/off)
	LANLocal                  // the unit's own when its if_name is the failover LAN interface
)

func (l Locality) String() string {
	switch l {
	case UnitLocal:
		return "unit-local"
	case LANLocal:
		return "local-on-LAN-interface"
	}
	return "shared"
}

// Usage replaces the generic "?" listing after the given keywords with a
// fixed text, as PIX 6.3 prints for "failover ?".
type Usage struct {
	Mode  Mode
	Words []string
	Text  string
}

type cand struct {
	decl    *Decl
	path    []*Atom
	negated bool
}

// Grammar is the compiled set of declarations.
type Grammar struct {
	decls  []*Decl
	byID   map[string]*Decl
	byMode map[Mode][]cand
	usages []Usage
}

var noAtom = &Atom{Kind: Keyword, Word: "no", Name: "no", Help: "Negate a command or set its defaults"}

// New compiles declarations. It fails on a malformed syntax or a duplicate
// ID, so a broken table is caught by any test that builds the grammar.
func New(decls []*Decl, usages []Usage) (*Grammar, error) {
	g := &Grammar{byID: map[string]*Decl{}, byMode: map[Mode][]cand{}, usages: usages}
	for _, d := range decls {
		if _, dup := g.byID[d.ID]; dup {
			return nil, fmt.Errorf("duplicate command id %q", d.ID)
		}
		paths, err := compileSyntax(d.Syntax)
		if err != nil {
			return nil, fmt.Errorf("failed to compile %s: %w", d.ID, err)
		}
		for _, p := range paths {
			for _, a := range p {
				a.Help = d.Help[a.Name]
				if a.Kind == Value {
					a.Err = d.Errs[a.Name]
				}
			}
		}
		d.paths = paths
		d.names = map[string]bool{}
		for _, p := range paths {
			for _, a := range p {
				d.names[a.Name] = true
			}
		}
		g.byID[d.ID] = d
		g.decls = append(g.decls, d)
		for _, m := range d.Modes {
			if !d.NoOnly {
				for _, p := range paths {
					g.byMode[m] = append(g.byMode[m], cand{decl: d, path: p})
				}
			}
			if d.NoMin > 0 {
				seen := map[string]bool{}
				for _, p := range paths {
					for k := d.NoMin; k <= len(p); k++ {
						key := pathKey(p[:k])
						if seen[key] {
							continue
						}
						seen[key] = true
						np := append([]*Atom{noAtom}, p[:k]...)
						g.byMode[m] = append(g.byMode[m], cand{decl: d, path: np, negated: true})
					}
				}
			}
		}
	}
	return g, nil
}

func pathKey(p []*Atom) string {
	var b strings.Builder
	for _, a := range p {
		b.WriteString(a.Name)
		b.WriteByte(' ')
	}
	return b.String()
}

// Decls returns every declaration in declaration order.
func (g *Grammar) Decls() []*Decl { return g.decls }

// Invocation is a parsed command line.
type Invocation struct {
	Decl    *Decl
	Mode    Mode // the mode in which it matched
	Negated bool
	Values  map[string]string
	Words   map[string]bool
	Line    string
}

// Str returns a value argument ("" when absent).
func (inv *Invocation) Str(name string) string {
	inv.check(name)
	return inv.Values[name]
}

// Int returns an integer value argument (0 when absent). A trailing "%"
// is ignored so percent values read as numbers.
func (inv *Invocation) Int(name string) int {
	inv.check(name)
	n, _ := strconv.Atoi(strings.TrimSuffix(inv.Values[name], "%"))
	return n
}

// Has reports whether a value or keyword with that name was given.
func (inv *Invocation) Has(name string) bool {
	inv.check(name)
	_, ok := inv.Values[name]
	return ok || inv.Words[name]
}

// check fails loudly when a handler asks for a name its declaration does
// not have (a misspelling would otherwise read as "absent"): a panic in
// tests, which every handler runs under; in the daemon the lookup answers
// "absent", as before, rather than stop the device.
func (inv *Invocation) check(name string) {
	if d := inv.Decl; d != nil && d.names != nil && !d.names[name] && testing.Testing() {
		panic(fmt.Sprintf("grammar: command %s has no value or keyword %q", d.ID, name))
	}
}
