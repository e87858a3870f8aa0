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
//	2      1    version, 2 ([Version]; 1 had no liveness proof, and a
//	            unit of that version is not heard)
//	3      1    type ([Type]): 1 Hello, 2 IfHello, 3 ConfigLine, 4 BulkBegin,
//	            5 BulkLine, 6 BulkEnd, 7 Control, 8 ExecRequest, 9 ExecReply,
//	            10 StateUpdate, 11 Challenge, 12 Response
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
//	                       0x02, [HelloServing] = 0x04, [HelloFenced] =
//	                       0x08; other bits are carried unchanged and
//	                       ignored by this version
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
//	             6 probe, 7 probe reply, 8 reload standby, 9-11 refused
//	             to become active: own interfaces failed, connection
//	             table incomplete, not a standby),
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
//	StateUpdate (10): u8 kind, text payload: connection state replication
//	                  (kinds and payload layout: engine/statesync/codec.go)
//
//	Challenge (11): 16 nonce   random, fresh for each challenge
//	Response (12):  16 nonce   the nonce of the challenge answered
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
// # Boot acceptance
//
// A recorded message stays authentic for ever: the MAC proves who made it,
// not when. The boot id alone therefore cannot tell a mate that restarted
// from a recording of an earlier run, and a receiver that follows whichever
// boot id it heard last can be made to drop its live mate by one old
// datagram (the mate's real hellos then look like the stale ones, the
// standby goes active, the active stays active: split brain). So an unknown
// boot id is never believed on its word; it must prove that it is alive
// now, by answering a fresh random nonce:
//
//   - A message from a boot id other than the one followed is rejected
//     with [ErrUnverified] (and counted), and the receiver broadcasts a
//     Challenge with a fresh 16-byte nonce on the link it came from (at
//     most one per link every [ChallengeGap]).
//   - Every unit answers every authenticated Challenge (whatever its boot
//     id) with a Response carrying the nonce, stamped with its own current
//     boot id and sequence number and authenticated with the key. A nonce
//     is answered once; at most [ResponsesPerSecond] answers a second.
//   - A Response whose nonce is pending (at most [MaxPending] of them, each
//     valid for [ChallengeTTL]) proves its boot id alive: the receiver
//     follows that boot id from then on, retires the one it followed and
//     starts its replay windows at the answer's sequence number: what that
//     boot sent before it proved itself (perhaps while this unit was not
//     listening, and recorded) is never accepted. The nonce is used up.
//
// A recording cannot answer a nonce drawn after it was made, so a replayed
// datagram of a dead boot is rejected however often it is sent, whether
// the receiver follows a live mate, none yet (it has just started) or a
// mate that has gone quiet. Only a live unit holding the key can move the
// receiver, and only to its own current boot id. Since the challenge is a
// broadcast, the live mate answers it even when the recording that caused
// it came from a forged address, and its answer merely confirms the boot id
// already followed. This needs no state kept across restarts and no clock
// agreement between the units; the cost is one round trip before a
// restarted mate is heard (the unit answers a newly proven mate with a hello
// at once, so negotiation does not wait a poll interval).
//
// Retired boot ids (the last [RetiredBoots]) are refused without a
// challenge. Messages carrying this unit's own current boot id are
// [ErrReflected]; its own earlier boot ids cannot answer a challenge, so
// they are never accepted either. A message with this unit's own role is
// judged the same way: only a live unit can make it count, and the unit
// treats such a live unit as a role conflict (both units configured with
// the same role), never as its mate.
//
// With ErrUnverified the decoded message is handed to the caller for one
// purpose: a unit that has just started, follows no mate yet and must stay
// silent on its data interfaces (so that it cannot send the challenge
// there) may take an unverified interface hello as a sign that a mate
// might be alive, which only ever holds it back from going active.
//
// Without a key nothing is authenticated and an attacker on the link can
// forge any message, answers included; the proof then only stops plain
// replays.
//
// # Links
//
// [Receiver.Decode] is told where a datagram arrived ([Ingress]). Hello,
// configuration, bulk, exec, state and the non-probe Control messages are
// accepted only on the failover LAN link; interface hellos only on a data
// interface and only when they carry that interface's nameif; probes and
// probe replies only on data interfaces; challenges and responses
// anywhere. Anything else is [ErrWrongLink]. A recording made on one link
// is thus useless on another.
//
// # Replay protection
//
// Within the boot followed, a [ReplayWindow] per stream keeps the highest
// sequence number accepted and a 64-bit bitmap of the 64 numbers ending at
// it (as IPsec ESP and WireGuard do): a sequence number is accepted when it
// is higher than the highest seen, or at most 63 below it and not yet seen;
// anything else is [ErrReplay]. Sequence number 0 is never accepted. The
// streams are: the failover LAN link (one window: one socket, one path, in
// order), each data interface's interface hellos, and the probes of all
// data interfaces together (a probe goes out on every data interface at
// once, and one window keeps a probe from counting on a link it was not
// sent on). Separate windows per data interface keep a burst on the LAN
// link (a bulk configuration copy of thousands of lines) from pushing a
// slightly later interface hello out of a shared window. The sender keeps
// one sequence over all messages, so each stream sees increasing numbers
// with gaps, which the windows accept.
//
// # Network
//
// The transport sends every failover datagram with IP TTL 255 and accepts
// only datagrams that arrive with TTL 255 (the generalized TTL security
// mechanism of RFC 5082): every router decrements the TTL, so a datagram
// from beyond the directly connected segment, forged or replayed, cannot
// arrive with 255.
//
// # Errors
//
// Every rejection wraps one of the sentinel errors below, to be matched with
// errors.Is and counted in `rerr`: [ErrTruncated], [ErrTrailing],
// [ErrBadMagic], [ErrVersion], [ErrUnknownType], [ErrBadFlags], [ErrBadRole],
// [ErrTooLarge], [ErrStringTooLong], [ErrMalformed], [ErrUnauthenticated],
// [ErrUnexpectedAuth], [ErrBadMAC], [ErrReplay], [ErrReflected],
// [ErrUnverified], [ErrWrongLink]. Decoding
// never panics, whatever the input.
package wire
