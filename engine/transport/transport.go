// Package transport carries failover messages (see package wire) between
// the two units: over UDP with one socket per interface in the daemon, and
// over an in-memory network in tests, where links can be cut, packets
// dropped, duplicated and replayed on demand.
package transport

import (
	"errors"
	"net"
	"net/netip"
)

// Packet is one received datagram.
type Packet struct {
	Iface string     // interface (nameif-level device name) it arrived on
	Src   netip.Addr // sender's address
	Data  []byte     // owned by the receiver
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
)

// recvQueue is the depth of the Recv channel. Hellos are small and rare;
// the queue only has to absorb a bulk configuration copy while the engine
// is busy.
const recvQueue = 1024
