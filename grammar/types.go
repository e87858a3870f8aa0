package grammar

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
)

// ValueType says what a value placeholder accepts. Checking is purely
// syntactic here; whether an if_name exists is the engine's business.
type ValueType int

const (
	TInt       ValueType = iota // integer in [Min, Max]
	TIPv4                       // dotted quad
	TMask                       // contiguous dotted-quad netmask
	THMS                        // hh[:mm[:ss]]
	TMAC                        // H.H.H (Cisco MAC)
	TWord                       // any single word
	TIfName                     // an interface name given with nameif (completed from config)
	TLine                       // the rest of the line, spaces included
	THost                       // IPv4 address or host name
	TLevel                      // syslog level 0-7 or its name
	TSecurity                   // securityN, N 0-100
	TPercent                    // N or N%, N in [Min, Max]
	TNet                        // dotted-quad network address, or 0 for 0.0.0.0
	THWID                       // a Linux interface name (hardware_id), completed from the box
	TIfAny                      // a hardware_id or a nameif name, completed from both
	TProtoPort                  // tcp or udp, optionally /port (ASA logging host)
)

var typeNames = map[string]ValueType{
	"int": TInt, "ipv4": TIPv4, "mask": TMask, "hms": THMS, "mac": TMAC,
	"word": TWord, "ifname": TIfName, "line": TLine, "host": THost,
	"level": TLevel, "security": TSecurity, "pct": TPercent, "net": TNet,
	"hwid": THWID, "ifany": TIfAny, "protoport": TProtoPort,
}

func (t ValueType) String() string {
	for k, v := range typeNames {
		if v == t {
			return k
		}
	}
	return fmt.Sprintf("ValueType(%d)", int(t))
}

// Levels are the syslog level names in order 0..7.
var Levels = []string{"emergencies", "alerts", "critical", "errors", "warnings", "notifications", "informational", "debugging"}

// check validates a token for a value atom. The second result is true when
// the token has the right shape but a wrong value (a number out of range):
// such a failure is reported with the value's own message instead of the
// generic caret error.
func (a *Atom) check(tok string) (ok bool, shapeOK bool) {
	switch a.Type {
	case TInt:
		n, err := strconv.ParseInt(tok, 10, 64)
		if err != nil {
			return false, false
		}
		return n >= a.Min && n <= a.Max, true
	case TPercent:
		n, err := strconv.ParseInt(strings.TrimSuffix(tok, "%"), 10, 64)
		if err != nil {
			return false, false
		}
		return n >= a.Min && n <= a.Max, true
	case TIPv4, TNet:
		if a.Type == TNet && tok == "0" {
			return true, true
		}
		ad, err := netip.ParseAddr(tok)
		return err == nil && ad.Is4(), looksDotted(tok)
	case TMask:
		if tok == "0" {
			return true, true
		}
		_, err := ParseMask(tok)
		return err == nil, looksDotted(tok)
	case THMS:
		_, err := ParseHMS(tok)
		return err == nil, tok != "" && (tok[0] >= '0' && tok[0] <= '9')
	case TMAC:
		_, err := ParseMAC(tok)
		return err == nil, strings.Count(tok, ".") == 2
	case TWord, TLine, THWID, TIfAny:
		return tok != "", true
	case TIfName:
		return validName(tok), false
	case THost:
		if ad, err := netip.ParseAddr(tok); err == nil {
			return ad.Is4(), true
		}
		return validHostName(tok), false
	case TLevel:
		if n, err := strconv.Atoi(tok); err == nil {
			return n >= 0 && n <= 7, true
		}
		return LevelNumber(tok) >= 0, false
	case TProtoPort:
		_, _, err := ParseProtoPort(tok)
		lower := strings.ToLower(tok)
		return err == nil, strings.HasPrefix(lower, "tcp/") || strings.HasPrefix(lower, "udp/")
	case TSecurity:
		if !strings.HasPrefix(tok, "security") {
			return false, false
		}
		n, err := strconv.Atoi(tok[len("security"):])
		return err == nil && n >= 0 && n <= 100, err == nil
	}
	return false, false
}

// Label is how a placeholder is shown in help: <3-15>, <if_name>, ...
func (a *Atom) Label() string {
	switch a.Type {
	case TInt:
		return fmt.Sprintf("<%d-%d>", a.Min, a.Max)
	case TPercent:
		return fmt.Sprintf("<%d-%d>[%%]", a.Min, a.Max)
	case TLevel:
		return "<level>"
	case TSecurity:
		return "security<0-100>"
	case TProtoPort:
		return "tcp[/<1-65535>]|udp[/<1-65535>]"
	}
	return "<" + a.Name + ">"
}

// rangeMsg is the value error for a token of the right shape and wrong value.
func (a *Atom) rangeMsg(tok string) string {
	if a.Err != "" {
		return a.Err
	}
	switch a.Type {
	case TInt, TPercent:
		return fmt.Sprintf("%s %q out of range, must be %d-%d", strings.ReplaceAll(a.Name, "_", " "), tok, a.Min, a.Max)
	case TSecurity:
		return fmt.Sprintf("security level %q out of range, must be security0-security100", tok)
	case TLevel:
		return fmt.Sprintf("logging level %q out of range, must be 0-7 or a level name", tok)
	case TIPv4, THost, TNet:
		return fmt.Sprintf("invalid IP address %q, must be A.B.C.D", tok)
	case TMask:
		return fmt.Sprintf("invalid netmask %q, must be a contiguous A.B.C.D mask", tok)
	case THMS:
		return fmt.Sprintf("invalid time %q, must be hh[:mm[:ss]]", tok)
	case TMAC:
		return fmt.Sprintf("invalid MAC address %q, must be H.H.H", tok)
	case TProtoPort:
		return fmt.Sprintf("invalid protocol/port %q, must be tcp[/1-65535] or udp[/1-65535]", tok)
	}
	return fmt.Sprintf("invalid value %q", tok)
}

