// Package dataplanetest is an in-memory dataplane.Dataplane for tests of the
// state machines, kept out of the daemon.
package dataplanetest

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"sync"
	"syscall"
	"time"

	"failover/engine/dataplane"
)

// Fake is an in-memory dataplane.Dataplane for testing state machines. It mirrors the
// kernel rules the engine depends on: Carrier is only reported while the
// link is admin up, taking a link down flushes the routes through it, routes
// need an up link and an IPv4 gateway on a connected subnet, and only
// Proto-owned routes and rules are listed or deleted. String prints the whole
// state so tests can compare it with a golden text.
//
// WatchLinks subscribers are called on their WatchLinks goroutine, in order,
// like the real subscription; Flush waits until they have caught up.
type Fake struct {
	mu          sync.Mutex
	cond        *sync.Cond // signals queued events and finished deliveries
	links       map[string]*fakeLink
	nextIdx     int
	addrs       map[fakeAddrKey]dataplane.Addr
	addrSeq     map[fakeAddrKey]int // when each address was added: the first of a subnet is its primary
	nextSeq     int
	routes      []dataplane.Route
	rules       []fakeRule
	garps       []GARP
	mutes       map[string][2]net.HardwareAddr // link: muted MAC, sent as
	fence       fakeFence
	neigh       map[string][]dataplane.Neighbor
	arps        []ARPRequest
	pings       []BroadcastPing
	onSend      func(link string, dst netip.Addr)
	fail        map[string][]error
	watchers    map[*fakeWatcher]struct{}
	arpWatchers []*arpWatcher
}

var _ dataplane.Dataplane = (*Fake)(nil)

// GARP is one gratuitous ARP the Fake was asked to send.
type GARP struct {
	Link string
	IP   netip.Addr
	MAC  net.HardwareAddr
}

// ARPRequest is one ARP request the Fake was asked to send: who has Target,
// tell Src (the link's address on Target's subnet, or 0.0.0.0) at MAC.
type ARPRequest struct {
	Link   string
	Target netip.Addr
	Src    netip.Addr
	MAC    net.HardwareAddr
}

// BroadcastPing is one ICMP echo request the Fake was asked to broadcast.
type BroadcastPing struct {
	Link     string
	Src, Dst netip.Addr
}

type fakeLink struct {
	dataplane.Link
	carrier bool // physical carrier, reported only while AdminUp
}

type fakeAddrKey struct {
	link   string
	prefix netip.Prefix
}

type fakeRule struct {
	dataplane.Rule
	proto int
}

type fakeWatcher struct {
	queue  []dataplane.Link
	busy   bool
	closed bool
}

// fakeMethods are the names FailNext accepts: the dataplane.Dataplane methods.
var fakeMethods = []string{
	"Links", "Link", "SetAdminUp", "SetMTU", "SetMAC", "MuteMAC", "Fence", "Addrs", "AddrReplace", "AddrDel", "WatchLinks",
	"OwnedRoutes", "RouteReplace", "RouteDel", "OwnedRules", "RuleAdd", "RuleDel",
	"GratuitousARP", "Neighbors", "ARPRequest", "BroadcastPing",
}

// NewFake returns an empty Fake with no links.
func NewFake() *Fake {
	f := &Fake{
		links:    map[string]*fakeLink{},
		addrs:    map[fakeAddrKey]dataplane.Addr{},
		addrSeq:  map[fakeAddrKey]int{},
		neigh:    map[string][]dataplane.Neighbor{},
		mutes:    map[string][2]net.HardwareAddr{},
		fail:     map[string][]error{},
		watchers: map[*fakeWatcher]struct{}{},
	}
	f.cond = sync.NewCond(&f.mu)
	return f
}

// AddLink adds an admin-up link with carrier and MTU 1500, like a cabled NIC
// after boot. An empty mac gets a locally administered one derived from the
// link's index.
func (f *Fake) AddLink(name string, mac string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.links[name]; ok || name == "" {
		return fmt.Errorf("failed to add link %q: %w", name, syscall.EEXIST)
	}
	f.nextIdx++
	hw := net.HardwareAddr{0x02, 0, 0, 0, byte(f.nextIdx >> 8), byte(f.nextIdx)}
	if mac != "" {
		var err error
		if hw, err = net.ParseMAC(mac); err != nil {
			f.nextIdx--
			return fmt.Errorf("failed to add link %q: %w", name, err)
		}
	}
	l := &fakeLink{Link: dataplane.Link{Name: name, Index: f.nextIdx, AdminUp: true, MTU: 1500, MAC: hw}, carrier: true}
	f.links[name] = l
	f.notifyLocked(l)
	return nil
}

