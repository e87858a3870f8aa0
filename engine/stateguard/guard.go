// Package stateguard owns the small nftables table that stateful failover
// needs on the active unit, and nothing else of the firewall:
//
//	table inet failoverd_state {
//	  chain forward_guard {                         # hook forward
//	    ct state invalid drop
//	    ct state new tcp flags & (fin|syn|rst|ack) != syn drop   # Strict only
//	  }
//	  chain input_guard {                           # hook input
//	    ct state new tcp flags & (syn|rst) == 0 drop
//	  }
//	}
//
// A TCP connection the unit did not replicate must start with a SYN, as
// on a PIX (Strict). For `failover timeout` after a switchover (Window)
// the new active also takes connections mid-stream (the kernel picks them
// up and masquerades them to the same address and, when it is free, the
// same port). In both, a mid-stream packet to the unit's own addresses
// that matches no connection is dropped, never answered with a RST: the
// RST would end a connection whose inside end can still bring it back.
// The table is removed when replication is off or the unit not active.
package stateguard

import (
	"errors"
	"fmt"
	"os"

	"github.com/google/nftables"
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// Mode is what the table does.
type Mode uint8

// Modes.
const (
	Off    Mode = iota // no table
	Strict             // new TCP connections start with a SYN; unknown mid-stream packets to the unit dropped
	Window             // mid-stream pickups allowed; unknown mid-stream packets to the unit dropped
)

func (m Mode) String() string {
	switch m {
	case Off:
		return "Off"
	case Strict:
		return "Strict"
	case Window:
		return "Window"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

// TableName is the only table this package touches.
const TableName = "failoverd_state"

// Guard sets the table's mode. It does kernel I/O: not on the engine loop.
type Guard interface {
	Set(m Mode) error
}

// NFT is the Guard of one network namespace.
type NFT struct{ ns netns.NsHandle }

// New returns the guard of the current namespace.
func New() *NFT { return &NFT{ns: netns.None()} }

// NewNS returns the guard of namespace ns (tests).
func NewNS(ns netns.NsHandle) *NFT { return &NFT{ns: ns} }

// Set implements Guard: the table is replaced in one transaction.
func (g *NFT) Set(m Mode) error {
	var opts []nftables.ConnOption
	if g.ns.IsOpen() {
		opts = append(opts, nftables.WithNetNSFd(int(g.ns)))
	}
	c, err := nftables.New(opts...)
	if err != nil {
		return fmt.Errorf("failed to open nftables: %w", err)
	}
	t := &nftables.Table{Family: nftables.TableFamilyINet, Name: TableName}
	// Add, then delete: deleting a table that does not exist would fail
	// the whole transaction.
	c.AddTable(t)
	c.DelTable(t)
	if m != Off {
		c.AddTable(t)
		fwd := c.AddChain(&nftables.Chain{Name: "forward_guard", Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookForward, Priority: nftables.ChainPriorityFilter})
		in := c.AddChain(&nftables.Chain{Name: "input_guard", Table: t, Type: nftables.ChainTypeFilter,
			Hooknum: nftables.ChainHookInput, Priority: nftables.ChainPriorityFilter})
		c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: join(ctState(expr.CtStateBitINVALID), drop())})
		if m == Strict {
			c.AddRule(&nftables.Rule{Table: t, Chain: fwd, Exprs: join(ctState(expr.CtStateBitNEW), tcpFlags(0x17, expr.CmpOpNeq, 0x02), drop())})
		}
		c.AddRule(&nftables.Rule{Table: t, Chain: in, Exprs: join(ctState(expr.CtStateBitNEW), tcpFlags(0x06, expr.CmpOpEq, 0), drop())})
	}
	if err := c.Flush(); err != nil {
		if m == Off && errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return fmt.Errorf("failed to set the %s table to %s: %w", TableName, m, err)
	}
	return nil
}

func join(parts ...[]expr.Any) []expr.Any {
	var out []expr.Any
	for _, p := range parts {
		out = append(out, p...)
	}
	return out
}

// ctState matches packets whose conntrack state has bit.
func ctState(bit uint32) []expr.Any {
	return []expr.Any{
		&expr.Ct{Register: 1, Key: expr.CtKeySTATE},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 4,
			Mask: binaryutil.NativeEndian.PutUint32(bit), Xor: binaryutil.NativeEndian.PutUint32(0)},
		&expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(0)},
	}
}

// tcpFlags matches TCP packets whose flags & mask compare op to v.
func tcpFlags(mask byte, op expr.CmpOp, v byte) []expr.Any {
	return []expr.Any{
		&expr.Meta{Key: expr.MetaKeyL4PROTO, Register: 1},
		&expr.Cmp{Op: expr.CmpOpEq, Register: 1, Data: []byte{unix.IPPROTO_TCP}},
		&expr.Payload{DestRegister: 1, Base: expr.PayloadBaseTransportHeader, Offset: 13, Len: 1},
		&expr.Bitwise{SourceRegister: 1, DestRegister: 1, Len: 1, Mask: []byte{mask}, Xor: []byte{0}},
		&expr.Cmp{Op: op, Register: 1, Data: []byte{v}},
	}
}

func drop() []expr.Any {
	return []expr.Any{&expr.Counter{}, &expr.Verdict{Kind: expr.VerdictDrop}}
}
