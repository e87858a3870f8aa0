package conntrack

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"sync"
	"syscall"

	"github.com/mdlayher/netlink"
	ct "github.com/ti-mo/conntrack"
	"github.com/ti-mo/netfilter"
	"github.com/vishvananda/netns"
	"golang.org/x/sys/unix"
)

// batchLen is how many requests go into one sendto: measured, 256 per
// call creates 145-165 k entries/s on two cores, a quarter faster than one
// request per call.
const batchLen = 256

// Netlink is the kernel table of one network namespace.
type Netlink struct {
	log *slog.Logger
	ns  netns.NsHandle // -1: the namespace of the process

	mu  sync.Mutex // one Apply at a time on fd
	fd  int
	seq uint32
	buf []byte
	rx  []byte
}

// Open opens the table of the current network namespace.
func Open(log *slog.Logger) (*Netlink, error) { return OpenNS(log, netns.None()) }

// OpenNS opens the table of network namespace ns (netns.None() = the
// current one); tests use it to work on a namespace of their own.
func OpenNS(log *slog.Logger, ns netns.NsHandle) (*Netlink, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	n := &Netlink{log: log, ns: ns, fd: -1, rx: make([]byte, 1<<20)}
	err := n.inNS(func() error {
		fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_RAW|unix.SOCK_CLOEXEC, unix.NETLINK_NETFILTER)
		if err != nil {
			return fmt.Errorf("failed to open a netfilter netlink socket: %w", err)
		}
		n.fd = fd
		// Acknowledgements of refused requests would otherwise quote the
		// whole request; the header is enough to match them.
		_ = unix.SetsockoptInt(fd, unix.SOL_NETLINK, unix.NETLINK_CAP_ACK, 1)
		_ = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_RCVBUFFORCE, 4<<20)
		if err := unix.Bind(fd, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
			return fmt.Errorf("failed to bind the netfilter netlink socket: %w", err)
		}
		return nil
	})
	if err != nil {
		n.Close()
		return nil, err
	}
	return n, nil
}

// Close closes the write socket.
func (n *Netlink) Close() error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.fd >= 0 {
		unix.Close(n.fd)
		n.fd = -1
	}
	return nil
}

// inNS runs fn with the calling thread in the table's namespace: sockets
// and /proc/sys/net files opened there belong to it.
func (n *Netlink) inNS(fn func() error) error {
	if !n.ns.IsOpen() {
		return fn()
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	orig, err := netns.Get()
	if err != nil {
		return fmt.Errorf("failed to get the current namespace: %w", err)
	}
	defer orig.Close()
	if err := netns.Set(n.ns); err != nil {
		return fmt.Errorf("failed to enter the namespace: %w", err)
	}
	defer netns.Set(orig)
	return fn()
}

// SetEvents sets net.netfilter.nf_conntrack_events=1 in the namespace.
func (n *Netlink) SetEvents() error {
	return n.inNS(func() error {
		if err := os.WriteFile("/proc/sys/net/netfilter/nf_conntrack_events", []byte("1\n"), 0o644); err != nil {
			return fmt.Errorf("failed to enable conntrack events: %w", err)
		}
		return nil
	})
}

func (n *Netlink) dial() (*ct.Conn, error) {
	cfg := &netlink.Config{}
	if n.ns.IsOpen() {
		cfg.NetNS = int(n.ns)
	}
	c, err := ct.Dial(cfg)
	if err != nil {
		return nil, fmt.Errorf("failed to open a conntrack socket: %w", err)
	}
	return c, nil
}

// Listen implements Table. Events are handed over in batches: whatever
// arrived while fn ran for the previous batch.
func (n *Netlink) Listen(ctx context.Context, fn func([]Event)) error {
	c, err := n.dial()
	if err != nil {
		return err
	}
	defer c.Close()
	// As large as the system allows (net.core.rmem_max); an overrun is
	// reported and answered with a new dump.
	_ = c.SetReadBuffer(32 << 20)
	evs := make(chan ct.Event, 4096)
	errs, err := c.Listen(evs, 1, netfilter.GroupsCT)
	if err != nil {
		return fmt.Errorf("failed to listen to conntrack events: %w", err)
	}
	fn(nil)
	batch := make([]Event, 0, 256)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case err := <-errs:
			return fmt.Errorf("conntrack events lost: %w", err)
		case ev := <-evs:
			batch = appendEvent(batch[:0], ev)
		drain:
			for len(batch) < cap(batch) {
				select {
				case ev := <-evs:
					batch = appendEvent(batch, ev)
				default:
					break drain
				}
			}
			if len(batch) > 0 {
				fn(batch)
				batch = make([]Event, 0, 256)
			}
		}
	}
}

func appendEvent(b []Event, ev ct.Event) []Event {
	if ev.Flow == nil {
		return b
	}
	var t EventType
	switch ev.Type {
	case ct.EventNew:
		t = EventNew
	case ct.EventUpdate:
		t = EventUpdate
	case ct.EventDestroy:
		t = EventDestroy
	default:
		return b
	}
	e, ok := fromFlow(ev.Flow)
	if !ok {
		return b
	}
	return append(b, Event{Type: t, Entry: e})
}

// Dump implements Table.
func (n *Netlink) Dump(ctx context.Context) ([]Entry, error) {
	c, err := n.dial()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	flows, err := c.Dump(nil)
	if err != nil {
		return nil, fmt.Errorf("failed to dump the conntrack table: %w", err)
	}
	out := make([]Entry, 0, len(flows))
	for i := range flows {
		if e, ok := fromFlow(&flows[i]); ok {
			out = append(out, e)
		}
	}
	return out, ctx.Err()
}

