package statesync

import (
	"errors"
	"net/netip"
	"reflect"
	"testing"

	"failover/engine/conntrack"
)

func sampleBatch() *Batch {
	v4 := conntrack.Entry{
		Proto: conntrack.ProtoTCP, Zone: 3, Status: 0x19e, Timeout: 431999, Mark: 7,
		Orig:     conntrack.Tuple{Src: netip.MustParseAddr("192.0.2.10"), Dst: netip.MustParseAddr("198.51.100.10"), SrcPort: 40000, DstPort: 5000},
		Reply:    conntrack.Tuple{Src: netip.MustParseAddr("198.51.100.10"), Dst: netip.MustParseAddr("198.51.100.2"), SrcPort: 5000, DstPort: 40000},
		TCPState: 3, TCPWScaleOrig: 7, TCPWScaleRep: 9, TCPFlagsOrig: 0x23, TCPFlagsRep: 0x02,
	}
	v6 := conntrack.Entry{
		Proto: conntrack.ProtoUDP, Status: 0xe, Timeout: 120,
		Orig:  conntrack.Tuple{Src: netip.MustParseAddr("2001:db8::10"), Dst: netip.MustParseAddr("2001:db8:1::10"), SrcPort: 5353, DstPort: 53},
		Reply: conntrack.Tuple{Src: netip.MustParseAddr("2001:db8:1::10"), Dst: netip.MustParseAddr("2001:db8::10"), SrcPort: 53, DstPort: 5353},
	}
	icmp := conntrack.Entry{
		Proto: conntrack.ProtoICMP, Status: 0x19e, Timeout: 30,
		Orig:  conntrack.Tuple{Src: netip.MustParseAddr("192.0.2.10"), Dst: netip.MustParseAddr("198.51.100.10"), SrcPort: 77, DstPort: 8 << 8},
		Reply: conntrack.Tuple{Src: netip.MustParseAddr("198.51.100.10"), Dst: netip.MustParseAddr("198.51.100.2"), SrcPort: 77},
	}
	del := conntrack.Entry{Proto: conntrack.ProtoTCP, Orig: v4.Orig}
	return &Batch{Stream: 0xdeadbeef, Seq: 42, Flags: FlagBulkEnd, Records: []Record{
		{Entry: v4}, {Entry: v6}, {Entry: icmp}, {Delete: true, Entry: del},
		{Neigh: &Neighbor{Link: "inside", IP: netip.MustParseAddr("192.0.2.10"), MAC: [6]byte{2, 0, 0, 0, 0, 10}}},
		{Neigh: &Neighbor{Link: "outside", IP: netip.MustParseAddr("2001:db8::1"), MAC: [6]byte{2, 0, 0, 0, 0, 1}}},
	}}
}

func TestBatchRoundTrip(t *testing.T) {
	want := sampleBatch()
	b := AppendBatch(nil, want)
	n := batchHeaderLen
	for i := range want.Records {
		n += recordLen(&want.Records[i])
	}
	if len(b) != n {
		t.Fatalf("encoded %d bytes, recordLen says %d", len(b), n)
	}
	got, err := DecodeBatch(b)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("round trip:\n got %+v\nwant %+v", got, want)
	}
	a := Ack{Stream: 9, Seq: 1 << 40, Nak: true}
	if ga, err := DecodeAck(AppendAck(nil, a)); err != nil || ga != a {
		t.Fatalf("ack round trip: %+v %v", ga, err)
	}
}

func TestDecodeRejects(t *testing.T) {
	good := AppendBatch(nil, sampleBatch())
	mut := func(f func(b []byte) []byte) []byte { return f(append([]byte(nil), good...)) }
	for name, b := range map[string][]byte{
		"empty":        nil,
		"short":        good[:10],
		"truncated":    good[:len(good)-1],
		"trailing":     append(append([]byte(nil), good...), 0),
		"flags":        mut(func(b []byte) []byte { b[12] = 0x80; return b }),
		"seq0":         mut(func(b []byte) []byte { clear(b[4:12]); return b }),
		"count":        mut(func(b []byte) []byte { b[13], b[14] = 0xff, 0xff; return b }),
		"op":           mut(func(b []byte) []byte { b[15] = 9; return b }),
		"family":       mut(func(b []byte) []byte { b[16] = 5; return b }),
		"protocol":     mut(func(b []byte) []byte { b[17] = 132; return b }),
		"icmp in v6":   AppendBatch(nil, &Batch{Seq: 1, Records: []Record{{Entry: conntrack.Entry{Proto: conntrack.ProtoICMP, Orig: conntrack.Tuple{Src: netip.MustParseAddr("2001:db8::1"), Dst: netip.MustParseAddr("2001:db8::2")}, Reply: conntrack.Tuple{Src: netip.MustParseAddr("2001:db8::2"), Dst: netip.MustParseAddr("2001:db8::1")}}}}}),
		"too large":    make([]byte, MaxPayload+1),
		"count small":  mut(func(b []byte) []byte { b[14]--; return b }),
		"neigh family": append(append(AppendBatch(nil, &Batch{Seq: 1})[:13], 0, 1, recNeigh, 5, 0), make([]byte, 10)...),
		"neigh name":   append(append(AppendBatch(nil, &Batch{Seq: 1})[:13], 0, 1, recNeigh, 4, 16), make([]byte, 26)...),
	} {
		if _, err := DecodeBatch(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("%s: err %v, want ErrMalformed", name, err)
		}
	}
	for name, b := range map[string][]byte{
		"short": {1, 2, 3}, "nak 2": AppendAck(nil, Ack{Seq: 1})[:12], "trailing": append(AppendAck(nil, Ack{}), 0),
	} {
		if name == "nak 2" {
			b = append(b, 2)
		}
		if _, err := DecodeAck(b); !errors.Is(err, ErrMalformed) {
			t.Errorf("ack %s: err %v, want ErrMalformed", name, err)
		}
	}
}

// FuzzDecodeBatch: no input panics, and whatever decodes encodes back to
// the same bytes (the format has one encoding per batch).
func FuzzDecodeBatch(f *testing.F) {
	f.Add(AppendBatch(nil, sampleBatch()))
	f.Add(AppendBatch(nil, &Batch{Stream: 1, Seq: 1, Flags: FlagBulkBegin | FlagBulkEnd}))
	f.Add(AppendAck(nil, Ack{Stream: 1, Seq: 2}))
	f.Fuzz(func(t *testing.T, b []byte) {
		if a, err := DecodeAck(b); err == nil {
			if got := AppendAck(nil, a); string(got) != string(b) {
				t.Fatalf("ack re-encodes to %x, was %x", got, b)
			}
		}
		bt, err := DecodeBatch(b)
		if err != nil {
			return
		}
		if got := AppendBatch(nil, bt); string(got) != string(b) {
			t.Fatalf("batch re-encodes to %x, was %x", got, b)
		}
	})
}
