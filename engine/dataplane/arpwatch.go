//go:build linux

package dataplane

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"slices"

	"github.com/mdlayher/packet"
)

// WatchARP calls fn with the sender address and MAC of every ARP packet
// seen on link (requests and replies, including the gratuitous ones), until
// ctx ends. A unit about to take a system address over from a silent mate
// uses it to see whether anybody still answers for that address.
func (n *Netlink) WatchARP(ctx context.Context, link string, fn func(sender netip.Addr, mac net.HardwareAddr)) error {
	h, release, err := n.handle()
	if err != nil {
		return err
	}
	kl, err := linkByName(h, link)
	release()
	if err != nil {
		return err
	}
	conn, err := n.inNS(func() (*packet.Conn, error) {
		return packet.Listen(&net.Interface{Index: kl.Attrs().Index}, packet.Raw, etherTypeARP, nil)
	})
	if err != nil {
		return fmt.Errorf("failed to open ARP socket on %q: %w", link, err)
	}
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	buf := make([]byte, 1514)
	for {
		k, _, err := conn.ReadFrom(buf)
		if err != nil {
			if ctx.Err() != nil || errors.Is(err, net.ErrClosed) {
				return nil
			}
			return fmt.Errorf("failed to read ARP on %q: %w", link, err)
		}
		if ip, mac, ok := arpSender(buf[:k]); ok {
			fn(ip, mac)
		}
	}
}

// arpSender parses an Ethernet IPv4 ARP frame's sender address and MAC.
func arpSender(b []byte) (netip.Addr, net.HardwareAddr, bool) {
	if len(b) < 14+28 || binary.BigEndian.Uint16(b[12:14]) != etherTypeARP {
		return netip.Addr{}, nil, false
	}
	a := b[14:]
	if binary.BigEndian.Uint16(a[0:2]) != 1 || binary.BigEndian.Uint16(a[2:4]) != etherTypeIPv4 || a[4] != 6 || a[5] != 4 {
		return netip.Addr{}, nil, false
	}
	return netip.AddrFrom4([4]byte(a[14:18])), net.HardwareAddr(slices.Clone(a[8:14])), true
}

// inNS opens a packet socket with open in this Netlink's namespace (the
// caller's when it has none).
func (n *Netlink) inNS(open func() (*packet.Conn, error)) (*packet.Conn, error) {
	if !n.ns.IsOpen() {
		return open()
	}
	var conn *packet.Conn
	err := inNetns(n.ns, func() error {
		var err error
		conn, err = open()
		return err
	})
	return conn, err
}
