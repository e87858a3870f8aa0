//go:build linux

package dataplane

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"slices"
	"sync"
	"time"

	"github.com/mdlayher/packet"
	"github.com/vishvananda/netlink"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// dumpRetries bounds how often a dump is repeated when the kernel reports that
// the object list changed while it was being read.
const dumpRetries = 5

// Netlink is the Dataplane on a real kernel, in one network namespace.
type Netlink struct {
	log *slog.Logger

	// ns is our own duplicate of the namespace handle, or netns.None() for
	// the namespace the process was started in.
	ns netns.NsHandle

	// mu guards h against Close: a closed netlink.Handle silently falls
	// back to the package socket in the caller's namespace, which could be
	// a different namespace than the one this Netlink is meant to drive.
	mu     sync.RWMutex
	h      *netlink.Handle
	closed bool

	// fenceMu serialises Fence; fenced is the link set of the fence table
	// as last built ("" = none), so that a renewal only replaces the
	// set's element.
	// sendConns are the send-only packet sockets by link index (sendConn).
	sendMu    sync.Mutex
	sendConns map[int]*packet.Conn

	fenceMu      sync.Mutex
	fenced       string
	fenceUpdates bool // adding the element again renews its timeout

	// watchRcvBuf overrides the subscription's receive buffer, so tests
	// can make it overflow.
	watchRcvBuf int
}

var _ Dataplane = (*Netlink)(nil)

// NewNetlink returns a Dataplane for the current network namespace.
func NewNetlink(log *slog.Logger) (*Netlink, error) {
	h, err := netlink.NewHandle(unix.NETLINK_ROUTE)
	if err != nil {
		return nil, fmt.Errorf("failed to open netlink handle: %w", err)
	}
	return &Netlink{log: log, ns: netns.None(), h: h}, nil
}

// NewNetlinkAt returns a Dataplane for the network namespace ns. The handle
// is duplicated, so the caller may close ns once this returns.
func NewNetlinkAt(ns netns.NsHandle, log *slog.Logger) (*Netlink, error) {
	fd, err := unix.FcntlInt(uintptr(ns), unix.F_DUPFD_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("failed to duplicate netns handle: %w", err)
	}
	own := netns.NsHandle(fd)
	h, err := netlink.NewHandleAt(own, unix.NETLINK_ROUTE)
	if err != nil {
		_ = own.Close()
		return nil, fmt.Errorf("failed to open netlink handle in netns: %w", err)
	}
	return &Netlink{log: log, ns: own, h: h}, nil
}

// Close releases the netlink sockets. WatchLinks calls already running keep
// their own subscription until their context ends.
func (n *Netlink) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.closed {
		return nil
	}
	n.closed = true
	n.closeSendConns()
	n.h.Close()
	if n.ns.IsOpen() {
		if err := n.ns.Close(); err != nil {
			return fmt.Errorf("failed to close netns handle: %w", err)
		}
	}
	return nil
}

var errClosed = errors.New("dataplane is closed")

// handle returns the netlink handle, held until release is called.
func (n *Netlink) handle() (h *netlink.Handle, release func(), err error) {
	n.mu.RLock()
	if n.closed {
		n.mu.RUnlock()
		return nil, nil, errClosed
	}
	return n.h, n.mu.RUnlock, nil
}

// dump repeats a kernel dump that was interrupted by a concurrent change,
// since its result may then miss objects.
func dump[T any](what string, list func() ([]T, error)) ([]T, error) {
	var err error
	for range dumpRetries {
		var res []T
		res, err = list()
		if err == nil {
			return res, nil
		}
		if !errors.Is(err, netlink.ErrDumpInterrupted) {
			break
		}
	}
	return nil, fmt.Errorf("failed to list %s: %w", what, err)
}

func (n *Netlink) Links() ([]Link, error) {
	h, release, err := n.handle()
	if err != nil {
		return nil, err
	}
	defer release()
	ls, err := dump("links", h.LinkList)
	if err != nil {
		return nil, err
	}
	out := make([]Link, 0, len(ls))
	for _, l := range ls {
		out = append(out, toLink(l))
	}
	return out, nil
}

func (n *Netlink) Link(name string) (Link, error) {
	h, release, err := n.handle()
	if err != nil {
		return Link{}, err
	}
	defer release()
	l, err := linkByName(h, name)
	if err != nil {
		return Link{}, err
	}
	return toLink(l), nil
}