// DelLink removes a link with its addresses and routes. Subscribers see it
// with AdminUp and Carrier false, as from the real WatchLinks.
func (f *Fake) DelLink(name string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.links[name]
	if !ok {
		return fmt.Errorf("failed to delete link %q: %w", name, dataplane.ErrNotFound)
	}
	delete(f.links, name)
	for k := range f.addrs {
		if k.link == name {
			f.delAddrLocked(k)
		}
	}
	f.flushRoutesLocked(name)
	l.AdminUp, l.carrier = false, false
	f.notifyLocked(l)
	return nil
}

// SetCarrier plugs or unplugs the cable and notifies subscribers.
func (f *Fake) SetCarrier(name string, up bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.links[name]
	if !ok {
		return fmt.Errorf("failed to set carrier on %q: %w", name, dataplane.ErrNotFound)
	}
	l.carrier = up
	f.notifyLocked(l)
	return nil
}

// SetStats sets a link's counters, for code that watches traffic.
func (f *Fake) SetStats(name string, s dataplane.LinkStats) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.links[name]
	if !ok {
		return fmt.Errorf("failed to set stats on %q: %w", name, dataplane.ErrNotFound)
	}
	l.Stats = s
	return nil
}

// AddRxPackets adds n to a link's RxPackets, as traffic arriving would.
func (f *Fake) AddRxPackets(name string, n uint64) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	l, ok := f.links[name]
	if !ok {
		return fmt.Errorf("failed to add packets on %q: %w", name, dataplane.ErrNotFound)
	}
	l.Stats.RxPackets += n
	return nil
}

// SetNeighbors sets what Neighbors returns for link (beyond dataplane.MaxNeighbors,
// the oldest are left out), as the kernel would have learned them, newest
// first. A nil list removes them.
func (f *Fake) SetNeighbors(link string, ns []dataplane.Neighbor) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := f.linkLocked(link); err != nil {
		return err
	}
	if ns == nil {
		delete(f.neigh, link)
		return nil
	}
	f.neigh[link] = cloneNeighbors(ns)
	return nil
}

// OnSend sets fn to be called after every ARPRequest and BroadcastPing the
// Fake accepts, with the link and the address asked for (the ARP target or
// the broadcast address). It runs outside the Fake's lock, so it may call
// AddRxPackets to play a segment where someone answers. nil removes it.
func (f *Fake) OnSend(fn func(link string, dst netip.Addr)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.onSend = fn
}

// FailNext makes the next call of method (a dataplane.Dataplane method name, such as
// "RouteReplace") return err without changing anything. Calls queue up: two
// FailNext calls fail the next two calls.
func (f *Fake) FailNext(method string, err error) error {
	if !slices.Contains(fakeMethods, method) {
		return fmt.Errorf("failed to inject error: %q is not a Dataplane method", method)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail[method] = append(f.fail[method], err)
	return nil
}

// failLocked pops the error injected for method, if any.
func (f *Fake) failLocked(method string) error {
	q := f.fail[method]
	if len(q) == 0 {
		return nil
	}
	f.fail[method] = q[1:]
	return q[0]
}

// AddForeignRoute installs a route as another routing daemon would, with
// r.Protocol as given, to check that the engine leaves it alone. It is not
// subject to link checks.
func (f *Fake) AddForeignRoute(r dataplane.Route) error {
	if r.Protocol == dataplane.Proto {
		return fmt.Errorf("failed to add foreign route %s: protocol %d is the engine's own", r.Dst, dataplane.Proto)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	r.Dst = r.Dst.Masked()
	f.routes = append(f.routes, r)
	return nil
}

// AddForeignRule installs a rule with protocol proto (not dataplane.Proto), to check
// that the engine leaves it alone.
func (f *Fake) AddForeignRule(r dataplane.Rule, proto int) error {
	if proto == dataplane.Proto {
		return fmt.Errorf("failed to add foreign rule: protocol %d is the engine's own", dataplane.Proto)
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rules = append(f.rules, fakeRule{Rule: r, proto: proto})
	return nil
}

// GARPs returns the gratuitous ARPs sent so far, oldest first.
func (f *Fake) GARPs() []GARP {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]GARP, len(f.garps))
	for i, g := range f.garps {
		g.MAC = slices.Clone(g.MAC)
		out[i] = g
	}
	return out
}

// ARPRequests returns the ARP requests sent so far, oldest first.
func (f *Fake) ARPRequests() []ARPRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make([]ARPRequest, len(f.arps))
	for i, a := range f.arps {
		a.MAC = slices.Clone(a.MAC)
		out[i] = a
	}
	return out
}

