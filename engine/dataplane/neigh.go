//go:build linux

package dataplane

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"net"
	"net/netip"
	"os"
	"slices"
	"sync/atomic"
	"time"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
)

const (
	arpOpRequest = 1
	ipProtoICMP  = 1
	icmpEcho     = 8
	// userHz is the kernel's USER_HZ, the unit of the neighbour cache ages
	// (ndm_confirmed); 100 on every Linux architecture.
	userHz = 100
)

// learnedStates are the neighbour states that hold a MAC learned from the
// segment: what the PIX ARP test asks again.
const learnedStates = netlink.NUD_REACHABLE | netlink.NUD_STALE | netlink.NUD_DELAY | netlink.NUD_PROBE

// pingSeq numbers the broadcast pings, so that repeated ones differ.
var pingSeq atomic.Uint32

func (n *Netlink) Neighbors(link string) ([]Neighbor, error) {
	h, release, err := n.handle()
	if err != nil {
		return nil, err
	}
	defer release()
	l, err := linkByName(h, link)
	if err != nil {
		return nil, err
	}
	ns, err := dump("neighbours", func() ([]netlink.Neigh, error) {
		return h.NeighList(l.Attrs().Index, netlink.FAMILY_V4)
	})
	if err != nil {
		return nil, err
	}
	type entry struct {
		nb        Neighbor
		confirmed uint32
		updated   uint32
	}
	var es []entry
	for _, e := range ns {
		if e.State&learnedStates == 0 || len(e.HardwareAddr) != 6 {
			continue
		}
		ip, ok := netip.AddrFromSlice(e.IP)
		if !ok || !ip.Unmap().Is4() {
			continue
		}
		es = append(es, entry{
			nb:        Neighbor{IP: ip.Unmap(), MAC: slices.Clone(e.HardwareAddr), Age: time.Duration(e.Confirmed) * time.Second / userHz},
			confirmed: e.Confirmed,
			updated:   e.Updated,
		})
	}
	// The ages are "ticks ago": smallest first is newest first.
	slices.SortStableFunc(es, func(a, b entry) int {
		if c := cmp.Compare(a.confirmed, b.confirmed); c != 0 {
			return c
		}
		if c := cmp.Compare(a.updated, b.updated); c != 0 {
			return c
		}
		return a.nb.IP.Compare(b.nb.IP)
	})
	out := make([]Neighbor, 0, min(len(es), MaxNeighbors))
	for _, e := range es[:min(len(es), MaxNeighbors)] {
		out = append(out, e.nb)
	}
	return out, nil
}

// ARPRequest asks "who has target" on link. The kernel only ARPs when it has
// something to send and the cache entry is not fresh, so the interface test
// builds the request itself.
func (n *Netlink) ARPRequest(link string, target netip.Addr) error {
	target = target.Unmap()
	if !target.Is4() {
		return fmt.Errorf("failed to send ARP request for %s: not an IPv4 address", target)
	}
	return n.sendFrame(link, "ARP request", func(h *netlink.Handle, kl netlink.Link) ([]byte, error) {
		src, err := arpSource(h, kl, target)
		if err != nil {
			return nil, err
		}
		return arpRequestFrame(kl.Attrs().HardwareAddr, src, target)
	})
}

// arpSource picks link's IPv4 address on target's subnet, or any IPv4
// address, or 0.0.0.0 (an ARP probe, RFC 5227, which is still answered).
func arpSource(h *netlink.Handle, kl netlink.Link, target netip.Addr) (netip.Addr, error) {
	as, err := dump("addresses", func() ([]netlink.Addr, error) {
		return h.AddrList(kl, netlink.FAMILY_V4)
	})
	if err != nil {
		return netip.Addr{}, err
	}
	src := netip.IPv4Unspecified()
	for _, a := range as {
		p, ok := ipNetToPrefix(a.IPNet, false)
		if !ok || !p.Addr().Is4() {
			continue
		}
		if p.Contains(target) {
			return p.Addr(), nil
		}
		if src.IsUnspecified() {
			src = p.Addr()
		}
	}
	return src, nil
}

// BroadcastPing sends one ICMP echo request to bcast in a broadcast frame.
// Built by hand on a packet socket: the kernel would want a route, ARP and
// SO_BROADCAST, and a failed interface has none of them to trust.
func (n *Netlink) BroadcastPing(link string, src, bcast netip.Addr) error {
	src, bcast = src.Unmap(), bcast.Unmap()
	if !src.Is4() || !bcast.Is4() {
		return fmt.Errorf("failed to send broadcast ping %s -> %s: not IPv4 addresses", src, bcast)
	}
	return n.sendFrame(link, "broadcast ping", func(_ *netlink.Handle, kl netlink.Link) ([]byte, error) {
		return pingFrame(kl.Attrs().HardwareAddr, src, bcast, uint16(os.Getpid()), uint16(pingSeq.Add(1)))
	})
}

