package unit

import (
	"bytes"
	"net"
	"slices"

	"failover/engine/dataplane"
)

// MACStore remembers burned-in MACs. Without virtual MACs the active unit
// wears the primary's MAC and the standby the secondary's, so a daemon
// killed while wearing its mate's MAC finds that MAC on its interface when
// it starts again; taking it as its own would give both units one MAC.
type MACStore interface {
	// BurnedIn returns the MAC recorded for this link instance (name and
	// ifindex, so a recreated interface is learned afresh), recording
	// current when there is none.
	BurnedIn(link string, index int, current net.HardwareAddr) net.HardwareAddr
}

func (u *Unit) burnedIn(l dataplane.Link) net.HardwareAddr {
	if len(l.MAC) != 6 {
		return nil
	}
	if u.o.MACs == nil {
		return slices.Clone(l.MAC)
	}
	return slices.Clone(u.o.MACs.BurnedIn(l.Name, l.Index, l.MAC))
}

// restoreMACs gives every data interface its own MAC back, so a unit that
// stops cleanly leaves no borrowed MAC behind.
func (u *Unit) restoreMACs() {
	if u.o.DP == nil {
		return
	}
	for _, f := range u.ifs {
		if f.lan || f.stateLink || len(f.ownMAC) != 6 {
			continue
		}
		l, err := u.o.DP.Link(f.cfg.HW)
		if err != nil || bytes.Equal(l.MAC, f.ownMAC) {
			continue
		}
		if err := u.o.DP.SetMAC(f.cfg.HW, f.ownMAC); err != nil {
			u.log.Warn("failed to restore MAC", "link", f.cfg.HW, "err", err)
		}
	}
}

// muteMACs keeps the data interfaces of a serving unit that hands over
// (swGiving) from sending from the MAC they wear, and ends that otherwise.
// The mate takes that MAC over and announces it; from then on frames that
// still reach us are forwarded from a MAC nobody else wears
// (negotiationMAC), so that no frame of ours pulls the switches' entry
// for the MAC back to our port before we change our own.
func (u *Unit) muteMACs() {
	want := u.state.serves() && u.switchover != nil && u.switchover.kind == swGiving && !u.stopped
	if u.o.DP == nil || want == u.muted {
		return
	}
	u.muted = want
	for _, f := range u.ifs {
		if f.lan || f.stateLink || len(f.ownMAC) != 6 {
			continue
		}
		var mac, as net.HardwareAddr
		if want {
			if mac = u.wantMAC(f); len(mac) != 6 {
				continue
			}
			as = negotiationMAC(f.ownMAC)
		}
		if err := u.o.DP.MuteMAC(f.cfg.HW, mac, as); err != nil {
			u.log.Warn("failed to mute MAC", "link", f.cfg.HW, "mute", want, "err", err)
		}
	}
}