// BroadcastPings returns the broadcast pings sent so far, oldest first.
func (f *Fake) BroadcastPings() []BroadcastPing {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.pings)
}

// Flush waits until every WatchLinks subscriber has been called for every
// link change made so far. It must not be called from a subscriber.
func (f *Fake) Flush() {
	f.mu.Lock()
	defer f.mu.Unlock()
	for f.pendingLocked() {
		f.cond.Wait()
	}
}

func (f *Fake) pendingLocked() bool {
	for w := range f.watchers {
		if len(w.queue) > 0 || w.busy {
			return true
		}
	}
	return false
}

func (l *fakeLink) view() dataplane.Link {
	out := l.Link
	out.Carrier = l.AdminUp && l.carrier
	out.MAC = slices.Clone(l.MAC)
	return out
}

func (f *Fake) notifyLocked(l *fakeLink) {
	v := l.view()
	for w := range f.watchers {
		w.queue = append(w.queue, v)
	}
	f.cond.Broadcast()
}

func (f *Fake) linkLocked(name string) (*fakeLink, error) {
	l, ok := f.links[name]
	if !ok {
		return nil, fmt.Errorf("failed to find link %q: %w", name, dataplane.ErrNotFound)
	}
	return l, nil
}

func (f *Fake) Links() ([]dataplane.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("Links"); err != nil {
		return nil, err
	}
	return f.sortedLinksLocked(), nil
}

func (f *Fake) sortedLinksLocked() []dataplane.Link {
	out := make([]dataplane.Link, 0, len(f.links))
	for _, l := range f.links {
		out = append(out, l.view())
	}
	slices.SortFunc(out, func(a, b dataplane.Link) int { return a.Index - b.Index })
	return out
}

func (f *Fake) Link(name string) (dataplane.Link, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("Link"); err != nil {
		return dataplane.Link{}, err
	}
	l, err := f.linkLocked(name)
	if err != nil {
		return dataplane.Link{}, err
	}
	return l.view(), nil
}

func (f *Fake) SetAdminUp(name string, up bool) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("SetAdminUp"); err != nil {
		return err
	}
	l, err := f.linkLocked(name)
	if err != nil {
		return err
	}
	if l.AdminUp == up {
		return nil
	}
	l.AdminUp = up
	if !up {
		f.flushRoutesLocked(name)
	}
	f.notifyLocked(l)
	return nil
}

// flushRoutesLocked drops every route through link, whoever owns it, as the
// kernel does when a link goes down.
func (f *Fake) flushRoutesLocked(link string) {
	f.routes = slices.DeleteFunc(f.routes, func(r dataplane.Route) bool { return r.Link == link })
}

func (f *Fake) SetMTU(name string, mtu int) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("SetMTU"); err != nil {
		return err
	}
	l, err := f.linkLocked(name)
	if err != nil {
		return err
	}
	if mtu < 68 || mtu > 65535 {
		return fmt.Errorf("failed to set link %q mtu %d: %w", name, mtu, syscall.EINVAL)
	}
	if l.MTU != mtu {
		l.MTU = mtu
		f.notifyLocked(l)
	}
	return nil
}

