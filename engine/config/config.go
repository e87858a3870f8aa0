// Package config is the engine's configuration model: commands parsed by
// the grammar are validated and applied to a copy of the configuration
// (so a rejected line changes nothing), and the configuration renders back
// to lines in PIX 6.3 order through the same declarations.
package config

import (
	"fmt"
	"net/netip"
	"slices"
	"time"

	"failover/grammar"
)

// Config is the whole running configuration. It is a value owned by the
// engine's event loop; Clone gives a deep copy to modify.
type Config struct {
	Hostname   string
	EnableHash string
	Interfaces []*Interface // in the order they were first configured
	Names      bool
	Aliases    []Alias
	PagerLines int // 0: no pager
	Logging    Logging
	Failover   Failover
	SLAs       map[int]*SLA
	Tracks     map[int]*Track
	Routes     []Route
	Prompt     []string // subset of hostname, priority, state; nil = hostname
}

// Interface is one Linux interface under the product's control.
type Interface struct {
	HW                    string
	Name                  string // nameif; "" = not named
	Security              int
	Shutdown              bool
	Speed                 string       // PIX speed/duplex keyword, kept and shown; "" = auto
	Addr                  netip.Prefix // system (active unit) address; invalid = none
	StandbyIP             netip.Addr   // failover ip address; invalid = 0.0.0.0
	MTU                   int
	NoMonitor             bool
	ActiveMAC, StandbyMAC [6]byte
	HasMAC                bool
}

// Alias is a "name" line.
type Alias struct {
	IP   netip.Addr
	Name string
}

// Logging is the syslog configuration. Levels are 0-7, -1 = off.
type Logging struct {
	On        bool
	Timestamp bool
	Trap      int
	Buffered  int
	Console   int
	Hosts     []LogHost
}

// LogHost is a "logging host" target.
type LogHost struct {
	If    string
	IP    netip.Addr
	Proto string // "udp" or "tcp"
	Port  int
}

// Failover is the unit-failover configuration.
type Failover struct {
	Enabled        bool
	Timeout        int // reconnect timeout, seconds
	Poll, Hold     time.Duration
	PollMsec       bool // configured in milliseconds (rendering)
	HoldMsec       bool
	IfPoll, IfHold time.Duration
	IfPollMsec     bool
	Unit           string // "", primary, secondary
	LanIf          string
	Key            string
	LanEnable      bool
	Link           string
	Policy         int
	PolicyPercent  bool
	ReplicateHTTP  bool
	Preempt        bool
	PreemptDelay   int
}

// SLA is an "sla monitor" operation.
type SLA struct {
	ID           int
	Typed        bool // type echo configured
	Target       string
	If           string
	NumPackets   int
	Timeout      int // ms; 0 = not set (effective: min(5000, frequency))
	Threshold    int // ms; 0 = not set (effective: min(5000, timeout))
	Frequency    int // ms
	FreqMsec     bool
	TOS          int
	DataSize     int
	Scheduled    bool
	Life         int // seconds, -1 = forever
	StartPending bool
	StartAfter   int // seconds
}

// Track is a "track" object.
type Track struct {
	ID        int
	SLA       int    // rtr tracks
	List      string // "", "or", "and"
	Objects   []int
	DelayDown int
	DelayUp   int
}

// Route is a static (possibly tracked) route.
type Route struct {
	If       string
	Dst      netip.Prefix
	Gw       netip.Addr
	Distance int
	Track    int // 0 = untracked
}

// Defaults as PIX 6.3 and ASA document them.
const (
	DefaultHostname   = "pixfirewall"
	DefaultPager      = 24
	DefaultMTU        = 1500
	DefaultPoll       = 15 * time.Second
	DefaultIfPoll     = 5 * time.Second
	DefaultIfHold     = 25 * time.Second
	DefaultSLATimeout = 5000
	DefaultThreshold  = 5000
	DefaultFrequency  = 60000
	DefaultDataSize   = 28
)

// New returns the factory-default configuration.
func New() *Config {
	return &Config{
		Hostname:   DefaultHostname,
		PagerLines: DefaultPager,
		Logging:    Logging{Trap: -1, Buffered: -1, Console: -1},
		Failover: Failover{
			Poll: DefaultPoll, Hold: 3 * DefaultPoll,
			IfPoll: DefaultIfPoll, IfHold: DefaultIfHold,
			Policy: 1,
		},
		SLAs:   map[int]*SLA{},
		Tracks: map[int]*Track{},
	}
}

// Clone returns a deep copy.
func (c *Config) Clone() *Config {
	n := *c
	n.Interfaces = make([]*Interface, len(c.Interfaces))
	for i, f := range c.Interfaces {
		cp := *f
		n.Interfaces[i] = &cp
	}
	n.Aliases = slices.Clone(c.Aliases)
	n.Logging.Hosts = slices.Clone(c.Logging.Hosts)
	n.SLAs = make(map[int]*SLA, len(c.SLAs))
	for k, s := range c.SLAs {
		cp := *s
		n.SLAs[k] = &cp
	}
	n.Tracks = make(map[int]*Track, len(c.Tracks))
	for k, t := range c.Tracks {
		cp := *t
		cp.Objects = slices.Clone(t.Objects)
		n.Tracks[k] = &cp
	}
	n.Routes = slices.Clone(c.Routes)
	n.Prompt = slices.Clone(c.Prompt)
	return &n
}

// IfByName finds a named interface.
func (c *Config) IfByName(name string) *Interface {
	for _, f := range c.Interfaces {
		if f.Name != "" && f.Name == name {
			return f
		}
	}
	return nil
}

// IfByHW finds an interface by its Linux name.
func (c *Config) IfByHW(hw string) *Interface {
	for _, f := range c.Interfaces {
		if f.HW == hw {
			return f
		}
	}
	return nil
}

// ensureIf returns the interface with that hardware name, creating it.
func (c *Config) ensureIf(hw string) *Interface {
	if f := c.IfByHW(hw); f != nil {
		return f
	}
	f := &Interface{HW: hw, MTU: DefaultMTU}
	c.Interfaces = append(c.Interfaces, f)
	return f
}

// NamedInterfaces returns the interfaces that have a nameif, in order.
func (c *Config) NamedInterfaces() []*Interface {
	var out []*Interface
	for _, f := range c.Interfaces {
		if f.Name != "" {
			out = append(out, f)
		}
	}
	return out
}

// IfNames lists the nameif names (for Tab completion).
func (c *Config) IfNames() []string {
	var out []string
	for _, f := range c.NamedInterfaces() {
		out = append(out, f.Name)
	}
	return out
}

// EffTimeout is the SLA timeout in force.
func (s *SLA) EffTimeout() int {
	if s.Timeout > 0 {
		return s.Timeout
	}
	return min(DefaultSLATimeout, s.Frequency)
}

// EffThreshold is the SLA threshold in force.
func (s *SLA) EffThreshold() int {
	if s.Threshold > 0 {
		return s.Threshold
	}
	return min(DefaultThreshold, s.EffTimeout())
}

// ProtoPort is the "tcp/1470" of a logging host line: empty for the
// default udp/514, so that PIX lines keep their form.
func (h LogHost) ProtoPort() string {
	if h.Proto == "" || h.Proto == "udp" && h.Port == grammar.SyslogUDPPort {
		return ""
	}
	return fmt.Sprintf("%s/%d", h.Proto, h.Port)
}
