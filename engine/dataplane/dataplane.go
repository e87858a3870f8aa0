// Package dataplane is the engine's only door to the kernel: links,
// addresses, routes, policy rules and gratuitous ARP. The engine's state
// machines talk to the small interfaces below; netlink.go implements them on
// a real kernel and package dataplanetest in memory, printing its state as
// text so tests can compare whole kernel states.
package dataplane

import (
	"context"
	"net"
	"net/netip"
	"time"
)

// Proto is the routing protocol number stamped on every route and rule the
// engine installs, so that it can find what it owns after a restart and never
// touch anything else. 0xFA is unassigned in /etc/iproute2/rt_protos.
const Proto = 250

// Link is one network interface as the kernel reports it.
type Link struct {
	Name    string
	Index   int
	AdminUp bool // IFF_UP
	Carrier bool // IFF_LOWER_UP / operstate
	MTU     int
	MAC     net.HardwareAddr
	Stats   LinkStats
}

// LinkStats are the kernel's interface counters.
type LinkStats struct {
	RxPackets, TxPackets uint64
	RxBytes, TxBytes     uint64
	RxErrors, TxErrors   uint64
	RxDropped, TxDropped uint64
}

// Addr is an IPv4/IPv6 address on a link. ValidLft 0 means forever; a
// non-zero lifetime makes the kernel drop the address by itself unless it is
// refreshed (used for system addresses, so that a killed daemon stops
// answering for them).
type Addr struct {
	Link     string
	Prefix   netip.Prefix
	ValidLft time.Duration
}

// Route is a unicast route. Table 0 means the main table.
type Route struct {
	Dst      netip.Prefix
	Gw       netip.Addr
	Link     string
	Table    int
	Metric   int
	Protocol int
}

// Rule is a policy routing rule "fwmark Mark lookup Table" at Priority.
type Rule struct {
	Priority int
	Mark     uint32
	Table    int
}

// FencedLink is one link under Fence, with the MAC its frames leave from
// once the fence has tripped.
type FencedLink struct {
	Name   string
	MuteAs net.HardwareAddr
}

// Links reads and changes interfaces and their addresses.
type Links interface {
	Links() ([]Link, error)
	Link(name string) (Link, error)
	SetAdminUp(name string, up bool) error
	SetMTU(name string, mtu int) error
	SetMAC(name string, mac net.HardwareAddr) error
	Addrs(name string) ([]Addr, error)
	// AddrReplace adds the address or refreshes its lifetime.
	AddrReplace(a Addr) error
	AddrDel(a Addr) error
	// MuteMAC makes every frame link sends from mac leave from as
	// instead, while link still receives on mac; a nil mac ends it. A
	// unit that hands its MAC to its mate keeps forwarding what still
	// reaches it without pulling the switches' entry for that MAC back
	// to its own port.
	MuteMAC(link string, mac, as net.HardwareAddr) error
	// Fence arms a dead man's switch in the kernel on links, or renews
	// it: unless Fence is called again within ttl, each link stops
	// sending ARP and IPv6 neighbour discovery and sends every other frame
	// from its MuteAs MAC. A serving unit renews it with every hello, so
	// a box whose daemon was killed stops answering for the system
	// addresses (and lets the switches move its MAC to the mate) at a
	// moment the mate can compute, while still forwarding what reaches
	// it. A ttl of 0 or no links removes it.
	Fence(ttl time.Duration, links []FencedLink) error
	// WatchLinks calls fn for every link change until ctx ends. If the
	// kernel subscription breaks it resubscribes and reports every link
	// again, so fn sees the current state after any gap.
	WatchLinks(ctx context.Context, fn func(Link)) error
}

// Routes reads and changes routes and rules. Only objects with Protocol
// == Proto are returned by the list calls and removed by the delete calls.
type Routes interface {
	OwnedRoutes() ([]Route, error)
	RouteReplace(r Route) error
	RouteDel(r Route) error
	OwnedRules() ([]Rule, error)
	RuleAdd(r Rule) error
	RuleDel(r Rule) error
}

// MaxNeighbors bounds the list Neighbors returns: the PIX interface test
// ARPs the 10 most recently learned neighbours.
const MaxNeighbors = 10

// Neighbor is a learned entry of the kernel's IPv4 neighbour (ARP) table.
type Neighbor struct {
	IP  netip.Addr
	MAC net.HardwareAddr
	// Age is how long ago the entry was last confirmed (an ARP reply or
	// traffic from the neighbour); 0 when unknown.
	Age time.Duration
}

// Neighbors announces addresses and stirs up traffic on a segment.
type Neighbors interface {
	// GratuitousARP sends one gratuitous ARP reply for ip from link's MAC.
	GratuitousARP(link string, ip netip.Addr) error
	// Neighbors lists link's learned IPv4 neighbours (states REACHABLE,
	// STALE, DELAY and PROBE: no static, incomplete or failed entries),
	// most recently confirmed first, at most MaxNeighbors.
	Neighbors(link string) ([]Neighbor, error)
	// ARPRequest broadcasts one ARP request (who-has target) from link's
	// MAC and its IPv4 address on target's subnet (any of its IPv4
	// addresses otherwise, 0.0.0.0 without one), whatever the kernel's
	// neighbour cache holds.
	ARPRequest(link string, target netip.Addr) error
	// BroadcastPing sends one ICMP echo request from src to bcast (the
	// subnet's broadcast address) in an Ethernet broadcast frame on link.
	BroadcastPing(link string, src, bcast netip.Addr) error
	// WatchARP calls fn with the sender address and MAC of every ARP
	// packet seen on link until ctx ends (then it returns nil).
	WatchARP(ctx context.Context, link string, fn func(sender netip.Addr, mac net.HardwareAddr)) error
}

// Dataplane is everything the engine needs from the kernel.
type Dataplane interface {
	Links
	Routes
	Neighbors
}
