package wire

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"sync/atomic"
)

// Layout constants; see the package documentation.
const (
	Port           = 10105 // UDP port of all failover messages
	Version        = 2     // envelope version written and accepted
	HeaderLen      = 24    // envelope bytes before the body
	MACLen         = sha256.Size
	MaxMessageSize = 8192                                // whole datagram
	MaxBody        = MaxMessageSize - HeaderLen - MACLen // 8136
	MaxText        = MaxBody - 16                        // longest text field
	MaxNameLen     = 15                                  // IFNAMSIZ - 1
	magic0, magic1 = 'F', 'O'
	flagAuth       = 0x01
)

// Decode errors. Every error returned by decoding and replay checks wraps
// exactly one of these, so callers can count and classify them.
var (
	ErrTruncated       = errors.New("wire: truncated message")
	ErrTrailing        = errors.New("wire: trailing bytes")
	ErrBadMagic        = errors.New("wire: bad magic")
	ErrVersion         = errors.New("wire: unsupported version")
	ErrUnknownType     = errors.New("wire: unknown message type")
	ErrBadFlags        = errors.New("wire: reserved flag bits set")
	ErrBadRole         = errors.New("wire: bad unit role")
	ErrTooLarge        = errors.New("wire: message too large")
	ErrStringTooLong   = errors.New("wire: string too long")
	ErrMalformed       = errors.New("wire: malformed body")
	ErrUnauthenticated = errors.New("wire: unauthenticated message while a key is set")
	ErrUnexpectedAuth  = errors.New("wire: authenticated message while no key is set")
	ErrBadMAC          = errors.New("wire: bad MAC")
	ErrReplay          = errors.New("wire: replayed or stale sequence number")
	ErrReflected       = errors.New("wire: message carries our own boot id")
	ErrUnverified      = errors.New("wire: boot id not proven live yet")
	ErrWrongLink       = errors.New("wire: message type not accepted on this link")
)

// Type is the message type byte.
type Type uint8

// Message types.
const (
	TypeHello       Type = 1
	TypeIfHello     Type = 2
	TypeConfigLine  Type = 3
	TypeBulkBegin   Type = 4
	TypeBulkLine    Type = 5
	TypeBulkEnd     Type = 6
	TypeControl     Type = 7
	TypeExecRequest Type = 8
	TypeExecReply   Type = 9
	TypeStateUpdate Type = 10
	TypeChallenge   Type = 11
	TypeResponse    Type = 12
)

var typeNames = [...]string{
	TypeHello:       "hello",
	TypeIfHello:     "ifhello",
	TypeConfigLine:  "config-line",
	TypeBulkBegin:   "bulk-begin",
	TypeBulkLine:    "bulk-line",
	TypeBulkEnd:     "bulk-end",
	TypeControl:     "control",
	TypeExecRequest: "exec-request",
	TypeExecReply:   "exec-reply",
	TypeStateUpdate: "state-update",
	TypeChallenge:   "challenge",
	TypeResponse:    "response",
}

func (t Type) String() string {
	if int(t) < len(typeNames) && typeNames[t] != "" {
		return typeNames[t]
	}
	return fmt.Sprintf("type(%d)", uint8(t))
}

// newBody returns an empty body for t, or nil for an unknown type.
func newBody(t Type) Body {
	switch t {
	case TypeHello:
		return new(Hello)
	case TypeIfHello:
		return new(IfHello)
	case TypeConfigLine:
		return new(ConfigLine)
	case TypeBulkBegin:
		return new(BulkBegin)
	case TypeBulkLine:
		return new(BulkLine)
	case TypeBulkEnd:
		return new(BulkEnd)
	case TypeControl:
		return new(Control)
	case TypeExecRequest:
		return new(ExecRequest)
	case TypeExecReply:
		return new(ExecReply)
	case TypeStateUpdate:
		return new(StateUpdate)
	case TypeChallenge:
		return new(Challenge)
	case TypeResponse:
		return new(Response)
	}
	return nil
}

// Role is the sender's configured unit role.
type Role uint8

// Unit roles (`failover lan unit primary|secondary`).
const (
	RolePrimary   Role = 1
	RoleSecondary Role = 2
)

func (r Role) String() string {
	switch r {
	case RolePrimary:
		return "Primary"
	case RoleSecondary:
		return "Secondary"
	}
	return fmt.Sprintf("role(%d)", uint8(r))
}

// BootID identifies one run of a daemon. It is random rather than a counter
// so that no state has to survive a restart.
type BootID [8]byte

// NewBootID draws a random boot id.
func NewBootID() BootID {
	var b BootID
	// crypto/rand.Read never returns an error (Go 1.24+); it crashes the
	// program instead if the kernel cannot supply randomness.
	_, _ = rand.Read(b[:])
	return b
}

func (b BootID) String() string { return hex.EncodeToString(b[:]) }

// Body is the type-specific part of a message.
type Body interface {
	Type() Type
	// AppendBinary appends the encoded body to b.
	AppendBinary(b []byte) ([]byte, error)
	// UnmarshalBinary decodes exactly one body from b.
	UnmarshalBinary(b []byte) error
}

// Message is a decoded envelope with its body.
type Message struct {
	Role   Role
	BootID BootID
	Seq    uint64
	// Authenticated is set by Decode when the message carried a MAC that
	// verified. Encode ignores it: the codec's key decides.
	Authenticated bool
	Body          Body
}

// Type returns the body's type, or 0 without a body.
func (m *Message) Type() Type {
	if m.Body == nil {
		return 0
	}
	return m.Body.Type()
}

