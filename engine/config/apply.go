package config

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
	"strings"

	"failover/grammar"
)

// Ctx is the session context a configuration command runs in: the mode
// and the object a sub-mode edits (the SLA, track or interface). A handler
// sets Next* to move the session into a sub-mode.
type Ctx struct {
	Mode     grammar.Mode
	Obj      string
	NextMode grammar.Mode
	NextObj  string
	Warnings []string
}

type handler func(c *Config, inv *grammar.Invocation, x *Ctx) error

// IsConfigCommand reports whether a declaration is a configuration command
// handled here (as opposed to an EXEC action the engine performs).
func IsConfigCommand(d *grammar.Decl) bool {
	_, ok := handlers[d]
	return ok
}

// Apply runs one configuration command against a copy of c and returns the
// new configuration; on error c is untouched and nothing is returned.
func Apply(c *Config, inv *grammar.Invocation, x *Ctx) (*Config, error) {
	n := c.Clone()
	if err := Change(n, inv, x); err != nil {
		return nil, err
	}
	return n, nil
}

// Change runs one configuration command on c itself, so that a batch of
// lines costs one copy, not one per line. On error c is unchanged: every
// handler checks everything before it changes anything (atomic_test.go
// holds them to it).
func Change(c *Config, inv *grammar.Invocation, x *Ctx) error {
	h, ok := handlers[inv.Decl]
	if !ok {
		return fmt.Errorf("command %s is not a configuration command", inv.Decl.ID)
	}
	x.Obj = ObjFor(x.Mode, x.Obj, inv.Mode)
	x.NextMode, x.NextObj = inv.Mode, x.Obj
	return h(c, inv, x)
}

// ObjFor is the sub-mode object in force for a command that matched in
// mode m while the session is in cur with obj: a command matched in a
// parent mode leaves the sub-mode's object behind, except that the echo
// sub-mode's parent edits the same SLA.
func ObjFor(cur grammar.Mode, obj string, m grammar.Mode) string {
	if m == cur || (cur == grammar.ModeSLAEcho && m == grammar.ModeSLA) {
		return obj
	}
	return ""
}

var errf = fmt.Errorf

var handlers map[*grammar.Decl]handler

// flag is the handler of an on/off command: the command sets it, its "no"
// form clears it.
func flag(field func(c *Config) *bool) handler {
	return func(c *Config, inv *grammar.Invocation, _ *Ctx) error {
		*field(c) = !inv.Negated
		return nil
	}
}

func init() {
	handlers = map[*grammar.Decl]handler{
		grammar.HostnameCmd:                  setHostname,
		grammar.EnablePasswordCmd:            setEnablePassword,
		grammar.InterfaceCmd:                 setInterface,
		grammar.NameifCmd:                    setNameif,
		grammar.IPAddressCmd:                 setIPAddress,
		grammar.MTUCmd:                       setMTU,
		grammar.PagerCmd:                     setPager,
		grammar.LoggingOnCmd:                 flag(func(c *Config) *bool { return &c.Logging.On }),
		grammar.LoggingHostCmd:               setLoggingHost,
		grammar.LoggingTimestampCmd:          flag(func(c *Config) *bool { return &c.Logging.Timestamp }),
		grammar.LoggingTrapCmd:               func(c *Config, inv *grammar.Invocation, _ *Ctx) error { return setLevel(&c.Logging.Trap, inv) },
		grammar.LoggingBufferedCmd:           func(c *Config, inv *grammar.Invocation, _ *Ctx) error { return setLevel(&c.Logging.Buffered, inv) },
		grammar.LoggingConsoleCmd:            func(c *Config, inv *grammar.Invocation, _ *Ctx) error { return setLevel(&c.Logging.Console, inv) },
		grammar.NamesCmd:                     flag(func(c *Config) *bool { return &c.Names }),
		grammar.NameCmd:                      setName,
		grammar.PromptCmd:                    setPrompt,
		grammar.IfNameifCmd:                  ifNameif,
		grammar.IfSecurityCmd:                ifSecurity,
		grammar.IfIPAddressCmd:               ifIPAddress,
		grammar.IfShutdownCmd:                ifShutdown,
		grammar.FailoverCmd:                  flag(func(c *Config) *bool { return &c.Failover.Enabled }),
		grammar.FailoverLanUnitCmd:           setLanUnit,
		grammar.FailoverLanInterfaceCmd:      setLanInterface,
		grammar.FailoverLanKeyCmd:            setKey,
		grammar.FailoverKeyCmd:               setKey,
		grammar.FailoverLanEnableCmd:         flag(func(c *Config) *bool { return &c.Failover.LanEnable }),
		grammar.FailoverIPCmd:                setFailoverIP,
		grammar.FailoverInterfaceIPCmd:       setFailoverInterfaceIP,
		grammar.FailoverLinkCmd:              setLink,
		grammar.FailoverPollCmd:              setPoll,
		grammar.FailoverPolltimeCmd:          setPolltime,
		grammar.FailoverPolltimeInterfaceCmd: setIfPolltime,
		grammar.MonitorInterfaceCmd:          setMonitor,
		grammar.FailoverInterfacePolicyCmd:   setPolicy,
		grammar.FailoverMacCmd:               setMAC,
		grammar.FailoverTimeoutCmd:           setTimeout,
		grammar.FailoverReplicateHTTPCmd:     flag(func(c *Config) *bool { return &c.Failover.ReplicateHTTP }),
		grammar.FailoverPreemptCmd:           setPreempt,
		grammar.SLAMonitorCmd:                setSLA,
		grammar.SLAScheduleCmd:               setSchedule,
		grammar.SLATypeEchoCmd:               slaTypeEcho,
		grammar.SLANumPacketsCmd:             slaField,
		grammar.SLATimeoutCmd:                slaField,
		grammar.SLAThresholdCmd:              slaField,
		grammar.SLAFrequencyCmd:              slaField,
		grammar.SLATosCmd:                    slaField,
		grammar.SLADataSizeCmd:               slaField,
		grammar.TrackRtrCmd:                  setTrack,
		grammar.TrackListCmd:                 setTrack,
		grammar.TrackDelayCmd:                trackDelay,
		grammar.TrackObjectCmd:               trackObject,
		grammar.RouteCmd:                     setRoute,
	}
}

