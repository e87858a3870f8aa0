package wire

import (
	"bytes"
	"encoding/binary"
	"errors"
	"net"
	"net/netip"
	"reflect"
	"strings"
	"testing"
)

var testBoot = BootID{1, 2, 3, 4, 5, 6, 7, 8}

// samples holds one message of every type, with every field non-zero where
// possible so that a field the codec forgets shows up as a difference.
func samples() []Body {
	return []Body{
		&Hello{
			State: UnitActive, ActiveTime: 386520, ConfigVersion: 1<<40 + 7,
			PollMs: 15000, HoldMs: 45000, Flags: HelloShuttingDown | 0x80,
			Interfaces: []IfEntry{
				{Name: "failover", Status: IfNormal, Addr: netip.MustParseAddr("192.0.2.1"), MAC: net.HardwareAddr{0, 0x11, 0x22, 0x33, 0x44, 0x55}},
				{Name: "outside", Status: IfTesting, Addr: netip.MustParseAddr("192.0.2.129")},
				{Name: "verylongname15c", Status: IfUnknown},
			},
			LastFailover: 1_700_000_000_123,
		},
		&Hello{State: UnitNegotiation},
		&IfHello{Name: "inside", State: IfFailed},
		&ConfigLine{Version: 42, Line: "interface ethernet0 auto"},
		&ConfigLine{},
		&BulkBegin{Version: 9},
		&BulkLine{Line: "nameif ethernet1 inside security100"},
		&BulkEnd{Version: 9, Count: 123},
		&Control{Op: OpBecomeStandby, Token: 0xdeadbeef},
		&ExecRequest{ID: 7, Command: "show failover"},
		&ExecReply{ID: 7, Output: "Failover On\nCable status: Normal\n", More: true},
		&ExecReply{ID: 8},
		&StateUpdate{Kind: 3, Payload: []byte{0, 1, 2, 0xff}},
		&StateUpdate{Kind: 1},
		&Challenge{Nonce: Nonce{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}},
		&Response{Nonce: Nonce{0xff, 15: 0xee}},
	}
}

func TestRoundTrip(t *testing.T) {
	for _, key := range [][]byte{nil, []byte("s3cret")} {
		c := NewCodec(key)
		for i, body := range samples() {
			in := &Message{Role: RoleSecondary, BootID: testBoot, Seq: uint64(i + 1), Body: body}
			b, err := c.Encode(in)
			if err != nil {
				t.Fatalf("key=%q %s: encode: %v", key, body.Type(), err)
			}
			if key != nil && len(b) != HeaderLen+int(binary.BigEndian.Uint16(b[22:]))+MACLen {
				t.Fatalf("key set but no MAC trailer: %d bytes", len(b))
			}
			out, err := c.Decode(b)
			if err != nil {
				t.Fatalf("key=%q %s: decode: %v", key, body.Type(), err)
			}
			in.Authenticated = key != nil
			if !reflect.DeepEqual(in, out) {
				t.Errorf("key=%q %s: round trip\n got %+v\nwant %+v", key, body.Type(), out.Body, in.Body)
			}
			// The body on its own round-trips through Marshal/Unmarshal.
			raw, err := body.(interface{ MarshalBinary() ([]byte, error) }).MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			fresh := newBody(body.Type())
			if err := fresh.UnmarshalBinary(raw); err != nil || !reflect.DeepEqual(fresh, body) {
				t.Errorf("%s: body round trip: %v %+v", body.Type(), err, fresh)
			}
		}
	}
}