// canonical is the value a handler sees for tok: PIX and ASA take 0 for
// 0.0.0.0 in network addresses and masks ("route outside 0 0 GW"), and
// the configuration keeps and prints the dotted form.
func (a *Atom) canonical(tok string) string {
	if (a.Type == TNet || a.Type == TMask) && tok == "0" {
		return "0.0.0.0"
	}
	return tok
}

func looksDotted(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if (c < '0' || c > '9') && c != '.' {
			return false
		}
	}
	return strings.Contains(s, ".")
}

func validName(s string) bool {
	if s == "" || len(s) > 48 {
		return false
	}
	for _, c := range s {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_' || c == '.' || c == '/') {
			return false
		}
	}
	return true
}

func validHostName(s string) bool {
	if s == "" || len(s) > 253 || looksDotted(s) {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	return true
}

// ParseMask parses a contiguous dotted-quad netmask and returns its length.
func ParseMask(s string) (int, error) {
	a, err := netip.ParseAddr(s)
	if err != nil || !a.Is4() {
		return 0, fmt.Errorf("invalid netmask %q", s)
	}
	b := a.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	ones := 0
	for v&0x80000000 != 0 {
		ones++
		v <<= 1
	}
	if v != 0 {
		return 0, fmt.Errorf("non-contiguous netmask %q", s)
	}
	return ones, nil
}

// MaskString is the dotted-quad netmask of a prefix length.
func MaskString(bits int) string {
	var v uint32
	if bits > 0 {
		v = ^uint32(0) << (32 - bits)
	}
	return fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&0xff, v>>8&0xff, v&0xff)
}

// ParseHMS parses PIX hh[:mm[:ss]] into seconds.
func ParseHMS(s string) (int, error) {
	parts := strings.Split(s, ":")
	if len(parts) > 3 {
		return 0, fmt.Errorf("invalid time %q", s)
	}
	limits := []int{1193, 59, 59}
	total := 0
	for i, p := range parts {
		n, err := strconv.Atoi(p)
		if err != nil || n < 0 || n > limits[i] || p == "" || len(p) > 4 {
			return 0, fmt.Errorf("invalid time %q", s)
		}
		total = total*60 + n
		_ = i
	}
	for i := len(parts); i < 3; i++ {
		total *= 60
	}
	return total, nil
}

// FormatHMS prints seconds as PIX does: 0:00:00.
func FormatHMS(sec int) string {
	return fmt.Sprintf("%d:%02d:%02d", sec/3600, sec/60%60, sec%60)
}

// ParseMAC parses Cisco H.H.H notation into 6 bytes.
func ParseMAC(s string) ([6]byte, error) {
	var mac [6]byte
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return mac, fmt.Errorf("invalid MAC %q", s)
	}
	for i, p := range parts {
		if len(p) == 0 || len(p) > 4 {
			return mac, fmt.Errorf("invalid MAC %q", s)
		}
		n, err := strconv.ParseUint(p, 16, 16)
		if err != nil {
			return mac, fmt.Errorf("invalid MAC %q", s)
		}
		mac[2*i], mac[2*i+1] = byte(n>>8), byte(n)
	}
	return mac, nil
}

// FormatMAC prints 6 bytes as H.H.H with four hex digits each.
func FormatMAC(m [6]byte) string {
	return fmt.Sprintf("%02x%02x.%02x%02x.%02x%02x", m[0], m[1], m[2], m[3], m[4], m[5])
}

// LevelNumber turns a level token (number or abbreviated name) into 0..7.
func LevelNumber(tok string) int {
	if n, err := strconv.Atoi(tok); err == nil {
		return n
	}
	found := -1
	for i, l := range Levels {
		switch {
		case l == strings.ToLower(tok):
			return i
		case strings.HasPrefix(l, strings.ToLower(tok)):
			if found >= 0 {
				return -1 // ambiguous: "e" is emergencies or errors
			}
			found = i
		}
	}
	return found
}

// Default syslog ports of ASA's logging host: udp/514, tcp/1470.
const (
	SyslogUDPPort = 514
	SyslogTCPPort = 1470
)

// ParseProtoPort parses ASA's "tcp[/port]" or "udp[/port]"; a missing
// port is the protocol's default.
func ParseProtoPort(s string) (proto string, port int, err error) {
	p, num, hasPort := strings.Cut(strings.ToLower(s), "/")
	switch p {
	case "udp":
		port = SyslogUDPPort
	case "tcp":
		port = SyslogTCPPort
	default:
		return "", 0, fmt.Errorf("invalid protocol %q", s)
	}
	if hasPort {
		n, perr := strconv.Atoi(num)
		if perr != nil || n < 1 || n > 65535 || num[0] == '+' {
			return "", 0, fmt.Errorf("invalid port %q", s)
		}
		port = n
	}
	return p, port, nil
}
