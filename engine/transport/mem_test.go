package transport

import (
	"errors"
	"net/netip"
	"testing"
	"time"

	"failover/engine/wire"
)

var (
	addrA  = netip.MustParseAddr("192.0.2.1")
	addrB  = netip.MustParseAddr("192.0.2.2")
	addrA2 = netip.MustParseAddr("192.0.2.65")
	addrB2 = netip.MustParseAddr("192.0.2.66")
)

// pair returns endpoints A and B listening on "failover" and "inside".
func pair(t *testing.T) (*MemNetwork, *MemEndpoint, *MemEndpoint) {
	t.Helper()
	n := NewMemNetwork()
	a, b := n.Endpoint("A"), n.Endpoint("B")
	t.Cleanup(func() { a.Close(); b.Close() })
	for _, l := range []struct {
		e     *MemEndpoint
		iface string
		addr  netip.Addr
	}{{a, "failover", addrA}, {b, "failover", addrB}, {a, "inside", addrA2}, {b, "inside", addrB2}} {
		if err := l.e.Listen(l.iface, l.addr); err != nil {
			t.Fatal(err)
		}
	}
	return n, a, b
}

// drain returns everything queued on e without waiting: MemNetwork delivers
// synchronously, so whatever was sent is already there.
func drain(e *MemEndpoint) []Packet {
	var out []Packet
	for {
		select {
		case p, ok := <-e.Recv():
			if !ok {
				return out
			}
			out = append(out, p)
		default:
			return out
		}
	}
}

func mustSend(t *testing.T, e Transport, iface string, dst netip.Addr, data string) {
	t.Helper()
	if err := e.Send(iface, dst, []byte(data)); err != nil {
		t.Fatal(err)
	}
}

func datas(ps []Packet) []string {
	var out []string
	for _, p := range ps {
		out = append(out, string(p.Data))
	}
	return out
}

func TestMemDelivery(t *testing.T) {
	_, a, b := pair(t)
	buf := []byte("hello")
	if err := a.Send("failover", addrB, buf); err != nil {
		t.Fatal(err)
	}
	buf[0] = 'X' // the network must have copied the sender's buffer
	got := drain(b)
	if len(got) != 1 || got[0].Iface != "failover" || got[0].Src != addrA || string(got[0].Data) != "hello" {
		t.Fatalf("B got %+v", got)
	}
	if len(drain(a)) != 0 {
		t.Fatal("sender received its own packet")
	}
	// Wrong destination address: nobody hears it.
	mustSend(t, a, "failover", netip.MustParseAddr("192.0.2.99"), "lost")
	if got := drain(b); len(got) != 0 {
		t.Fatalf("B got %v for another address", datas(got))
	}
	// Broadcast reaches everyone else on the link.
	mustSend(t, b, "inside", netip.MustParseAddr("255.255.255.255"), "bcast")
	if got := drain(a); len(got) != 1 || got[0].Iface != "inside" || got[0].Src != addrB2 {
		t.Fatalf("A got %+v", got)
	}
	if err := a.Send("outside", addrB, nil); !errors.Is(err, ErrNotListening) {
		t.Fatalf("send on unknown iface: %v", err)
	}
	if err := a.Listen("inside", addrA2); !errors.Is(err, ErrAlreadyListening) {
		t.Fatalf("double listen: %v", err)
	}
}

func TestMemCutRestore(t *testing.T) {
	n, a, b := pair(t)
	n.Cut("failover")
	mustSend(t, a, "failover", addrB, "cut")
	mustSend(t, a, "inside", addrB2, "other link")
	if got := datas(drain(b)); len(got) != 1 || got[0] != "other link" {
		t.Fatalf("B got %v; the cut must affect only its link", got)
	}
	n.Restore("failover")
	mustSend(t, a, "failover", addrB, "back")
	if got := datas(drain(b)); len(got) != 1 || got[0] != "back" {
		t.Fatalf("after restore B got %v", got)
	}
	// One-way cut: A is not heard, B still is.
	n.CutFrom("failover", "A")
	mustSend(t, a, "failover", addrB, "a->b")
	mustSend(t, b, "failover", addrA, "b->a")
	if got := drain(b); len(got) != 0 {
		t.Fatalf("B heard A through a one-way cut: %v", datas(got))
	}
	if got := datas(drain(a)); len(got) != 1 || got[0] != "b->a" {
		t.Fatalf("A got %v", got)
	}
	if s := n.Stats("failover"); s.Dropped != 2 || s.Sent != 4 || s.Delivered != 2 {
		t.Fatalf("stats %+v", s)
	}
}

func TestMemDropDuplicateFilter(t *testing.T) {
	n, a, b := pair(t)
	n.DropNext("failover", 2)
	for _, s := range []string{"1", "2", "3"} {
		mustSend(t, a, "failover", addrB, s)
	}
	if got := datas(drain(b)); len(got) != 1 || got[0] != "3" {
		t.Fatalf("after DropNext(2) B got %v", got)
	}
	n.Duplicate("failover", true)
	mustSend(t, a, "failover", addrB, "dup")
	if got := datas(drain(b)); len(got) != 2 || got[0] != "dup" || got[1] != "dup" {
		t.Fatalf("duplicate: %v", got)
	}
	n.Duplicate("failover", false)
	n.SetFilter("failover", func(f Frame) bool { return string(f.Data) != "bad" })
	mustSend(t, a, "failover", addrB, "bad")
	mustSend(t, a, "failover", addrB, "good")
	if got := datas(drain(b)); len(got) != 1 || got[0] != "good" {
		t.Fatalf("filter: %v", got)
	}
}

