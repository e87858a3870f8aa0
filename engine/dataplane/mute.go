//go:build linux

package dataplane

import (
	"errors"
	"fmt"
	"net"
	"os"

	"github.com/google/nftables"
	"github.com/google/nftables/expr"
)

// MuteTablePrefix starts the name of the one nftables table MuteMAC owns
// per link (netdev family, an egress chain rewriting the source MAC):
//
//	table netdev failoverd_mute_LINK {
//	  chain egress { type filter hook egress device LINK priority 0;
//	    ether saddr MAC ether saddr set AS }
//	}
const MuteTablePrefix = "failoverd_mute_"

// MuteMAC implements Links with an nftables egress rewrite: only the
// Ethernet source changes (ARP payloads keep naming mac), so the switches
// learn as on this port and leave mac's entry to the port of whoever
// else sends from it.
func (n *Netlink) MuteMAC(link string, mac, as net.HardwareAddr) error {
	if mac != nil && (len(mac) != 6 || len(as) != 6) {
		return fmt.Errorf("failed to mute MAC %s on %s: want two 6-byte MACs, got %s", mac, link, as)
	}
	c, err := n.nft()
	if err != nil {
		return err
	}
	t := &nftables.Table{Family: nftables.TableFamilyNetdev, Name: MuteTablePrefix + link}
	// Add, then delete: deleting a table that does not exist would fail
	// the whole transaction.
	c.AddTable(t)
	c.DelTable(t)
	if mac != nil {
		c.AddTable(t)
		ch := c.AddChain(&nftables.Chain{Name: "egress", Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookEgress, Priority: nftables.ChainPriorityFilter, Device: link})
		c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseLLHeader, Offset: 6, Len: 6},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte(mac)},
			&expr.Immediate{Register: 1, Data: []byte(as)},
			&expr.Payload{OperationType: expr.PayloadWrite, SourceRegister: 1, Base: expr.PayloadBaseLLHeader, Offset: 6, Len: 6},
		}})
	}
	if err := c.Flush(); err != nil {
		if mac == nil && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		if mac == nil {
			return fmt.Errorf("failed to unmute %s: %w", link, err)
		}
		return fmt.Errorf("failed to mute MAC %s on %s: %w", mac, link, err)
	}
	return nil
}
