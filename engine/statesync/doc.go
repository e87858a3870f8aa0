// Package statesync replicates the kernel's connection table from the
// active failover unit to the standby (stateful failover), so that
// connections, their NAT included, survive a failover.
//
// Everything runs on the engine loop except the kernel work, which a
// listener goroutine and one apply worker do (the kernel must never block
// the loop). The rules:
//
//   - Source: only the active unit sends. Events of the kernel table are
//     filtered (forwarded TCP, UDP and ICMP: entries that translate, or
//     whose original tuple touches no system address of this unit) and
//     sent at once in numbered batches (a listener batch is one or more
//     replication batches, so a busy box batches by itself and an idle one
//     adds no delay).
//   - Reliability: the standby acknowledges what it applied; a batch out
//     of order is answered with a nak and the active resends what it still
//     holds, or the whole table (a bulk synchronisation, a new stream) when
//     it does not. A standby that joins, or sees a stream it does not
//     know, asks for the whole table. After a bulk the standby removes
//     every replicated entry the bulk did not contain.
//   - Hot standby: what arrives goes into the standby's kernel at once,
//     with its NAT binding, so a takeover has nothing to commit.
//   - Roles: the unit tells the replicator its role before it moves any
//     address. A unit leaving the active role stops sending first, so the
//     kernel's flush of masqueraded entries when the addresses go (and any
//     change after) never reaches the new active. A unit becoming standby
//     removes its own forwarded entries (stale ones would collide with
//     the replicas' NAT ports) and asks for the whole table. Batches are
//     accepted only from the mate the unit believes active, and only while
//     the unit is standby.
package statesync