func (f *Fake) SetMAC(name string, mac net.HardwareAddr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("SetMAC"); err != nil {
		return err
	}
	l, err := f.linkLocked(name)
	if err != nil {
		return err
	}
	if len(mac) != 6 || mac[0]&1 != 0 || slices.Equal(mac, net.HardwareAddr{0, 0, 0, 0, 0, 0}) {
		return fmt.Errorf("failed to set link %q mac %s: %w", name, mac, syscall.EADDRNOTAVAIL)
	}
	if !slices.Equal(l.MAC, mac) {
		l.MAC = slices.Clone(mac)
		f.notifyLocked(l)
	}
	return nil
}

// MuteMAC records the rewrite; String prints it as
// "mute LINK MAC as AS".
func (f *Fake) MuteMAC(name string, mac, as net.HardwareAddr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("MuteMAC"); err != nil {
		return err
	}
	if _, err := f.linkLocked(name); err != nil {
		return err
	}
	if mac == nil {
		delete(f.mutes, name)
		return nil
	}
	if len(mac) != 6 || len(as) != 6 {
		return fmt.Errorf("failed to mute link %q mac %s as %s: %w", name, mac, as, syscall.EINVAL)
	}
	f.mutes[name] = [2]net.HardwareAddr{slices.Clone(mac), slices.Clone(as)}
	return nil
}

// fakeFence is the last Fence call that armed or removed the fence.
type fakeFence struct {
	ttl      time.Duration
	links    []dataplane.FencedLink
	renewals int
}

// Fence records the fence (String does not print it: it changes with every
// hello). The Fake has no clock, so it never trips.
func (f *Fake) Fence(ttl time.Duration, links []dataplane.FencedLink) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("Fence"); err != nil {
		return err
	}
	if ttl <= 0 || len(links) == 0 {
		f.fence = fakeFence{}
		return nil
	}
	for _, l := range links {
		if _, err := f.linkLocked(l.Name); err != nil {
			return err
		}
		if len(l.MuteAs) != 6 {
			return fmt.Errorf("failed to fence link %q as %s: %w", l.Name, l.MuteAs, syscall.EINVAL)
		}
	}
	f.fence.ttl = ttl
	f.fence.links = slices.Clone(links)
	f.fence.renewals++
	return nil
}

// Fenced returns the fence's ttl and links as last armed or renewed, and
// how many times it was (re)armed since it was last removed; a zero ttl
// when there is none.
func (f *Fake) Fenced() (ttl time.Duration, links []dataplane.FencedLink, renewals int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.fence.ttl, slices.Clone(f.fence.links), f.fence.renewals
}

// Muted returns the MAC link's frames are not sent from, and the one they
// are sent from instead; nil when link is not muted.
func (f *Fake) Muted(name string) (mac, as net.HardwareAddr) {
	f.mu.Lock()
	defer f.mu.Unlock()
	m := f.mutes[name]
	return slices.Clone(m[0]), slices.Clone(m[1])
}

// AddrList lists the addresses of links as sorted "link prefix" lines,
// for tests that compare a box's addresses at a glance.
func (f *Fake) AddrList(links ...string) ([]string, error) {
	var out []string
	for _, l := range links {
		as, err := f.Addrs(l)
		if err != nil {
			return nil, err
		}
		for _, a := range as {
			out = append(out, l+" "+a.Prefix.String())
		}
	}
	slices.Sort(out)
	return out, nil
}

func (f *Fake) Addrs(name string) ([]dataplane.Addr, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("Addrs"); err != nil {
		return nil, err
	}
	if _, err := f.linkLocked(name); err != nil {
		return nil, err
	}
	var out []dataplane.Addr
	for k, a := range f.addrs {
		if k.link == name {
			out = append(out, a)
		}
	}
	slices.SortFunc(out, dataplane.CompareAddr)
	return out, nil
}

// AddrReplace stores the lifetime as given; the Fake never expires
// addresses, so tests check the refresh by reading ValidLft back.
func (f *Fake) AddrReplace(a dataplane.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("AddrReplace"); err != nil {
		return err
	}
	if _, err := f.linkLocked(a.Link); err != nil {
		return err
	}
	if !a.Prefix.IsValid() {
		return fmt.Errorf("failed to replace address %v on %q: %w", a.Prefix, a.Link, syscall.EINVAL)
	}
	if a.ValidLft < 0 {
		a.ValidLft = 0
	}
	a.Prefix = netip.PrefixFrom(a.Prefix.Addr().Unmap(), a.Prefix.Bits())
	k := fakeAddrKey{a.Link, a.Prefix}
	if _, ok := f.addrs[k]; !ok {
		f.nextSeq++
		f.addrSeq[k] = f.nextSeq
	}
	f.addrs[k] = a
	return nil
}

