package grammar

import "strings"

// Token is one whitespace-separated word of a command line with its byte
// offsets, so errors can put the caret under it and help can work at the
// cursor. A Cisco line is not a shell line: no quotes, no escapes, no
// comments, which is why this is not shlex.
type Token struct {
	Text       string
	Start, End int
}

// Tokenize splits line on spaces and tabs.
func Tokenize(line string) []Token {
	var toks []Token
	start := -1
	for i := 0; i < len(line); i++ {
		sp := line[i] == ' ' || line[i] == '\t'
		switch {
		case sp && start >= 0:
			toks = append(toks, Token{line[start:i], start, i})
			start = -1
		case !sp && start < 0:
			start = i
		}
	}
	if start >= 0 {
		toks = append(toks, Token{line[start:], start, len(line)})
	}
	return toks
}

// Filter is an output filter after a "|" token.
type Filter struct {
	Kind    string // include, exclude, begin, grep
	Invert  bool   // grep -v
	Pattern string
}

// SplitPipe separates "show ... | include X" into the command part and its
// filters. A "|" counts only as a separate token, so a description or key
// containing "|" inside a word is left alone. Filter keywords abbreviate.
func SplitPipe(line string) (cmd string, filters []Filter, err *Error) {
	toks := Tokenize(line)
	pipe := -1
	for i, t := range toks {
		if t.Text == "|" {
			pipe = i
			break
		}
	}
	if pipe < 0 {
		return line, nil, nil
	}
	cmd = strings.TrimRight(line[:toks[pipe].Start], " \t")
	rest := toks[pipe:]
	for len(rest) > 0 {
		if rest[0].Text != "|" || len(rest) < 2 {
			return "", nil, &Error{Kind: ErrIncomplete}
		}
		kw := rest[1]
		kind := ""
		for _, k := range []string{"include", "exclude", "begin", "grep"} {
			if strings.HasPrefix(k, strings.ToLower(kw.Text)) {
				if kind != "" {
					return "", nil, &Error{Kind: ErrAmbiguous, Input: line}
				}
				kind = k
			}
		}
		if kind == "" {
			return "", nil, &Error{Kind: ErrInvalid, Offset: kw.Start}
		}
		f := Filter{Kind: kind}
		rest = rest[2:]
		if kind == "grep" && len(rest) > 0 && rest[0].Text == "-v" {
			f.Invert = true
			rest = rest[1:]
		}
		// The pattern runs to the next separate "|" token.
		n := 0
		for n < len(rest) && rest[n].Text != "|" {
			n++
		}
		if n == 0 {
			return "", nil, &Error{Kind: ErrIncomplete}
		}
		f.Pattern = line[rest[0].Start:rest[n-1].End]
		filters = append(filters, f)
		rest = rest[n:]
	}
	return cmd, filters, nil
}
