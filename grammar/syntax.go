package grammar

import (
	"fmt"
	"strconv"
	"strings"
)

// AtomKind separates keywords from value placeholders.
type AtomKind int

const (
	Keyword AtomKind = iota
	Value
)

// Atom is one position of a command path: a keyword or a value.
type Atom struct {
	Kind AtomKind
	Word string // keyword text
	Name string // argument name: the keyword itself, or "kw$name", or the value's name
	Type ValueType
	Min  int64
	Max  int64
	Help string
	Err  string // value error message overriding the generic one
}

// compileSyntax turns a declaration's syntax into every linear path it
// allows. Commands are short, so expanding optional parts and alternatives
// up front keeps matching, help, completion and rendering trivially
// consistent with each other: they all walk the same paths.
//
// Syntax: keyword, keyword$name, <type:name>, <int(1-10):name>, [optional],
// (alt1|alt2), [alt1|alt2].
func compileSyntax(spec string) ([][]*Atom, error) {
	toks := scanSpec(spec)
	pos := 0
	paths, err := parseSeq(toks, &pos)
	if err != nil {
		return nil, err
	}
	if pos != len(toks) {
		return nil, fmt.Errorf("unexpected %q in %q", toks[pos], spec)
	}
	for _, p := range paths {
		for i, a := range p {
			if a.Kind == Value && a.Type == TLine && i != len(p)-1 {
				return nil, fmt.Errorf("rest-of-line value %q must be last in %q", a.Name, spec)
			}
		}
	}
	return paths, nil
}

func scanSpec(spec string) []string {
	var out []string
	cur := strings.Builder{}
	flush := func() {
		if cur.Len() > 0 {
			out = append(out, cur.String())
			cur.Reset()
		}
	}
	inAngle := false
	for _, c := range spec {
		switch {
		case c == '<':
			flush()
			inAngle = true
			cur.WriteRune(c)
		case c == '>' && inAngle:
			cur.WriteRune(c)
			inAngle = false
			flush()
		case inAngle:
			cur.WriteRune(c)
		case c == ' ' || c == '\t':
			flush()
		case strings.ContainsRune("[]()|", c):
			flush()
			out = append(out, string(c))
		default:
			cur.WriteRune(c)
		}
	}
	flush()
	return out
}

// parseSeq parses elements until a closing bracket or "|".
func parseSeq(toks []string, pos *int) ([][]*Atom, error) {
	paths := [][]*Atom{{}}
	for *pos < len(toks) {
		t := toks[*pos]
		var alts [][]*Atom
		switch t {
		case "]", ")", "|":
			return paths, nil
		case "[", "(":
			*pos++
			var err error
			alts, err = parseAlts(toks, pos)
			if err != nil {
				return nil, err
			}
			want := map[string]string{"[": "]", "(": ")"}[t]
			if *pos >= len(toks) || toks[*pos] != want {
				return nil, fmt.Errorf("missing %q", want)
			}
			*pos++
			if t == "[" {
				alts = append([][]*Atom{{}}, alts...)
			}
		default:
			a, err := parseAtom(t)
			if err != nil {
				return nil, err
			}
			*pos++
			alts = [][]*Atom{{a}}
		}
		var next [][]*Atom
		for _, p := range paths {
			for _, alt := range alts {
				np := append(append([]*Atom{}, p...), alt...)
				next = append(next, np)
			}
		}
		paths = next
	}
	return paths, nil
}

func parseAlts(toks []string, pos *int) ([][]*Atom, error) {
	var all [][]*Atom
	for {
		seq, err := parseSeq(toks, pos)
		if err != nil {
			return nil, err
		}
		all = append(all, seq...)
		if *pos < len(toks) && toks[*pos] == "|" {
			*pos++
			continue
		}
		return all, nil
	}
}

func parseAtom(t string) (*Atom, error) {
	if !strings.HasPrefix(t, "<") {
		word, name, _ := strings.Cut(t, "$")
		if name == "" {
			name = word
		}
		return &Atom{Kind: Keyword, Word: word, Name: name}, nil
	}
	body := strings.TrimSuffix(strings.TrimPrefix(t, "<"), ">")
	typ, name, ok := strings.Cut(body, ":")
	if !ok || name == "" {
		return nil, fmt.Errorf("value %q needs <type:name>", t)
	}
	a := &Atom{Kind: Value, Name: name}
	if i := strings.IndexByte(typ, '('); i >= 0 {
		lo, hi, ok := strings.Cut(strings.TrimSuffix(typ[i+1:], ")"), "-")
		var err1, err2 error
		a.Min, err1 = strconv.ParseInt(lo, 10, 64)
		a.Max, err2 = strconv.ParseInt(hi, 10, 64)
		if !ok || err1 != nil || err2 != nil {
			return nil, fmt.Errorf("bad range in %q", t)
		}
		typ = typ[:i]
	}
	vt, ok := typeNames[typ]
	if !ok {
		return nil, fmt.Errorf("unknown type %q in %q", typ, t)
	}
	a.Type = vt
	return a, nil
}