func (f *Fake) AddrDel(a dataplane.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("AddrDel"); err != nil {
		return err
	}
	k := fakeAddrKey{a.Link, netip.PrefixFrom(a.Prefix.Addr().Unmap(), a.Prefix.Bits())}
	if _, ok := f.addrs[k]; !ok {
		return fmt.Errorf("failed to delete address %s on %q: %w", a.Prefix, a.Link, dataplane.ErrNotFound)
	}
	// As the kernel does with promote_secondaries off (its default):
	// deleting a subnet's primary address deletes the secondaries with it.
	if k.prefix.Addr().Is4() && f.isPrimaryLocked(k) {
		for o := range f.addrs {
			if o.link == k.link && o.prefix.Masked() == k.prefix.Masked() {
				f.delAddrLocked(o)
			}
		}
	}
	f.delAddrLocked(k)
	// And when a link's last IPv4 address goes, so do its IPv4 routes.
	if !f.hasV4AddrLocked(k.link) {
		f.routes = slices.DeleteFunc(f.routes, func(r dataplane.Route) bool {
			return r.Link == k.link && r.Dst.Addr().Is4()
		})
	}
	return nil
}

func (f *Fake) delAddrLocked(k fakeAddrKey) {
	delete(f.addrs, k)
	delete(f.addrSeq, k)
}

// isPrimaryLocked says whether k was the first address added in its subnet
// on its link.
func (f *Fake) isPrimaryLocked(k fakeAddrKey) bool {
	for o, seq := range f.addrSeq {
		if o.link == k.link && o.prefix.Masked() == k.prefix.Masked() && seq < f.addrSeq[k] {
			return false
		}
	}
	return true
}

func (f *Fake) hasV4AddrLocked(link string) bool {
	for k := range f.addrs {
		if k.link == link && k.prefix.Addr().Is4() {
			return true
		}
	}
	return false
}

// WatchLinks reports every link, then every change, until ctx ends.
func (f *Fake) WatchLinks(ctx context.Context, fn func(dataplane.Link)) error {
	f.mu.Lock()
	if err := f.failLocked("WatchLinks"); err != nil {
		f.mu.Unlock()
		return err
	}
	w := &fakeWatcher{queue: f.sortedLinksLocked()}
	f.watchers[w] = struct{}{}
	f.mu.Unlock()

	stop := context.AfterFunc(ctx, func() {
		f.mu.Lock()
		w.closed = true
		f.cond.Broadcast()
		f.mu.Unlock()
	})
	defer stop()

	f.mu.Lock()
	defer f.mu.Unlock()
	for {
		for len(w.queue) == 0 && !w.closed {
			f.cond.Wait()
		}
		if w.closed {
			delete(f.watchers, w)
			f.cond.Broadcast() // Flush may be waiting on this watcher
			return nil
		}
		l := w.queue[0]
		w.queue = w.queue[1:]
		w.busy = true
		f.mu.Unlock()
		fn(l)
		f.mu.Lock()
		w.busy = false
		f.cond.Broadcast()
	}
}

func (f *Fake) OwnedRoutes() ([]dataplane.Route, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("OwnedRoutes"); err != nil {
		return nil, err
	}
	var out []dataplane.Route
	for _, r := range f.routes {
		if r.Protocol == dataplane.Proto {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, dataplane.CompareRoute)
	return out, nil
}

// sameSlot says whether the kernel would replace a with b: same
// destination, table and metric (the key of an IPv4 FIB entry).
func sameSlot(a, b dataplane.Route) bool {
	return a.Dst == b.Dst && a.Table == b.Table && a.Metric == b.Metric
}

func (f *Fake) RouteReplace(r dataplane.Route) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("RouteReplace"); err != nil {
		return err
	}
	if err := f.checkRouteLocked(r); err != nil {
		return fmt.Errorf("failed to replace route %s: %w", r.Dst, err)
	}
	r.Dst = r.Dst.Masked()
	r.Gw = r.Gw.Unmap()
	r.Protocol = dataplane.Proto
	if r.Link == "" {
		r.Link = f.connectedLinkLocked(r.Gw) // as the kernel resolves the nexthop
	}
	for i, old := range f.routes {
		if sameSlot(old, r) {
			f.routes[i] = r
			return nil
		}
	}
	f.routes = append(f.routes, r)
	return nil
}

