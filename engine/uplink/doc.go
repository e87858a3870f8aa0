// Package uplink is the uplink-failover state machine behind ASA route
// tracking ("sla monitor", "track", "route ... track"): it probes every
// uplink through its own routing table, turns probe results into track
// states with hysteresis, and keeps exactly one kernel route per configured
// destination.
//
// # Threading
//
// Every exported method must be called on the engine's event loop. Probes
// run on their own goroutines and timers fire on the clock's goroutines;
// both only hand a function to Options.Post, so all state is touched from
// the loop alone and needs no locks.
//
// # Probe steering: tables, marks and rules
//
// An uplink is a named interface that some SLA probes through. Uplink N,
// where N is the interface's 1-based position in Config.Interfaces (the
// order interfaces were first configured, which a startup-config
// reproduces), gets:
//
//	table    100+N   holding 0.0.0.0/0 via the uplink's gateway dev HW
//	rule     priority 100+N: fwmark 0x4f00+N lookup 100+N
//	mark     0x4f00+N on every probe of an SLA on that interface
//
// The gateway is the one of the configured route on that interface,
// preferring a default route, then the lowest distance, then the first
// configured. With no route on the interface the table holds an on-link
// default ("0.0.0.0/0 dev HW") so that probes still leave through that
// interface and cannot succeed through the other uplink by accident.
// The table route is kept while the link is admin up, whatever the carrier,
// and on the standby unit too, so both units always know every uplink.
//
// The manager owns (reconciles, and deletes when not desired) every route
// with protocol dataplane.Proto in the main table and in tables 101..355,
// and every Proto rule with priority 101..355. Owned objects elsewhere are
// left alone, and non-owned objects are never listed by the dataplane.
//
// # Routes
//
// For each destination the main table holds one route at metric 0: the
// lowest-distance configured route whose interface is not shut down and has
// carrier and whose track is Up (untracked = Up, a missing track = Down);
// ties go to the first configured. Switching is one RouteReplace of the
// same (destination, table, metric) slot, so there is never a gap. The
// standby unit holds the same main-table routes as the active unit: its
// own traffic (syslog, name lookups, management) leaves through them from
// its standby addresses, which is harmless. Only a unit that holds no data
// addresses (negotiating; SetRouting(false)) holds none: they could not
// be installed. When the unit swaps its addresses the kernel drops the
// routes through a subnet whose last address went; AddrsChanged makes the
// manager put them back at once.
//
// A track that has not had its first result yet (just after start) holds
// the route the kernel already has, so that a daemon restarted with
// kill -9 does not swap the default route while it re-learns the uplinks.
// The first result of a track is taken at once (there is nothing to
// debounce yet); every later change waits for the track's delay. A probe
// that could not leave the box (probe.Result.Unsent) before the uplink's
// probe table and rule were in the kernel is no result at all. While a
// better tracked route waits for its first result on an uplink whose
// gateway is on a subnet the box holds, a worse route is not installed in
// its place (one that is already installed stays).
//
// # Decisions
//
//   - Reachability is Up when the latest operation returned OK or Over
//     threshold (as IOS/ASA define "reachability"; "state" tracking, which
//     would treat Over threshold as Down, is not offered).
//   - Carrier loss on an uplink withdraws its routes at once, marks its
//     SLAs "No connection" and takes their tracks (and any list track they
//     bring down) Down without waiting for the down delay. While the
//     carrier is down the SLAs do not probe (operations count as skipped).
//     When the carrier returns the SLAs probe at once, and tracked routes
//     return only after the normal up delay; untracked routes return at
//     once.
//   - Both uplinks down: a route without a track (the usual backup) stays
//     as long as its interface has carrier, since nothing says it is bad.
//     When no route is usable the destination has no route at all (no
//     default route), rather than a route known to be dead.
//   - Stop leaves the kernel as it is, so restarting the daemon does not
//     interrupt traffic; Start reconciles.
//
// # Syslog
//
//	%PIX-6-622001: Adding tracked route NET MASK GW, distance D, table Default-IP-Routing-Table, on interface IF
//	%PIX-6-622001: Removing tracked route NET MASK GW, distance D, table Default-IP-Routing-Table, on interface IF
//	%PIX-5-622100: Track 1 reachability Up -> Down (SLA 10: Timeout)
//	%PIX-5-622100: Track 3 list boolean or Up -> Down (object 1 Down, object 2 Down)
//
// 622001 is logged whenever the selected route of a destination changes,
// tracked or not (the moment a backup route is added is the one an operator
// most wants to see). 622100 is this product's own number for track changes, in the
// 622xxx route-tracking family.
package uplink
