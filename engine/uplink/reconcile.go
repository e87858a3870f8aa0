package uplink

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"time"

	"failover/engine/dataplane"
)

// slotKey is a table and destination: the main table holds one route per
// destination.
type slotKey struct {
	table int
	dst   netip.Prefix
}

// RetryInterval is how soon a failed reconcile is tried again.
const RetryInterval = time.Second

// reconcile converges the kernel to the desired routes and rules: it reads
// what the engine owns, replaces what is missing or different (replace
// first, so a destination never goes without a route), then deletes owned
// objects in its scope that are not desired. Any error leaves the manager
// dirty and retries after RetryInterval.
func (m *Manager) reconcile() {
	m.disarm(&m.retry)
	if err := m.reconcileOnce(); err != nil {
		m.log.Warn("reconcile failed, will retry", "error", err, "retry", RetryInterval)
		m.arm(&m.retry, RetryInterval, func() { m.refresh(true) })
		return
	}
	m.dirty = false
	m.doneRoutes, m.doneRules = m.desiredUplinks()
}

// uplinksChanged says whether the probe tables and rules wanted now differ
// from those of the last successful reconcile.
func (m *Manager) uplinksChanged() bool {
	routes, rules := m.desiredUplinks()
	return !slices.Equal(routes, m.doneRoutes) || !slices.Equal(rules, m.doneRules)
}

func (m *Manager) reconcileOnce() error {
	wantRoutes, wantRules := m.desiredUplinks()
	for _, r := range m.selected {
		wantRoutes = append(wantRoutes, m.kernelRoute(r))
	}
	var errs []error

	owned, err := m.o.DP.OwnedRoutes()
	if err != nil {
		return fmt.Errorf("failed to list owned routes: %w", err)
	}
	have := map[dataplane.Route]bool{}
	for _, r := range owned {
		have[r] = true
	}
	want := map[dataplane.Route]bool{}
	ok := map[dataplane.Route]bool{}
	failed := map[slotKey]bool{} // whose replace failed
	for _, r := range wantRoutes {
		want[r] = true
		if have[r] {
			ok[r] = true
			continue
		}
		if err := m.o.DP.RouteReplace(r); err != nil {
			errs = append(errs, fmt.Errorf("failed to install route %s via %s table %d: %w", r.Dst, r.Gw, r.Table, err))
			failed[slotKey{r.Table, r.Dst}] = true
			continue
		}
		ok[r] = true
	}
	for _, r := range owned {
		// When the replacement failed, the old route stays until the
		// retry rather than leaving the destination with no route.
		if want[r] || !managedRoute(r) || failed[slotKey{r.Table, r.Dst}] {
			continue
		}
		// A replace above may already have overwritten this slot.
		if err := m.o.DP.RouteDel(r); err != nil && !errors.Is(err, dataplane.ErrNotFound) {
			errs = append(errs, fmt.Errorf("failed to withdraw route %s via %s table %d: %w", r.Dst, r.Gw, r.Table, err))
		}
	}

	// Record what the main table holds, for show route and the start-up hold.
	clear(m.installed)
	for dst, r := range m.selected {
		if ok[m.kernelRoute(r)] {
			m.installed[dst] = r
		}
	}

	rules, err := m.o.DP.OwnedRules()
	if err != nil {
		errs = append(errs, fmt.Errorf("failed to list owned rules: %w", err))
		return errors.Join(errs...)
	}
	haveRule := map[dataplane.Rule]bool{}
	for _, r := range rules {
		haveRule[r] = true
	}
	wantRule := map[dataplane.Rule]bool{}
	ruled := map[int]bool{} // tables whose rule is in the kernel
	for _, r := range wantRules {
		wantRule[r] = true
		if !haveRule[r] {
			if err := m.o.DP.RuleAdd(r); err != nil {
				errs = append(errs, fmt.Errorf("failed to add rule fwmark %#x lookup %d: %w", r.Mark, r.Table, err))
				continue
			}
		}
		ruled[r.Table] = true
	}
	clear(m.probeReady)
	for r := range ok {
		if r.Table != 0 && ruled[r.Table] {
			m.probeReady[r.Link] = true
		}
	}
	for _, r := range rules {
		if wantRule[r] || !managedRule(r) {
			continue
		}
		if err := m.o.DP.RuleDel(r); err != nil && !errors.Is(err, dataplane.ErrNotFound) {
			errs = append(errs, fmt.Errorf("failed to delete rule fwmark %#x lookup %d: %w", r.Mark, r.Table, err))
		}
	}
	return errors.Join(errs...)
}
