package transport

import (
	"fmt"
	"net/netip"
	"sync"
)

// MemNetwork is an in-memory network for tests, in the spirit of
// wireguard-go's conn/bindtest. Every interface name is one link shared by
// all endpoints listening on that name (both units name their interfaces
// alike: "failover", "outside", "inside"). Delivery is synchronous: when
// Send returns, the packet is in the receivers' queues, which keeps tests
// deterministic.
//
// A packet sent to dst reaches every other endpoint on the link that
// listens with local address dst, or with the zero (wildcard) address, or
// every other endpoint when dst is 255.255.255.255. A full receive queue
// drops the packet, as a socket buffer would.
type MemNetwork struct {
	mu        sync.Mutex
	links     map[string]*memLink
	endpoints map[string]*MemEndpoint
}

// Frame is a packet as it crossed a link, with the name of the endpoint
// that sent it and its destination.
type Frame struct {
	From string
	Dst  netip.Addr
	Packet
}

// LinkStats counts what happened on a link.
type LinkStats struct {
	Sent      int // frames sent or injected
	Delivered int // copies put in a receiver's queue
	Dropped   int // frames or copies lost to a cut, a drop rule, a filter or a full queue
}

var broadcast = netip.AddrFrom4([4]byte{255, 255, 255, 255})

// historyLen bounds the frames a link remembers for Replay and History.
const historyLen = 4096

type memLink struct {
	cut      bool
	cutFrom  map[string]bool // senders whose frames are lost (one-way cut)
	dropNext int
	dup      bool
	filter   func(Frame) bool
	history  []Frame
	stats    LinkStats
}

// NewMemNetwork returns an empty network.
func NewMemNetwork() *MemNetwork {
	return &MemNetwork{links: map[string]*memLink{}, endpoints: map[string]*MemEndpoint{}}
}

func (n *MemNetwork) link(ifname string) *memLink {
	l := n.links[ifname]
	if l == nil {
		l = &memLink{cutFrom: map[string]bool{}}
		n.links[ifname] = l
	}
	return l
}

// Endpoint creates the endpoint called name (one unit). A closed
// endpoint's name can be used again, which is how a test restarts a unit.
// It panics if an open endpoint already has that name: that is a bug in the
// test, not a condition to handle.
func (n *MemNetwork) Endpoint(name string) *MemEndpoint {
	n.mu.Lock()
	defer n.mu.Unlock()
	if _, ok := n.endpoints[name]; ok {
		panic(fmt.Sprintf("transport: endpoint %q already open", name))
	}
	e := &MemEndpoint{net: n, name: name, ifaces: map[string]netip.Addr{}, recv: make(chan Packet, recvQueue)}
	n.endpoints[name] = e
	return e
}

// Cut makes link ifname lose every frame, both ways, until Restore.
func (n *MemNetwork) Cut(ifname string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.link(ifname).cut = true
}

// CutFrom makes link ifname lose the frames sent by endpoint from only, so
// that the other side still hears nothing while from still hears it.
func (n *MemNetwork) CutFrom(ifname, from string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.link(ifname).cutFrom[from] = true
}

// Restore undoes Cut and CutFrom on ifname.
func (n *MemNetwork) Restore(ifname string) {
	n.mu.Lock()
	defer n.mu.Unlock()
	l := n.link(ifname)
	l.cut = false
	clear(l.cutFrom)
}

// DropNext makes link ifname lose its next count frames.
func (n *MemNetwork) DropNext(ifname string, count int) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.link(ifname).dropNext = count
}

// Duplicate makes link ifname deliver every frame twice (on) or once.
func (n *MemNetwork) Duplicate(ifname string, on bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.link(ifname).dup = on
}

// SetFilter installs f on link ifname: a frame is lost when f returns
// false. nil removes the filter. f runs with the network locked and must not
// call back into it.
func (n *MemNetwork) SetFilter(ifname string, f func(Frame) bool) {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.link(ifname).filter = f
}

// History returns copies of the last frames sent on ifname (up to 4096),
// oldest first, including lost ones: what a tap on the wire would record.
func (n *MemNetwork) History(ifname string) []Frame {
	n.mu.Lock()
	defer n.mu.Unlock()
	h := n.link(ifname).history
	out := make([]Frame, len(h))
	for i, f := range h {
		f.Data = append([]byte(nil), f.Data...)
		out[i] = f
	}
	return out
}

// Replay sends the last count frames of ifname's history again, exactly as
// recorded, as an attacker on the link would.
func (n *MemNetwork) Replay(ifname string, count int) {
	h := n.History(ifname)
	for _, f := range h[max(0, len(h)-count):] {
		n.Inject(ifname, f)
	}
}

