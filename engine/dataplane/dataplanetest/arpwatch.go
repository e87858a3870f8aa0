package dataplanetest

import (
	"context"
	"net"
	"net/netip"
	"slices"
)

type arpWatcher struct {
	link string
	fn   func(netip.Addr, net.HardwareAddr)
}

// WatchARP registers fn for the ARP packets InjectARP delivers on link and
// blocks until ctx ends, as the kernel's would.
func (f *Fake) WatchARP(ctx context.Context, link string, fn func(sender netip.Addr, mac net.HardwareAddr)) error {
	w := &arpWatcher{link: link, fn: fn}
	f.mu.Lock()
	if _, err := f.linkLocked(link); err != nil {
		f.mu.Unlock()
		return err
	}
	f.arpWatchers = append(f.arpWatchers, w)
	f.mu.Unlock()
	<-ctx.Done()
	f.mu.Lock()
	f.arpWatchers = slices.DeleteFunc(f.arpWatchers, func(o *arpWatcher) bool { return o == w })
	f.mu.Unlock()
	return nil
}

// InjectARP delivers an ARP packet from sender (at mac) seen on link to
// every WatchARP of that link, in the caller's goroutine.
func (f *Fake) InjectARP(link string, sender netip.Addr, mac net.HardwareAddr) {
	f.mu.Lock()
	var fns []func(netip.Addr, net.HardwareAddr)
	for _, w := range f.arpWatchers {
		if w.link == link {
			fns = append(fns, w.fn)
		}
	}
	f.mu.Unlock()
	for _, fn := range fns {
		fn(sender, slices.Clone(mac))
	}
}

// ARPWatchers is the number of WatchARP calls running on link.
func (f *Fake) ARPWatchers(link string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := 0
	for _, w := range f.arpWatchers {
		if w.link == link {
			n++
		}
	}
	return n
}
