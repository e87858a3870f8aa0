package wire

import (
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
)

// UnitState is the sender's failover state in a Hello.
type UnitState uint8

// Unit states (the `show failover` words of §4).
const (
	UnitUnknown     UnitState = 0
	UnitNegotiation UnitState = 1
	UnitSyncConfig  UnitState = 2
	UnitStandby     UnitState = 3
	UnitActive      UnitState = 4
	UnitFailed      UnitState = 5
	UnitDisabled    UnitState = 6 // `no failover`
	UnitBulkSync    UnitState = 7 // configuration synchronised; receiving the connection table
)

// IfStatus is the health of one interface as its unit sees it.
type IfStatus uint8

// Interface status codes (the `show failover` words of §4).
const (
	IfUnknown  IfStatus = 0
	IfNormal   IfStatus = 1
	IfWaiting  IfStatus = 2
	IfTesting  IfStatus = 3
	IfFailed   IfStatus = 4
	IfNoLink   IfStatus = 5
	IfLinkDown IfStatus = 6
)

// Op is a Control operation.
type Op uint8

// Control operations.
const (
	OpBecomeActive  Op = 1 // the receiver should become active (`no failover active` on the sender)
	OpBecomeStandby Op = 2 // the receiver should become standby (`failover active` on the sender)
	OpAckReady      Op = 3 // the sender did what Token asked for and is ready
	OpReset         Op = 4 // `failover reset`: clear the failed state
	OpWriteMemory   Op = 5 // `write memory` on the active unit: save on the standby too
	// OpProbe asks the mate, on a data interface, to answer at once with
	// OpProbeReply (same Token) on that interface: when the failover LAN
	// link goes quiet it tells a dead mate from a dead LAN link without
	// waiting for the interface hold time.
	OpProbe      Op = 6
	OpProbeReply Op = 7 // the answer to OpProbe, echoing its Token
	// OpReloadStandby (`failover reload-standby` on the active unit) makes
	// the standby start over: negotiate, take a full configuration copy.
	OpReloadStandby Op = 8
	// The refusals answer OpBecomeActive (same Token) when the sender
	// cannot take over now, so that the unit handing over stops at once
	// and can tell its operator why, instead of giving up after the hold
	// time in silence.
	OpRefusedFailed     Op = 9  // its own interfaces failed
	OpRefusedIncomplete Op = 10 // it does not hold the whole connection table yet
	OpRefusedState      Op = 11 // it is not a standby unit
)

// HelloShuttingDown in Hello.Flags announces a clean shutdown, so the mate
// can report "Other side powered off" and take over without waiting.
const HelloShuttingDown uint8 = 0x01

// HelloAnswersProbes in Hello.Flags says the sender answers OpProbe on its
// data interfaces. A mate without it (an older build) is judged by its
// interface hellos alone, as before, since its silence to a probe proves
// nothing.
const HelloAnswersProbes uint8 = 0x02

// HelloServing in Hello.Flags says the sender holds the system addresses
// and passes traffic. The state alone does not say it for a unit whose
// failover is off: it keeps the role it had (active, or a standby that
// stays standby), and a mate must not take addresses it still holds.
const HelloServing uint8 = 0x04

// HelloFenced in Hello.Flags says the sender's kernel stops answering for
// the system addresses by itself (no ARP, no neighbour discovery, its MACs
// muted) if the sender sends nothing for its hold time (HoldMs) after this
// hello: the mate of a sender whose daemon was killed need not wait for
// its addresses to expire.
const HelloFenced uint8 = 0x08

// IfEntry is one interface in a Hello.
type IfEntry struct {
	Name   string
	Status IfStatus
	Addr   netip.Addr       // IPv4; the zero Addr is sent as 0.0.0.0 and 0.0.0.0 decodes to the zero Addr
	MAC    net.HardwareAddr // 6 bytes; nil is sent as zeros and zeros decode to nil
}

// Hello is the periodic message on the failover LAN link.
type Hello struct {
	State         UnitState
	ActiveTime    uint32 // seconds
	ConfigVersion uint64
	PollMs        uint32
	HoldMs        uint32
	Flags         uint8
	Interfaces    []IfEntry
	// LastFailover is when the pair last failed over (Unix milliseconds;
	// 0 = never), so both units show the same `Last Failover at`.
	LastFailover uint64
}

// IfHello is the periodic message on each monitored data interface.
type IfHello struct {
	Name  string
	State IfStatus
}