// TestGolden pins the byte layout documented in doc.go, so that a change to
// the format cannot go unnoticed (the mate may run an older build).
func TestGolden(t *testing.T) {
	b, err := NewCodec(nil).Encode(&Message{Role: RolePrimary, BootID: testBoot, Seq: 0x0102, Body: &Control{Op: OpAckReady, Token: 0x0a0b0c0d}})
	if err != nil {
		t.Fatal(err)
	}
	want := []byte{
		'F', 'O', 2, 7, 0, 1,
		1, 2, 3, 4, 5, 6, 7, 8,
		0, 0, 0, 0, 0, 0, 1, 2,
		0, 5,
		3, 0x0a, 0x0b, 0x0c, 0x0d,
	}
	if !bytes.Equal(b, want) {
		t.Errorf("control encoding\n got % x\nwant % x", b, want)
	}
	b, err = NewCodec(nil).Encode(&Message{Role: RoleSecondary, BootID: testBoot, Seq: 3, Body: &Control{Op: OpProbe, Token: 9}})
	if err != nil {
		t.Fatal(err)
	}
	want = []byte{
		'F', 'O', 2, 7, 0, 2,
		1, 2, 3, 4, 5, 6, 7, 8,
		0, 0, 0, 0, 0, 0, 0, 3,
		0, 5,
		6, 0, 0, 0, 9,
	}
	if !bytes.Equal(b, want) {
		t.Errorf("probe encoding\n got % x\nwant % x", b, want)
	}
	b, err = NewCodec(nil).Encode(&Message{Role: RolePrimary, BootID: testBoot, Seq: 4, Body: &Response{Nonce: Nonce{0xa, 15: 0xb}}})
	if err != nil {
		t.Fatal(err)
	}
	want = []byte{
		'F', 'O', 2, 12, 0, 1,
		1, 2, 3, 4, 5, 6, 7, 8,
		0, 0, 0, 0, 0, 0, 0, 4,
		0, 16,
		0xa, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xb,
	}
	if !bytes.Equal(b, want) {
		t.Errorf("response encoding\n got % x\nwant % x", b, want)
	}
	if OpProbeReply != 7 || HelloAnswersProbes != 0x02 {
		t.Errorf("probe reply op %d, probes flag %#x: codes are fixed by doc.go", OpProbeReply, HelloAnswersProbes)
	}
	h, err := (&Hello{State: 4, ActiveTime: 1, ConfigVersion: 2, PollMs: 3, HoldMs: 4, Flags: 1,
		Interfaces:   []IfEntry{{Name: "ab", Status: 1, Addr: netip.MustParseAddr("192.0.2.7"), MAC: net.HardwareAddr{1, 2, 3, 4, 5, 6}}},
		LastFailover: 0x0102}).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	wantHello := []byte{4, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 1, 1,
		2, 'a', 'b', 1, 192, 0, 2, 7, 1, 2, 3, 4, 5, 6, 0, 0, 0, 0, 0, 0, 1, 2}
	if !bytes.Equal(h, wantHello) {
		t.Errorf("hello body\n got % x\nwant % x", h, wantHello)
	}
}

