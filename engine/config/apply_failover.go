package config

import (
	"net/netip"
	"time"

	"failover/grammar"
)

func setLanUnit(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	switch {
	case inv.Negated:
		c.Failover.Unit = ""
	case inv.Words["primary"]:
		c.Failover.Unit = "primary"
	default:
		c.Failover.Unit = "secondary"
	}
	return nil
}

// nameForASA handles the ASA forms "failover lan interface NAME HW" and
// "failover link NAME HW", which name the Linux interface in the same line.
func nameForASA(c *Config, inv *grammar.Invocation) (*Interface, error) {
	name, hw := inv.Str("if_name"), inv.Str("hardware_id")
	if hw == "" {
		return named(c, name)
	}
	if err := validHW(hw); err != nil {
		return nil, err
	}
	return nameHW(c, hw, name, 0, true)
}

func setLanInterface(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	if inv.Negated {
		c.Failover.LanIf = ""
		return nil
	}
	f, err := nameForASA(c, inv)
	if err != nil {
		return err
	}
	c.Failover.LanIf = f.Name
	return nil
}

// MaskedKey is how the key shows in show running-config. Parsing it back
// keeps the current key, so a displayed configuration re-applies cleanly
// without revealing the secret.
const MaskedKey = "********"

func setKey(c *Config, inv *grammar.Invocation, x *Ctx) error {
	if inv.Negated {
		c.Failover.Key = ""
		return nil
	}
	k := inv.Str("secret")
	if k == MaskedKey {
		if c.Failover.Key == "" {
			x.Warnings = append(x.Warnings, "WARNING: masked failover key ignored: no key is configured")
		}
		return nil
	}
	if len(k) < 1 || len(k) > 63 {
		return errf("failover key must be 1-63 characters")
	}
	c.Failover.Key = k
	return nil
}

func setStandby(f *Interface, ip string) error {
	a := netip.MustParseAddr(ip)
	if a.IsUnspecified() {
		f.StandbyIP = netip.Addr{}
		return nil
	}
	if f.Addr.IsValid() {
		if !f.Addr.Contains(a) {
			return errf("standby address %s is not in the subnet of interface %s (%s)", a, f.Name, f.Addr.Masked())
		}
		if f.Addr.Addr() == a {
			return errf("standby address %s is the same as the system address of interface %s", a, f.Name)
		}
	}
	f.StandbyIP = a
	return nil
}

func setFailoverIP(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	f, err := named(c, inv.Str("if_name"))
	if err != nil {
		return err
	}
	if inv.Negated {
		f.StandbyIP = netip.Addr{}
		return nil
	}
	return setStandby(f, inv.Str("ip_address"))
}

// setFailoverInterfaceIP is ASA's "failover interface ip NAME IP MASK
// standby IP": the system address as "ip address" sets it, plus the standby.
func setFailoverInterfaceIP(c *Config, inv *grammar.Invocation, x *Ctx) error {
	if inv.Negated {
		return setIPAddress(c, inv, x)
	}
	f, err := named(c, inv.Str("if_name"))
	if err != nil {
		return err
	}
	return setAddrStandby(c, f, inv.Str("ip_address"), inv.Str("mask"), inv.Str("standby_ip"))
}

func setLink(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	if inv.Negated {
		c.Failover.Link = ""
		return nil
	}
	f, err := nameForASA(c, inv)
	if err != nil {
		return err
	}
	c.Failover.Link = f.Name
	return nil
}

func setPoll(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	p := DefaultPoll
	if !inv.Negated {
		p = time.Duration(inv.Int("seconds")) * time.Second
	}
	c.Failover.Poll, c.Failover.Hold = p, 3*p
	c.Failover.PollMsec, c.Failover.HoldMsec = false, false
	return nil
}

// Poll and hold limits: ASA's, with this product's millisecond extension
// (poll down to 20 ms, hold down to 60 ms) documented in the README.
const (
	MinPollMsec = 20
	MinHoldMsec = 60
)

