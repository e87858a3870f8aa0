package unit

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"failover/engine/wire"

	"failover/grammar"
)

// ShowFailover renders `show failover` in the PIX 6.3 layout:
// eight spaces before This host/Other host, sixteen before the lines
// under them, no trailing spaces, every line ending in a newline.
func (u *Unit) ShowFailover() string {
	var b strings.Builder
	if !u.participating() {
		fmt.Fprintf(&b, "Failover Off\nCable status: Normal\nReconnect timeout %s\n", grammar.FormatHMS(max(u.fo.Timeout, 0)))
		return b.String()
	}
	v := u.look()
	b.WriteString("Failover On\n")
	fmt.Fprintf(&b, "Cable status: %s\n", u.cableStatus(v))
	if lan := u.lanIf(); lan != nil {
		updown := "down"
		if lan.adminUp && lan.carrier {
			updown = "up"
		}
		fmt.Fprintf(&b, "Failover LAN Interface: %s %s (%s)\n", lan.cfg.Name, lan.cfg.HW, updown)
	}
	fmt.Fprintf(&b, "Reconnect timeout %s\n", grammar.FormatHMS(max(u.fo.Timeout, 0)))
	fmt.Fprintf(&b, "Unit Poll frequency %s, holdtime %s\n", durWords(u.fo.Poll, u.fo.PollMsec), durWords(u.fo.Hold, u.fo.HoldMsec || u.fo.PollMsec))
	fmt.Fprintf(&b, "Interface Poll frequency %s, holdtime %s\n", durWords(u.fo.IfPoll, u.fo.IfPollMsec), durWords(u.fo.IfHold, false))
	if !u.lastFailover.IsZero() {
		fmt.Fprintf(&b, "Last Failover at: %s\n", u.lastFailover.UTC().Format("15:04:05 MST Jan 2 2006"))
	}
	if v.conflict {
		fmt.Fprintf(&b, "Unit role conflict: both units are configured as %s\n", roleWord(u.role))
	}

	fmt.Fprintf(&b, "        This host: %s - %s\n", roleWord(u.role), u.state)
	fmt.Fprintf(&b, "                Active time: %d (sec)\n", int64(u.activeTime()/time.Second))
	for _, l := range u.ownIfLines() {
		fmt.Fprintf(&b, "                Interface %s (%s): %s\n", l.f.cfg.Name, addrText(l.addr), l.word)
	}
	mateRole, mateState := u.mateHeadline(v, mateHelloWord)
	fmt.Fprintf(&b, "        Other host: %s - %s\n", roleWord(mateRole), mateState)
	fmt.Fprintf(&b, "                Active time: %d (sec)\n", int64(u.mateActiveTime(v)/time.Second))
	for _, l := range u.mateIfLines(v) {
		fmt.Fprintf(&b, "                Interface %s (%s): %s\n", l.f.cfg.Name, addrText(l.addr), l.word)
	}

	b.WriteString("\nStateful Failover Logical Update Statistics\n")
	if u.fo.Link == "" {
		b.WriteString("        Link : Unconfigured.\n")
		return b.String()
	}
	fmt.Fprintf(&b, "        Link : %s\n", u.fo.Link)
	fmt.Fprintf(&b, "        %-16s%-11s%-11s%-11s%s\n", "Stateful Obj", "xmit", "xerr", "rcv", "rerr")
	s := u.stats
	recvQ, xmitQ := [3]uint64{s.recvCur, s.recvMax, s.recvTotal}, [3]uint64{0, s.xmitMax, s.xmitTotal}
	if u.o.Transport != nil {
		recvQ[0] = uint64(len(u.o.Transport.Recv()))
	}
	if u.o.StateSync != nil {
		// The objects and queues of connection replication: records
		// waiting for the kernel, records sent and not yet acknowledged.
		st := u.o.StateSync.Stats()
		c := func(r [4]uint64) counter { return counter{r[0], r[1], r[2], r[3]} }
		s.xlate, s.tcpConn, s.udpConn, s.arp = c(st.Xlate), c(st.TCPConn), c(st.UDPConn), c(st.ARP)
		recvQ, xmitQ = st.RecvQ, st.XmitQ
	}
	for _, r := range []struct {
		name string
		c    counter
	}{
		{"General", s.general}, {"sys cmd", s.sysCmd}, {"up time", s.upTime}, {"xlate", s.xlate},
		{"tcp conn", s.tcpConn}, {"udp conn", s.udpConn}, {"ARP tbl", s.arp}, {"RIP Tbl", s.rip},
	} {
		fmt.Fprintf(&b, "        %-16s%-11d%-11d%-11d%d\n", r.name, r.c.xmit, r.c.xerr, r.c.rcv, r.c.rerr)
	}
	b.WriteString("\n        Logical Update Queue Information\n")
	fmt.Fprintf(&b, "                        %-8s%-8s%s\n", "Cur", "Max", "Total")
	fmt.Fprintf(&b, "        %-16s%-8d%-8d%d\n", "Recv Q:", recvQ[0], recvQ[1], recvQ[2])
	fmt.Fprintf(&b, "        %-16s%-8d%-8d%d\n", "Xmit Q:", xmitQ[0], xmitQ[1], xmitQ[2])
	return b.String()
}

