package wire

import (
	"encoding/binary"
	"fmt"
)

// Reader consumes a big-endian body; the first error sticks so decoders
// can read all fields and check once. The state replication payload,
// carried inside StateUpdate, decodes with it too.
type Reader struct {
	b     []byte
	err   error
	short error // what a truncation error wraps
}

// NewReader reads b; a read past its end fails with short.
func NewReader(b []byte, short error) *Reader { return &Reader{b: b, short: short} }

// Err is the first error, or nil.
func (r *Reader) Err() error { return r.err }

// Fail records err unless an error is already recorded.
func (r *Reader) Fail(err error) {
	if r.err == nil {
		r.err = err
	}
}

// Len is how many bytes are left.
func (r *Reader) Len() int { return len(r.b) }

// Take consumes n bytes, or records a truncation and returns nil.
func (r *Reader) Take(n int) []byte {
	if r.err != nil {
		return nil
	}
	if len(r.b) < n {
		r.err = fmt.Errorf("%w: need %d bytes, have %d", r.short, n, len(r.b))
		return nil
	}
	v := r.b[:n]
	r.b = r.b[n:]
	return v
}

// U8 consumes one byte.
func (r *Reader) U8() uint8 {
	if v := r.Take(1); v != nil {
		return v[0]
	}
	return 0
}

// U16 consumes a big-endian uint16.
func (r *Reader) U16() uint16 {
	if v := r.Take(2); v != nil {
		return binary.BigEndian.Uint16(v)
	}
	return 0
}

// U32 consumes a big-endian uint32.
func (r *Reader) U32() uint32 {
	if v := r.Take(4); v != nil {
		return binary.BigEndian.Uint32(v)
	}
	return 0
}

// U64 consumes a big-endian uint64.
func (r *Reader) U64() uint64 {
	if v := r.Take(8); v != nil {
		return binary.BigEndian.Uint64(v)
	}
	return 0
}
