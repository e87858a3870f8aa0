package statesync

import "failover/engine/conntrack"

// Counter is one `show failover` statistics row.
type Counter struct{ Xmit, Xerr, Rcv, Rerr uint64 }

// Stats are the replicated objects, by `show failover` row: a translated
// connection counts as an xlate and as a connection; ICMP counts under UDP
// (both are connectionless).
type Stats struct {
	Xlate, TCP, UDP, ARP Counter
	// Queues: Recv is the apply queue (records waiting for the kernel),
	// Xmit the records sent but not yet acknowledged.
	RecvCur, RecvMax, RecvTotal uint64
	XmitCur, XmitMax, XmitTotal uint64
	BulkSyncs                   uint64 // whole tables sent or received
	Malformed                   uint64 // authenticated payloads that did not decode
}

// Counts are the table sizes of `show conn count` and `show xlate count`.
type Counts struct {
	Conns, Xlates  int
	TCP, UDP, ICMP int
}

type dir uint8

const (
	dirXmit dir = iota
	dirXerr
	dirRcv
	dirRerr
)

func (c *Counter) add(d dir, n uint64) {
	switch d {
	case dirXmit:
		c.Xmit += n
	case dirXerr:
		c.Xerr += n
	case dirRcv:
		c.Rcv += n
	case dirRerr:
		c.Rerr += n
	}
}

// uncountRec takes back one object of any kind.
func (s *Stats) uncountRec(r *Record, d dir) {
	if r.Neigh != nil {
		s.ARP.add(d, ^uint64(0))
		return
	}
	s.uncount(&r.Entry, d)
}

// uncount takes back one connection counted in its rows.
func (s *Stats) uncount(e *conntrack.Entry, d dir) {
	if e.NAT() {
		s.Xlate.add(d, ^uint64(0))
	}
	if e.Proto == conntrack.ProtoTCP {
		s.TCP.add(d, ^uint64(0))
	} else {
		s.UDP.add(d, ^uint64(0))
	}
}

// countRec records one object of any kind.
func (s *Stats) countRec(r *Record, d dir) {
	if r.Neigh != nil {
		s.ARP.add(d, 1)
		return
	}
	s.count(&r.Entry, d)
}

// count records one connection in its rows.
func (s *Stats) count(e *conntrack.Entry, d dir) {
	if e.NAT() {
		s.Xlate.add(d, 1)
	}
	if e.Proto == conntrack.ProtoTCP {
		s.TCP.add(d, 1)
	} else {
		s.UDP.add(d, 1)
	}
}
