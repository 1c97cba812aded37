package websocket

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"sort"
	"testing"
	"unicode/utf8"

	"github.com/rfc6455/websocket/internal/wstest"
)

// utf8Cases lists texts with the absolute index of the first byte that must
// be rejected (-1 when none is), and for accepted texts whether they end on
// a sequence boundary.
var utf8Cases = []struct {
	name     string
	in       string
	bad      int
	complete bool
}{
	// Valid, including the edges of every length (RFC 3629 §4).
	{"empty", "", -1, true},
	{"ascii", "Hello, world!", -1, true},
	{"nul", "\x00", -1, true},
	{"del", "\x7f", -1, true},
	{"U+0080", "\xc2\x80", -1, true},
	{"U+07FF", "\xdf\xbf", -1, true},
	{"U+0800", "\xe0\xa0\x80", -1, true},
	{"U+D7FF", "\xed\x9f\xbf", -1, true},
	{"U+E000", "\xee\x80\x80", -1, true},
	{"U+FFFD", "\xef\xbf\xbd", -1, true},
	{"U+FFFE", "\xef\xbf\xbe", -1, true},
	{"U+FFFF", "\xef\xbf\xbf", -1, true},
	{"U+10000", "\xf0\x90\x80\x80", -1, true},
	{"U+3FFFF", "\xf0\xbf\xbf\xbf", -1, true},
	{"U+40000", "\xf1\x80\x80\x80", -1, true},
	{"U+FFFFF", "\xf3\xbf\xbf\xbf", -1, true},
	{"U+100000", "\xf4\x80\x80\x80", -1, true},
	{"U+10FFFF", "\xf4\x8f\xbf\xbf", -1, true},
	{"greek", "κόσμε", -1, true},
	{"mixed", "Hello-µ@ßöäüàá-UTF-8!! 日本語 😀", -1, true},

	// Truncated at the end: accepted so far, but not complete.
	{"cut 2 of 2", "\xc2", -1, false},
	{"cut 3 after 1", "\xe0", -1, false},
	{"cut 3 after 2", "\xe0\xa0", -1, false},
	{"cut 4 after 1", "\xf0", -1, false},
	{"cut 4 after 2", "\xf0\x90", -1, false},
	{"cut 4 after 3", "\xf4\x8f\xbf", -1, false},
	{"cut after text", "κόσμε\xce", -1, false},
	{"cut surrogate edge", "a\xed\x9f", -1, false},

	// Bytes that can never appear.
	{"C0", "\xc0", 0, false},
	{"C1", "\xc1", 0, false},
	{"F5", "\xf5", 0, false},
	{"F7", "\xf7", 0, false},
	{"F8", "\xf8", 0, false},
	{"FE", "\xfe", 0, false},
	{"FF", "\xff", 0, false},
	{"FF after text", "abc\xff", 3, false},
	{"FE FF", "\xfe\xfe\xff\xff", 0, false},

	// Continuation bytes without a lead.
	{"lone 80", "\x80", 0, false},
	{"lone BF", "\xbf", 0, false},
	{"80 after ascii", "a\x80", 1, false},
	{"extra continuation after 2", "\xc2\x80\x80", 2, false},
	{"extra continuation after 3", "\xe2\x82\xac\xbf", 3, false},
	{"extra continuation after 4", "\xf0\x9f\x98\x80\x80", 4, false},

	// Overlongs of every length: the first byte that rules them out.
	{"overlong 2 NUL", "\xc0\x80", 0, false},
	{"overlong 2 slash", "\xc0\xaf", 0, false},
	{"overlong 2 max", "\xc1\xbf", 0, false},
	{"overlong 3 NUL", "\xe0\x80\x80", 1, false},
	{"overlong 3 slash", "\xe0\x80\xaf", 1, false},
	{"overlong 3 max", "\xe0\x9f\xbf", 1, false},
	{"overlong 4 NUL", "\xf0\x80\x80\x80", 1, false},
	{"overlong 4 slash", "\xf0\x80\x80\xaf", 1, false},
	{"overlong 4 max", "\xf0\x8f\xbf\xbf", 1, false},
	{"overlong 5", "\xf8\x80\x80\x80\xaf", 0, false},
	{"overlong 6", "\xfc\x80\x80\x80\x80\xaf", 0, false},

	// 5- and 6-byte forms (withdrawn by RFC 3629).
	{"5-byte U+200000", "\xf8\x88\x80\x80\x80", 0, false},
	{"6-byte U+4000000", "\xfc\x84\x80\x80\x80\x80", 0, false},
	{"6-byte max", "\xfd\xbf\xbf\xbf\xbf\xbf", 0, false},

	// Surrogates (RFC 3629 §3: not encodable).
	{"surrogate D800", "\xed\xa0\x80", 1, false},
	{"surrogate DBFF", "\xed\xaf\xbf", 1, false},
	{"surrogate DC00", "\xed\xb0\x80", 1, false},
	{"surrogate DFFF", "\xed\xbf\xbf", 1, false},
	{"surrogate pair", "\xed\xa0\x80\xed\xb0\x80", 1, false},
	{"surrogate after text", "κόσμε\xed\xa0\x80edited", 11, false},
	{"surrogate lead only cut", "\xed\xa0", 1, false},

	// Above U+10FFFF.
	{"U+110000", "\xf4\x90\x80\x80", 1, false},
	{"U+13FFFF", "\xf4\xbf\xbf\xbf", 1, false},
	{"F5 lead", "\xf5\x80\x80\x80", 0, false},
	{"U+1FFFFF", "\xf7\xbf\xbf\xbf", 0, false},

	// A lead followed by something other than a continuation byte.
	{"2 then ascii", "\xc2a", 1, false},
	{"2 then lead", "\xc2\xc2\x80", 1, false},
	{"3 then ascii", "\xe1a", 1, false},
	{"3 after 2 then ascii", "\xe1\x80a", 2, false},
	{"3 after 2 then lead", "\xe1\x80\xe1\x80\x80", 2, false},
	{"4 then ascii", "\xf1a", 1, false},
	{"4 after 2 then ascii", "\xf1\x80a", 2, false},
	{"4 after 3 then ascii", "\xf1\x80\x80a", 3, false},
	{"4 after 3 then FF", "\xf1\x80\x80\xff", 3, false},
	{"E0 then 80 after text", "abc\xe0\x80", 4, false},
	{"all leads", "\xc2\xe1\xf1", 1, false},
	{"space after cut 2", "\xc2 ", 1, false},
}

