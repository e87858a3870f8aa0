package probe

import (
	"encoding/binary"
	"net"
	"strings"
	"testing"

	"golang.org/x/net/icmp"
	"golang.org/x/net/ipv4"
)

// These tests need no privileges: they only parse bytes.

var (
	errTarget = net.IPv4(198, 51, 100, 34).To4()
	errSource = net.IPv4(192, 0, 2, 1).To4()
)

const (
	errID    = 0x1234
	errCount = 3
)

// echoDatagram is an IPv4 datagram carrying an echo request from errSource
// to dst with the given id and seq, as a router would quote it: header plus
// the first payload bytes (at least the 8-byte ICMP header).
func echoDatagram(t testing.TB, dst net.IP, id, seq int, data []byte) []byte {
	t.Helper()
	echo, err := (&icmp.Message{Type: ipv4.ICMPTypeEcho, Body: &icmp.Echo{ID: id, Seq: seq, Data: data}}).Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	h := ipv4.Header{Version: 4, Len: 20, TotalLen: 20 + len(echo), TTL: 1, Protocol: 1, Src: errSource, Dst: dst}
	hb, err := h.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return append(hb, echo...)
}

// errorMessage is an ICMP error of type typ and code quoting q.
func errorMessage(t testing.TB, typ ipv4.ICMPType, code int, q []byte) []byte {
	t.Helper()
	m := &icmp.Message{Type: typ, Code: code}
	switch typ {
	case ipv4.ICMPTypeTimeExceeded:
		m.Body = &icmp.TimeExceeded{Data: q}
	default:
		m.Body = &icmp.DstUnreach{Data: q}
	}
	b, err := m.Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMatchError(t *testing.T) {
	good := echoDatagram(t, errTarget, errID, 0, make([]byte, 24))
	withOptions := func() []byte {
		// The same request with 4 bytes of IP options (IHL 6).
		q := append([]byte(nil), good[:20]...)
		q[0] = 0x46
		q = append(q, 1, 1, 1, 0) // NOP NOP NOP EOL
		return append(q, good[20:]...)
	}()
	fragment := func(off uint16) []byte {
		q := append([]byte(nil), good...)
		binary.BigEndian.PutUint16(q[6:8], off)
		return q
	}
	reply, err := (&icmp.Message{Type: ipv4.ICMPTypeEchoReply, Body: &icmp.Echo{ID: errID, Seq: 0, Data: good}}).Marshal(nil)
	if err != nil {
		t.Fatal(err)
	}
	notEcho := append([]byte(nil), good...)
	notEcho[20] = byte(ipv4.ICMPTypeEchoReply)
	udp := append([]byte(nil), good...)
	udp[9] = 17

	tests := []struct {
		name string
		msg  []byte
		want string // "" for no match
	}{
		{"net unreachable", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, good), "net unreachable"},
		{"host unreachable", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 1, good), "host unreachable"},
		{"port unreachable", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 3, good), "port unreachable"},
		{"admin prohibited", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 13, good), "communication administratively prohibited"},
		{"unknown unreachable code", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 42, good), "destination unreachable (code 42)"},
		{"TTL exceeded", errorMessage(t, ipv4.ICMPTypeTimeExceeded, 0, good), "TTL exceeded"},
		{"reassembly time exceeded", errorMessage(t, ipv4.ICMPTypeTimeExceeded, 1, good), "fragment reassembly time exceeded"},
		{"last sequence", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, echoDatagram(t, errTarget, errID, errCount-1, nil)), "net unreachable"},
		{"minimal quote", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, good[:28]), "net unreachable"},
		{"IP options", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 1, withOptions), "host unreachable"},
		{"first fragment", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, fragment(0x2000)), "net unreachable"},

		{"fragmentation needed", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 4, good), ""},
		{"wrong ID", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, echoDatagram(t, errTarget, errID+1, 0, nil)), ""},
		{"wrong target", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, echoDatagram(t, net.IPv4(203, 0, 113, 7), errID, 0, nil)), ""},
		{"sequence not sent", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, echoDatagram(t, errTarget, errID, errCount, nil)), ""},
		{"truncated quote", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, good[:27]), ""},
		{"truncated quote with options", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, withOptions[:31]), ""},
		{"IP header only", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, good[:20]), ""},
		{"empty quote", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, nil), ""},
		{"later fragment", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, fragment(0x00b9)), ""},
		{"quoted echo reply", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, notEcho), ""},
		{"quoted UDP", errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 3, udp), ""},
		{"echo reply", reply, ""},
		{"garbage", []byte("not an ICMP message at all"), ""},
		{"short", []byte{3, 0}, ""},
		{"empty", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := matchError(tt.msg, errTarget, errID, errCount)
			if ok != (tt.want != "") || got != tt.want {
				t.Errorf("matchError = %q, %v; want %q, %v", got, ok, tt.want, tt.want != "")
			}
		})
	}
}

