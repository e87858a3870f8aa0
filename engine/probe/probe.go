// Package probe sends the ICMP echo probes behind "sla monitor".
package probe

import (
	"context"
	"fmt"
	"time"
)

// Spec is one SLA operation's probe.
type Spec struct {
	Target     string // an IPv4 address or a host name, resolved at each probe
	Mark       uint32 // fwmark steering the probe into its uplink's table
	NumPackets int
	Timeout    time.Duration // for the whole operation; always > 0
	Threshold  time.Duration // an RTT above this counts as over threshold
	Size       int           // request-data-size (ICMP payload bytes)
	TOS        int
}

// Result is what one operation found.
type Result struct {
	OK            bool // at least one reply within Timeout
	OverThreshold bool // OK, but the average RTT is above Threshold
	RTT           time.Duration
	Sent, Recv    int
	Err           string // why it failed, for show sla monitor operational-state
	// Unsent: no request could leave this box, because it has no route or
	// no source address for the target (yet): the operation measured this
	// box, not the path, and callers need not take it as the path failing.
	Unsent bool
}

// Prober runs probes. Implementations must respect ctx and Spec.Timeout and
// never block longer than Timeout plus a small bounded margin (name
// resolution included).
type Prober interface {
	Probe(ctx context.Context, s Spec) Result
}

// NoReply is Result.Err for an operation whose packets all went out and
// none came back within timeout.
func NoReply(timeout time.Duration) string {
	return fmt.Sprintf("no echo reply within %s", timeout)
}