// utf8FeedChunks feeds p to a fresh validator in the pieces given by the
// split points cuts (ascending) and returns the absolute index of the first
// rejected byte, or -1, and whether the text ended complete.
func utf8FeedChunks(p []byte, cuts []int) (bad int, complete bool) {
	var v utf8Validator
	start := 0
	for i := 0; i <= len(cuts); i++ {
		end := len(p)
		if i < len(cuts) {
			end = cuts[i]
		}
		if b := v.feed(p[start:end]); b >= 0 {
			if b >= end-start {
				panic(fmt.Sprintf("feed returned %d for a chunk of %d bytes", b, end-start))
			}
			return start + b, false
		}
		start = end
	}
	return -1, v.done()
}

func TestUTF8ValidatorTable(t *testing.T) {
	for _, tc := range utf8Cases {
		t.Run(tc.name, func(t *testing.T) {
			p := []byte(tc.in)
			check := func(how string, cuts []int) {
				t.Helper()
				bad, complete := utf8FeedChunks(p, cuts)
				if bad != tc.bad {
					t.Fatalf("%s: first invalid byte at %d, want %d", how, bad, tc.bad)
				}
				if bad < 0 && complete != tc.complete {
					t.Fatalf("%s: done() = %v, want %v", how, complete, tc.complete)
				}
			}
			check("whole", nil)
			var every []int
			for i := 1; i < len(p); i++ {
				every = append(every, i)
			}
			check("byte by byte", every)
			for i := 0; i <= len(p); i++ {
				check(fmt.Sprintf("split at %d", i), []int{i})
			}
			// Agree with the standard library on whole valid texts.
			if got, want := tc.bad < 0 && tc.complete, utf8.Valid(p); got != want {
				t.Fatalf("table says valid=%v, utf8.Valid says %v", got, want)
			}
		})
	}
}

// TestUTF8ValidatorEmbedded places every table case after valid text of
// every length up to a few SIMD blocks, so that each failure is found deep
// inside a chunk and across block boundaries, with the same position.
func TestUTF8ValidatorEmbedded(t *testing.T) {
	fillers := map[string]string{
		"ascii": "The quick brown fox jumps over the lazy dog. 0123456789 ",
		"mixed": "aé日😀bü語€c",
		"cjk":   "日本語の文章です",
	}
	for fname, f := range fillers {
		filler := bytes.Repeat([]byte(f), 200/len(f)+1)
		for _, tc := range utf8Cases {
			for off := 0; off <= 140; off++ {
				// Cut the filler on a boundary at or before off.
				n := off
				for n > 0 && !utf8.RuneStart(filler[n]) {
					n--
				}
				p := append(append([]byte{}, filler[:n]...), tc.in...)
				p = append(p, "tail text that is long enough to fill a block or two........"...)
				want := -1
				if tc.bad >= 0 {
					want = n + tc.bad
				} else if !tc.complete {
					// The ASCII tail cuts the open sequence: the first tail
					// byte is where it fails.
					want = n + len(tc.in)
				}
				for _, cuts := range [][]int{nil, {n}, {n / 2, n + len(tc.in)/2 + 1}} {
					if bad, _ := utf8FeedChunks(p, cuts); bad != want {
						t.Fatalf("%s filler, %d bytes, then %s, cut at %v: first invalid byte at %d, want %d",
							fname, n, tc.name, cuts, bad, want)
					}
				}
			}
		}
	}
}