// fromFlow converts what the kernel reported; ok is false for entries that
// are not replicated (other protocols, templates, untracked).
func fromFlow(f *ct.Flow) (Entry, bool) {
	o, r := f.TupleOrig, f.TupleReply
	if !o.IP.SourceAddress.IsValid() || !r.IP.SourceAddress.IsValid() {
		return Entry{}, false
	}
	e := Entry{
		Proto: o.Proto.Protocol, Zone: f.Zone, Status: uint32(f.Status), Timeout: f.Timeout, Mark: f.Mark,
		Orig:  Tuple{Src: o.IP.SourceAddress.Unmap(), Dst: o.IP.DestinationAddress.Unmap()},
		Reply: Tuple{Src: r.IP.SourceAddress.Unmap(), Dst: r.IP.DestinationAddress.Unmap()},
	}
	if e.Status&(StatusTemplate|StatusUntracked) != 0 {
		return Entry{}, false
	}
	switch e.Proto {
	case ProtoTCP, ProtoUDP:
		e.Orig.SrcPort, e.Orig.DstPort = o.Proto.SourcePort, o.Proto.DestinationPort
		e.Reply.SrcPort, e.Reply.DstPort = r.Proto.SourcePort, r.Proto.DestinationPort
	case ProtoICMP, ProtoICMPv6:
		e.Orig.SrcPort, e.Orig.DstPort = o.Proto.ICMPID, uint16(o.Proto.ICMPType)<<8|uint16(o.Proto.ICMPCode)
		e.Reply.SrcPort, e.Reply.DstPort = r.Proto.ICMPID, uint16(r.Proto.ICMPType)<<8|uint16(r.Proto.ICMPCode)
	default:
		return Entry{}, false
	}
	if e.Proto == ProtoTCP {
		t := f.ProtoInfo.TCP
		if t != nil {
			e.TCPState = t.State
			e.TCPWScaleOrig, e.TCPWScaleRep = t.OriginalWindowScale, t.ReplyWindowScale
			// nf_ct_tcp_flags {flags, mask}, read as one big-endian u16.
			e.TCPFlagsOrig, e.TCPFlagsRep = uint8(t.OriginalFlags>>8), uint8(t.ReplyFlags>>8)
		}
	}
	return e, true
}

// Apply implements Table: requests go out batchLen per sendto, each with
// its own acknowledgement. A create refused because the entry exists is
// retried as an update, an update of a missing entry as a create, so a
// replica converges whatever the standby already had.
func (n *Netlink) Apply(ops []Op) []error {
	n.mu.Lock()
	defer n.mu.Unlock()
	errs := make([]error, len(ops))
	if n.fd < 0 {
		for i := range errs {
			errs[i] = errors.New("failed to apply: table closed")
		}
		return errs
	}
	kinds := make([]OpKind, len(ops))
	for i := range ops {
		kinds[i] = ops[i].Kind
	}
	todo := make([]int, len(ops))
	for i := range todo {
		todo[i] = i
	}
	for round := 0; round < 2 && len(todo) > 0; round++ {
		var retry []int
		for start := 0; start < len(todo); start += batchLen {
			idx := todo[start:min(start+batchLen, len(todo))]
			res := n.send(ops, kinds, idx)
			for j, i := range idx {
				err := res[j]
				switch {
				case err == nil:
				case kinds[i] == OpDelete && errors.Is(err, unix.ENOENT):
					err = nil
				case round == 0 && kinds[i] == OpCreate && errors.Is(err, unix.EEXIST):
					kinds[i] = OpUpdate
					retry = append(retry, i)
				case round == 0 && kinds[i] == OpUpdate && errors.Is(err, unix.ENOENT):
					kinds[i] = OpCreate
					retry = append(retry, i)
				}
				errs[i] = err
			}
		}
		todo = retry
	}
	return errs
}

// send sends the requests for ops[idx] in one sendto and collects their
// acknowledgements.
func (n *Netlink) send(ops []Op, kinds []OpKind, idx []int) []error {
	res := make([]error, len(idx))
	n.buf = n.buf[:0]
	first := n.seq + 1
	for _, i := range idx {
		n.seq++
		n.buf = appendMsg(n.buf, n.seq, kinds[i], &ops[i].Entry)
	}
	if err := unix.Sendto(n.fd, n.buf, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		for j := range res {
			res[j] = fmt.Errorf("failed to send conntrack requests: %w", err)
		}
		return res
	}
	pending := len(idx)
	for pending > 0 {
		m, _, err := unix.Recvfrom(n.fd, n.rx, 0)
		if err != nil {
			if errors.Is(err, unix.EINTR) {
				continue
			}
			for j := range res {
				if res[j] == nil {
					res[j] = fmt.Errorf("failed to read conntrack acknowledgements: %w", err)
				}
			}
			return res
		}
		b := n.rx[:m]
		for len(b) >= nlmsgHdrLen {
			l := int(binary.NativeEndian.Uint32(b))
			if l < nlmsgHdrLen || l > len(b) {
				break
			}
			typ := binary.NativeEndian.Uint16(b[4:])
			seq := binary.NativeEndian.Uint32(b[8:])
			if typ == nlmsgError && l >= nlmsgHdrLen+4 && seq >= first && seq < first+uint32(len(idx)) {
				code := int32(binary.NativeEndian.Uint32(b[nlmsgHdrLen:]))
				if code != 0 {
					j := int(seq - first)
					res[j] = fmt.Errorf("failed to %s %s: %w", kinds[idx[j]], ops[idx[j]].Entry.Orig, syscall.Errno(-code))
				}
				pending--
			}
			b = b[min((l+3)&^3, len(b)):]
		}
	}
	return res
}
