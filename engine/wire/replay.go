package wire

import (
	"crypto/rand"
	"fmt"
	"sync"
	"sync/atomic"
	"time"
)

// WindowSize is how far below the highest accepted sequence number a late
// message is still accepted (once).
const WindowSize = 64

// RetiredBoots is how many earlier boot ids of a peer are remembered and
// refused without a challenge.
const RetiredBoots = 16

// Liveness proof limits; see the package documentation, Boot acceptance.
const (
	// ChallengeTTL is how long an answer to a challenge is accepted. An
	// answer takes one round trip; the rest is room for a loaded box.
	ChallengeTTL = 2 * time.Second
	// ChallengeGap is the least time between two challenges on one link,
	// so a flood of recorded datagrams makes at most 10 challenges a
	// second there. Per link, so that a challenge on a link where the mate
	// cannot answer yet does not delay the one on the failover LAN link.
	ChallengeGap = 100 * time.Millisecond
	// MaxPending is how many challenges can await an answer at once.
	MaxPending = 8
	// ResponsesPerSecond caps the answers to challenges, so replayed
	// challenges cannot make this unit a traffic source.
	ResponsesPerSecond = 50
	// answeredMemory is how many answered nonces are remembered: a
	// challenge is answered once.
	answeredMemory = 64
)

// ReplayWindow is the replay filter for one stream of one boot: the highest
// sequence number accepted and a 64-bit bitmap of the 64 numbers ending at
// it (as IPsec ESP and WireGuard do). The zero value is ready to use; it is
// not safe for concurrent use (Receiver locks around it).
type ReplayWindow struct {
	top    uint64 // highest sequence number accepted
	bitmap uint64 // bit i set: top-i has been accepted
}

// Check accepts (and records) sequence number seq, or returns an error
// wrapping ErrReplay.
func (w *ReplayWindow) Check(seq uint64) error {
	if seq == 0 {
		return fmt.Errorf("%w: sequence number 0", ErrReplay)
	}
	if seq > w.top {
		if d := seq - w.top; d >= WindowSize {
			w.bitmap = 1
		} else {
			w.bitmap = w.bitmap<<d | 1
		}
		w.top = seq
		return nil
	}
	d := w.top - seq
	if d >= WindowSize {
		return fmt.Errorf("%w: sequence number %d is %d below the highest %d (window %d)", ErrReplay, seq, d, w.top, WindowSize)
	}
	if w.bitmap&(1<<d) != 0 {
		return fmt.Errorf("%w: sequence number %d already seen", ErrReplay, seq)
	}
	w.bitmap |= 1 << d
	return nil
}

// Sender stamps outgoing messages with this unit's role, boot id and the
// next sequence number. It is safe for concurrent use.
type Sender struct {
	codec *Codec
	role  Role
	boot  BootID
	seq   atomic.Uint64
}

// NewSender returns a sender whose first message has sequence number 1.
func NewSender(c *Codec, role Role, boot BootID) *Sender {
	return &Sender{codec: c, role: role, boot: boot}
}

// BootID returns the boot id the sender stamps.
func (s *Sender) BootID() BootID { return s.boot }

// Encode encodes body as the next message. A failed encoding still uses up
// a sequence number, which is harmless: the receiver only needs them to grow.
func (s *Sender) Encode(body Body) ([]byte, error) {
	return s.codec.Encode(&Message{Role: s.role, BootID: s.boot, Seq: s.seq.Add(1), Body: body})
}

// Ingress says where a datagram arrived; see the package documentation,
// Links.
type Ingress struct {
	Iface string // device the datagram arrived on
	Name  string // the device's nameif: an interface hello must carry it
	LAN   bool   // the failover LAN link
}

type pendingNonce struct {
	nonce   Nonce
	expires time.Time
}

// Receiver decodes messages from the one mate: authentication by the codec,
// then reflection, boot acceptance (liveness proof), link and replay
// checks. It is safe for concurrent use.
type Receiver struct {
	codec *Codec
	self  BootID

	mu      sync.Mutex
	have    bool
	peer    BootID                   // the mate's boot, proven live
	floor   uint64                   // sequence number of the answer that proved it
	windows map[string]*ReplayWindow // per stream of peer

	retired [RetiredBoots]BootID
	nret    int // number of valid entries in retired, which is a ring

	pending       [MaxPending]pendingNonce
	npend         int                  // challenges made, pending is a ring
	lastChallenge map[string]time.Time // per Ingress.Iface

	answered  [answeredMemory]Nonce
	nans      int
	respStart time.Time // start of the current one-second answer budget
	respCount int
}

// NewReceiver returns a receiver for a unit whose own boot id is self.
func NewReceiver(c *Codec, self BootID) *Receiver {
	return &Receiver{codec: c, self: self, windows: map[string]*ReplayWindow{}, lastChallenge: map[string]time.Time{}}
}

// Peer returns the mate's boot id the receiver follows, and false before
// one was proven live.
func (r *Receiver) Peer() (BootID, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.peer, r.have
}

