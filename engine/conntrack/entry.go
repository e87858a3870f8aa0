package conntrack

import (
	"context"
	"fmt"
	"net/netip"
)

// Protocol numbers replicated.
const (
	ProtoICMP   = 1
	ProtoTCP    = 6
	ProtoUDP    = 17
	ProtoICMPv6 = 58
)

// Status bits of a conntrack entry (IPS_* in the kernel).
const (
	StatusExpected   = 1 << 0
	StatusSeenReply  = 1 << 1
	StatusAssured    = 1 << 2
	StatusConfirmed  = 1 << 3
	StatusSrcNAT     = 1 << 4
	StatusDstNAT     = 1 << 5
	StatusSrcNATDone = 1 << 7
	StatusDstNATDone = 1 << 8
	StatusDying      = 1 << 9
	StatusTemplate   = 1 << 11
	StatusUntracked  = 1 << 12
)

// TCP tracking flags (IP_CT_TCP_FLAG_*).
const (
	TCPFlagWindowScale = 0x01
	TCPFlagSACKPerm    = 0x02
	TCPFlagBeLiberal   = 0x08
)

// Tuple is one direction of a connection. For ICMP, SrcPort is the echo
// identifier and DstPort is type<<8 | code.
type Tuple struct {
	Src, Dst         netip.Addr
	SrcPort, DstPort uint16
}

func (t Tuple) String() string {
	return fmt.Sprintf("%s:%d->%s:%d", t.Src, t.SrcPort, t.Dst, t.DstPort)
}

// Key identifies an entry: the kernel looks entries up by the original
// tuple within a zone.
type Key struct {
	Proto uint8
	Zone  uint16
	Orig  Tuple
}

// Entry is one connection as replicated: everything the standby's kernel
// needs to forward and translate the connection's next packet.
type Entry struct {
	Proto   uint8
	Zone    uint16
	Orig    Tuple
	Reply   Tuple // NAT'ed: for source NAT its Dst is the translated source
	Status  uint32
	Timeout uint32 // seconds left
	Mark    uint32
	// TCP only.
	TCPState                    uint8
	TCPWScaleOrig, TCPWScaleRep uint8
	TCPFlagsOrig, TCPFlagsRep   uint8
}

// Key returns the entry's lookup key.
func (e *Entry) Key() Key { return Key{Proto: e.Proto, Zone: e.Zone, Orig: e.Orig} }

// SrcNAT says whether the entry translates the source (masquerade).
func (e *Entry) SrcNAT() bool { return e.Status&StatusSrcNAT != 0 }

// DstNAT says whether the entry translates the destination.
func (e *Entry) DstNAT() bool { return e.Status&StatusDstNAT != 0 }

// NAT says whether the entry translates anything (an xlate in ASA terms).
func (e *Entry) NAT() bool { return e.Status&(StatusSrcNAT|StatusDstNAT) != 0 }

// Is6 says whether the entry is IPv6.
func (e *Entry) Is6() bool { return e.Orig.Src.Is6() && !e.Orig.Src.Is4In6() }

func (e Entry) String() string {
	return fmt.Sprintf("proto %d %s reply %s status %#x timeout %d", e.Proto, e.Orig, e.Reply, e.Status, e.Timeout)
}

// EventType says what happened to an entry.
type EventType uint8

// Event types.
const (
	EventNew EventType = iota + 1
	EventUpdate
	EventDestroy
)

func (t EventType) String() string {
	switch t {
	case EventNew:
		return "new"
	case EventUpdate:
		return "update"
	case EventDestroy:
		return "destroy"
	}
	return fmt.Sprintf("event(%d)", uint8(t))
}

// Event is one change of the kernel table.
type Event struct {
	Type  EventType
	Entry Entry
}

// OpKind is a write to the kernel table.
type OpKind uint8

// Write kinds. Create and Update are both "make it so": Create of an
// entry that exists updates it, Update of one that does not creates it;
// the kind only says which to try first.
const (
	OpCreate OpKind = iota + 1
	OpUpdate
	OpDelete
)

func (k OpKind) String() string {
	switch k {
	case OpCreate:
		return "create"
	case OpUpdate:
		return "update"
	case OpDelete:
		return "delete"
	}
	return fmt.Sprintf("op(%d)", uint8(k))
}

// Op is one write.
type Op struct {
	Kind  OpKind
	Entry Entry
}

// Table is the kernel's connection tracking table. Its methods block on
// the kernel and must not be called on the engine loop.
type Table interface {
	// Listen delivers every event to fn until ctx ends or the events can
	// no longer be trusted (the socket overran): then it returns an error
	// and the caller must dump the table again. Once subscribed it calls
	// fn with no events: a dump made after that misses nothing.
	Listen(ctx context.Context, fn func([]Event)) error
	// Dump returns every entry.
	Dump(ctx context.Context) ([]Entry, error)
	// Apply performs ops in order, in as few system calls as possible.
	// The result has one error (nil on success) per op. A delete of an
	// entry that is gone already succeeds.
	Apply(ops []Op) []error
	// SetEvents turns connection tracking events on for every entry
	// (net.netfilter.nf_conntrack_events=1): with the default, entries
	// created before any listener existed never report their changes.
	SetEvents() error
	Close() error
}