func linkByName(h *netlink.Handle, name string) (netlink.Link, error) {
	l, err := h.LinkByName(name)
	if errors.As(err, &netlink.LinkNotFoundError{}) {
		return nil, fmt.Errorf("failed to find link %q: %w: %w", name, ErrNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("failed to find link %q: %w", name, err)
	}
	return l, nil
}

func toLink(l netlink.Link) Link {
	a := l.Attrs()
	out := Link{
		Name:    a.Name,
		Index:   a.Index,
		AdminUp: a.Flags&net.FlagUp != 0,
		// Devices without carrier detection (lo, tun) stay in operstate
		// UNKNOWN, so LOWER_UP is the fallback that still says "has link".
		Carrier: a.OperState == netlink.OperUp || a.RawFlags&unix.IFF_LOWER_UP != 0,
		MTU:     a.MTU,
		MAC:     slices.Clone(a.HardwareAddr),
	}
	if s := a.Statistics; s != nil {
		out.Stats = LinkStats{
			RxPackets: s.RxPackets, TxPackets: s.TxPackets,
			RxBytes: s.RxBytes, TxBytes: s.TxBytes,
			RxErrors: s.RxErrors, TxErrors: s.TxErrors,
			RxDropped: s.RxDropped, TxDropped: s.TxDropped,
		}
	}
	return out
}

// onLink runs set on the named link; what names the change in errors.
func (n *Netlink) onLink(name, what string, set func(h *netlink.Handle, l netlink.Link) error) error {
	h, release, err := n.handle()
	if err != nil {
		return err
	}
	defer release()
	l, err := linkByName(h, name)
	if err != nil {
		return err
	}
	if err := set(h, l); err != nil {
		return fmt.Errorf("failed to set link %q %s: %w", name, what, err)
	}
	return nil
}

func (n *Netlink) SetAdminUp(name string, up bool) error {
	return n.onLink(name, fmt.Sprintf("admin up=%t", up), func(h *netlink.Handle, l netlink.Link) error {
		if up {
			return h.LinkSetUp(l)
		}
		return h.LinkSetDown(l)
	})
}

func (n *Netlink) SetMTU(name string, mtu int) error {
	return n.onLink(name, fmt.Sprintf("mtu %d", mtu), func(h *netlink.Handle, l netlink.Link) error {
		return h.LinkSetMTU(l, mtu)
	})
}

func (n *Netlink) SetMAC(name string, mac net.HardwareAddr) error {
	return n.onLink(name, "mac "+mac.String(), func(h *netlink.Handle, l netlink.Link) error {
		return h.LinkSetHardwareAddr(l, mac)
	})
}

func (n *Netlink) Addrs(name string) ([]Addr, error) {
	h, release, err := n.handle()
	if err != nil {
		return nil, err
	}
	defer release()
	l, err := linkByName(h, name)
	if err != nil {
		return nil, err
	}
	as, err := dump("addresses", func() ([]netlink.Addr, error) {
		return h.AddrList(l, netlink.FAMILY_ALL)
	})
	if err != nil {
		return nil, err
	}
	out := make([]Addr, 0, len(as))
	for _, a := range as {
		p, ok := ipNetToPrefix(a.IPNet, false)
		if !ok {
			continue
		}
		out = append(out, Addr{Link: name, Prefix: p, ValidLft: lifetime(a.ValidLft)})
	}
	slices.SortFunc(out, CompareAddr)
	return out, nil
}

// lifetime converts the kernel's seconds, where all ones means forever, to
// Addr's convention where 0 means forever.
func lifetime(sec int) time.Duration {
	if sec <= 0 || uint32(sec) == ^uint32(0) {
		return 0
	}
	return time.Duration(sec) * time.Second
}

func (n *Netlink) AddrReplace(a Addr) error {
	h, release, err := n.handle()
	if err != nil {
		return err
	}
	defer release()
	l, na, err := toNetlinkAddr(h, a)
	if err != nil {
		return err
	}
	if a.ValidLft > 0 {
		// Round up so that a sub-second lifetime is not sent as 0, which
		// netlink would take as "forever".
		sec := int((a.ValidLft + time.Second - 1) / time.Second)
		na.ValidLft, na.PreferedLft = sec, sec
	}
	if err := h.AddrReplace(l, na); err != nil {
		return fmt.Errorf("failed to replace address %s on %q: %w", a.Prefix, a.Link, err)
	}
	return nil
}

func (n *Netlink) AddrDel(a Addr) error {
	h, release, err := n.handle()
	if err != nil {
		return err
	}
	defer release()
	l, na, err := toNetlinkAddr(h, a)
	if err != nil {
		return err
	}
	if err := h.AddrDel(l, na); err != nil {
		return fmt.Errorf("failed to delete address %s on %q: %w", a.Prefix, a.Link, notFound(err, unix.EADDRNOTAVAIL))
	}
	return nil
}

func toNetlinkAddr(h *netlink.Handle, a Addr) (netlink.Link, *netlink.Addr, error) {
	if !a.Prefix.IsValid() {
		return nil, nil, fmt.Errorf("failed to use address %v on %q: invalid prefix", a.Prefix, a.Link)
	}
	l, err := linkByName(h, a.Link)
	if err != nil {
		return nil, nil, err
	}
	ip := a.Prefix.Addr().Unmap()
	na := &netlink.Addr{IPNet: &net.IPNet{
		IP:   ip.AsSlice(),
		Mask: net.CIDRMask(a.Prefix.Bits(), ip.BitLen()),
	}}
	if ip.Is6() {
		// A failover address moves between boxes; duplicate address
		// detection would hold it tentative (or fail it) exactly when the
		// peer has just released it.
		na.Flags = unix.IFA_F_NODAD
	}
	return l, na, nil
}

// notFound marks kernel "no such object" errors with ErrNotFound.
func notFound(err error, errnos ...unix.Errno) error {
	for _, e := range errnos {
		if errors.Is(err, e) {
			return fmt.Errorf("%w: %w", ErrNotFound, err)
		}
	}
	return err
}

// ipNetToPrefix keeps the host bits unless masked is set, because an
// address's prefix is "this address in that subnet".
func ipNetToPrefix(n *net.IPNet, masked bool) (netip.Prefix, bool) {
	if n == nil {
		return netip.Prefix{}, false
	}
	ip, ok := netip.AddrFromSlice(n.IP)
	if !ok {
		return netip.Prefix{}, false
	}
	ip = ip.Unmap()
	ones, bits := n.Mask.Size()
	if bits != ip.BitLen() {
		return netip.Prefix{}, false
	}
	p := netip.PrefixFrom(ip, ones)
	if masked {
		p = p.Masked()
	}
	return p, true
}
