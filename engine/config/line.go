package config

import (
	"fmt"
	"strings"

	"failover/grammar"
)

// Unsupported lists PIX/ASA commands that appear in real running-configs
// but that this product does not implement. A pasted configuration gets one
// clear error for each such line and the rest still applies.
var Unsupported = map[string]bool{
	"fixup": true, "access-list": true, "access-group": true, "nat": true, "global": true,
	"static": true, "conduit": true, "outbound": true, "apply": true, "snmp-server": true,
	"telnet": true, "ssh": true, "http": true, "aaa-server": true, "aaa": true, "arp": true,
	"timeout": true, "pdm": true, "asdm": true, "crypto": true, "isakmp": true, "sysopt": true,
	"floodguard": true, "dhcpd": true, "vpdn": true, "object-group": true, "passwd": true,
	"domain-name": true, "ntp": true, "clock": true, "icmp": true, "rip": true, "ca": true,
	"username": true, "tftp-server": true, "established": true, "service": true,
	"url-server": true, "filter": true, "virtual": true, "auth-prompt": true, "PIX": true,
	"ASA": true, "Cryptochecksum:": true, "ip": false, "dns": true, "policy-map": true,
	"class-map": true, "service-policy": true, "threat-detection": true, "webvpn": true,
	"group-policy": true, "tunnel-group": true, "mgcp": true, "router": true, "same-security-traffic": true,
	"access-class": true, "banner": true, "console": true, "boot": true, "vpn": true,
}

// unsupportedIP are "ip" sub-commands of PIX configs (ip audit, ip verify...).
var unsupportedIP = map[string]bool{"audit": true, "verify": true, "local": true, "route": true}

// UnsupportedError reports a known PIX command this product does not have.
type UnsupportedError struct{ Command string }

func (e *UnsupportedError) Error() string {
	return fmt.Sprintf("%q is a PIX command this product does not support; line ignored", e.Command)
}

// IsComment reports whether a line is a PIX running-config comment.
func IsComment(line string) bool {
	t := strings.TrimSpace(line)
	// ASA ends a saved configuration with its checksum; it is not a
	// command and pastes and startup-configs carry it.
	return t == "" || strings.HasPrefix(t, ":") || strings.HasPrefix(t, "!") || strings.HasPrefix(t, "Cryptochecksum:")
}

// Parse finds the command for line in x's mode chain; exec commands come
// back too (the caller runs them). Unsupported PIX commands get their own
// error rather than a caret.
func Parse(x *Ctx, line string) (*grammar.Invocation, error) {
	g, err := grammar.Product()
	if err != nil {
		return nil, err
	}
	inv, perr := g.ParseChain(x.Mode.Chain(), line)
	if perr == nil {
		return inv, nil
	}
	toks := grammar.Tokenize(line)
	if perr.Kind == grammar.ErrInvalid && len(toks) > 0 {
		first := toks[0].Text
		words := toks
		if strings.EqualFold(first, "no") && len(toks) > 1 {
			words = toks[1:]
			first = words[0].Text
		}
		if strings.HasPrefix(first, "Cryptochecksum:") {
			return nil, &UnsupportedError{Command: "Cryptochecksum"}
		}
		if Unsupported[first] || (first == "ip" && len(words) > 1 && unsupportedIP[words[1].Text]) {
			return nil, &UnsupportedError{Command: strings.Join(tokTexts(words, 2), " ")}
		}
	}
	return nil, perr
}

func tokTexts(toks []grammar.Token, n int) []string {
	var out []string
	for i := 0; i < len(toks) && i < n; i++ {
		if i == 1 && !(toks[0].Text == "ip" || toks[0].Text == "PIX" || toks[0].Text == "ASA") {
			break
		}
		out = append(out, toks[i].Text)
	}
	return out
}

// ApplyLines applies configuration lines as a script, in a fresh context
// starting in global configuration mode; it is how the startup-config and
// replicated configurations load. Exec commands in the text are skipped
// (a running-config contains none that matter). It returns the new
// configuration and one *LineError per failed line. c is not changed: the
// lines apply to one copy of it, so N lines cost O(N), not one copy each.
func ApplyLines(c *Config, text string) (*Config, []error) {
	c = c.Clone()
	return c, ChangeLines(c, text)
}

// ChangeLines applies lines as ApplyLines does, to c itself: each line
// that fails leaves c as it was, the others change it.
func ChangeLines(c *Config, text string) []error {
	x := &Ctx{Mode: grammar.ModeConfig}
	var errs []error
	for i, line := range strings.Split(text, "\n") {
		if IsComment(line) {
			continue
		}
		inv, err := Parse(x, line)
		if err == nil && !IsConfigCommand(inv.Decl) {
			continue
		}
		if err == nil {
			if err = Change(c, inv, x); err == nil {
				x.Mode, x.Obj = x.NextMode, x.NextObj
				continue
			}
		}
		errs = append(errs, &LineError{N: i + 1, Line: line, Err: err})
	}
	return errs
}

// LineError is a failed line of a configuration text: its number (from 1),
// the line as written and why it failed (a *grammar.Error when it did not
// parse), so that a checker can point a caret at it as the shell does.
type LineError struct {
	N    int
	Line string
	Err  error
}

func (e *LineError) Error() string {
	return fmt.Sprintf("line %d: %s: %v", e.N, strings.TrimSpace(e.Line), e.Err)
}

func (e *LineError) Unwrap() error { return e.Err }