// ConfigLine is one configuration command replicated from the active unit.
type ConfigLine struct {
	Version uint64
	Line    string
}

// BulkBegin starts a full configuration copy.
type BulkBegin struct{ Version uint64 }

// BulkLine is one line of a full configuration copy.
type BulkLine struct{ Line string }

// BulkEnd ends a full configuration copy; Count lets the receiver detect a
// lost line and ask again instead of running an incomplete configuration.
type BulkEnd struct {
	Version uint64
	Count   uint32
}

// Control is a request or acknowledgement between the units.
type Control struct {
	Op    Op
	Token uint32
}

// ExecRequest asks the mate to run a command (`failover exec`).
type ExecRequest struct {
	ID      uint32
	Command string
}

// ExecReply carries (part of) the output of an ExecRequest.
type ExecReply struct {
	ID     uint32
	Output string
	More   bool
}

// StateUpdate carries connection state replication (engine/statesync).
type StateUpdate struct {
	Kind    uint8
	Payload []byte // empty decodes to nil
}

// NonceLen is the size of a liveness challenge nonce.
const NonceLen = 16

// Nonce is a liveness challenge: random, drawn for each challenge.
type Nonce [NonceLen]byte

// Challenge asks whoever hears it to prove it is alive now by echoing
// Nonce in a Response (see the package documentation, Boot acceptance).
type Challenge struct{ Nonce Nonce }

// Response answers a Challenge; its envelope's boot id is proven live.
type Response struct{ Nonce Nonce }

// Type implementations.
func (*Hello) Type() Type       { return TypeHello }
func (*IfHello) Type() Type     { return TypeIfHello }
func (*ConfigLine) Type() Type  { return TypeConfigLine }
func (*BulkBegin) Type() Type   { return TypeBulkBegin }
func (*BulkLine) Type() Type    { return TypeBulkLine }
func (*BulkEnd) Type() Type     { return TypeBulkEnd }
func (*Control) Type() Type     { return TypeControl }
func (*ExecRequest) Type() Type { return TypeExecRequest }
func (*ExecReply) Type() Type   { return TypeExecReply }
func (*StateUpdate) Type() Type { return TypeStateUpdate }
func (*Challenge) Type() Type   { return TypeChallenge }
func (*Response) Type() Type    { return TypeResponse }

// SplitExecOutput cuts output into replies that each fit in one message, all
// but the last with More set. Empty output gives one empty reply, so the
// requester always learns that the command finished.
func SplitExecOutput(id uint32, output string) []ExecReply {
	const chunk = MaxText
	var out []ExecReply
	for {
		if len(output) <= chunk {
			return append(out, ExecReply{ID: id, Output: output})
		}
		out = append(out, ExecReply{ID: id, Output: output[:chunk], More: true})
		output = output[chunk:]
	}
}

// --- encoding helpers ---

func appendName(b []byte, s string) ([]byte, error) {
	if len(s) > MaxNameLen {
		return b, fmt.Errorf("%w: interface name %q longer than %d bytes", ErrStringTooLong, s, MaxNameLen)
	}
	b = append(b, byte(len(s)))
	return append(b, s...), nil
}

func appendText(b []byte, s string) ([]byte, error) {
	if len(s) > MaxText {
		return b, fmt.Errorf("%w: %d > %d bytes", ErrStringTooLong, len(s), MaxText)
	}
	b = binary.BigEndian.AppendUint16(b, uint16(len(s)))
	return append(b, s...), nil
}

func appendBool(b []byte, v bool) []byte {
	if v {
		return append(b, 1)
	}
	return append(b, 0)
}

func (r *Reader) bool() bool {
	v := r.U8()
	if r.err == nil && v > 1 {
		r.err = fmt.Errorf("%w: bool byte %d", ErrMalformed, v)
	}
	return v == 1
}

func (r *Reader) name() string {
	n := int(r.U8())
	if r.err == nil && n > MaxNameLen {
		r.err = fmt.Errorf("%w: interface name of %d bytes", ErrStringTooLong, n)
	}
	return string(r.Take(n))
}

func (r *Reader) text() string { return string(r.bytes()) }

func (r *Reader) bytes() []byte {
	n := int(r.U16())
	if r.err == nil && n > MaxText {
		r.err = fmt.Errorf("%w: %d > %d bytes", ErrStringTooLong, n, MaxText)
	}
	return r.Take(n)
}