// Codec encodes and decodes envelopes with an optional shared key. It is
// safe for concurrent use; SetKey takes effect for the next message.
type Codec struct {
	key atomic.Pointer[[]byte]
}

// NewCodec returns a codec with the given key (nil = no authentication).
func NewCodec(key []byte) *Codec {
	c := new(Codec)
	c.SetKey(key)
	return c
}

// SetKey sets the HMAC key; nil or empty disables authentication. The key is
// copied.
func (c *Codec) SetKey(key []byte) {
	if len(key) == 0 {
		c.key.Store(nil)
		return
	}
	k := append([]byte(nil), key...)
	c.key.Store(&k)
}

// HasKey reports whether a key is set.
func (c *Codec) HasKey() bool { return c.key.Load() != nil }

func (c *Codec) loadKey() []byte {
	if p := c.key.Load(); p != nil {
		return *p
	}
	return nil
}

// Encode builds the datagram for m, authenticated when a key is set.
func (c *Codec) Encode(m *Message) ([]byte, error) {
	if m.Body == nil {
		return nil, fmt.Errorf("failed to encode message: %w: no body", ErrMalformed)
	}
	if m.Role != RolePrimary && m.Role != RoleSecondary {
		return nil, fmt.Errorf("failed to encode %s: %w: %d", m.Body.Type(), ErrBadRole, m.Role)
	}
	key := c.loadKey()
	b := make([]byte, HeaderLen, 256)
	b[0], b[1], b[2], b[3] = magic0, magic1, Version, byte(m.Body.Type())
	if key != nil {
		b[4] = flagAuth
	}
	b[5] = byte(m.Role)
	copy(b[6:14], m.BootID[:])
	binary.BigEndian.PutUint64(b[14:22], m.Seq)
	b, err := m.Body.AppendBinary(b)
	if err != nil {
		return nil, fmt.Errorf("failed to encode %s: %w", m.Body.Type(), err)
	}
	n := len(b) - HeaderLen
	if n > MaxBody {
		return nil, fmt.Errorf("failed to encode %s: %w: body %d > %d bytes", m.Body.Type(), ErrTooLarge, n, MaxBody)
	}
	binary.BigEndian.PutUint16(b[22:24], uint16(n))
	if key != nil {
		b = appendMAC(b, key)
	}
	return b, nil
}

func appendMAC(b, key []byte) []byte {
	h := hmac.New(sha256.New, key)
	h.Write(b)
	return h.Sum(b)
}

// Decode parses and authenticates one datagram. It does not check sequence
// numbers; see ReplayWindow and Receiver.
func (c *Codec) Decode(b []byte) (*Message, error) {
	if len(b) > MaxMessageSize {
		return nil, fmt.Errorf("%w: %d > %d bytes", ErrTooLarge, len(b), MaxMessageSize)
	}
	// Magic and version are checked as soon as their bytes are present so
	// that a stray packet is reported as such rather than as truncated.
	if len(b) < 2 {
		return nil, fmt.Errorf("%w: %d bytes", ErrTruncated, len(b))
	}
	if b[0] != magic0 || b[1] != magic1 {
		return nil, fmt.Errorf("%w: %#02x%02x", ErrBadMagic, b[0], b[1])
	}
	if len(b) < 3 {
		return nil, fmt.Errorf("%w: %d bytes", ErrTruncated, len(b))
	}
	if b[2] != Version {
		return nil, fmt.Errorf("%w: %d", ErrVersion, b[2])
	}
	if len(b) < HeaderLen {
		return nil, fmt.Errorf("%w: header %d of %d bytes", ErrTruncated, len(b), HeaderLen)
	}
	flags := b[4]
	if flags&^flagAuth != 0 {
		return nil, fmt.Errorf("%w: %#02x", ErrBadFlags, flags)
	}
	role := Role(b[5])
	if role != RolePrimary && role != RoleSecondary {
		return nil, fmt.Errorf("%w: %d", ErrBadRole, role)
	}
	n := int(binary.BigEndian.Uint16(b[22:24]))
	if n > MaxBody {
		return nil, fmt.Errorf("%w: body %d > %d bytes", ErrTooLarge, n, MaxBody)
	}
	want := HeaderLen + n
	auth := flags&flagAuth != 0
	if auth {
		want += MACLen
	}
	if len(b) < want {
		return nil, fmt.Errorf("%w: %d of %d bytes", ErrTruncated, len(b), want)
	}
	if len(b) > want {
		return nil, fmt.Errorf("%w: %d bytes after the message", ErrTrailing, len(b)-want)
	}
	key := c.loadKey()
	switch {
	case key != nil && !auth:
		return nil, ErrUnauthenticated
	case key == nil && auth:
		return nil, ErrUnexpectedAuth
	case key != nil:
		h := hmac.New(sha256.New, key)
		h.Write(b[:HeaderLen+n])
		if !hmac.Equal(h.Sum(nil), b[HeaderLen+n:]) {
			return nil, ErrBadMAC
		}
	}
	t := Type(b[3])
	body := newBody(t)
	if body == nil {
		return nil, fmt.Errorf("%w: %d", ErrUnknownType, uint8(t))
	}
	if err := body.UnmarshalBinary(b[HeaderLen : HeaderLen+n]); err != nil {
		return nil, fmt.Errorf("%s body: %w", t, err)
	}
	m := &Message{
		Role:          role,
		Seq:           binary.BigEndian.Uint64(b[14:22]),
		Authenticated: auth,
		Body:          body,
	}
	copy(m.BootID[:], b[6:14])
	return m, nil
}