// Inject puts an arbitrary frame on link ifname, as if sent by f.From (who
// need not exist) with source address f.Src. Cuts, drop rules and filters
// apply as to any frame.
func (n *MemNetwork) Inject(ifname string, f Frame) {
	n.mu.Lock()
	defer n.mu.Unlock()
	f.Iface = ifname
	n.transmit(ifname, f)
}

// Stats returns the counters of link ifname.
func (n *MemNetwork) Stats(ifname string) LinkStats {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.link(ifname).stats
}

// transmit carries f over link ifname; n.mu is held.
func (n *MemNetwork) transmit(ifname string, f Frame) {
	l := n.link(ifname)
	f.Data = append([]byte(nil), f.Data...) // the sender may reuse its buffer
	l.stats.Sent++
	if len(l.history) == historyLen {
		l.history = append(l.history[:0], l.history[1:]...)
	}
	l.history = append(l.history, f)
	switch {
	case l.cut, l.cutFrom[f.From], l.filter != nil && !l.filter(f):
		l.stats.Dropped++
		return
	case l.dropNext > 0:
		l.dropNext--
		l.stats.Dropped++
		return
	}
	copies := 1
	if l.dup {
		copies = 2
	}
	for _, e := range n.endpoints {
		if e.name == f.From {
			continue
		}
		local, ok := e.ifaces[ifname]
		if !ok || !(local == f.Dst || !local.IsValid() || f.Dst == broadcast) {
			continue
		}
		for range copies {
			p := Packet{Iface: ifname, Src: f.Src, TTL: f.TTL, Data: append([]byte(nil), f.Data...)}
			if p.TTL == 0 {
				p.TTL = OnLinkTTL // a frame injected without one was sent on the link
			}
			if e.deliver(p) {
				l.stats.Delivered++
			} else {
				l.stats.Dropped++
			}
		}
	}
}

// MemEndpoint is one unit's side of a MemNetwork. It implements Listener.
type MemEndpoint struct {
	net    *MemNetwork
	name   string
	ifaces map[string]netip.Addr // guarded by net.mu

	mu     sync.Mutex // guards closed and sending on recv
	closed bool
	recv   chan Packet
}

var _ Listener = (*MemEndpoint)(nil)

// Name returns the endpoint's name.
func (e *MemEndpoint) Name() string { return e.name }

func (e *MemEndpoint) deliver(p Packet) bool {
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.closed {
		return false
	}
	select {
	case e.recv <- p:
		return true
	default:
		return false
	}
}

// Listen attaches the endpoint to link ifname with address local (the zero
// Addr receives every unicast frame on the link).
func (e *MemEndpoint) Listen(ifname string, local netip.Addr) error {
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	if e.net.endpoints[e.name] != e {
		return fmt.Errorf("failed to listen on %s: %w", ifname, ErrClosed)
	}
	if _, ok := e.ifaces[ifname]; ok {
		return fmt.Errorf("failed to listen on %s: %w", ifname, ErrAlreadyListening)
	}
	e.ifaces[ifname] = local
	return nil
}

// Unlisten detaches the endpoint from link ifname.
func (e *MemEndpoint) Unlisten(ifname string) error {
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	if _, ok := e.ifaces[ifname]; !ok {
		return fmt.Errorf("failed to unlisten %s: %w", ifname, ErrNotListening)
	}
	delete(e.ifaces, ifname)
	return nil
}

// Send transmits b on link ifname; the source address is the endpoint's
// local address there.
func (e *MemEndpoint) Send(ifname string, dst netip.Addr, b []byte) error {
	e.net.mu.Lock()
	defer e.net.mu.Unlock()
	if e.net.endpoints[e.name] != e {
		return fmt.Errorf("failed to send on %s: %w", ifname, ErrClosed)
	}
	local, ok := e.ifaces[ifname]
	if !ok {
		return fmt.Errorf("failed to send on %s: %w", ifname, ErrNotListening)
	}
	if !dst.IsValid() {
		return fmt.Errorf("failed to send on %s: invalid destination", ifname)
	}
	e.net.transmit(ifname, Frame{From: e.name, Dst: dst, Packet: Packet{Iface: ifname, Src: local, Data: b}})
	return nil
}

// Recv returns the endpoint's receive queue.
func (e *MemEndpoint) Recv() <-chan Packet { return e.recv }

// Close detaches the endpoint from every link and closes its queue.
func (e *MemEndpoint) Close() error {
	e.net.mu.Lock()
	if e.net.endpoints[e.name] == e {
		delete(e.net.endpoints, e.name)
	}
	clear(e.ifaces)
	e.net.mu.Unlock()
	e.mu.Lock()
	defer e.mu.Unlock()
	if !e.closed {
		e.closed = true
		close(e.recv)
	}
	return nil
}