func TestMemWildcardAndClose(t *testing.T) {
	n := NewMemNetwork()
	a, b := n.Endpoint("A"), n.Endpoint("B")
	_ = a.Listen("outside", addrA)
	_ = b.Listen("outside", netip.Addr{}) // wildcard, as UDP data interfaces
	mustSend(t, a, "outside", netip.MustParseAddr("192.0.2.200"), "any")
	if got := drain(b); len(got) != 1 {
		t.Fatalf("wildcard listener got %v", datas(got))
	}
	if err := b.Unlisten("outside"); err != nil {
		t.Fatal(err)
	}
	mustSend(t, a, "outside", addrB, "gone")
	if got := drain(b); len(got) != 0 {
		t.Fatalf("after Unlisten got %v", datas(got))
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-b.Recv(); ok {
		t.Fatal("Recv not closed")
	}
	if err := b.Send("outside", addrA, nil); !errors.Is(err, ErrClosed) {
		t.Fatalf("send after close: %v", err)
	}
	// A restarted unit takes the name again.
	b2 := n.Endpoint("B")
	_ = b2.Listen("outside", addrB)
	mustSend(t, a, "outside", addrB, "new")
	if got := drain(b2); len(got) != 1 {
		t.Fatalf("restarted endpoint got %v", datas(got))
	}
	a.Close()
	b2.Close()
}

func TestMemQueueFullDrops(t *testing.T) {
	n, a, b := pair(t)
	for range recvQueue + 5 {
		mustSend(t, a, "failover", addrB, "x")
	}
	if got := len(drain(b)); got != recvQueue {
		t.Fatalf("queued %d, want %d", got, recvQueue)
	}
	if s := n.Stats("failover"); s.Dropped != 5 {
		t.Fatalf("stats %+v", s)
	}
}

// TestMemReplayRejectedByWire runs the wire layer over the memory network:
// an attacker replaying captured hellos is refused, a duplicating link does
// not make a message count twice, and a tampered frame fails the MAC.
func TestMemReplayRejectedByWire(t *testing.T) {
	n, a, b := pair(t)
	key := []byte("failover-key")
	bootA, bootB := wire.NewBootID(), wire.NewBootID()
	tx := wire.NewSender(wire.NewCodec(key), wire.RolePrimary, bootA)
	rxA := wire.NewReceiver(wire.NewCodec(key), bootA)
	txB := wire.NewSender(wire.NewCodec(key), wire.RoleSecondary, bootB)
	rx := wire.NewReceiver(wire.NewCodec(key), bootB)
	lan := wire.Ingress{Iface: "failover", Name: "failover", LAN: true}
	now := time.Unix(1000, 0)
	send := func(from Transport, s *wire.Sender, dst netip.Addr, body wire.Body) {
		t.Helper()
		msg, err := s.Encode(body)
		if err != nil {
			t.Fatal(err)
		}
		if err := from.Send("failover", dst, msg); err != nil {
			t.Fatal(err)
		}
	}

	// B proves A's boot live before it hears A at all.
	send(a, tx, addrB, &wire.Hello{State: wire.UnitNegotiation})
	_, ch, err := rx.Decode(lan, drain(b)[0].Data, now)
	if !errors.Is(err, wire.ErrUnverified) || ch == nil {
		t.Fatalf("first hello: %v, challenge %v", err, ch)
	}
	send(b, txB, addrA, ch)
	_, resp, err := rxA.Decode(lan, drain(a)[0].Data, now)
	if err != nil || resp == nil {
		t.Fatalf("challenge: %v, answer %v", err, resp)
	}
	send(a, tx, addrB, resp)
	if _, _, err := rx.Decode(lan, drain(b)[0].Data, now); err != nil {
		t.Fatalf("answer: %v", err)
	}
	start := len(n.History("failover"))

	n.Duplicate("failover", true)
	for i := range 3 {
		send(a, tx, addrB, &wire.Hello{State: wire.UnitActive, ActiveTime: uint32(i)})
	}
	n.Duplicate("failover", false)
	n.Replay("failover", 3)
	n.Inject("failover", Frame{From: "attacker", Dst: addrB, Packet: Packet{Src: addrA, Data: tamper(n.History("failover")[start].Data)}})

	var accepted []uint32
	var replays, badMAC int
	for _, p := range drain(b) {
		m, _, err := rx.Decode(lan, p.Data, now)
		switch {
		case err == nil:
			accepted = append(accepted, m.Body.(*wire.Hello).ActiveTime)
		case errors.Is(err, wire.ErrReplay):
			replays++
		case errors.Is(err, wire.ErrBadMAC):
			badMAC++
		default:
			t.Fatalf("unexpected %v", err)
		}
	}
	if len(accepted) != 3 || accepted[0] != 0 || accepted[2] != 2 || replays != 6 || badMAC != 1 {
		t.Fatalf("accepted %v, replays %d, bad MAC %d", accepted, replays, badMAC)
	}
}

func tamper(b []byte) []byte {
	b = append([]byte(nil), b...)
	b[wire.HeaderLen] ^= 0xff
	return b
}

func TestMemTTL(t *testing.T) {
	n, a, b := pair(t)
	if err := a.Send("failover", addrB, []byte("x")); err != nil {
		t.Fatal(err)
	}
	n.Inject("failover", Frame{From: "router", Dst: addrB, Packet: Packet{Src: addrA, TTL: 63, Data: []byte("y")}})
	got := drain(b)
	if len(got) != 2 || CheckOnLink(got[0]) != nil || !errors.Is(CheckOnLink(got[1]), ErrOffLink) {
		t.Fatalf("got %+v", got)
	}
}
