package unit

import (
	"net/netip"
	"testing"
	"time"

	"failover/engine/event"
	"failover/engine/transport"
	"failover/engine/wire"
)

// The standby's takeover is on the event stream in order (mate lost, then
// Standby -> Active with its reason) and in the status: state, mate,
// transition counts and message counters by type and rejection cause.
func TestTakeoverEventsAndStatus(t *testing.T) {
	p, a, b := bootstrap(t)
	bus := event.NewBus(p.clk.Now)
	sub := bus.Subscribe(100)
	b.u.o.Events = bus
	_ = a

	st := b.u.Status()
	if st.State != "Standby" || st.Role != "Secondary" || !st.Mate.Seen || st.Mate.State != "Active" {
		t.Fatalf("standby status %+v", st)
	}
	if st.Messages.Received["hello"] == 0 || st.Messages.Sent["hello"] == 0 {
		t.Errorf("hello counters %+v", st.Messages)
	}
	forger := wire.NewSender(wire.NewCodec([]byte("wrong")), wire.RolePrimary, wire.NewBootID())
	msg, err := forger.Encode(&wire.Hello{State: wire.UnitFailed})
	if err != nil {
		t.Fatal(err)
	}
	p.net.Inject(hwFO, transport.Frame{From: "attacker", Dst: broadcast, Packet: transport.Packet{Src: netip.MustParseAddr("192.0.2.1"), Data: msg}})
	p.settle()

	for _, l := range allLinks {
		p.net.Cut(l)
	}
	if _, ok := p.until(time.Minute, func() bool { return b.u.State() == Active }); !ok {
		t.Fatal("standby never took over")
	}
	var got []event.Event
	for len(sub.C) > 0 {
		got = append(got, <-sub.C)
	}
	lost, active := -1, -1
	for i, ev := range got {
		switch {
		case ev.Kind == event.MateLost && lost < 0:
			lost = i
		case ev.Kind == event.UnitState && ev.From == "Standby" && ev.To == "Active":
			active = i
			if ev.Reason != "HELLO not heard from mate" || ev.Role != "Secondary" {
				t.Errorf("transition event %+v", ev)
			}
		}
		if i > 0 && ev.Seq != got[i-1].Seq+1 {
			t.Errorf("event %d has seq %d after %d", i, ev.Seq, got[i-1].Seq)
		}
	}
	if lost < 0 || active < 0 || lost > active {
		t.Errorf("want mate.lost before Standby -> Active, got %+v", got)
	}

	st = b.u.Status()
	if st.State != "Active" || st.Mate.Seen || st.Mate.State != "Not Detected" {
		t.Errorf("after takeover: state %s, mate %+v", st.State, st.Mate)
	}
	var n uint64
	for _, tr := range st.Transitions {
		if tr.To == "Active" && tr.Reason == "HELLO not heard from mate" {
			n = tr.Count
		}
	}
	if n != 1 {
		t.Errorf("transitions %+v, want one to Active for lost hellos", st.Transitions)
	}
	if st.Messages.Rejected["unexpected_auth"] != 1 {
		t.Errorf("rejected %+v, want the keyed forgery to a keyless pair as unexpected_auth", st.Messages.Rejected)
	}
}
