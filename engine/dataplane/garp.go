//go:build linux

package dataplane

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"runtime"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/net/bpf"
)

const (
	etherTypeARP  = 0x0806
	etherTypeIPv4 = 0x0800
	arpOpReply    = 2
	// ethMinFrame is the minimum Ethernet frame without FCS; short frames
	// are padded here rather than trusting every driver to do it.
	ethMinFrame = 60
)

var ethBroadcast = net.HardwareAddr{0xff, 0xff, 0xff, 0xff, 0xff, 0xff}

// GratuitousARP broadcasts one unsolicited ARP reply claiming ip for link's
// MAC, so that neighbours and switches move the address to this box at once.
func (n *Netlink) GratuitousARP(link string, ip netip.Addr) error {
	ip = ip.Unmap()
	if !ip.Is4() {
		return fmt.Errorf("failed to send gratuitous ARP for %s: not an IPv4 address", ip)
	}
	return n.sendFrame(link, "gratuitous ARP", func(_ *netlink.Handle, kl netlink.Link) ([]byte, error) {
		return garpFrame(kl.Attrs().HardwareAddr, ip)
	})
}

// listenSendOnly opens an ARP packet socket whose filter drops everything, so
// that no inbound ARP queues up on a socket that is only used to send.
func listenSendOnly(index int) (*packet.Conn, error) {
	drop, err := bpf.Assemble([]bpf.Instruction{bpf.RetConstant{Val: 0}})
	if err != nil {
		return nil, err
	}
	return packet.Listen(&net.Interface{Index: index}, packet.Raw, etherTypeARP, &packet.Config{Filter: drop})
}

// garpFrame builds an Ethernet broadcast ARP reply with sender = target =
// ip, and target MAC = own MAC as "arping -A" does.
func garpFrame(mac net.HardwareAddr, ip netip.Addr) ([]byte, error) {
	if len(mac) != 6 {
		return nil, fmt.Errorf("link has no Ethernet MAC (%q)", mac)
	}
	b := make([]byte, ethMinFrame)
	copy(b[0:6], ethBroadcast)
	copy(b[6:12], mac)
	binary.BigEndian.PutUint16(b[12:14], etherTypeARP)
	arp := b[14:]
	binary.BigEndian.PutUint16(arp[0:2], 1) // hardware type Ethernet
	binary.BigEndian.PutUint16(arp[2:4], etherTypeIPv4)
	arp[4], arp[5] = 6, 4
	binary.BigEndian.PutUint16(arp[6:8], arpOpReply)
	ip4 := ip.As4()
	copy(arp[8:14], mac)
	copy(arp[14:18], ip4[:])
	copy(arp[18:24], mac)
	copy(arp[24:28], ip4[:])
	return b, nil
}

// inNetns runs fn on a dedicated OS thread switched into ns. Sockets stay in
// the namespace they were created in, so fn only has to create them there.
func inNetns(ns netns.NsHandle, fn func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		orig, err := netns.Get()
		if err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("failed to get current netns: %w", err)
			return
		}
		defer orig.Close()
		if err := netns.Set(ns); err != nil {
			runtime.UnlockOSThread()
			errc <- fmt.Errorf("failed to enter netns: %w", err)
			return
		}
		err = fn()
		if rerr := netns.Set(orig); rerr != nil {
			// Stay locked: the runtime then ends this thread with the
			// goroutine instead of reusing it in the wrong namespace.
			errc <- errors.Join(err, fmt.Errorf("failed to restore netns: %w", rerr))
			return
		}
		runtime.UnlockOSThread()
		errc <- err
	}()
	return <-errc
}
