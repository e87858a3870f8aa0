// Package unit is the unit-failover state machine: one side of a Cisco
// PIX style active/standby pair.
//
// Everything runs on the engine event loop: received packets and timers
// come back through Options.Post, so the Unit has no locks. The engine
// applies addresses; the unit only says which (DesiredAddrs) and asks for
// them to be applied (Hooks.Reconcile), sending gratuitous ARPs once they
// are. Every request to the engine is queued and answered after the
// unit's current call: the unit is never re-entered.
//
// # Decisions and actions
//
// look gathers what the unit knows into a facts value; decide (pure,
// decide.go, one table row per branch in decide_test.go) returns the next
// state, the reason and the side actions; execute performs them, and
// setState carries out a transition (history, syslog, addresses, MACs,
// hellos, with the BeforeTakeover/AfterRelease hooks around serving).
//
//	start, or failover on
//	      |
//	      v        active mate               bulk copy
//	 Negotiation -------------> Sync Config -----------> Standby
//	                                |                      ^
//	                                | with connection      | whole table in
//	                                | replication          |
//	                                +----> Bulk Sync ------+
//	      |                         |                   |  ^
//	      | nobody active           | mate lost         |  | planned switchover,
//	      | by the hold time        v                   |  | both active (secondary)
//	      +-------------------->  Active <--------------+  |
//	                                |    mate lost/failed  |
//	                                +----------------------+
//	 Active/Standby --own interfaces failed--> Failed --passed--> Negotiation
//
//	 failover off:  Active --> Disabled (serves)
//	                Standby, Sync Config, Bulk Sync, Failed --> Pseudo-Standby
//	                Disabled <--failover active / no failover active--> Pseudo-Standby
//	 failover on:   Disabled --nobody else serves--> Active; --mate serves--> Sync Config/Standby
//
// Failover off keeps each unit's role until restart, as on ASA: the active
// unit goes Disabled and keeps serving, a standby goes Pseudo-Standby and
// keeps the standby addresses. Both keep talking on the LAN link (hellos
// with the HelloServing flag, probe answers), so an enabled mate never
// takes addresses a unit with failover off still holds; of two serving
// units that hear each other, the one with failover off yields (two with
// failover off: the secondary). A box without a unit role or LAN interface
// is standalone (Disabled) and keeps its addresses whatever `failover` says.
//
// Other decisions:
//   - Hellos on the LAN link go to 255.255.255.255, so two units with the
//     same role still hear each other and report the conflict (syslog
//     104005, a line in show failover) instead of staying silent. While
//     the roles conflict no unit becomes active; one that already was stays.
//   - A hello carries each interface's burned-in MAC (not the current one):
//     without virtual MACs the active unit uses the primary's own MAC and
//     the standby the secondary's, which needs the original values.
//   - A hello older than the newest one is dropped even when the replay
//     window would accept it (a message it never saw), so a recorded hello
//     cannot turn the mate's state back.
//   - Interface tests (iftest.go) follow the PIX: a monitored interface
//     with carrier that has not heard the mate for the interface hold time
//     goes Testing (105008) and runs, in order, network activity (watch
//     the receive counter), ARP (requests, from the interface's own MAC and
//     address, to the most recently learned neighbours in the kernel's
//     table, up to 10, spread over the stage; the kernel would not re-ARP
//     on demand) and a broadcast ping (one ICMP echo to the subnet's
//     broadcast address, 255.255.255.255 on a /31 or /32). Link (carrier)
//     comes first and is No Link, never a test. Each stage lasts the
//     interface poll time, clamped to 500 ms .. 5 s (the PIX counts "up to
//     5 seconds") and to a third of the interface hold time: 15 s in all
//     with the default timers. Any growth of the receive counter ends the
//     test at once as Passed (105009); none by the end is Failed (105009),
//     and a failed interface passes again on its first received packet.
//     A concluded test is announced in a hello at once.
//   - Interface tests only run while the mate's hellos are current (at most
//     1.5 polls old); a failed test makes a unit Failed only when the mate
//     reports fewer failed interfaces, an interface the mate is still
//     testing counting as failed: the unit whose side is dead while the
//     mate's passes is the failed one, and both sides dead fails neither.
//     Carrier loss needs no comparison.
//   - Mate lost is decided by an active check of the data interfaces, not
//     by waiting for the mate's interface hellos to stop (the interface
//     hold time, 5 s at least, would bound every takeover). When the mate's
//     LAN hellos have been missing for the hold time minus a window (two
//     polls, 50 ms to 1 s; never before 1.5 polls), the unit broadcasts an
//     authenticated probe (Control op probe) on every monitored data
//     interface, and repeats it up to three times while nothing is heard.
//     The mate answers at once, whatever its state. Anything authenticated
//     and fresh (replay window) from the mate on a data interface since the
//     first probe (a reply, its own probe, an interface hello) means only
//     the LAN link failed: no failover, cable status "Other side is not
//     connected"; from then on its interface hellos keep it alive for the
//     interface hold time as before. Nothing by the hold time (or 50 ms
//     after the first probe, with the tightest timers) means the mate is
//     lost. Interface hellos from before the probes do not count: they may
//     predate its death. A mate whose hellos lack the "answers probes" flag
//     (an older build) is judged by its interface hellos alone, as before.
//     So a dead mate is declared lost at the hold time, as keepalived after
//     3 adverts (85 ms at the smallest timers, 20/60 ms, for the 50 ms
//     wait), and a mate heard on any interface is never declared lost.
//   - Probes, their replies, and interface hellos while the mate's LAN
//     hellos are stale go to 255.255.255.255: they need no ARP and reach
//     the mate whatever addresses moved. Otherwise interface hellos go to
//     the address the mate announced, unless we hold it now (taken over).
//   - With the LAN link down at start-up but the mate heard on data links,
//     only the primary goes active after the hold time.
//   - A planned switchover is make before break (control.go, handOver):
//     the old active mutes its MACs (its frames leave from another MAC,
//     muteMACs) and keeps forwarding; the new one, only with the whole
//     connection table, takes MACs and addresses, announces, then acks;
//     the old one changes its MACs and releases on the ack. No switch
//     relearns the system MAC on the old port after the announcement.
//   - A Failed unit whose mate is lost becomes active: partial service
//     beats none.
//   - Taking over from a lost mate waits until nobody answers ARP for the
//     system addresses (claim.go): a box whose daemon died keeps them, and
//     forwards, until their lifetime ends, and two boxes never answer for
//     one address.
//   - Missing config lines (version gap) are not applied out of order; the
//     active sees the standby's version in two hellos and sends the whole
//     configuration again.
package unit