func setHostname(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	if inv.Negated {
		c.Hostname = DefaultHostname
		return nil
	}
	n := inv.Str("name")
	if len(n) > 63 || !(n[0] >= 'a' && n[0] <= 'z' || n[0] >= 'A' && n[0] <= 'Z') || strings.Trim(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-") != "" {
		return errf("hostname must start with a letter and contain only letters, digits and hyphens (up to 63 characters)")
	}
	c.Hostname = n
	return nil
}

func setEnablePassword(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	if inv.Negated {
		c.EnableHash = ""
		return nil
	}
	pw := inv.Str("password")
	if inv.Words["encrypted"] {
		if !ValidHash(pw) {
			return errf("invalid encrypted password: expected a hash printed by show running-config")
		}
		c.EnableHash = pw
		return nil
	}
	if len(pw) > 32 {
		return errf("password must be at most 32 characters")
	}
	h, err := HashPassword(pw)
	if err != nil {
		return err
	}
	c.EnableHash = h
	return nil
}

func setInterface(c *Config, inv *grammar.Invocation, x *Ctx) error {
	hw := inv.Str("hardware_id")
	if err := validHW(hw); err != nil {
		return err
	}
	f := c.ensureIf(hw)
	speed := ""
	for _, w := range Speeds {
		if inv.Words[w] {
			speed = w
		}
	}
	switch {
	case inv.Words["shutdown"]:
		f.Shutdown = true
	case speed != "":
		// PIX speed and duplex words are kept for the running-config; the
		// kernel driver negotiates the link itself.
		f.Shutdown = false
		if speed != "auto" {
			f.Speed = speed
		} else {
			f.Speed = ""
		}
	default:
		// ASA form: "interface HW" opens the interface sub-mode.
		x.NextMode, x.NextObj = grammar.ModeIf, hw
	}
	return nil
}

// Speeds are the PIX 6.3 speed/duplex words of the interface command.
var Speeds = []string{"auto", "10baset", "10full", "100basetx", "100full", "1000auto", "1000full"}

func validHW(hw string) error {
	if len(hw) > 15 || strings.ContainsAny(hw, "/ ") {
		return errf("invalid interface %q: a Linux interface name has at most 15 characters and no '/'", hw)
	}
	return nil
}

func setNameif(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	hw := inv.Str("hardware_id")
	if err := validHW(hw); err != nil {
		return err
	}
	if inv.Negated {
		f := c.IfByHW(hw)
		if f == nil || f.Name == "" {
			return nil
		}
		return rename(c, f, "")
	}
	sec, _ := strconv.Atoi(strings.TrimPrefix(inv.Str("security_level"), "security"))
	_, err := nameHW(c, hw, inv.Str("if_name"), sec, false)
	return err
}