func TestUTF8FirstInvalidRefAgreesWithTable(t *testing.T) {
	for _, tc := range utf8Cases {
		if got := wstest.FirstInvalidRef([]byte(tc.in)); got != tc.bad {
			t.Errorf("%s: reference says %d, table says %d", tc.name, got, tc.bad)
		}
	}
}

// utf8RandomCuts returns up to max ascending split points in [0, n].
func utf8RandomCuts(r *rand.Rand, n, max int) []int {
	cuts := make([]int, r.IntN(max+1))
	for i := range cuts {
		cuts[i] = r.IntN(n + 1)
	}
	sort.Ints(cuts)
	return cuts
}

func TestUTF8ValidatorRandom(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 11))
	for iter := range 3000 {
		n := r.IntN(600)
		corrupt := []float64{0, 0.0005, 0.005, 0.05}[iter%4]
		p := wstest.RandomText(r, n, corrupt)
		want := wstest.FirstInvalidRef(p)
		cuts := utf8RandomCuts(r, len(p), 6)
		bad, complete := utf8FeedChunks(p, cuts)
		if bad != want {
			t.Fatalf("input %q cut at %v: first invalid byte at %d, want %d", p, cuts, bad, want)
		}
		if bad < 0 && complete != utf8.Valid(p) {
			t.Fatalf("input %q cut at %v: done() = %v, utf8.Valid = %v", p, cuts, complete, utf8.Valid(p))
		}
	}
}

// TestUTF8ValidatorPrefixes checks that no prefix of a valid text, however
// it is cut, is rejected, and that only the whole text is complete where
// the prefix ends on a boundary.
func TestUTF8ValidatorPrefixes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 5))
	for range 40 {
		p := wstest.RandomText(r, 300, 0)
		for k := 0; k <= len(p); k++ {
			cuts := utf8RandomCuts(r, k, 3)
			bad, complete := utf8FeedChunks(p[:k], cuts)
			if bad >= 0 {
				t.Fatalf("prefix %q of valid text rejected at %d", p[:k], bad)
			}
			if complete != utf8.Valid(p[:k]) {
				t.Fatalf("prefix %q: done() = %v, utf8.Valid = %v", p[:k], complete, utf8.Valid(p[:k]))
			}
		}
	}
}

func TestUTF8ValidatorNoAllocs(t *testing.T) {
	p := bytes.Repeat([]byte("aé日😀 text"), 1000)
	var v utf8Validator
	allocs := testing.AllocsPerRun(100, func() {
		v.reset()
		v.feed(p[:4095])
		v.feed(p[4095:])
	})
	if allocs != 0 {
		t.Fatalf("feed allocates %v times per run", allocs)
	}
}

// FuzzUTF8 feeds arbitrary bytes in up to three chunks and checks the
// result against utf8.Valid and the fail-fast rule: everything before the
// reported byte can still begin valid text, and nothing including it can.
func FuzzUTF8(f *testing.F) {
	for _, tc := range utf8Cases {
		f.Add([]byte(tc.in), uint16(1), uint16(2))
	}
	f.Add(bytes.Repeat([]byte("日本語"), 30), uint16(40), uint16(41))
	f.Fuzz(func(t *testing.T, p []byte, a, b uint16) {
		cuts := []int{int(a) % (len(p) + 1), int(b) % (len(p) + 1)}
		sort.Ints(cuts)
		bad, complete := utf8FeedChunks(p, cuts)
		if bad < 0 {
			if !wstest.ValidPrefixRef(p) {
				t.Fatalf("%q cut at %v: accepted, but no completion is valid", p, cuts)
			}
			if complete != utf8.Valid(p) {
				t.Fatalf("%q cut at %v: done() = %v, utf8.Valid = %v", p, cuts, complete, utf8.Valid(p))
			}
			return
		}
		if !wstest.ValidPrefixRef(p[:bad]) {
			t.Fatalf("%q cut at %v: rejected at %d, after an earlier invalid byte", p, cuts, bad)
		}
		if wstest.ValidPrefixRef(p[:bad+1]) {
			t.Fatalf("%q cut at %v: rejected at %d, but that byte can still begin valid text", p, cuts, bad)
		}
	})
}