// ifLine is one interface line under This host or Other host.
type ifLine struct {
	f    *ifc
	addr netip.Addr
	st   wire.IfStatus
	word string
}

// ownIfLines are our interfaces as `show failover` lists them: the LAN
// interface first, each with the address it holds now.
func (u *Unit) ownIfLines() []ifLine {
	var out []ifLine
	for _, f := range u.ifs {
		st := u.ifStatus(f)
		word := ifStatusWord(st)
		if !f.lan && !f.stateLink && !f.monitored && word == "Normal" {
			word = "Normal (Not-Monitored)"
		}
		out = append(out, ifLine{f: f, addr: u.heldAddr(f, u.state).Addr(), st: st, word: word})
	}
	return out
}

// mateHeadline is the mate's role and state word (word maps a state the
// mate announced), "Not Detected" when it is not heard.
func (u *Unit) mateHeadline(v facts, word func(wire.Hello) string) (wire.Role, string) {
	role, state := otherRole(u.role), "Not Detected"
	if u.mate.heard {
		role = u.mate.role
	}
	if v.lanFresh || (u.mate.heard && v.dataHeard) {
		state = word(u.mate.hello)
	}
	return role, state
}

// mateActiveTime is the mate's active time: what its last hello said,
// counted on since then while it was active and is still heard (only the
// LAN link, which carries the hellos, may have failed: it goes on
// serving). A mate heard nowhere stopped where its last hello left it.
func (u *Unit) mateActiveTime(v facts) time.Duration {
	d := time.Duration(u.mate.hello.ActiveTime) * time.Second
	if u.mate.hello.State == wire.UnitActive && (v.lanFresh || (u.mate.heard && v.dataHeard)) {
		d += u.o.Clock.Now().Sub(u.mate.lastLAN)
	}
	return d
}

// mateIfLines are the mate's interfaces, as it announced them while its
// news is fresh.
func (u *Unit) mateIfLines(v facts) []ifLine {
	var out []ifLine
	for _, f := range u.ifs {
		addr, status := netip.Addr{}, wire.IfUnknown
		for _, e := range u.mate.hello.Interfaces {
			if e.Name == f.cfg.Name {
				addr = e.Addr
				if v.lanFresh {
					status = e.Status
				}
			}
		}
		if !v.lanFresh && u.mate.heard && (!addr.IsValid() || addr == u.heldAddr(f, u.state).Addr()) {
			// The mate's news is old, and we may hold what it announced
			// (we took over): show the address its role has beside ours.
			addr = u.mateRoleAddr(f)
		}
		if !v.lanFresh && !f.lan && u.mateHeardOn(f, u.o.Clock.Now(), false) {
			// The LAN link is down but the mate still talks here.
			status = wire.IfNormal
		}
		out = append(out, ifLine{f: f, addr: addr, st: status, word: ifStatusWord(status)})
	}
	return out
}

// cableStatus maps the failover LAN link to the PIX words: our own link
// down, the mate heard (Normal), the mate down (it announced a shutdown, or
// it is heard nowhere any more: "powered off"), or only the LAN link
// failing while the mate is still heard on the data interfaces (or was
// never heard at all): "Other side is not connected".
func (u *Unit) cableStatus(v facts) string {
	lan := u.lanIf()
	switch {
	case lan == nil || !lan.adminUp || !lan.carrier:
		return "My side not connected"
	case v.lanFresh:
		return "Normal"
	case u.mate.heard && (u.mate.shutdown || (!v.dataHeard && !v.probing)):
		return "Other side powered off"
	}
	return "Other side is not connected"
}

// durWords is a timer as ASA prints it: "N seconds", or "N milliseconds"
// when configured in milliseconds or not a whole number of seconds.
func durWords(d time.Duration, msec bool) string {
	if msec || d%time.Second != 0 {
		return fmt.Sprintf("%d milliseconds", d.Milliseconds())
	}
	return fmt.Sprintf("%d seconds", int64(d/time.Second))
}

// mateRoleAddr is the address the mate holds on f when the roles are as
// they are now: the other role's address on the LAN link; on a data
// interface the standby address while we serve, else the system address.
func (u *Unit) mateRoleAddr(f *ifc) netip.Addr {
	if f.lan || f.stateLink {
		return lanAddr(f.cfg, otherRole(u.role)).Addr()
	}
	if u.state.serves() {
		return f.cfg.StandbyIP
	}
	return f.cfg.Addr.Addr()
}

func addrText(a netip.Addr) string {
	if !a.IsValid() {
		return "0.0.0.0"
	}
	return a.String()
}

// ShowHistory renders `show failover history` as ASA does.
func (u *Unit) ShowHistory() string {
	const rule = "=========================================================================="
	var b strings.Builder
	b.WriteString(rule + "\n")
	fmt.Fprintf(&b, "%-27s%-27s%s\n", "From State", "To State", "Reason")
	b.WriteString(rule + "\n")
	for _, h := range u.history {
		fmt.Fprintf(&b, "%s\n", h.at.UTC().Format("15:04:05 MST Jan 2 2006"))
		fmt.Fprintf(&b, "%-27s%-27s%s\n\n", h.from, h.to, h.reason)
	}
	b.WriteString(rule + "\n")
	return b.String()
}