// checkRouteLocked applies the kernel's nexthop checks.
func (f *Fake) checkRouteLocked(r dataplane.Route) error {
	if !r.Dst.IsValid() {
		return syscall.EINVAL
	}
	if !r.Gw.IsValid() && r.Link == "" {
		return fmt.Errorf("no gateway or link: %w", syscall.EINVAL)
	}
	if r.Gw.IsValid() && r.Gw.Unmap().Is4() != r.Dst.Addr().Unmap().Is4() {
		return fmt.Errorf("gateway %s is another family: %w", r.Gw, syscall.EINVAL)
	}
	if r.Link != "" {
		l, err := f.linkLocked(r.Link)
		if err != nil {
			return err
		}
		if !l.AdminUp {
			return fmt.Errorf("link %q is down: %w", r.Link, syscall.ENETDOWN)
		}
	}
	if r.Gw.IsValid() && r.Gw.Unmap().Is4() && !f.connectedLocked(r.Gw.Unmap(), r.Link) {
		return fmt.Errorf("gateway %s is not on a connected subnet: %w", r.Gw, syscall.ENETUNREACH)
	}
	return nil
}

// connectedLocked says whether gw is inside an address's subnet on an up
// link (on link, if given).
func (f *Fake) connectedLocked(gw netip.Addr, link string) bool {
	for k := range f.addrs {
		if link != "" && k.link != link {
			continue
		}
		if l := f.links[k.link]; l != nil && l.AdminUp && k.prefix.Contains(gw) {
			return true
		}
	}
	return false
}

// connectedLinkLocked is the up link with gw on one of its subnets (the
// lowest index if several), or "".
func (f *Fake) connectedLinkLocked(gw netip.Addr) string {
	best := ""
	for k := range f.addrs {
		l := f.links[k.link]
		if l == nil || !l.AdminUp || !k.prefix.Contains(gw) {
			continue
		}
		if best == "" || l.Index < f.links[best].Index {
			best = k.link
		}
	}
	return best
}

// RouteDel deletes the first owned route matching r's destination and table,
// and r's metric, gateway and link where given, as the kernel matches.
func (f *Fake) RouteDel(r dataplane.Route) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("RouteDel"); err != nil {
		return err
	}
	dst := r.Dst.Masked()
	for i, old := range f.routes {
		if old.Protocol != dataplane.Proto || old.Dst != dst || old.Table != r.Table ||
			(r.Metric != 0 && old.Metric != r.Metric) ||
			(r.Gw.IsValid() && old.Gw != r.Gw.Unmap()) ||
			(r.Link != "" && old.Link != r.Link) {
			continue
		}
		f.routes = slices.Delete(f.routes, i, i+1)
		return nil
	}
	return fmt.Errorf("failed to delete route %s: %w", r.Dst, dataplane.ErrNotFound)
}

func (f *Fake) OwnedRules() ([]dataplane.Rule, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("OwnedRules"); err != nil {
		return nil, err
	}
	var out []dataplane.Rule
	for _, r := range f.rules {
		if r.proto == dataplane.Proto {
			out = append(out, r.Rule)
		}
	}
	slices.SortFunc(out, dataplane.CompareRule)
	return out, nil
}

// RuleAdd is idempotent like the Netlink one. Priority 0 is stored as 0
// here; the kernel would pick a free priority instead.
func (f *Fake) RuleAdd(r dataplane.Rule) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("RuleAdd"); err != nil {
		return err
	}
	for _, old := range f.rules {
		if old.proto == dataplane.Proto && old.Rule == r {
			return nil
		}
	}
	f.rules = append(f.rules, fakeRule{Rule: r, proto: dataplane.Proto})
	return nil
}

func (f *Fake) RuleDel(r dataplane.Rule) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("RuleDel"); err != nil {
		return err
	}
	for i, old := range f.rules {
		if old.proto == dataplane.Proto && old.Rule == r {
			f.rules = slices.Delete(f.rules, i, i+1)
			return nil
		}
	}
	return fmt.Errorf("failed to delete rule %+v: %w", r, dataplane.ErrNotFound)
}

