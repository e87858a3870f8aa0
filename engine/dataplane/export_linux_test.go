//go:build linux

package dataplane

import "testing"

// NewTestNamespace gives the contract suite (package dataplane_test) a
// Netlink in a fresh namespace and a way to run "ip -n NS ...", skipping
// when not root.
func NewTestNamespace(t *testing.T) (dp *Netlink, ip func(args ...string) string) {
	tn := newTestNS(t)
	return tn.dp, tn.ip
}
