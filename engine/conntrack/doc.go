// Package conntrack is the engine's view of the kernel's connection
// tracking table, for stateful failover: events of the active unit's
// connections, a dump of the whole table, and batched writes that put
// connections into the standby unit's kernel with their NAT binding.
//
// Events and dumps use github.com/ti-mo/conntrack. Writes use an own
// encoder (encode.go) because no Go library sends what a replicated NAT'ed
// connection needs to survive:
//
//   - CTA_NAT_SRC / CTA_NAT_DST: the only way to give a created entry a NAT
//     binding. An entry created with the NAT'ed reply tuple but without it
//     matches the server's packets but does not translate them back; they
//     reach the box's own stack, which answers with a RST.
//   - CTA_STATUS with IPS_CONFIRMED: the kernel refuses a create whose
//     status lacks it (EBUSY).
//   - Per-entry TCP flags (BE_LIBERAL), since a created entry has no window
//     history to check segments against.
//   - Many requests per sendto, with the acknowledgement of each matched to
//     its request, so that one refused entry does not hide the rest.
//
// vishvananda/netlink sends no status and no NAT; ti-mo/conntrack sends
// status but no NAT and one request per round trip.
package conntrack