// Decode decodes b, which arrived on in at time now, and accepts it at most
// once. reply, when not nil, is to be sent back on the same link (broadcast,
// so that it reaches the mate whatever address it holds): the answer to a
// Challenge, or a Challenge to prove the boot of an unverified message live.
//
// With an error wrapping ErrUnverified, m is also returned: an authentic
// message of a boot not proven live. It may be a recording and must never
// be taken as news from the mate; see the package documentation for the one
// thing a caller may use it for.
func (r *Receiver) Decode(in Ingress, b []byte, now time.Time) (m *Message, reply Body, err error) {
	m, err = r.codec.Decode(b)
	if err != nil {
		return nil, nil, err
	}
	if m.BootID == r.self {
		return nil, nil, fmt.Errorf("%w: %s", ErrReflected, m.BootID)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	switch body := m.Body.(type) {
	case *Challenge:
		if a := r.answer(body.Nonce, now); a != nil {
			return m, a, nil
		}
		return m, nil, nil
	case *Response:
		if !r.takeNonce(body.Nonce, now) {
			return nil, nil, fmt.Errorf("%w: response from %s to no pending challenge", ErrReplay, m.BootID)
		}
		r.adopt(m.BootID, m.Seq)
		return m, nil, nil
	}
	key, err := streamOf(in, m)
	if err != nil {
		return nil, nil, err
	}
	if !r.have || m.BootID != r.peer {
		if r.isRetired(m.BootID) {
			return nil, nil, fmt.Errorf("%w: boot id %s was replaced by %s", ErrReplay, m.BootID, r.peer)
		}
		var c Body
		if ch := r.challenge(in.Iface, now); ch != nil {
			c = ch
		}
		return m, c, fmt.Errorf("%w: %s sent %s", ErrUnverified, m.BootID, m.Type())
	}
	w := r.windows[key]
	if w == nil {
		// Everything the peer sent before its answer counts as seen: it
		// may be a recording, made while this unit was not listening.
		w = &ReplayWindow{top: r.floor, bitmap: ^uint64(0)}
		r.windows[key] = w
	}
	if err := w.Check(m.Seq); err != nil {
		return nil, nil, fmt.Errorf("%s stream %s: %w", m.BootID, key, err)
	}
	return m, nil, nil
}

// streamOf checks that m may arrive on in, and names its replay window.
func streamOf(in Ingress, m *Message) (string, error) {
	switch b := m.Body.(type) {
	case *IfHello:
		switch {
		case in.LAN:
			return "", fmt.Errorf("%w: interface hello on the failover LAN link %s", ErrWrongLink, in.Iface)
		case b.Name != in.Name:
			return "", fmt.Errorf("%w: interface hello for %q on %s (%q)", ErrWrongLink, b.Name, in.Iface, in.Name)
		}
		return "if:" + in.Iface, nil
	case *Control:
		if b.Op == OpProbe || b.Op == OpProbeReply {
			if in.LAN {
				return "", fmt.Errorf("%w: probe on the failover LAN link %s", ErrWrongLink, in.Iface)
			}
			// One window for all data links: a probe goes out on every
			// one of them, and must not count on a link it was not sent on.
			return "probe", nil
		}
	}
	if !in.LAN {
		return "", fmt.Errorf("%w: %s on data interface %s", ErrWrongLink, m.Type(), in.Iface)
	}
	return "lan", nil
}

// adopt makes boot the mate's boot, retiring the one it replaces. seq is
// the sequence number of its answer: the windows of a newly adopted boot
// accept only what it sent after.
func (r *Receiver) adopt(boot BootID, seq uint64) {
	if r.have && r.peer == boot {
		return
	}
	if r.have {
		r.retired[r.nret%RetiredBoots] = r.peer
		r.nret++
	}
	for i := range min(r.nret, RetiredBoots) {
		if r.retired[i] == boot {
			// Proven live after all (a third unit on the link flapping
			// between answers): it is current, not retired.
			r.retired[i] = BootID{}
		}
	}
	r.have, r.peer, r.floor = true, boot, seq
	clear(r.windows)
}

func (r *Receiver) isRetired(b BootID) bool {
	for i := range min(r.nret, RetiredBoots) {
		if r.retired[i] == b {
			return true
		}
	}
	return false
}

// challenge draws a nonce and remembers it, or returns nil when the last
// challenge on link iface is too recent.
func (r *Receiver) challenge(iface string, now time.Time) *Challenge {
	if last, ok := r.lastChallenge[iface]; ok && now.Sub(last) < ChallengeGap && now.Sub(last) >= 0 {
		return nil
	}
	if len(r.lastChallenge) >= 256 {
		clear(r.lastChallenge) // interfaces come and go; never grow without bound
	}
	r.lastChallenge[iface] = now
	c := new(Challenge)
	// crypto/rand.Read never returns an error (Go 1.24+).
	_, _ = rand.Read(c.Nonce[:])
	r.pending[r.npend%MaxPending] = pendingNonce{nonce: c.Nonce, expires: now.Add(ChallengeTTL)}
	r.npend++
	return c
}

// takeNonce reports whether n answers a pending challenge, and uses it up.
func (r *Receiver) takeNonce(n Nonce, now time.Time) bool {
	for i := range min(r.npend, MaxPending) {
		p := &r.pending[i]
		if p.nonce == n && now.Before(p.expires) {
			*p = pendingNonce{}
			return true
		}
	}
	return false
}

// answer returns the response to a challenge with nonce n, or nil when it
// was answered before or the answer budget is spent.
func (r *Receiver) answer(n Nonce, now time.Time) *Response {
	for i := range min(r.nans, answeredMemory) {
		if r.answered[i] == n {
			return nil
		}
	}
	if now.Sub(r.respStart) >= time.Second || now.Before(r.respStart) {
		r.respStart, r.respCount = now, 0
	}
	if r.respCount >= ResponsesPerSecond {
		return nil
	}
	r.respCount++
	r.answered[r.nans%answeredMemory] = n
	r.nans++
	return &Response{Nonce: n}
}