func setPolltime(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	if inv.Negated {
		c.Failover.Poll, c.Failover.Hold = DefaultPoll, 3*DefaultPoll
		c.Failover.PollMsec, c.Failover.HoldMsec = false, false
		return nil
	}
	n := inv.Int("time")
	var poll time.Duration
	if inv.Words["msec"] {
		if n < MinPollMsec || n > 999 {
			return errf("poll time must be %d-999 milliseconds", MinPollMsec)
		}
		poll = time.Duration(n) * time.Millisecond
	} else {
		if n < 1 || n > 15 {
			return errf("poll time must be 1-15 seconds")
		}
		poll = time.Duration(n) * time.Second
	}
	hold := 3 * poll
	holdMsec := inv.Words["msec"]
	if inv.Has("hold") {
		m := inv.Int("hold")
		holdMsec = inv.Words["hmsec"]
		if holdMsec {
			if m < MinHoldMsec || m > 999 {
				return errf("hold time must be %d-999 milliseconds", MinHoldMsec)
			}
			hold = time.Duration(m) * time.Millisecond
		} else {
			if m < 1 || m > 45 {
				return errf("hold time must be 1-45 seconds")
			}
			hold = time.Duration(m) * time.Second
		}
	} else if hold >= time.Second && hold%time.Second == 0 {
		holdMsec = false
	}
	if hold < 3*poll {
		return errf("hold time (%v) must be at least 3 times the poll time (%v)", hold, poll)
	}
	c.Failover.Poll, c.Failover.Hold = poll, hold
	c.Failover.PollMsec, c.Failover.HoldMsec = inv.Words["msec"], holdMsec
	return nil
}

func setIfPolltime(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	if inv.Negated {
		c.Failover.IfPoll, c.Failover.IfHold, c.Failover.IfPollMsec = DefaultIfPoll, DefaultIfHold, false
		return nil
	}
	n := inv.Int("iftime")
	var poll time.Duration
	if inv.Words["msec"] {
		if n < 500 || n > 999 {
			return errf("interface poll time must be 500-999 milliseconds")
		}
		poll = time.Duration(n) * time.Millisecond
	} else {
		if n > 15 {
			return errf("interface poll time must be 1-15 seconds")
		}
		poll = time.Duration(n) * time.Second
	}
	hold := 5 * poll
	if inv.Has("ifhold") {
		hold = time.Duration(inv.Int("ifhold")) * time.Second
	}
	if hold < 5*time.Second {
		hold = 5 * time.Second
	}
	if hold < 3*poll {
		return errf("interface hold time (%v) must be at least 3 times the poll time (%v)", hold, poll)
	}
	c.Failover.IfPoll, c.Failover.IfHold, c.Failover.IfPollMsec = poll, hold, inv.Words["msec"]
	return nil
}

func setMonitor(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	f, err := named(c, inv.Str("if_name"))
	if err != nil {
		return err
	}
	f.NoMonitor = inv.Negated
	return nil
}

func setPolicy(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	if inv.Negated {
		c.Failover.Policy, c.Failover.PolicyPercent = 1, false
		return nil
	}
	c.Failover.Policy = inv.Int("policy")
	c.Failover.PolicyPercent = len(inv.Str("policy")) > 0 && inv.Str("policy")[len(inv.Str("policy"))-1] == '%'
	if !c.Failover.PolicyPercent && c.Failover.Policy > 250 {
		return errf("interface policy must be 1-250 interfaces or 1-100%%")
	}
	return nil
}

func setMAC(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	f, err := named(c, inv.Str("if_name"))
	if err != nil {
		return err
	}
	if inv.Negated {
		f.HasMAC, f.ActiveMAC, f.StandbyMAC = false, [6]byte{}, [6]byte{}
		return nil
	}
	a, _ := grammar.ParseMAC(inv.Str("active_mac"))
	s, _ := grammar.ParseMAC(inv.Str("standby_mac"))
	for _, m := range [][6]byte{a, s} {
		if m[0]&1 == 1 || m == ([6]byte{}) {
			return errf("MAC address %s must be a unicast, non-zero address", grammar.FormatMAC(m))
		}
	}
	if a == s {
		return errf("active and standby MAC addresses must differ")
	}
	f.HasMAC, f.ActiveMAC, f.StandbyMAC = true, a, s
	return nil
}

func setTimeout(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	c.Failover.Timeout = 0
	if !inv.Negated {
		c.Failover.Timeout, _ = grammar.ParseHMS(inv.Str("hh:mm:ss"))
	}
	return nil
}

func setPreempt(c *Config, inv *grammar.Invocation, _ *Ctx) error {
	c.Failover.Preempt, c.Failover.PreemptDelay = !inv.Negated, 0
	if !inv.Negated {
		c.Failover.PreemptDelay = inv.Int("seconds")
	}
	return nil
}
