package config

import (
	"crypto/md5"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
)

// The enable password is stored only as a salted PBKDF2-SHA256 hash,
// printed as one word ("fo1.SALT.KEY", URL-safe base64) so that
// "enable password HASH encrypted" parses back like any other line.
const (
	hashPrefix = "fo1"
	saltLen    = 12
	keyLen     = 24
)

var b64 = base64.RawURLEncoding

// hashIter is a variable only so the fuzz target can make hashing cheap;
// the daemon always uses this value.
var hashIter = 100000

// HashPassword returns a new salted hash of pw.
func HashPassword(pw string) (string, error) {
	salt := make([]byte, saltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("failed to make a salt: %w", err)
	}
	key, err := pbkdf2.Key(sha256.New, pw, salt, hashIter, keyLen)
	if err != nil {
		return "", fmt.Errorf("failed to hash the password: %w", err)
	}
	return hashPrefix + "." + b64.EncodeToString(salt) + "." + b64.EncodeToString(key), nil
}

// ValidHash reports whether h has the form HashPassword produces, or is a
// PIX 6.3 enable password hash.
func ValidHash(h string) bool {
	_, _, ok := splitHash(h)
	return ok || isPIXHash(h)
}

func splitHash(h string) (salt, key []byte, ok bool) {
	parts := strings.Split(h, ".")
	if len(parts) != 3 || parts[0] != hashPrefix {
		return nil, nil, false
	}
	salt, err1 := b64.DecodeString(parts[1])
	key, err2 := b64.DecodeString(parts[2])
	if err1 != nil || err2 != nil || len(salt) != saltLen || len(key) != keyLen {
		return nil, nil, false
	}
	return salt, key, true
}

// CheckPassword compares pw with a stored hash in constant time.
func CheckPassword(hash, pw string) bool {
	if isPIXHash(hash) {
		return subtle.ConstantTimeCompare([]byte(pixMD5(pw)), []byte(hash)) == 1
	}
	salt, key, ok := splitHash(hash)
	if !ok {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, pw, salt, hashIter, keyLen)
	return err == nil && subtle.ConstantTimeCompare(got, key) == 1
}

// PIX 6.3 stores the enable password as a 16-character "PIX-MD5" hash:
// MD5 of the password NUL-padded (or cut) to 16 bytes, every fourth byte
// dropped, the remaining 12 bytes in crypt's base-64. A pasted PIX
// configuration keeps its enable password this way; new passwords are
// always stored with the salted hash above.
const pixAlphabet = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

func pixMD5(pw string) string {
	var buf [16]byte
	copy(buf[:], pw)
	sum := md5.Sum(buf[:])
	var out strings.Builder
	for i := 0; i < 16; i += 4 {
		v := uint32(sum[i]) | uint32(sum[i+1])<<8 | uint32(sum[i+2])<<16
		for j := 0; j < 4; j++ {
			out.WriteByte(pixAlphabet[v&63])
			v >>= 6
		}
	}
	return out.String()
}

func isPIXHash(h string) bool {
	if len(h) != 16 {
		return false
	}
	for i := 0; i < len(h); i++ {
		if strings.IndexByte(pixAlphabet, h[i]) < 0 {
			return false
		}
	}
	return true
}
