//go:build linux

package dataplane

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
)

// FenceTable is the one nftables table Fence owns (netdev family; one
// egress chain per fenced link, all reading one timed set):
//
//	table netdev failoverd_fence {
//	  set alive { type mark; flags timeout; elements = { 1 timeout TTL } }
//	  chain egress_LINK { type filter hook egress device LINK priority -10;
//	    1 @alive accept                       # renewed in time: untouched
//	    ether type arp drop                   # else: answer for nothing
//	    icmpv6 type { nd-neighbor-solicit, nd-neighbor-advert } drop
//	    ether saddr set MUTE                  # and forward from a MAC of its own
//	  }
//	}
//
// The element's timeout is the kernel's own clock: it expires whether or
// not the daemon that set it still runs, and nft checks it on every packet
// (to the jiffy), which an address lifetime does not do (the kernel expires
// those from a work item rounded to whole seconds).
const FenceTable = "failoverd_fence"

const fenceSet = "alive"

// fenceKey is the set's one element: the set only says whether the fence
// was renewed in time.
var fenceKey = binaryutil.NativeEndian.PutUint32(1)

// Fence implements Links (see there) with the table above. A renewal with
// the same links only replaces the set's element, one small netlink
// transaction; a change of links rebuilds the table.
func (n *Netlink) Fence(ttl time.Duration, links []FencedLink) error {
	n.fenceMu.Lock()
	defer n.fenceMu.Unlock()
	for _, l := range links {
		if len(l.MuteAs) != 6 {
			return fmt.Errorf("failed to fence %s: want a 6-byte MAC, got %s", l.Name, l.MuteAs)
		}
	}
	c, err := n.nft()
	if err != nil {
		return err
	}
	t := &nftables.Table{Family: nftables.TableFamilyNetdev, Name: FenceTable}
	if ttl <= 0 || len(links) == 0 {
		n.fenced = ""
		// Add, then delete: deleting a table that does not exist would
		// fail the whole transaction.
		c.AddTable(t)
		c.DelTable(t)
		if err := c.Flush(); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("failed to remove the fence: %w", err)
		}
		return nil
	}
	ttl = max(ttl, time.Millisecond)
	key := fenceLinksKey(links)
	if key == n.fenced {
		set := &nftables.Set{Table: t, Name: fenceSet, KeyType: nftables.TypeMark, HasTimeout: true}
		if !n.fenceUpdates {
			// Without timeout updates, the element is replaced: the
			// kernel then waits for an RCU grace period (~10 ms).
			c.FlushSet(set)
		}
		if err := c.SetAddElements(set, []nftables.SetElement{{Key: fenceKey, Timeout: ttl}}); err != nil {
			return fmt.Errorf("failed to renew the fence: %w", err)
		}
		if err := c.Flush(); err == nil {
			return nil
		}
		// Somebody removed the table (nft flush ruleset): build it again.
		if c, err = n.nft(); err != nil {
			return err
		}
	}
	n.fenced = ""
	c.AddTable(t)
	c.DelTable(t)
	c.AddTable(t)
	set := &nftables.Set{Table: t, Name: fenceSet, KeyType: nftables.TypeMark, HasTimeout: true}
	if err := c.AddSet(set, []nftables.SetElement{{Key: fenceKey, Timeout: ttl}}); err != nil {
		return fmt.Errorf("failed to build the fence: %w", err)
	}
	for _, l := range links {
		ch := c.AddChain(&nftables.Chain{Name: "egress_" + l.Name, Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookEgress, Priority: nftables.ChainPriorityRef(-10), Device: l.Name})
		for _, exprs := range fenceRules(set, l) {
			c.AddRule(&nftables.Rule{Table: t, Chain: ch, Exprs: exprs})
		}
	}
	if err := c.Flush(); err != nil {
		return fmt.Errorf("failed to build the fence: %w", err)
	}
	n.fenced = key
	n.fenceUpdates = n.probeTimeoutUpdate(t)
	return nil
}

// probeTimeoutUpdate says whether adding an element that exists sets its
// timeout anew (recent kernels) rather than leaving it alone, tried on a
// set of its own so the fence's timing is not touched.
func (n *Netlink) probeTimeoutUpdate(t *nftables.Table) bool {
	c, err := n.nft()
	if err != nil {
		return false
	}
	ps := &nftables.Set{Table: t, Name: "probe", KeyType: nftables.TypeMark, HasTimeout: true}
	if err := c.AddSet(ps, []nftables.SetElement{{Key: fenceKey, Timeout: time.Second}}); err != nil {
		return false
	}
	if err := c.Flush(); err != nil {
		return false
	}
	defer func() {
		c.DelSet(ps)
		_ = c.Flush()
	}()
	if err := c.SetAddElements(ps, []nftables.SetElement{{Key: fenceKey, Timeout: time.Hour}}); err != nil {
		return false
	}
	if err := c.Flush(); err != nil {
		return false
	}
	els, err := c.GetSetElements(ps)
	return err == nil && len(els) == 1 && els[0].Expires > time.Minute
}

// fenceRules are the rules of one link's chain, in order.
func fenceRules(set *nftables.Set, l FencedLink) [][]expr.Any {
	etherType := func(v uint16) []expr.Any {
		return []expr.Any{
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseLLHeader, Offset: 12, Len: 2},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: binaryutil.BigEndian.PutUint16(v)},
		}
	}
	drop := &expr.Verdict{Kind: expr.VerdictDrop}
	nd := func(typ byte) []expr.Any {
		return append(etherType(0x86dd),
			&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{58}}, // ICMPv6
			&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 0, Len: 1},
			&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{typ}},
			drop)
	}
	return [][]expr.Any{
		{
			&expr.Immediate{Register: 1, Data: fenceKey},
			&expr.Lookup{SourceRegister: 1, SetName: set.Name, SetID: set.ID},
			&expr.Verdict{Kind: expr.VerdictAccept},
		},
		append(etherType(0x0806), drop),
		nd(135), // neighbour solicitation
		nd(136), // neighbour advertisement
		{
			&expr.Immediate{Register: 1, Data: []byte(l.MuteAs)},
			&expr.Payload{OperationType: expr.PayloadWrite, SourceRegister: 1, Base: expr.PayloadBaseLLHeader, Offset: 6, Len: 6},
		},
	}
}

func fenceLinksKey(links []FencedLink) string {
	parts := make([]string, len(links))
	for i, l := range links {
		parts[i] = l.Name + "=" + l.MuteAs.String()
	}
	slices.Sort(parts)
	return strings.Join(parts, ",")
}

// nft opens an nftables connection in this Netlink's namespace.
func (n *Netlink) nft() (*nftables.Conn, error) {
	var opts []nftables.ConnOption
	if n.ns.IsOpen() {
		opts = append(opts, nftables.WithNetNSFd(int(n.ns)))
	}
	c, err := nftables.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("failed to open nftables: %w", err)
	}
	return c, nil
}
