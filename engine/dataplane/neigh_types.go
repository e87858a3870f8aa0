package dataplane

import (
	"net"
	"net/netip"
)

// LinkNeighbor is a learned neighbour of one link, for replication to the
// standby unit (stateful failover).
type LinkNeighbor struct {
	Link string
	IP   netip.Addr
	MAC  net.HardwareAddr
}

// NeighborTable reads and writes the learned neighbours of all links.
type NeighborTable interface {
	// LearnedNeighbors lists every link's learned IPv4 and IPv6
	// neighbours (REACHABLE, STALE, DELAY, PROBE).
	LearnedNeighbors() ([]LinkNeighbor, error)
	// SetStaleNeighbors installs entries as STALE: used at once, checked
	// by the kernel the first time they are used. One error per entry.
	SetStaleNeighbors(ns []LinkNeighbor) []error
}
