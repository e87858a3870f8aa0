package wire

import (
	"fmt"
	"sync"
	"sync/atomic"
)

// WindowSize is how far below the highest accepted sequence number a late
// message is still accepted (once).
const WindowSize = 64

// RetiredBoots is how many earlier boot ids of a peer are remembered and
// refused.
const RetiredBoots = 16

// ReplayWindow is the replay filter for one peer; see the package
// documentation for the rule. The zero value is ready to use and it is safe
// for concurrent use.
type ReplayWindow struct {
	mu      sync.Mutex
	have    bool
	boot    BootID
	top     uint64 // highest sequence number accepted from boot
	bitmap  uint64 // bit i set: top-i has been accepted
	retired [RetiredBoots]BootID
	nret    int // number of valid entries in retired, which is a ring
}

// Boot returns the peer boot id the window currently follows, and false
// before the first accepted message.
func (w *ReplayWindow) Boot() (BootID, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.boot, w.have
}

// Check accepts (and records) sequence number seq of boot, or returns an
// error wrapping ErrReplay. trusted must be true only when the message was
// authenticated or no key is configured; an untrusted message can never
// move the window to a new boot id.
func (w *ReplayWindow) Check(boot BootID, seq uint64, trusted bool) error {
	if seq == 0 {
		return fmt.Errorf("%w: sequence number 0", ErrReplay)
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	if !w.have || boot != w.boot {
		if !trusted {
			return fmt.Errorf("%w: new boot id %s in an untrusted message", ErrReplay, boot)
		}
		if w.isRetired(boot) {
			return fmt.Errorf("%w: boot id %s was replaced by %s", ErrReplay, boot, w.boot)
		}
		if w.have {
			w.retired[w.nret%RetiredBoots] = w.boot
			w.nret++
		}
		w.have, w.boot, w.top, w.bitmap = true, boot, seq, 1
		return nil
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

func (w *ReplayWindow) isRetired(b BootID) bool {
	for i := 0; i < min(w.nret, RetiredBoots); i++ {
		if w.retired[i] == b {
			return true
		}
	}
	return false
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

// Receiver decodes messages from the one mate: authentication by the codec,
// then reflection and replay checks. It is safe for concurrent use.
type Receiver struct {
	codec  *Codec
	self   BootID
	window ReplayWindow
}

// NewReceiver returns a receiver for a unit whose own boot id is self.
func NewReceiver(c *Codec, self BootID) *Receiver {
	return &Receiver{codec: c, self: self}
}

// Window exposes the replay window, e.g. to show the mate's boot id.
func (r *Receiver) Window() *ReplayWindow { return &r.window }

// Decode decodes b and accepts it only once.
func (r *Receiver) Decode(b []byte) (*Message, error) {
	m, err := r.codec.Decode(b)
	if err != nil {
		return nil, err
	}
	if m.BootID == r.self {
		return nil, fmt.Errorf("%w: %s", ErrReflected, m.BootID)
	}
	// Codec.Decode only succeeds for a message that is authenticated when a
	// key is set, or unauthenticated when none is: either way it is as
	// trusted as the configuration allows.
	if err := r.window.Check(m.BootID, m.Seq, true); err != nil {
		return nil, err
	}
	return m, nil
}
