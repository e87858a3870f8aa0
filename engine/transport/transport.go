// Package transport carries failover messages (see package wire) between
// the two units: over UDP with one socket per interface in the daemon, and
// over an in-memory network in tests, where links can be cut, packets
// dropped, duplicated and replayed on demand.
package transport

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// Packet is one received datagram.
type Packet struct {
	Iface string     // interface (nameif-level device name) it arrived on
	Src   netip.Addr // sender's address
	// TTL is the IPv4 TTL (IPv6 hop limit) the datagram arrived with; 0
	// when the transport could not tell.
	TTL  uint8
	Data []byte // owned by the receiver
}

// OnLinkTTL is the TTL every failover datagram is sent with, and the only
// one accepted (the generalized TTL security mechanism, RFC 5082): each
// router on the way decrements it, so a datagram that arrives with 255 was
// sent by a host on the link itself, whatever its source address claims.
const OnLinkTTL = 255

// CheckOnLink returns an error wrapping ErrOffLink unless p can only have
// come from a host on the link it arrived on: TTL 255, and no source
// address a host cannot send from (multicast, broadcast, loopback). The
// source address itself proves nothing (it is easily forged); the TTL does.
func CheckOnLink(p Packet) error {
	switch {
	case p.TTL != OnLinkTTL:
		return fmt.Errorf("%w: %s on %s arrived with TTL %d, not %d", ErrOffLink, p.Src, p.Iface, p.TTL, OnLinkTTL)
	case p.Src.IsMulticast(), p.Src.IsLoopback(), p.Src == broadcast:
		return fmt.Errorf("%w: source address %s on %s", ErrOffLink, p.Src, p.Iface)
	}
	return nil
}

// Transport sends and receives datagrams on named interfaces.
type Transport interface {
	// Send sends b to dst on interface ifname. A nil error means the
	// datagram left, not that it arrived.
	Send(ifname string, dst netip.Addr, b []byte) error
	// Recv returns the channel of received packets from all interfaces.
	// It is closed by Close.
	Recv() <-chan Packet
	// Close stops all interfaces and closes the Recv channel.
	Close() error
}

// Listener is a Transport whose set of interfaces changes at run time, as
// interfaces are named, monitored or removed in the configuration.
type Listener interface {
	Transport
	// Listen starts sending and receiving on ifname. local is the address
	// to bind; the zero Addr binds the wildcard address on that device only.
	Listen(ifname string, local netip.Addr) error
	// Unlisten stops ifname. Packets already queued on Recv stay there.
	Unlisten(ifname string) error
}

// Errors returned (wrapped) by the transports.
var (
	ErrNotListening     = errors.New("transport: interface not listening")
	ErrAlreadyListening = errors.New("transport: interface already listening")
	ErrClosed           = net.ErrClosed
	ErrOffLink          = errors.New("transport: datagram not from the link itself")
)

// recvQueue is the depth of the Recv channel. Hellos are small and rare;
// the queue only has to absorb a bulk configuration copy while the engine
// is busy.
const recvQueue = 1024