func encode(t *testing.T, c *Codec, seq uint64, body Body) []byte {
	t.Helper()
	b, err := c.Encode(&Message{Role: RolePrimary, BootID: testBoot, Seq: seq, Body: body})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestTruncatedEnvelope(t *testing.T) {
	for _, key := range [][]byte{nil, []byte("k")} {
		c := NewCodec(key)
		for _, body := range samples() {
			b := encode(t, c, 1, body)
			for n := 0; n < len(b); n++ {
				if _, err := c.Decode(b[:n]); !errors.Is(err, ErrTruncated) {
					t.Fatalf("key=%q %s cut at %d of %d: got %v, want ErrTruncated", key, body.Type(), n, len(b), err)
				}
			}
		}
	}
}

// TestTruncatedBody cuts the body at every length while keeping the envelope
// consistent (length field and MAC), so the body decoder itself is tested.
func TestTruncatedBody(t *testing.T) {
	key := []byte("k")
	c := NewCodec(key)
	for _, body := range samples() {
		full := encode(t, c, 1, body)
		n := int(binary.BigEndian.Uint16(full[22:]))
		for cut := 0; cut < n; cut++ {
			b := append([]byte(nil), full[:HeaderLen+cut]...)
			binary.BigEndian.PutUint16(b[22:], uint16(cut))
			b = appendMAC(b, key)
			if _, err := c.Decode(b); !errors.Is(err, ErrTruncated) {
				t.Fatalf("%s body cut at %d of %d: got %v, want ErrTruncated", body.Type(), cut, n, err)
			}
			if err := newBody(body.Type()).UnmarshalBinary(full[HeaderLen : HeaderLen+cut]); !errors.Is(err, ErrTruncated) {
				t.Fatalf("%s UnmarshalBinary cut at %d: got %v", body.Type(), cut, err)
			}
		}
	}
}

// reseal recomputes the MAC after a test has edited a keyed message, so that
// the check under test is not masked by ErrBadMAC.
func reseal(b, key []byte) []byte {
	return appendMAC(append([]byte(nil), b[:len(b)-MACLen]...), key)
}

func TestDecodeErrors(t *testing.T) {
	key := []byte("key")
	keyed := NewCodec(key)
	plain := NewCodec(nil)
	good := encode(t, keyed, 1, &IfHello{Name: "inside", State: IfNormal})
	goodPlain := encode(t, plain, 1, &IfHello{Name: "inside", State: IfNormal})
	edit := func(b []byte, f func([]byte)) []byte {
		b = append([]byte(nil), b...)
		f(b)
		return b
	}
	tests := []struct {
		name  string
		codec *Codec
		in    []byte
		want  error
	}{
		{"bad magic", keyed, edit(good, func(b []byte) { b[1] = 'X' }), ErrBadMagic},
		{"bad magic short", keyed, []byte("GO"), ErrBadMagic},
		{"version 1", keyed, edit(good, func(b []byte) { b[2] = 1 }), ErrVersion},
		{"version 3", keyed, edit(good, func(b []byte) { b[2] = 3 }), ErrVersion},
		{"reserved flag", keyed, edit(good, func(b []byte) { b[4] |= 0x40 }), ErrBadFlags},
		{"role 0", keyed, edit(good, func(b []byte) { b[5] = 0 }), ErrBadRole},
		{"role 3", plain, edit(goodPlain, func(b []byte) { b[5] = 3 }), ErrBadRole},
		{"unknown type", keyed, reseal(edit(good, func(b []byte) { b[3] = 99 }), key), ErrUnknownType},
		{"unknown type 0", plain, edit(goodPlain, func(b []byte) { b[3] = 0 }), ErrUnknownType},
		{"bad mac", keyed, edit(good, func(b []byte) { b[len(b)-1] ^= 1 }), ErrBadMAC},
		{"tampered body", keyed, edit(good, func(b []byte) { b[HeaderLen+1] = 'I' }), ErrBadMAC},
		{"tampered seq", keyed, edit(good, func(b []byte) { b[21]++ }), ErrBadMAC},
		{"wrong key", NewCodec([]byte("other")), good, ErrBadMAC},
		{"no auth while keyed", keyed, goodPlain, ErrUnauthenticated},
		{"auth while no key", plain, good, ErrUnexpectedAuth},
		{"trailing", plain, append(append([]byte(nil), goodPlain...), 0), ErrTrailing},
		{"trailing keyed", keyed, append(append([]byte(nil), good...), 0), ErrTrailing},
		{"body trailing", plain, edit(append(append([]byte(nil), goodPlain...), 0), func(b []byte) { b[23]++ }), ErrTrailing},
		{"oversized datagram", plain, make([]byte, MaxMessageSize+1), ErrTooLarge},
		{"oversized body length", plain, edit(goodPlain, func(b []byte) { binary.BigEndian.PutUint16(b[22:], MaxBody+1) }), ErrTooLarge},
		{"long name", plain, edit(goodPlain, func(b []byte) { b[HeaderLen] = 16 }), ErrStringTooLong},
		{"empty", plain, nil, ErrTruncated},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := tt.codec.Decode(tt.in)
			if !errors.Is(err, tt.want) {
				t.Fatalf("got %v, %v; want %v", m, err, tt.want)
			}
		})
	}
	// Sanity: the unedited inputs decode, so the errors above come from the edits.
	if _, err := keyed.Decode(good); err != nil {
		t.Fatal(err)
	}
	if _, err := plain.Decode(goodPlain); err != nil {
		t.Fatal(err)
	}
}

func TestBodyErrors(t *testing.T) {
	if err := new(ExecReply).UnmarshalBinary([]byte{0, 0, 0, 1, 0, 0, 2}); !errors.Is(err, ErrMalformed) {
		t.Errorf("bool 2: got %v, want ErrMalformed", err)
	}
	long := make([]byte, 2+MaxText+1)
	binary.BigEndian.PutUint16(long, MaxText+1)
	if err := new(BulkLine).UnmarshalBinary(long); !errors.Is(err, ErrStringTooLong) {
		t.Errorf("long text: got %v, want ErrStringTooLong", err)
	}
	// Hello announcing more interfaces than it carries.
	h, _ := (&Hello{Interfaces: []IfEntry{{Name: "a"}}}).MarshalBinary()
	h[22] = 2
	if err := new(Hello).UnmarshalBinary(h); !errors.Is(err, ErrTruncated) {
		t.Errorf("hello count: got %v, want ErrTruncated", err)
	}
}

