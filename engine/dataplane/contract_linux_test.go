//go:build linux

package dataplane_test

import (
	"fmt"
	"strconv"
	"testing"

	"failover/engine/dataplane"
)

// kernelEnv is the contract's environment on a real kernel: links ca and
// cb are veth ends whose peers (cap, cbp) stand for the far side of the
// cable.
func kernelEnv(t *testing.T) *contractEnv {
	dp, ip := dataplane.NewTestNamespace(t)
	for _, name := range []string{"ca", "cb"} {
		ip("link", "add", name, "type", "veth", "peer", "name", name+"p")
		ip("link", "set", name+"p", "up")
		ip("link", "set", name, "up")
	}
	cable := func(state string) func(t *testing.T, link string) {
		return func(t *testing.T, link string) { ip("link", "set", link+"p", state) }
	}
	return &contractEnv{
		dp: dp, a: "ca", b: "cb",
		unplug: cable("down"), plug: cable("up"),
		delLink: func(t *testing.T, link string) { ip("link", "del", link) },
		foreignRoute: func(t *testing.T, r dataplane.Route) {
			args := []string{"route", "add", r.Dst.String()}
			if r.Gw.IsValid() {
				args = append(args, "via", r.Gw.String())
			}
			if r.Link != "" {
				args = append(args, "dev", r.Link)
			}
			table := "main"
			if r.Table != 0 {
				table = strconv.Itoa(r.Table)
			}
			ip(append(args, "table", table, "metric", strconv.Itoa(r.Metric), "proto", "static")...)
		},
		foreignRule: func(t *testing.T, r dataplane.Rule) {
			ip("rule", "add", "fwmark", fmt.Sprintf("%#x", r.Mark), "lookup", strconv.Itoa(r.Table),
				"prio", strconv.Itoa(r.Priority), "proto", "static")
		},
	}
}

func TestContractNetlink(t *testing.T) {
	runContract(t, kernelEnv)
}
