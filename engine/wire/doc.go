// Package wire is the binary format of the messages two failover units
// exchange: hellos, interface hellos, configuration replication, control
// requests, `failover exec mate` and (later) stateful updates. It is pure
// encoding, with no I/O, so that every rule below can be tested and fuzzed
// without a network.
//
// # Transport
//
// Every message is one UDP datagram to and from port 10105 ([Port]), on the
// failover LAN link and on every monitored data interface. Cisco uses IP
// protocol 105; UDP is used here because it needs no raw socket, passes
// through ordinary firewall rules and can be bound to one device.
//
// # Envelope
//
// All integers are big-endian (network order). Offsets are in bytes.
//
//	offset size field
//	0      2    magic, the ASCII bytes "FO" (0x46 0x4F)
//	2      1    version, 1 ([Version])
//	3      1    type ([Type]): 1 Hello, 2 IfHello, 3 ConfigLine, 4 BulkBegin,
//	            5 BulkLine, 6 BulkEnd, 7 Control, 8 ExecRequest, 9 ExecReply,
//	            10 StateUpdate
//	4      1    flags: bit 0 = authenticated (an HMAC trailer follows the
//	            body); bits 1-7 are reserved, must be 0, and a message with any
//	            of them set is rejected (a new flag comes with a new version)
//	5      1    sender's unit role ([Role]): 1 primary, 2 secondary
//	6      8    sender's boot id ([BootID]): random, drawn once per daemon start
//	14     8    sequence number: starts at 1 and increases strictly with every
//	            message of one boot, over all interfaces and types
//	22     2    body length N, at most [MaxBody] (8136)
//	24     N    body, laid out by type as below
//	24+N   32   only when flag bit 0 is set: HMAC-SHA256, keyed with the
//	            `failover lan key`, over bytes 0 .. 24+N-1
//
// A whole message is at most [MaxMessageSize] (8192) bytes. The body limit
// leaves room for the MAC whether or not a key is set, so a body that fits
// never stops fitting when a key is configured. A datagram must be exactly
// 24+N(+32) bytes long: shorter is [ErrTruncated], longer is [ErrTrailing].
//
// # Bodies
//
// Notation: u8/u16/u32/u64 are unsigned big-endian integers; name is a u8
// length (0-15, the Linux IFNAMSIZ limit) followed by that many bytes; text
// is a u16 length (0-[MaxText]) followed by that many bytes (any bytes; the
// format does not require UTF-8); bool is a u8 that must be 0 or 1. Every
// body must be consumed exactly: trailing bytes are [ErrTrailing].
//
//	Hello (1), sent every poll interval on the failover LAN link:
//	  u8  state            unit state, [UnitState] codes
//	  u32 active time      seconds this unit has been active in total
//	  u64 config version   version of the running configuration
//	  u32 poll             hello interval in milliseconds
//	  u32 hold             hold time in milliseconds
//	  u8  flags            [HelloShuttingDown] = 0x01, [HelloAnswersProbes] =
//	                       0x02, [HelloServing] = 0x04; other bits are
//	                       carried unchanged and ignored by this version
//	  u8  count            number of interface entries, then for each:
//	      name  name        interface name (nameif)
//	      u8    status      [IfStatus] code
//	      4     ipv4        address the unit holds now; 0.0.0.0 = none
//	      6     mac         MAC the unit uses now; all zero = unknown
//	  u64 last failover    when the pair last failed over, Unix milliseconds;
//	                       0 = never
//
//	IfHello (2), sent on every monitored data interface:
//	  name name, u8 state ([IfStatus] as the sender sees that interface)
//
//	ConfigLine (3), one replicated configuration command:
//	  u64 version (configuration version after this line), text line
//	BulkBegin (4): u64 version of the configuration that follows
//	BulkLine (5):  text line
//	BulkEnd (6):   u64 version, u32 count of BulkLine messages sent
//
//	Control (7): u8 op ([Op]: 1 become active, 2 become standby,
//	             3 ack ready, 4 failover reset, 5 write memory,
//	             6 probe, 7 probe reply),
//	             u32 token (chosen by the requester, echoed in the ack
//	             or probe reply)
//
//	             Probe and probe reply travel on the monitored data
//	             interfaces (the others on the failover LAN link), both to
//	             255.255.255.255 so that they need no ARP and still arrive
//	             when the addresses have just moved. A mate that does not
//	             know them ignores them, as any unknown op.
//
//	ExecRequest (8): u32 id, text command
//	ExecReply (9):   u32 id, text output, bool more (true when further
//	                 replies with the same id follow; see [SplitExecOutput])
//
//	StateUpdate (10): u8 kind, text payload (reserved for stateful failover)
//
// Unit states, interface status codes, control ops and StateUpdate kinds
// are not checked by the decoder: an unknown value from a newer mate is
// passed through for the engine to treat as "Unknown".
//
// # Authentication
//
// [Codec.SetKey] sets the shared key (nil or empty = none).
//
//   - Key set: a message must have the authenticated flag and a correct MAC,
//     else it is rejected with [ErrUnauthenticated] or [ErrBadMAC]. The MAC
//     is checked before the body is looked at.
//   - No key: a message with the authenticated flag is rejected with
//     [ErrUnexpectedAuth]. A mate that has a key this unit lacks is
//     therefore not heard at all, exactly as with two different keys,
//     rather than being believed without a check; `show failover` then says
//     the other side is not heard, which points the operator at the key.
//
// # Replay protection
//
// [ReplayWindow] keeps, for one peer, the boot id it currently believes, the
// highest sequence number accepted from that boot and a 64-bit bitmap of
// the 64 numbers ending at it (as IPsec ESP and WireGuard do). For a message
// of the current boot, a sequence number is accepted when it is higher than
// the highest seen, or when it is at most 63 below it and not yet seen;
// anything else is [ErrReplay]. Sequence number 0 is never accepted.
//
// A different boot id means the peer restarted. It replaces the current boot
// id (emptying the window) only when the message is trusted: authenticated,
// or received while no key is configured. A replaced boot id is remembered
// (the last [RetiredBoots] of them) and messages from it are rejected from
// then on, so that a recorded message of an earlier boot cannot be replayed
// to flip the window back. Remaining limit: after this unit itself restarts
// it has no memory, so one recorded message of an old mate boot can be
// accepted until the mate's next real message retires that boot again.
//
// [Receiver] combines the codec and one window, and also rejects messages
// carrying this unit's own boot id ([ErrReflected]): with a shared key a
// unit's own messages, sent back to it, would otherwise authenticate.
//
// # Errors
//
// Every rejection wraps one of the sentinel errors below, to be matched with
// errors.Is and counted in `rerr`: [ErrTruncated], [ErrTrailing],
// [ErrBadMagic], [ErrVersion], [ErrUnknownType], [ErrBadFlags], [ErrBadRole],
// [ErrTooLarge], [ErrStringTooLong], [ErrMalformed], [ErrUnauthenticated],
// [ErrUnexpectedAuth], [ErrBadMAC], [ErrReplay], [ErrReflected]. Decoding
// never panics, whatever the input.
package wire