// sendFrame sends the frame build returns as it is, on link, from a packet
// socket opened in this Netlink's namespace; what names it in errors.
func (n *Netlink) sendFrame(link, what string, build func(h *netlink.Handle, kl netlink.Link) ([]byte, error)) error {
	// Held throughout, since the namespace handle is used below.
	h, release, err := n.handle()
	if err != nil {
		return err
	}
	defer release()
	kl, err := linkByName(h, link)
	if err != nil {
		return err
	}
	frame, err := build(h, kl)
	if err != nil {
		return fmt.Errorf("failed to send %s on %q: %w", what, link, err)
	}
	idx := kl.Attrs().Index
	for try := 0; ; try++ {
		conn, err := n.sendConn(idx)
		if err != nil {
			return fmt.Errorf("failed to open packet socket on %q: %w", link, err)
		}
		if _, err = conn.WriteTo(frame, &packet.Addr{HardwareAddr: ethBroadcast}); err == nil {
			return nil
		}
		// The link may have gone and come back: a new socket, once.
		n.dropSendConn(idx, conn)
		if try > 0 {
			return fmt.Errorf("failed to send %s on %q: %w", what, link, err)
		}
	}
}

// sendConn is the send-only packet socket of link index, opened once and
// kept: opening and closing one costs the kernel a network-wide
// synchronisation (~10 ms), and a takeover sends a frame per interface.
func (n *Netlink) sendConn(index int) (*packet.Conn, error) {
	n.sendMu.Lock()
	defer n.sendMu.Unlock()
	if c := n.sendConns[index]; c != nil {
		return c, nil
	}
	// The socket's own protocol only filters what it receives
	// (nothing): a raw socket sends any frame.
	c, err := n.inNS(func() (*packet.Conn, error) { return listenSendOnly(index) })
	if err != nil {
		return nil, err
	}
	if n.sendConns == nil {
		n.sendConns = map[int]*packet.Conn{}
	}
	n.sendConns[index] = c
	return c, nil
}

// dropSendConn closes c, link index's socket, unless it was replaced.
func (n *Netlink) dropSendConn(index int, c *packet.Conn) {
	n.sendMu.Lock()
	defer n.sendMu.Unlock()
	if n.sendConns[index] == c {
		delete(n.sendConns, index)
	}
	_ = c.Close()
}

// closeSendConns closes the kept packet sockets.
func (n *Netlink) closeSendConns() {
	n.sendMu.Lock()
	defer n.sendMu.Unlock()
	for i, c := range n.sendConns {
		_ = c.Close()
		delete(n.sendConns, i)
	}
}

// ethHeader returns a minimum-size broadcast frame from mac with its
// Ethernet header filled in.
func ethHeader(mac net.HardwareAddr, etherType uint16) ([]byte, error) {
	if len(mac) != 6 {
		return nil, fmt.Errorf("link has no Ethernet MAC (%q)", mac)
	}
	b := make([]byte, ethMinFrame)
	copy(b[0:6], ethBroadcast)
	copy(b[6:12], mac)
	binary.BigEndian.PutUint16(b[12:14], etherType)
	return b, nil
}

// arpRequestFrame builds a broadcast "who has target, tell src" from mac.
func arpRequestFrame(mac net.HardwareAddr, src, target netip.Addr) ([]byte, error) {
	b, err := ethHeader(mac, etherTypeARP)
	if err != nil {
		return nil, err
	}
	arp := b[14:]
	binary.BigEndian.PutUint16(arp[0:2], 1) // hardware type Ethernet
	binary.BigEndian.PutUint16(arp[2:4], etherTypeIPv4)
	arp[4], arp[5] = 6, 4
	binary.BigEndian.PutUint16(arp[6:8], arpOpRequest)
	s4, t4 := src.As4(), target.As4()
	copy(arp[8:14], mac)
	copy(arp[14:18], s4[:])
	// Target MAC stays zero: unknown, as in every request.
	copy(arp[24:28], t4[:])
	return b, nil
}

// pingPayload marks our echo requests in captures.
const pingPayload = "failover"

// pingFrame builds a broadcast Ethernet frame holding an ICMP echo request
// from src to dst with the given identifier and sequence number.
func pingFrame(mac net.HardwareAddr, src, dst netip.Addr, id, seq uint16) ([]byte, error) {
	b, err := ethHeader(mac, etherTypeIPv4)
	if err != nil {
		return nil, err
	}
	const ipLen, icmpLen = 20, 8 + len(pingPayload)
	ip := b[14 : 14+ipLen]
	ip[0] = 0x45 // version 4, 5 words of header
	binary.BigEndian.PutUint16(ip[2:4], uint16(ipLen+icmpLen))
	binary.BigEndian.PutUint16(ip[4:6], seq)
	ip[8] = 1 // TTL: for this segment only
	ip[9] = ipProtoICMP
	s4, d4 := src.As4(), dst.As4()
	copy(ip[12:16], s4[:])
	copy(ip[16:20], d4[:])
	binary.BigEndian.PutUint16(ip[10:12], inetChecksum(ip))
	icmp := b[14+ipLen : 14+ipLen+icmpLen]
	icmp[0] = icmpEcho
	binary.BigEndian.PutUint16(icmp[4:6], id)
	binary.BigEndian.PutUint16(icmp[6:8], seq)
	copy(icmp[8:], pingPayload)
	binary.BigEndian.PutUint16(icmp[2:4], inetChecksum(icmp))
	return b, nil
}

// inetChecksum is the RFC 1071 Internet checksum of b (with its checksum
// field zero).
func inetChecksum(b []byte) uint16 {
	var sum uint32
	for i := 0; i+1 < len(b); i += 2 {
		sum += uint32(binary.BigEndian.Uint16(b[i:]))
	}
	if len(b)%2 == 1 {
		sum += uint32(b[len(b)-1]) << 8
	}
	for sum>>16 != 0 {
		sum = sum&0xffff + sum>>16
	}
	return ^uint16(sum)
}
