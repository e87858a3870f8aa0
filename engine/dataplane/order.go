package dataplane

import "cmp"

// The Compare functions give every implementation the same listing order,
// so that listings and printed states diff cleanly.

func CompareAddr(a, b Addr) int {
	if a.Link != b.Link {
		return cmp.Compare(a.Link, b.Link)
	}
	if c := a.Prefix.Addr().Compare(b.Prefix.Addr()); c != 0 {
		return c
	}
	return a.Prefix.Bits() - b.Prefix.Bits()
}

func CompareRoute(a, b Route) int {
	if a.Table != b.Table {
		return a.Table - b.Table
	}
	if c := a.Dst.Addr().Compare(b.Dst.Addr()); c != 0 {
		return c
	}
	if a.Dst.Bits() != b.Dst.Bits() {
		return a.Dst.Bits() - b.Dst.Bits()
	}
	if a.Metric != b.Metric {
		return a.Metric - b.Metric
	}
	return a.Protocol - b.Protocol
}

func CompareRule(a, b Rule) int {
	if a.Priority != b.Priority {
		return a.Priority - b.Priority
	}
	if a.Mark != b.Mark {
		return cmp.Compare(a.Mark, b.Mark)
	}
	return a.Table - b.Table
}