func TestMatchErrorIPv6Target(t *testing.T) {
	msg := errorMessage(t, ipv4.ICMPTypeDestinationUnreachable, 0, echoDatagram(t, errTarget, errID, 0, nil))
	if _, ok := matchError(msg, net.ParseIP("2001:db8::1"), errID, errCount); ok {
		t.Error("matched an IPv6 target")
	}
	// A 16-byte form of the IPv4 target is the same target.
	if _, ok := matchError(msg, net.IPv4(198, 51, 100, 34), errID, errCount); !ok {
		t.Error("no match for the 16-byte form of the target")
	}
}

func TestCodeNames(t *testing.T) {
	for code := -1; code < 20; code++ {
		if s := unreachName(code); s == "" || !strings.Contains(s, "unreachable") && !strings.Contains(s, "prohibited") &&
			!strings.Contains(s, "unknown") && !strings.Contains(s, "isolated") && !strings.Contains(s, "failed") &&
			!strings.Contains(s, "needed") && !strings.Contains(s, "precedence") {
			t.Errorf("unreachName(%d) = %q", code, s)
		}
		if timeExceededName(code) == "" {
			t.Errorf("timeExceededName(%d) is empty", code)
		}
	}
}

func FuzzMatchError(f *testing.F) {
	good := echoDatagram(f, errTarget, errID, 1, make([]byte, 24))
	f.Add(errorMessage(f, ipv4.ICMPTypeDestinationUnreachable, 0, good), uint16(errID), 3)
	f.Add(errorMessage(f, ipv4.ICMPTypeDestinationUnreachable, 1, good[:28]), uint16(errID), 1)
	f.Add(errorMessage(f, ipv4.ICMPTypeTimeExceeded, 0, good), uint16(errID), 100)
	f.Add(errorMessage(f, ipv4.ICMPTypeDestinationUnreachable, 4, good), uint16(errID), 3)
	f.Add(errorMessage(f, ipv4.ICMPTypeDestinationUnreachable, 0, good[:27]), uint16(0), 0)
	f.Add(errorMessage(f, ipv4.ICMPTypeParameterProblem, 0, good), uint16(errID), 3)
	f.Add([]byte{3, 0, 0, 0, 0, 0, 0, 0, 0x4f}, uint16(0), -1)
	f.Add([]byte{11, 1, 0xff, 0xff, 0, 30, 0, 0}, uint16(65535), 70000)
	f.Add([]byte{}, uint16(0), 0)
	f.Fuzz(func(t *testing.T, msg []byte, id uint16, count int) {
		what, ok := matchError(msg, errTarget, int(id), count)
		if ok != (what != "") {
			t.Fatalf("matchError = %q, %v: a match must name the error, and only a match", what, ok)
		}
		if !ok {
			return
		}
		// A match is an error quoting an echo request to the target with
		// the probe's identifier.
		if len(msg) < 8+20+8 || (msg[0] != 3 && msg[0] != 11) || (msg[0] == 3 && msg[1] == codeFragNeeded) {
			t.Fatalf("matched % x", msg)
		}
		q := msg[8:]
		hl := int(q[0]&0x0f) * 4
		if !net.IP(q[16:20]).Equal(errTarget) || q[hl] != 8 || binary.BigEndian.Uint16(q[hl+4:]) != id {
			t.Fatalf("matched a quote of something else: % x", msg)
		}
	})
}
