package conformance

import (
	"sync"
	"unicode/utf8"
)

// The reference for where a text must fail, built from unicode/utf8 and
// nothing of the library: a text can no longer become valid at the first
// byte after which no continuation completes it.

var (
	prefixesOnce sync.Once
	prefixes     map[string]bool // every proper prefix of the encoding of a rune above U+007F
)

// buildPrefixes enumerates every encodable rune once.
func buildPrefixes() {
	prefixes = map[string]bool{}
	var buf [utf8.UTFMax]byte
	for r := rune(0x80); r <= utf8.MaxRune; r++ {
		if !utf8.ValidRune(r) {
			continue
		}
		n := utf8.EncodeRune(buf[:], r)
		for k := 1; k < n; k++ {
			prefixes[string(buf[:k])] = true
		}
	}
}

// canComplete reports whether some bytes appended to p make valid UTF-8.
func canComplete(p []byte) bool {
	prefixesOnce.Do(buildPrefixes)
	for len(p) > 0 {
		r, n := utf8.DecodeRune(p)
		if r == utf8.RuneError && n <= 1 {
			return len(p) < utf8.UTFMax && prefixes[string(p)]
		}
		p = p[n:]
	}
	return true
}

// failAt returns the index of the first byte of b after which b can no
// longer become valid UTF-8, len(b) when b is a valid prefix that ends
// inside a sequence (the text fails when the message ends), or -1 when b
// is valid.
func failAt(b []byte) int {
	if utf8.Valid(b) {
		return -1
	}
	for i := range b {
		if !canComplete(b[:i+1]) {
			return i
		}
	}
	return len(b)
}
