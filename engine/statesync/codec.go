package statesync

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net/netip"

	"failover/engine/conntrack"
	"failover/engine/wire"
)

// Kind is the StateUpdate kind byte.
type Kind uint8

// StateUpdate kinds.
const (
	KindBatch       Kind = 1 // active -> standby: numbered records
	KindAck         Kind = 2 // standby -> active: applied up to a number (or a gap)
	KindBulkRequest Kind = 3 // standby -> active: send the whole table
)

func (k Kind) String() string {
	switch k {
	case KindBatch:
		return "batch"
	case KindAck:
		return "ack"
	case KindBulkRequest:
		return "bulk-request"
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Batch flags.
const (
	FlagBulkBegin = 0x01 // first batch of a new stream: the whole table follows
	FlagBulkEnd   = 0x02 // the whole table has been sent: remove what it lacked
	flagsKnown    = FlagBulkBegin | FlagBulkEnd
)

// Record operations.
const (
	recUpsert = 1
	recDelete = 2
	recNeigh  = 3
)

// MaxPayload is the largest payload a StateUpdate carries.
const MaxPayload = wire.MaxText

const batchHeaderLen = 4 + 8 + 1 + 2

// ErrMalformed is wrapped by every decode error.
var ErrMalformed = errors.New("statesync: malformed payload")

// Record is one replicated change: a connection, or (Neigh set) a
// neighbour the active unit learned.
type Record struct {
	Delete bool
	Entry  conntrack.Entry
	Neigh  *Neighbor
}

// Neighbor is a learned IPv4 or IPv6 neighbour of a data link.
type Neighbor struct {
	Link string // Linux interface name, at most 15 bytes
	IP   netip.Addr
	MAC  [6]byte
}

const maxLinkName = 15

// Batch is a numbered group of records. Stream changes whenever the
// sender starts again from a whole table (a bulk synchronisation); Seq
// counts batches within a stream from 1.
type Batch struct {
	Stream  uint32
	Seq     uint64
	Flags   uint8
	Records []Record
}

// Ack says the standby applied every batch of Stream up to Seq. With Nak
// it also says the next one it received was not Seq+1.
type Ack struct {
	Stream uint32
	Seq    uint64
	Nak    bool
}

// recordLen is the encoded size of r.
func recordLen(r *Record) int {
	if n := r.Neigh; n != nil {
		al := 4
		if !n.IP.Is4() {
			al = 16
		}
		return 3 + len(n.Link) + al + 6
	}
	al := 4
	if !r.Entry.Orig.Src.Is4() {
		al = 16
	}
	n := 5 + 2*al + 4
	if !r.Delete {
		n += 2*al + 4 + 12 + 5
	}
	return n
}

func appendTuple(b []byte, t conntrack.Tuple, v4 bool) []byte {
	if v4 {
		s, d := t.Src.As4(), t.Dst.As4()
		b = append(append(b, s[:]...), d[:]...)
	} else {
		s, d := t.Src.As16(), t.Dst.As16()
		b = append(append(b, s[:]...), d[:]...)
	}
	b = binary.BigEndian.AppendUint16(b, t.SrcPort)
	return binary.BigEndian.AppendUint16(b, t.DstPort)
}

// appendRecord appends the wire form of r:
//
//	u8 op (1 upsert, 2 delete), u8 family (4, 6), u8 protocol, u16 zone,
//	original tuple: src, dst (4 or 16 bytes each), u16 src port, u16 dst port;
//	upsert only: reply tuple (same layout), u32 status, u32 timeout,
//	u32 mark, u8 TCP state, u8 window scale orig, reply, u8 TCP flags
//	orig, reply.
//
// A neighbour record: u8 op 3, u8 family (4, 6), u8 name length (0-15),
// name, address (4 or 16 bytes), MAC (6 bytes).
func appendRecord(b []byte, r *Record) []byte {
	if n := r.Neigh; n != nil {
		fam := byte(4)
		if !n.IP.Is4() {
			fam = 6
		}
		b = append(b, recNeigh, fam, byte(len(n.Link)))
		b = append(append(b, n.Link...), n.IP.AsSlice()...)
		return append(b, n.MAC[:]...)
	}
	e := &r.Entry
	v4 := e.Orig.Src.Is4()
	op, fam := byte(recUpsert), byte(4)
	if r.Delete {
		op = recDelete
	}
	if !v4 {
		fam = 6
	}
	b = append(b, op, fam, e.Proto)
	b = binary.BigEndian.AppendUint16(b, e.Zone)
	b = appendTuple(b, e.Orig, v4)
	if r.Delete {
		return b
	}
	b = appendTuple(b, e.Reply, v4)
	b = binary.BigEndian.AppendUint32(b, e.Status)
	b = binary.BigEndian.AppendUint32(b, e.Timeout)
	b = binary.BigEndian.AppendUint32(b, e.Mark)
	return append(b, e.TCPState, e.TCPWScaleOrig, e.TCPWScaleRep, e.TCPFlagsOrig, e.TCPFlagsRep)
}

// AppendBatch appends the payload of a batch: u32 stream, u64 seq,
// u8 flags, u16 record count, records.
func AppendBatch(b []byte, bt *Batch) []byte {
	b = binary.BigEndian.AppendUint32(b, bt.Stream)
	b = binary.BigEndian.AppendUint64(b, bt.Seq)
	b = append(b, bt.Flags)
	b = binary.BigEndian.AppendUint16(b, uint16(len(bt.Records)))
	for i := range bt.Records {
		b = appendRecord(b, &bt.Records[i])
	}
	return b
}

// AppendAck appends the payload of an ack: u32 stream, u64 seq, u8 nak.
func AppendAck(b []byte, a Ack) []byte {
	b = binary.BigEndian.AppendUint32(b, a.Stream)
	b = binary.BigEndian.AppendUint64(b, a.Seq)
	nak := byte(0)
	if a.Nak {
		nak = 1
	}
	return append(b, nak)
}

// reader is the wire reader with the record decoders of this payload.
type reader struct{ *wire.Reader }

func (r *reader) tuple(v4 bool) conntrack.Tuple {
	var t conntrack.Tuple
	if v4 {
		if s, d := r.Take(4), r.Take(4); d != nil {
			t.Src, t.Dst = netip.AddrFrom4([4]byte(s)), netip.AddrFrom4([4]byte(d))
		}
	} else if s, d := r.Take(16), r.Take(16); d != nil {
		t.Src, t.Dst = netip.AddrFrom16([16]byte(s)), netip.AddrFrom16([16]byte(d))
	}
	t.SrcPort, t.DstPort = r.U16(), r.U16()
	return t
}

func (r *reader) fail(format string, a ...any) {
	r.Fail(fmt.Errorf("%w: "+format, append([]any{ErrMalformed}, a...)...))
}

func (r *reader) record() Record {
	var rec Record
	op, fam, proto := r.U8(), r.U8(), r.U8()
	if op == recNeigh && r.Err() == nil {
		return r.neigh(fam, int(proto))
	}
	switch {
	case r.Err() != nil:
		return rec
	case op != recUpsert && op != recDelete:
		r.fail("record op %d", op)
	case fam != 4 && fam != 6:
		r.fail("address family %d", fam)
	}
	switch proto {
	case conntrack.ProtoTCP, conntrack.ProtoUDP:
	case conntrack.ProtoICMP:
		if fam != 4 {
			r.fail("ICMP in family %d", fam)
		}
	case conntrack.ProtoICMPv6:
		if fam != 6 {
			r.fail("ICMPv6 in family %d", fam)
		}
	default:
		r.fail("protocol %d", proto)
	}
	if r.Err() != nil {
		return rec
	}
	e := &rec.Entry
	rec.Delete = op == recDelete
	e.Proto = proto
	e.Zone = r.U16()
	v4 := fam == 4
	e.Orig = r.tuple(v4)
	if rec.Delete {
		return rec
	}
	e.Reply = r.tuple(v4)
	e.Status, e.Timeout, e.Mark = r.U32(), r.U32(), r.U32()
	e.TCPState, e.TCPWScaleOrig, e.TCPWScaleRep, e.TCPFlagsOrig, e.TCPFlagsRep = r.U8(), r.U8(), r.U8(), r.U8(), r.U8()
	return rec
}

// neigh reads the rest of a neighbour record (its third byte, the name
// length, is read already).
func (r *reader) neigh(fam uint8, nameLen int) Record {
	var n Neighbor
	switch {
	case fam != 4 && fam != 6:
		r.fail("address family %d", fam)
	case nameLen > maxLinkName:
		r.fail("link name of %d bytes", nameLen)
	}
	if r.Err() != nil {
		return Record{}
	}
	n.Link = string(r.Take(nameLen))
	if fam == 4 {
		if a := r.Take(4); a != nil {
			n.IP = netip.AddrFrom4([4]byte(a))
		}
	} else if a := r.Take(16); a != nil {
		n.IP = netip.AddrFrom16([16]byte(a))
	}
	if m := r.Take(6); m != nil {
		n.MAC = [6]byte(m)
	}
	return Record{Neigh: &n}
}

// DecodeBatch parses a batch payload. It accepts exactly what
// AppendBatch writes: known flags, known record ops, families and
// protocols, the announced number of records and nothing after them.
func DecodeBatch(b []byte) (*Batch, error) {
	if len(b) > MaxPayload {
		return nil, fmt.Errorf("%w: %d bytes", ErrMalformed, len(b))
	}
	r := reader{wire.NewReader(b, ErrMalformed)}
	bt := &Batch{Stream: r.U32(), Seq: r.U64(), Flags: r.U8()}
	n := int(r.U16())
	if r.Err() != nil {
		return nil, r.Err()
	}
	if bt.Flags&^flagsKnown != 0 {
		return nil, fmt.Errorf("%w: flags %#x", ErrMalformed, bt.Flags)
	}
	if bt.Seq == 0 {
		return nil, fmt.Errorf("%w: sequence number 0", ErrMalformed)
	}
	// Each record has at least 13 bytes: a count the payload cannot
	// hold is refused before anything is allocated for it.
	if n*13 > r.Len() {
		return nil, fmt.Errorf("%w: %d records in %d bytes", ErrMalformed, n, r.Len())
	}
	bt.Records = make([]Record, 0, n)
	for range n {
		rec := r.record()
		if r.Err() != nil {
			return nil, r.Err()
		}
		bt.Records = append(bt.Records, rec)
	}
	if r.Len() != 0 {
		return nil, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, r.Len())
	}
	return bt, nil
}

// DecodeAck parses an ack payload.
func DecodeAck(b []byte) (Ack, error) {
	r := reader{wire.NewReader(b, ErrMalformed)}
	a := Ack{Stream: r.U32(), Seq: r.U64()}
	nak := r.U8()
	switch {
	case r.Err() != nil:
		return Ack{}, r.Err()
	case nak > 1:
		return Ack{}, fmt.Errorf("%w: nak %d", ErrMalformed, nak)
	case r.Len() != 0:
		return Ack{}, fmt.Errorf("%w: %d trailing bytes", ErrMalformed, r.Len())
	}
	a.Nak = nak == 1
	return a, nil
}
