package engine

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"time"

	"failover/engine/api"
	"failover/engine/config"
	"failover/engine/dataplane"
	"failover/grammar"
)

// showVersion prints ASA's layout, which inventory tools parse: "Version
// X", the "HOST up ..." line, "Hardware:" and "Serial Number:". It tells
// the truth about the box (a Linux machine), not an ASA model.
func (e *Engine) showVersion() string {
	up := e.clk.Now().Sub(e.started)
	var b strings.Builder
	fmt.Fprintf(&b, "failover Software Version %s (PIX 6.3 command dialect)\n", Version)
	fmt.Fprintf(&b, "Compiled with %s for %s/%s\n\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(&b, "%s up %s\n\n", e.cfg.Hostname, formatUptime(up))
	fmt.Fprintf(&b, "Hardware:   %s\n", e.hw)
	if len(e.cfg.Interfaces) > 0 {
		b.WriteString("\n")
	}
	for i, f := range e.cfg.Interfaces {
		l, ok := e.links[f.HW]
		mac := "unknown"
		if ok && len(l.MAC) == 6 {
			mac = grammar.FormatMAC([6]byte(l.MAC))
		}
		fmt.Fprintf(&b, " %d: %s: address is %s\n", i, f.HW, mac)
	}
	fmt.Fprintf(&b, "\nSerial Number: %s\n", e.hw.serial)
	return b.String()
}

// formatUptime prints ASA's uptime: the two largest units, singular when
// one ("1 day 3 hours", "2 hours 1 min", "5 mins 0 secs").
func formatUptime(d time.Duration) string {
	days := int(d.Hours()) / 24
	h := int(d.Hours()) % 24
	m := int(d.Minutes()) % 60
	s := int(d.Seconds()) % 60
	switch {
	case days > 0:
		return plural(days, "day") + " " + plural(h, "hour")
	case h > 0:
		return plural(h, "hour") + " " + plural(m, "min")
	}
	return plural(m, "min") + " " + plural(s, "sec")
}

func plural(n int, unit string) string {
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}

// showInterface prints PIX 6.3's interface status block for one or every
// configured interface.
func (e *Engine) showInterface(which string) api.Reply {
	var b strings.Builder
	found := false
	for _, f := range e.cfg.Interfaces {
		if which != "" && f.HW != which && f.Name != which {
			continue
		}
		found = true
		l, present := e.links[f.HW]
		name := f.Name
		if name == "" {
			name = "unassigned"
		}
		state, proto := "up", "up"
		switch {
		case !present:
			state, proto = "missing", "down"
		case f.Shutdown || !l.AdminUp:
			state, proto = "administratively down", "down"
		case !l.Carrier:
			proto = "down"
		}
		fmt.Fprintf(&b, "interface %s \"%s\" is %s, line protocol is %s\n", f.HW, name, state, proto)
		mac := "unknown"
		if len(l.MAC) == 6 {
			mac = grammar.FormatMAC([6]byte(l.MAC))
		}
		fmt.Fprintf(&b, "  Hardware is Linux, address is %s\n", mac)
		if a := e.currentAddr(f); a.IsValid() {
			fmt.Fprintf(&b, "  IP address %s, subnet mask %s\n", a.Addr(), grammar.MaskString(a.Bits()))
		} else {
			fmt.Fprintf(&b, "  IP address unassigned\n")
		}
		fmt.Fprintf(&b, "  MTU %d bytes, BW unknown\n", f.MTU)
		st := l.Stats
		fmt.Fprintf(&b, "        %d packets input, %d bytes, %d no buffer\n", st.RxPackets, st.RxBytes, st.RxDropped)
		fmt.Fprintf(&b, "        %d input errors\n", st.RxErrors)
		fmt.Fprintf(&b, "        %d packets output, %d bytes, %d underruns\n", st.TxPackets, st.TxBytes, st.TxDropped)
		fmt.Fprintf(&b, "        %d output errors\n", st.TxErrors)
	}
	if !found {
		if which == "" {
			return api.Reply{Output: "No interfaces configured\n"}
		}
		return api.Reply{Err: fmt.Sprintf("ERROR: interface %s not found", which)}
	}
	return api.Reply{Output: b.String()}
}

// showIPAddress prints the system and current address tables; on the
// standby unit the current addresses are the failover (standby) ones.
func (e *Engine) showIPAddress() string {
	var b strings.Builder
	b.WriteString("System IP Addresses:\n")
	for _, f := range e.cfg.NamedInterfaces() {
		if f.Addr.IsValid() {
			fmt.Fprintf(&b, "        ip address %s %s %s\n", f.Name, f.Addr.Addr(), grammar.MaskString(f.Addr.Bits()))
		}
	}
	b.WriteString("Current IP Addresses:\n")
	for _, f := range e.cfg.NamedInterfaces() {
		for _, a := range e.kernelAddrs(f) {
			fmt.Fprintf(&b, "        ip address %s %s %s\n", f.Name, a.Addr(), grammar.MaskString(a.Bits()))
		}
	}
	return b.String()
}

// currentAddr is the address this unit holds on f now, as the kernel
// has it: an address that expired or was removed is not shown.
func (e *Engine) currentAddr(f *config.Interface) netipPrefix {
	return e.heldAddr(f.HW)
}

// kernelAddrs are the addresses the kernel holds on f's link in f's
// configured subnet (system, standby, the LAN link's own), the one the
// unit wants there first: all of them, wanted or not, since an address
// the kernel still holds is answered for (the system address a killed
// daemon left on a box that now negotiates, say) and the operator must
// see it (loop only).
func (e *Engine) kernelAddrs(f *config.Interface) []netipPrefix {
	if e.dp == nil || !f.Addr.IsValid() {
		return nil
	}
	have, err := e.dp.Addrs(f.HW)
	if err != nil {
		return nil
	}
	subnet := f.Addr.Masked()
	var out []netipPrefix
	for _, h := range have {
		if h.Prefix.Bits() == subnet.Bits() && subnet.Contains(h.Prefix.Addr()) {
			out = append(out, h.Prefix)
		}
	}
	for _, a := range e.desiredAddrs() {
		if i := slices.Index(out, a.Prefix); a.Link == f.HW && i > 0 {
			out[0], out[i] = out[i], out[0]
		}
	}
	return out
}

// heldAddr is the address the kernel holds on link hw, of those
// kernelAddrs lists: the one the unit wants there, else whichever it
// holds (loop only).
func (e *Engine) heldAddr(hw string) netipPrefix {
	for _, f := range e.cfg.Interfaces {
		if f.HW == hw {
			if as := e.kernelAddrs(f); len(as) > 0 {
				return as[0]
			}
		}
	}
	return netipPrefix{}
}

var _ = dataplane.Proto
