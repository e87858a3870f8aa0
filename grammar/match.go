package grammar

import "strings"

// Matching rules (table-tested in match_test.go):
//  1. Keywords match case-insensitively, exactly or by a prefix; values
//     never abbreviate.
//  2. At each word, the best kind of match among all candidate paths wins:
//     an exact keyword beats a keyword prefix, which beats a value. So
//     "name" selects the "name" command even though "names" also exists.
//  3. If the best match is a keyword prefix of two different keywords, the
//     line is ambiguous.
//  4. A word no path accepts is invalid input at that word, unless some
//     value had the right shape but a wrong value (a number out of range),
//     which reports that value's message instead.
//  5. At the end, a path that has consumed all its atoms (or whose last atom
//     takes the rest of the line) accepts; none accepting is an incomplete
//     command; the first declared accepting path wins.

// score of a word against an atom: 3 exact keyword, 2 keyword prefix,
// 1 value, 0 no match.
func score(a *Atom, tok string) (int, bool) {
	if a.Kind == Keyword {
		w, t := strings.ToLower(a.Word), strings.ToLower(tok)
		switch {
		case w == t:
			return 3, false
		case strings.HasPrefix(w, t):
			return 2, false
		}
		return 0, false
	}
	ok, shape := a.check(tok)
	if ok {
		return 1, false
	}
	return 0, shape
}

// absorbs reports whether the path's rest-of-line atom covers word i.
func absorbs(p []*Atom, i int) bool {
	n := len(p)
	return n > 0 && n <= i && p[n-1].Kind == Value && p[n-1].Type == TLine
}

// walk filters candidates word by word. It returns the survivors after all
// words, or the error at the first word nothing accepts.
func walk(cands []cand, toks []Token, line string) ([]cand, *Error) {
	live := cands
	for i, tok := range toks {
		best := 0
		var valueErr *Error
		scores := make([]int, len(live))
		for j, c := range live {
			var s int
			switch {
			case absorbs(c.path, i):
				s = 1
			case i < len(c.path):
				var shape bool
				s, shape = score(c.path[i], tok.Text)
				if s == 0 && shape && valueErr == nil {
					valueErr = &Error{Kind: ErrValue, Offset: tok.Start, Msg: c.path[i].rangeMsg(tok.Text)}
				}
			}
			scores[j] = s
			if s > best {
				best = s
			}
		}
		if best == 0 {
			if valueErr != nil {
				return nil, valueErr
			}
			return nil, &Error{Kind: ErrInvalid, Offset: tok.Start}
		}
		var next []cand
		words := map[string]bool{}
		for j, c := range live {
			if scores[j] == best {
				next = append(next, c)
				if best == 2 {
					words[strings.ToLower(c.path[i].Word)] = true
				}
			}
		}
		if len(words) > 1 {
			return nil, &Error{Kind: ErrAmbiguous, Input: strings.TrimSpace(line), Offset: tok.Start}
		}
		live = next
	}
	return live, nil
}

func accepting(c cand, n int) bool {
	return len(c.path) == n || absorbs(c.path, n-1)
}

// Parse matches line in one mode.
func (g *Grammar) Parse(mode Mode, line string) (*Invocation, *Error) {
	toks := Tokenize(line)
	if len(toks) == 0 {
		return nil, &Error{Kind: ErrIncomplete}
	}
	live, err := walk(g.byMode[mode], toks, line)
	if err != nil {
		return nil, err
	}
	for _, c := range live {
		if accepting(c, len(toks)) {
			return build(c, mode, toks, line), nil
		}
	}
	return nil, &Error{Kind: ErrIncomplete}
}

// ParseChain tries line in each mode of chain in order and returns the
// first match. When all fail it returns the error of the mode that got
// furthest into the line (ties go to the earlier mode), which is the most
// useful caret for the operator.
func (g *Grammar) ParseChain(chain []Mode, line string) (*Invocation, *Error) {
	var bestErr *Error
	for _, m := range chain {
		inv, err := g.Parse(m, line)
		if err == nil {
			return inv, nil
		}
		if bestErr == nil || rank(err) > rank(bestErr) {
			bestErr = err
		}
	}
	return nil, bestErr
}

// rank orders errors by how far the line got: an incomplete, ambiguous or
// value error means every word was understood up to the end or to a value.
func rank(e *Error) int {
	if e.Kind == ErrInvalid {
		return e.Offset
	}
	return 1 << 30
}

func build(c cand, mode Mode, toks []Token, line string) *Invocation {
	inv := &Invocation{Decl: c.decl, Mode: mode, Negated: c.negated, Values: map[string]string{}, Words: map[string]bool{}, Line: line}
	path := c.path
	if c.negated {
		path = path[1:]
		toks = toks[1:]
	}
	for i, a := range path {
		if i >= len(toks) {
			break
		}
		if a.Kind == Keyword {
			inv.Words[a.Name] = true
			continue
		}
		if a.Type == TLine {
			inv.Values[a.Name] = strings.TrimRight(line[toks[i].Start:], " \t")
			break
		}
		inv.Values[a.Name] = a.canonical(toks[i].Text)
	}
	return inv
}
