//go:build amd64 && !purego

package utf8valid

import (
	"testing"
	"unicode/utf8"

	"github.com/rfc6455/websocket/internal/wstest"
)

// lookupFlags computes in Go what the SIMD validator computes for each
// byte of p, with the bytes before p taken as zero: nonzero where the
// lookup method flags an error.
func lookupFlags(p []byte) []byte {
	at := func(i int) byte {
		if i < 0 {
			return 0
		}
		return p[i]
	}
	t := &tables
	flags := make([]byte, len(p))
	for i, cur := range p {
		prev1, prev2, prev3 := at(i-1), at(i-2), at(i-3)
		f := t.prevHigh[prev1>>4] & t.prevLow[prev1&15] & t.curHigh[cur>>4]
		if prev2 >= 0xe0 || prev3 >= 0xf0 {
			f ^= errTwoConts
		}
		flags[i] = f
	}
	return flags
}

// checkLookupFlags fails t unless the first byte the lookup method
// flags in p is the first invalid byte, or the next one when that byte is a
// lead that can never be valid, standing where a sequence may start.
func checkLookupFlags(t *testing.T, p []byte) {
	t.Helper()
	flags := lookupFlags(p)
	first := -1
	for i, f := range flags {
		if f != 0 {
			first = i
			break
		}
	}
	want := wstest.FirstInvalidRef(p)
	if want >= 0 {
		if c := p[want]; (c == 0xc0 || c == 0xc1 || c >= 0xf5) && utf8.Valid(p[:want]) {
			want++
			if want == len(p) {
				want = -1 // nothing after it to flag it yet
			}
		}
	}
	if first != want {
		t.Fatalf("% x: first flag at %d (flags % x), want %d", p, first, flags, want)
	}
}

// TestLookupTables checks the tables against the reference on every
// pair of bytes, and on every string of up to four bytes (the reach of the
// method's window) over an alphabet of the bytes at the edges of each range.
func TestLookupTables(t *testing.T) {
	for a := range 256 {
		for b := range 256 {
			checkLookupFlags(t, []byte{byte(a), byte(b)})
		}
	}
	alphabet := []byte{
		0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
		0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed, 0xee, 0xef,
		0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xf7, 0xf8, 0xfb, 0xfc, 0xfe, 0xff,
	}
	p := make([]byte, 4)
	for _, a := range alphabet {
		for _, b := range alphabet {
			for _, c := range alphabet {
				for _, d := range alphabet {
					p[0], p[1], p[2], p[3] = a, b, c, d
					checkLookupFlags(t, p)
				}
			}
		}
	}
}

func TestSequenceStart(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want int
	}{
		{"", 0, 0},
		{"abcd", 4, 4},
		{"ab\xc3\xa9", 4, 2},               // a complete sequence: a boundary either way
		{"abc\xe6", 4, 3},                  // open 3-byte sequence
		{"a\xe6\x97", 3, 1},                // open after two bytes
		{"\xf0\x9f\x98", 3, 0},             // open 4-byte sequence at the start
		{"a\xf0\x9f\x98\x80", 5, 5},        // complete 4-byte sequence, lead four back
		{"\xf0\x9f\x98\x80", 3, 0},         // n inside a sequence
		{"abc\xc0", 4, 3},                  // invalid lead, flagged only by its successor
		{"\xe6\x97\xa5xyz\xe6", 4, 4},      // n inside p
		{"\xe6\x97\xa5\xe6\x97\xa5", 3, 0}, // the lead of a complete sequence
	} {
		if got := sequenceStart([]byte(tc.in), tc.n); got != tc.want {
			t.Errorf("sequenceStart(%q, %d) = %d, want %d", tc.in, tc.n, got, tc.want)
		}
	}
}