func TestEncodeErrors(t *testing.T) {
	c := NewCodec(nil)
	tests := []struct {
		name string
		m    Message
		want error
	}{
		{"long name", Message{Role: RolePrimary, Body: &IfHello{Name: "sixteen-chars-xx"}}, ErrStringTooLong},
		{"long line", Message{Role: RolePrimary, Body: &ConfigLine{Line: strings.Repeat("x", MaxText+1)}}, ErrStringTooLong},
		{"role", Message{Role: 0, Body: &BulkBegin{}}, ErrBadRole},
		{"no body", Message{Role: RolePrimary}, ErrMalformed},
		{"ipv6", Message{Role: RolePrimary, Body: &Hello{Interfaces: []IfEntry{{Addr: netip.MustParseAddr("2001:db8::1")}}}}, ErrMalformed},
		{"mac", Message{Role: RolePrimary, Body: &Hello{Interfaces: []IfEntry{{MAC: net.HardwareAddr{1, 2}}}}}, ErrMalformed},
		{"too many interfaces", Message{Role: RolePrimary, Body: &Hello{Interfaces: make([]IfEntry, 256)}}, ErrTooLarge},
	}
	for _, tt := range tests {
		if _, err := c.Encode(&tt.m); !errors.Is(err, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, err, tt.want)
		}
	}
	// The longest text fits in a keyed message at the size limit.
	k := NewCodec([]byte("k"))
	b, err := k.Encode(&Message{Role: RolePrimary, Body: &ExecReply{Output: strings.Repeat("y", MaxText), More: true}})
	if err != nil || len(b) > MaxMessageSize {
		t.Fatalf("max text: %d bytes, %v", len(b), err)
	}
	if _, err := k.Decode(b); err != nil {
		t.Fatal(err)
	}
}

func TestSplitExecOutput(t *testing.T) {
	out := strings.Repeat("0123456789", 2*MaxText/10+3)
	parts := SplitExecOutput(5, out)
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	var sb strings.Builder
	for i, p := range parts {
		if p.ID != 5 || p.More != (i < len(parts)-1) || len(p.Output) > MaxText {
			t.Errorf("part %d: id %d more %v len %d", i, p.ID, p.More, len(p.Output))
		}
		sb.WriteString(p.Output)
	}
	if sb.String() != out {
		t.Error("parts do not add up to the output")
	}
	if p := SplitExecOutput(1, ""); len(p) != 1 || p[0].More {
		t.Errorf("empty output: %+v", p)
	}
}

func TestSetKey(t *testing.T) {
	c := NewCodec([]byte("a"))
	if !c.HasKey() {
		t.Fatal("key not set")
	}
	k := []byte("b")
	c.SetKey(k)
	b := encode(t, c, 1, &BulkBegin{})
	k[0] = 'z' // the codec must have copied the key
	if _, err := c.Decode(b); err != nil {
		t.Fatal(err)
	}
	c.SetKey([]byte{})
	if c.HasKey() {
		t.Fatal("empty key should disable authentication")
	}
	if _, err := c.Decode(b); !errors.Is(err, ErrUnexpectedAuth) {
		t.Fatalf("got %v", err)
	}
}

// FuzzDecode: arbitrary bytes never panic the decoder, with or without a
// key, and whatever decodes re-encodes to exactly the same bytes (so the
// format has one encoding per message and the decoder drops nothing).
func FuzzDecode(f *testing.F) {
	key := []byte("fuzz-key")
	for _, k := range [][]byte{nil, key} {
		c := NewCodec(k)
		for i, body := range samples() {
			b, err := c.Encode(&Message{Role: RolePrimary, BootID: testBoot, Seq: uint64(i), Body: body})
			if err != nil {
				f.Fatal(err)
			}
			f.Add(b)
		}
	}
	f.Add([]byte("FO"))
	f.Add([]byte{})
	codecs := []*Codec{NewCodec(nil), NewCodec(key)}
	f.Fuzz(func(t *testing.T, b []byte) {
		for _, c := range codecs {
			m, err := c.Decode(b)
			if err != nil {
				if m != nil {
					t.Fatal("message returned with an error")
				}
				continue
			}
			out, err := c.Encode(m)
			if err != nil {
				t.Fatalf("decoded message does not re-encode: %v", err)
			}
			if !bytes.Equal(out, b) {
				t.Fatalf("re-encoding differs\n got % x\nwant % x", out, b)
			}
			m2, err := c.Decode(out)
			if err != nil || !reflect.DeepEqual(m, m2) {
				t.Fatalf("re-decoded %+v, %v; want %+v", m2, err, m)
			}
		}
	})
}