// nameHW names the interface hw (creating it), unless keepSec and it has
// that name already; sec is its security level, or the current one with
// keepSec. A refused name leaves no new interface behind.
func nameHW(c *Config, hw, name string, sec int, keepSec bool) (*Interface, error) {
	f := c.IfByHW(hw)
	isNew := f == nil
	if isNew {
		f = &Interface{HW: hw, MTU: DefaultMTU}
	}
	if keepSec {
		if f.Name == name {
			return f, nil
		}
		sec = f.Security
	}
	if err := nameIf(c, f, name, sec); err != nil {
		return nil, err
	}
	if isNew {
		c.Interfaces = append(c.Interfaces, f)
	}
	return f, nil
}

func nameIf(c *Config, f *Interface, name string, sec int) error {
	if err := validIfName(name); err != nil {
		return err
	}
	if o := c.IfByName(name); o != nil && o != f {
		return errf("name %q is already used by interface %s", name, o.HW)
	}
	if err := rename(c, f, name); err != nil {
		return err
	}
	f.Security = sec
	return nil
}

func validIfName(n string) error {
	if len(n) > 48 || strings.Trim(n, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") != "" {
		return errf("invalid interface name %q: letters, digits, '-', '_' and '.' only, up to 48 characters", n)
	}
	if _, err := netip.ParseAddr(n); err == nil {
		return errf("invalid interface name %q: looks like an address", n)
	}
	return nil
}

// rename changes an interface's nameif. Other lines refer to interfaces by
// name, so a rename of a referenced interface is refused rather than
// leaving dangling references.
func rename(c *Config, f *Interface, name string) error {
	if f.Name == name || f.Name == "" {
		f.Name = name
		return nil
	}
	if users := c.users(f.Name); len(users) > 0 {
		return errf("interface %s is in use by %s; remove that first", f.Name, strings.Join(users, ", "))
	}
	f.Name = name
	if name == "" {
		f.Addr, f.StandbyIP, f.HasMAC, f.NoMonitor = netip.Prefix{}, netip.Addr{}, false, false
	}
	return nil
}

func (c *Config) users(name string) []string {
	var u []string
	for _, r := range c.Routes {
		if r.If == name {
			u = append(u, "route "+r.Dst.String())
		}
	}
	for _, s := range c.SLAs {
		if s.If == name {
			u = append(u, "sla monitor "+strconv.Itoa(s.ID))
		}
	}
	if c.Failover.LanIf == name {
		u = append(u, "failover lan interface")
	}
	if c.Failover.Link == name {
		u = append(u, "failover link")
	}
	for _, h := range c.Logging.Hosts {
		if h.If == name {
			u = append(u, "logging host")
		}
	}
	slices.Sort(u)
	return u
}

func named(c *Config, name string) (*Interface, error) {
	f := c.IfByName(name)
	if f == nil {
		return nil, errf("interface %q not found: name it first with nameif", name)
	}
	return f, nil
}

func setIPAddress(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	f, err := named(c, inv.Str("if_name"))
	if err != nil {
		return err
	}
	if inv.Negated {
		f.Addr, f.StandbyIP = netip.Prefix{}, netip.Addr{}
		return nil
	}
	return setAddr(c, f, inv.Str("ip_address"), inv.Str("mask"))
}

func setAddr(c *Config, f *Interface, ip, mask string) error {
	a := netip.MustParseAddr(ip)
	bits, err := grammar.ParseMask(mask)
	if err != nil {
		return err
	}
	if bits == 0 || a.IsUnspecified() || a.IsMulticast() || a.IsLoopback() {
		return errf("invalid address %s %s for interface %s", ip, mask, f.Name)
	}
	p := netip.PrefixFrom(a, bits)
	if bits < 31 && (a == p.Masked().Addr() || a == lastAddr(p)) {
		return errf("address %s is the network or broadcast address of %s", ip, p.Masked())
	}
	for _, o := range c.Interfaces {
		if o != f && o.Addr.IsValid() && o.Addr.Overlaps(p) {
			return errf("address %s %s overlaps with interface %s (%s)", ip, mask, o.Name, o.Addr.Masked())
		}
	}
	if f.StandbyIP.IsValid() && (!p.Contains(f.StandbyIP) || f.StandbyIP == a) {
		f.StandbyIP = netip.Addr{}
	}
	f.Addr = p
	return nil
}

