//go:build linux

package dataplane

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

const (
	// watchRcvBuf is large so that a burst of link events (many VLANs
	// flapping with their parent) does not overflow into ENOBUFS, which
	// costs a resubscription.
	watchRcvBuf = 1 << 20
	// watchRetry paces resubscription when the kernel refuses it, and
	// watchBroken after a subscription broke, so a socket that fails at
	// once cannot spin.
	watchRetry  = time.Second
	watchBroken = 100 * time.Millisecond
)

// errWatchBroken reports a subscription the library closed after a receive
// error (typically ENOBUFS: events were lost).
var errWatchBroken = errors.New("link subscription closed")

// WatchLinks subscribes to link changes, reporting every existing link
// first. It returns an error only when the very first subscription fails
// (nothing will ever work then); later breaks are logged and followed by a
// fresh subscription with a full listing. A removed link is reported with
// AdminUp and Carrier false, since Link has no other way to say "gone".
func (n *Netlink) WatchLinks(ctx context.Context, fn func(Link)) error {
	for first := true; ctx.Err() == nil; first = false {
		err := n.watchOnce(ctx, fn)
		wait := watchRetry
		switch {
		case err == nil:
			continue
		case errors.Is(err, errWatchBroken):
			wait = watchBroken
		case first, errors.Is(err, errClosed):
			return err
		}
		n.log.Warn("link subscription failed, resubscribing", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(wait):
		}
	}
	return nil
}

// watchOnce runs one subscription until it breaks or ctx ends.
func (n *Netlink) watchOnce(ctx context.Context, fn func(Link)) error {
	ch := make(chan netlink.LinkUpdate, 64)
	done := make(chan struct{})
	// An interrupted initial dump may have skipped links whose state will
	// never change again, so it needs a new full listing.
	resync := make(chan struct{}, 1)
	// Closing the socket on purpose makes the library report a receive
	// error too; that one is not worth a warning.
	var stopping atomic.Bool
	rcvBuf := n.watchRcvBuf
	if rcvBuf == 0 {
		rcvBuf = watchRcvBuf
	}
	opts := netlink.LinkSubscribeOptions{
		ListExisting: true,
		// Not forced: SO_RCVBUFFORCE needs CAP_NET_ADMIN, and rmem_max
		// (208 KiB by default) is still plenty for link events.
		ReceiveBufferSize: rcvBuf,
		ErrorCallback: func(err error) {
			if errors.Is(err, netlink.ErrDumpInterrupted) {
				select {
				case resync <- struct{}{}:
				default:
				}
				return
			}
			if !stopping.Load() {
				n.log.Warn("link subscription error", "err", err)
			}
		},
	}
	if err := n.subscribe(ch, done, opts); err != nil {
		// The library may already be waiting on done to close its socket.
		close(done)
		return fmt.Errorf("failed to subscribe to link updates: %w", err)
	}
	// The library's reader goroutine blocks on ch until it sees the closed
	// socket, so drain ch to let it exit rather than leak it.
	stop := func() {
		stopping.Store(true)
		close(done)
		for range ch {
		}
	}
	for {
		select {
		case <-ctx.Done():
			stop()
			return nil
		case <-resync:
			n.log.Info("link dump interrupted, resubscribing")
			stop()
			return nil
		case u, ok := <-ch:
			if !ok {
				close(done)
				return errWatchBroken
			}
			l := toLink(u.Link)
			if u.Header.Type == unix.RTM_DELLINK {
				l.AdminUp, l.Carrier = false, false
			}
			fn(l)
		}
	}
}

// subscribe holds off Close while the namespace handle is in use.
func (n *Netlink) subscribe(ch chan<- netlink.LinkUpdate, done <-chan struct{}, opts netlink.LinkSubscribeOptions) error {
	n.mu.RLock()
	defer n.mu.RUnlock()
	if n.closed {
		return errClosed
	}
	if n.ns.IsOpen() {
		ns := n.ns
		opts.Namespace = &ns
	}
	return netlink.LinkSubscribeWithOptions(ch, done, opts)
}