func (f *Fake) GratuitousARP(link string, ip netip.Addr) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("GratuitousARP"); err != nil {
		return err
	}
	l, err := f.linkLocked(link)
	if err != nil {
		return err
	}
	if !ip.Unmap().Is4() {
		return fmt.Errorf("failed to send gratuitous ARP for %s: not an IPv4 address", ip)
	}
	if !l.AdminUp {
		return fmt.Errorf("failed to send gratuitous ARP on %q: %w", link, syscall.ENETDOWN)
	}
	f.garps = append(f.garps, GARP{Link: link, IP: ip.Unmap(), MAC: slices.Clone(l.MAC)})
	return nil
}

func cloneNeighbors(ns []dataplane.Neighbor) []dataplane.Neighbor {
	out := make([]dataplane.Neighbor, len(ns))
	for i, n := range ns {
		n.MAC = slices.Clone(n.MAC)
		out[i] = n
	}
	return out
}

func (f *Fake) Neighbors(link string) ([]dataplane.Neighbor, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if err := f.failLocked("Neighbors"); err != nil {
		return nil, err
	}
	if _, err := f.linkLocked(link); err != nil {
		return nil, err
	}
	ns := f.neigh[link]
	return cloneNeighbors(ns[:min(len(ns), dataplane.MaxNeighbors)]), nil
}

// ARPRequest records the request; the source address is picked as the
// Netlink one does.
func (f *Fake) ARPRequest(link string, target netip.Addr) error {
	err := func() error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if err := f.failLocked("ARPRequest"); err != nil {
			return err
		}
		l, err := f.linkLocked(link)
		if err != nil {
			return err
		}
		target = target.Unmap()
		if !target.Is4() {
			return fmt.Errorf("failed to send ARP request for %s: not an IPv4 address", target)
		}
		if !l.AdminUp {
			return fmt.Errorf("failed to send ARP request on %q: %w", link, syscall.ENETDOWN)
		}
		f.arps = append(f.arps, ARPRequest{Link: link, Target: target, Src: f.arpSourceLocked(link, target), MAC: slices.Clone(l.MAC)})
		return nil
	}()
	if err == nil {
		f.sent(link, target)
	}
	return err
}

// arpSourceLocked is link's IPv4 address on target's subnet, or its
// lowest IPv4 address, or 0.0.0.0.
func (f *Fake) arpSourceLocked(link string, target netip.Addr) netip.Addr {
	var as []dataplane.Addr
	for k, a := range f.addrs {
		if k.link == link && k.prefix.Addr().Is4() {
			as = append(as, a)
		}
	}
	slices.SortFunc(as, dataplane.CompareAddr)
	for _, a := range as {
		if a.Prefix.Contains(target) {
			return a.Prefix.Addr()
		}
	}
	if len(as) > 0 {
		return as[0].Prefix.Addr()
	}
	return netip.IPv4Unspecified()
}

func (f *Fake) BroadcastPing(link string, src, bcast netip.Addr) error {
	err := func() error {
		f.mu.Lock()
		defer f.mu.Unlock()
		if err := f.failLocked("BroadcastPing"); err != nil {
			return err
		}
		l, err := f.linkLocked(link)
		if err != nil {
			return err
		}
		src, bcast = src.Unmap(), bcast.Unmap()
		if !src.Is4() || !bcast.Is4() {
			return fmt.Errorf("failed to send broadcast ping %s -> %s: not IPv4 addresses", src, bcast)
		}
		if !l.AdminUp {
			return fmt.Errorf("failed to send broadcast ping on %q: %w", link, syscall.ENETDOWN)
		}
		f.pings = append(f.pings, BroadcastPing{Link: link, Src: src, Dst: bcast})
		return nil
	}()
	if err == nil {
		f.sent(link, bcast.Unmap())
	}
	return err
}

// sent calls the OnSend hook, without the lock.
func (f *Fake) sent(link string, dst netip.Addr) {
	f.mu.Lock()
	fn := f.onSend
	f.mu.Unlock()
	if fn != nil {
		fn(link, dst)
	}
}