// done reports the sticky error, or ErrTrailing if bytes are left over.
func (r *Reader) done() error {
	if r.err != nil {
		return r.err
	}
	if len(r.b) != 0 {
		return fmt.Errorf("%w: %d bytes after the body", ErrTrailing, len(r.b))
	}
	return nil
}

// --- Hello ---

// AppendBinary implements encoding.BinaryAppender.
func (h *Hello) AppendBinary(b []byte) ([]byte, error) {
	if len(h.Interfaces) > 255 {
		return b, fmt.Errorf("%w: %d interfaces > 255", ErrTooLarge, len(h.Interfaces))
	}
	b = append(b, byte(h.State))
	b = binary.BigEndian.AppendUint32(b, h.ActiveTime)
	b = binary.BigEndian.AppendUint64(b, h.ConfigVersion)
	b = binary.BigEndian.AppendUint32(b, h.PollMs)
	b = binary.BigEndian.AppendUint32(b, h.HoldMs)
	b = append(b, h.Flags, byte(len(h.Interfaces)))
	for _, e := range h.Interfaces {
		var err error
		if b, err = appendName(b, e.Name); err != nil {
			return b, err
		}
		b = append(b, byte(e.Status))
		switch {
		case !e.Addr.IsValid():
			b = append(b, 0, 0, 0, 0)
		case e.Addr.Unmap().Is4():
			a := e.Addr.Unmap().As4()
			b = append(b, a[:]...)
		default:
			return b, fmt.Errorf("%w: interface %s address %s is not IPv4", ErrMalformed, e.Name, e.Addr)
		}
		switch len(e.MAC) {
		case 0:
			b = append(b, 0, 0, 0, 0, 0, 0)
		case 6:
			b = append(b, e.MAC...)
		default:
			return b, fmt.Errorf("%w: interface %s MAC %s is not 6 bytes", ErrMalformed, e.Name, e.MAC)
		}
	}
	return binary.BigEndian.AppendUint64(b, h.LastFailover), nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (h *Hello) UnmarshalBinary(b []byte) error {
	r := NewReader(b, ErrTruncated)
	*h = Hello{
		State:         UnitState(r.U8()),
		ActiveTime:    r.U32(),
		ConfigVersion: r.U64(),
		PollMs:        r.U32(),
		HoldMs:        r.U32(),
		Flags:         r.U8(),
	}
	n := int(r.U8())
	for i := 0; i < n && r.err == nil; i++ {
		e := IfEntry{Name: r.name(), Status: IfStatus(r.U8())}
		if a := r.Take(4); a != nil {
			if addr := netip.AddrFrom4([4]byte(a)); !addr.IsUnspecified() {
				e.Addr = addr
			}
		}
		if m := r.Take(6); m != nil && [6]byte(m) != [6]byte{} {
			e.MAC = net.HardwareAddr(append([]byte(nil), m...))
		}
		h.Interfaces = append(h.Interfaces, e)
	}
	h.LastFailover = r.U64()
	return r.done()
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (h *Hello) MarshalBinary() ([]byte, error) { return h.AppendBinary(nil) }

// --- IfHello ---

// AppendBinary implements encoding.BinaryAppender.
func (h *IfHello) AppendBinary(b []byte) ([]byte, error) {
	b, err := appendName(b, h.Name)
	return append(b, byte(h.State)), err
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (h *IfHello) UnmarshalBinary(b []byte) error {
	r := NewReader(b, ErrTruncated)
	*h = IfHello{Name: r.name(), State: IfStatus(r.U8())}
	return r.done()
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (h *IfHello) MarshalBinary() ([]byte, error) { return h.AppendBinary(nil) }

// --- ConfigLine ---

// AppendBinary implements encoding.BinaryAppender.
func (c *ConfigLine) AppendBinary(b []byte) ([]byte, error) {
	return appendText(binary.BigEndian.AppendUint64(b, c.Version), c.Line)
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (c *ConfigLine) UnmarshalBinary(b []byte) error {
	r := NewReader(b, ErrTruncated)
	*c = ConfigLine{Version: r.U64(), Line: r.text()}
	return r.done()
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (c *ConfigLine) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// --- BulkBegin ---

// AppendBinary implements encoding.BinaryAppender.
func (c *BulkBegin) AppendBinary(b []byte) ([]byte, error) {
	return binary.BigEndian.AppendUint64(b, c.Version), nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (c *BulkBegin) UnmarshalBinary(b []byte) error {
	r := NewReader(b, ErrTruncated)
	*c = BulkBegin{Version: r.U64()}
	return r.done()
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (c *BulkBegin) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// --- BulkLine ---

// AppendBinary implements encoding.BinaryAppender.
func (c *BulkLine) AppendBinary(b []byte) ([]byte, error) { return appendText(b, c.Line) }

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (c *BulkLine) UnmarshalBinary(b []byte) error {
	r := NewReader(b, ErrTruncated)
	*c = BulkLine{Line: r.text()}
	return r.done()
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (c *BulkLine) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// --- BulkEnd ---

// AppendBinary implements encoding.BinaryAppender.
func (c *BulkEnd) AppendBinary(b []byte) ([]byte, error) {
	b = binary.BigEndian.AppendUint64(b, c.Version)
	return binary.BigEndian.AppendUint32(b, c.Count), nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (c *BulkEnd) UnmarshalBinary(b []byte) error {
	r := NewReader(b, ErrTruncated)
	*c = BulkEnd{Version: r.U64(), Count: r.U32()}
	return r.done()
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (c *BulkEnd) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// --- Control ---

// AppendBinary implements encoding.BinaryAppender.
func (c *Control) AppendBinary(b []byte) ([]byte, error) {
	return binary.BigEndian.AppendUint32(append(b, byte(c.Op)), c.Token), nil
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (c *Control) UnmarshalBinary(b []byte) error {
	r := NewReader(b, ErrTruncated)
	*c = Control{Op: Op(r.U8()), Token: r.U32()}
	return r.done()
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (c *Control) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// --- ExecRequest ---

// AppendBinary implements encoding.BinaryAppender.
func (c *ExecRequest) AppendBinary(b []byte) ([]byte, error) {
	return appendText(binary.BigEndian.AppendUint32(b, c.ID), c.Command)
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (c *ExecRequest) UnmarshalBinary(b []byte) error {
	r := NewReader(b, ErrTruncated)
	*c = ExecRequest{ID: r.U32(), Command: r.text()}
	return r.done()
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (c *ExecRequest) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// --- ExecReply ---

// AppendBinary implements encoding.BinaryAppender.
func (c *ExecReply) AppendBinary(b []byte) ([]byte, error) {
	b, err := appendText(binary.BigEndian.AppendUint32(b, c.ID), c.Output)
	return appendBool(b, c.More), err
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (c *ExecReply) UnmarshalBinary(b []byte) error {
	r := NewReader(b, ErrTruncated)
	*c = ExecReply{ID: r.U32(), Output: r.text(), More: r.bool()}
	return r.done()
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (c *ExecReply) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// --- StateUpdate ---

// AppendBinary implements encoding.BinaryAppender.
func (c *StateUpdate) AppendBinary(b []byte) ([]byte, error) {
	return appendText(append(b, c.Kind), string(c.Payload))
}

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (c *StateUpdate) UnmarshalBinary(b []byte) error {
	r := NewReader(b, ErrTruncated)
	*c = StateUpdate{Kind: r.U8()}
	if p := r.bytes(); len(p) > 0 {
		c.Payload = append([]byte(nil), p...)
	}
	return r.done()
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (c *StateUpdate) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// --- Challenge, Response ---

// AppendBinary implements encoding.BinaryAppender.
func (c *Challenge) AppendBinary(b []byte) ([]byte, error) { return append(b, c.Nonce[:]...), nil }

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (c *Challenge) UnmarshalBinary(b []byte) error {
	r := NewReader(b, ErrTruncated)
	*c = Challenge{}
	copy(c.Nonce[:], r.Take(NonceLen))
	return r.done()
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (c *Challenge) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }

// AppendBinary implements encoding.BinaryAppender.
func (c *Response) AppendBinary(b []byte) ([]byte, error) { return append(b, c.Nonce[:]...), nil }

// UnmarshalBinary implements encoding.BinaryUnmarshaler.
func (c *Response) UnmarshalBinary(b []byte) error {
	r := NewReader(b, ErrTruncated)
	*c = Response{}
	copy(c.Nonce[:], r.Take(NonceLen))
	return r.done()
}

// MarshalBinary implements encoding.BinaryMarshaler.
func (c *Response) MarshalBinary() ([]byte, error) { return c.AppendBinary(nil) }
