package dataplanetest

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"failover/engine/dataplane"
)

// String prints the whole state, one object per line in a stable order, so
// that a test can compare it with the expected text and read the diff:
//
//	link eth0 index 1 up carrier mtu 1500 mac 02:00:00:00:00:01
//	mute eth0 02:00:00:00:00:01 as 06:00:00:00:00:01
//	addr eth0 192.0.2.10/24 valid_lft forever
//	route 0.0.0.0/0 via 192.0.2.1 dev eth0 table main metric 0 proto 250
//	rule 100: fwmark 0x1 lookup 100 proto 250
//	garp eth0 192.0.2.10 mac 02:00:00:00:00:01 count 2
//	neigh eth0 192.0.2.1 lladdr 02:00:00:00:00:09
//	arp eth0 who-has 192.0.2.1 tell 192.0.2.10 mac 02:00:00:00:00:01 count 1
//	ping eth0 192.0.2.10 > 192.0.2.255 count 1
//
// Neighbours are listed per link in the order set (newest first).
// Counters are left out: they are not state a test sets up to compare.
func (f *Fake) String() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	var b strings.Builder

	links := f.sortedLinksLocked()
	slices.SortFunc(links, func(a, b dataplane.Link) int { return strings.Compare(a.Name, b.Name) })
	for _, l := range links {
		fmt.Fprintf(&b, "link %s index %d %s %s mtu %d mac %s\n",
			l.Name, l.Index, pick(l.AdminUp, "up", "down"), pick(l.Carrier, "carrier", "nocarrier"), l.MTU, l.MAC)
	}

	for _, name := range slices.Sorted(maps.Keys(f.mutes)) {
		fmt.Fprintf(&b, "mute %s %s as %s\n", name, f.mutes[name][0], f.mutes[name][1])
	}

	addrs := make([]dataplane.Addr, 0, len(f.addrs))
	for _, a := range f.addrs {
		addrs = append(addrs, a)
	}
	slices.SortFunc(addrs, dataplane.CompareAddr)
	for _, a := range addrs {
		lft := "forever"
		if a.ValidLft > 0 {
			lft = a.ValidLft.String()
		}
		fmt.Fprintf(&b, "addr %s %s valid_lft %s\n", a.Link, a.Prefix, lft)
	}

	routes := slices.Clone(f.routes)
	slices.SortFunc(routes, dataplane.CompareRoute)
	for _, r := range routes {
		fmt.Fprintf(&b, "route %s", r.Dst)
		if r.Gw.IsValid() {
			fmt.Fprintf(&b, " via %s", r.Gw)
		}
		if r.Link != "" {
			fmt.Fprintf(&b, " dev %s", r.Link)
		}
		fmt.Fprintf(&b, " table %s metric %d proto %d\n", tableName(r.Table), r.Metric, r.Protocol)
	}

	rules := slices.Clone(f.rules)
	slices.SortFunc(rules, func(a, b fakeRule) int {
		if c := dataplane.CompareRule(a.Rule, b.Rule); c != 0 {
			return c
		}
		return a.proto - b.proto
	})
	for _, r := range rules {
		fmt.Fprintf(&b, "rule %d: fwmark %#x lookup %s proto %d\n", r.Priority, r.Mark, tableName(r.Table), r.proto)
	}

	type garpKey struct{ link, ip, mac string }
	counts := map[garpKey]int{}
	var keys []garpKey
	for _, g := range f.garps {
		k := garpKey{g.Link, g.IP.String(), g.MAC.String()}
		if counts[k] == 0 {
			keys = append(keys, k)
		}
		counts[k]++
	}
	slices.SortFunc(keys, func(a, b garpKey) int {
		return strings.Compare(a.link+" "+a.ip+" "+a.mac, b.link+" "+b.ip+" "+b.mac)
	})
	for _, k := range keys {
		fmt.Fprintf(&b, "garp %s %s mac %s count %d\n", k.link, k.ip, k.mac, counts[k])
	}

	neighLinks := make([]string, 0, len(f.neigh))
	for l := range f.neigh {
		neighLinks = append(neighLinks, l)
	}
	slices.Sort(neighLinks)
	for _, l := range neighLinks {
		for _, n := range f.neigh[l] {
			fmt.Fprintf(&b, "neigh %s %s lladdr %s\n", l, n.IP, n.MAC)
		}
	}

	var sent []string
	for _, a := range f.arps {
		sent = append(sent, fmt.Sprintf("arp %s who-has %s tell %s mac %s", a.Link, a.Target, a.Src, a.MAC))
	}
	for _, p := range f.pings {
		sent = append(sent, fmt.Sprintf("ping %s %s > %s", p.Link, p.Src, p.Dst))
	}
	writeCounted(&b, sent)
	return b.String()
}

func pick(c bool, yes, no string) string {
	if c {
		return yes
	}
	return no
}

func tableName(t int) string {
	if t == 0 {
		return "main"
	}
	return fmt.Sprint(t)
}

// writeCounted prints each distinct line once, sorted, with its count.
func writeCounted(b *strings.Builder, lines []string) {
	counts := map[string]int{}
	for _, l := range lines {
		counts[l]++
	}
	keys := slices.Sorted(maps.Keys(counts))
	for _, k := range keys {
		fmt.Fprintf(b, "%s count %d\n", k, counts[k])
	}
}