func lastAddr(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

func setMTU(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	f, err := named(c, inv.Str("if_name"))
	if err != nil {
		return err
	}
	if inv.Negated {
		f.MTU = DefaultMTU
		return nil
	}
	f.MTU = inv.Int("bytes")
	return nil
}

func setPager(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	switch {
	case inv.Negated:
		c.PagerLines = 0
	case inv.Has("lines"):
		c.PagerLines = inv.Int("lines")
	default:
		c.PagerLines = DefaultPager
	}
	return nil
}

func setLoggingHost(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	h := LogHost{If: inv.Str("if_name"), IP: netip.MustParseAddr(inv.Str("ip_address")), Proto: "udp", Port: grammar.SyslogUDPPort}
	if inv.Has("protocol") {
		h.Proto, h.Port, _ = grammar.ParseProtoPort(inv.Str("protocol"))
	}
	// One target per interface and address: a new protocol replaces it.
	i := slices.IndexFunc(c.Logging.Hosts, func(o LogHost) bool { return o.If == h.If && o.IP == h.IP })
	if inv.Negated {
		if i >= 0 {
			c.Logging.Hosts = slices.Delete(c.Logging.Hosts, i, i+1)
		}
		return nil
	}
	if _, err := named(c, h.If); err != nil {
		return err
	}
	if i < 0 {
		c.Logging.Hosts = append(c.Logging.Hosts, h)
	} else {
		c.Logging.Hosts[i] = h
	}
	return nil
}

func setLevel(dst *int, inv *grammar.Invocation) error {
	if inv.Negated {
		*dst = -1
		return nil
	}
	*dst = grammar.LevelNumber(inv.Str("level"))
	return nil
}

func setName(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	ip := netip.MustParseAddr(inv.Str("ip_address"))
	c.Aliases = slices.DeleteFunc(c.Aliases, func(a Alias) bool { return a.IP == ip })
	if inv.Negated {
		return nil
	}
	if err := validIfName(inv.Str("name")); err != nil {
		return errf("invalid name %q", inv.Str("name"))
	}
	c.Aliases = append(c.Aliases, Alias{IP: ip, Name: inv.Str("name")})
	return nil
}

func setPrompt(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	c.Prompt = nil
	if inv.Negated {
		return nil
	}
	for _, w := range []string{"hostname", "priority", "state"} {
		if inv.Words[w] {
			c.Prompt = append(c.Prompt, w)
		}
	}
	if len(c.Prompt) == 1 {
		c.Prompt = nil // hostname alone is the default
	}
	return nil
}

// subIf is the interface an ASA interface sub-mode command edits.
func subIf(c *Config, x *Ctx) (*Interface, error) {
	f := c.IfByHW(x.Obj)
	if f == nil {
		return nil, errors.New("no interface selected")
	}
	return f, nil
}

func ifNameif(c *Config, inv *grammar.Invocation, x *Ctx) error {
	f, err := subIf(c, x)
	if err != nil {
		return err
	}
	if inv.Negated {
		return rename(c, f, "")
	}
	sec := f.Security
	if f.Name == "" && f.HW == "inside" {
		sec = 100 // ASA: an interface named "inside" defaults to security 100
	}
	return nameIf(c, f, inv.Str("if_name"), sec)
}

func ifSecurity(c *Config, inv *grammar.Invocation, x *Ctx) error {
	f, err := subIf(c, x)
	if err != nil {
		return err
	}
	f.Security = 0
	if !inv.Negated {
		f.Security = inv.Int("level")
	}
	return nil
}

func ifIPAddress(c *Config, inv *grammar.Invocation, x *Ctx) error {
	f, err := subIf(c, x)
	if err != nil {
		return err
	}
	if f.Name == "" {
		return errf("interface %s has no name: give it one with nameif first", f.HW)
	}
	if inv.Negated {
		f.Addr, f.StandbyIP = netip.Prefix{}, netip.Addr{}
		return nil
	}
	return setAddrStandby(c, f, inv.Str("ip_address"), inv.Str("mask"), inv.Str("standby_ip"))
}

// setAddrStandby sets the system address and, unless standby is "", the
// standby address: both or neither.
func setAddrStandby(c *Config, f *Interface, ip, mask, standby string) error {
	old := *f
	err := setAddr(c, f, ip, mask)
	if err == nil && standby != "" {
		err = setStandby(f, standby)
	}
	if err != nil {
		*f = old
	}
	return err
}

func ifShutdown(c *Config, inv *grammar.Invocation, x *Ctx) error {
	f, err := subIf(c, x)
	if err != nil {
		return err
	}
	f.Shutdown = !inv.Negated
	return nil
}
