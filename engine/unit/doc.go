// Package unit is the unit-failover state machine of SPEC §5: one side of
// a Cisco PIX style active/standby pair.
//
// Everything runs on the engine event loop: received packets and timers
// come back through Options.Post, so the Unit has no locks. The engine
// applies addresses; the unit only says which (DesiredAddrs) and asks for
// them to be applied now (Hooks.Reconcile) before it sends gratuitous ARPs.
//
// Decisions made here where the SPEC is silent:
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
//   - Interface tests only run while the mate's hellos are current (at most
//     1.5 polls old); a failed test makes a unit Failed only when the mate
//     reports fewer failed interfaces. Carrier loss needs no comparison.
//   - With the LAN link down at start-up but the mate heard on data links,
//     only the primary goes active after the hold time.
//   - A Failed unit whose mate is lost becomes active: partial service
//     beats none.
//   - Missing config lines (version gap) are not applied out of order; the
//     active sees the standby's version in two hellos and sends the whole
//     configuration again.
package unit
