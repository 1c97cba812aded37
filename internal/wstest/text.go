package wstest

import (
	"bytes"
	"compress/flate"
	"io"
	"math/rand/v2"
	"sort"
	"unicode/utf8"
)

// Script is a kind of text: Next returns its next character, drawn from r.
type Script struct {
	Name string
	Next func(r *rand.Rand) rune
}

var accented = []rune("éèêëàâäçôöùûüïîñßøåæłśżźćńąęőűčšžřďťňůýáíóú")

// Scripts are the kinds of text the UTF-8 benchmarks cover, from one byte
// per character to four.
var Scripts = []Script{
	{"ascii", func(r *rand.Rand) rune {
		const letters = "etaoinshrdlucmfwypvbgkqjxz ETAOINSHRDLU  ,.;:!?0123456789\n"
		return rune(letters[r.IntN(len(letters))])
	}},
	// latin: European text where most letters carry an accent (2 bytes),
	// mixed with ASCII letters, spaces and punctuation.
	{"latin", func(r *rand.Rand) rune {
		const plain = "etaoinsrl ,."
		if r.IntN(3) != 0 {
			return accented[r.IntN(len(accented))]
		}
		return rune(plain[r.IntN(len(plain))])
	}},
	{"cjk", func(r *rand.Rand) rune { return rune(0x4e00 + r.IntN(0x9fff-0x4e00+1)) }},
	{"emoji", func(r *rand.Rand) rune { return rune(0x1f300 + r.IntN(0x1faff-0x1f300+1)) }},
}

// ScriptText returns n bytes of valid UTF-8 drawn from next, the same for
// the same arguments, padded with spaces where the last character would not
// fit.
func ScriptText(next func(*rand.Rand) rune, n int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	p := make([]byte, 0, n+utf8.UTFMax)
	for {
		c := next(r)
		if len(p)+utf8.RuneLen(c) > n {
			break
		}
		p = utf8.AppendRune(p, c)
	}
	for len(p) < n {
		p = append(p, ' ')
	}
	return p
}

// RandomText returns at least n bytes of mostly valid text mixing every
// sequence length, with corrupt bytes (random, continuation or lead bytes,
// a sequence cut short, a surrogate) inserted at a rate of about corrupt
// per byte.
func RandomText(r *rand.Rand, n int, corrupt float64) []byte {
	p := make([]byte, 0, n+4)
	for len(p) < n {
		if r.Float64() < corrupt {
			switch r.IntN(4) {
			case 0:
				p = append(p, byte(r.UintN(256)))
			case 1:
				p = append(p, byte(0x80+r.UintN(0x40)))
			case 2:
				p = append(p, byte(0xc0+r.UintN(0x40)))
			default:
				const seqs = "\xe2\x82\xac\xf0\x9f\x98\x80\xed\xa0\x80"
				i := r.IntN(len(seqs))
				p = append(p, seqs[i:min(len(seqs), i+1+r.IntN(3))]...)
			}
			continue
		}
		var c rune
		switch r.IntN(6) {
		case 0, 1, 2:
			// ASCII in runs, as in real text.
			for range r.IntN(40) {
				p = append(p, byte(0x20+r.IntN(0x5f)))
			}
			continue
		case 3:
			c = rune(0x80 + r.IntN(0x800-0x80))
		case 4:
			c = rune(0x800 + r.IntN(0x10000-0x800))
			if !utf8.ValidRune(c) {
				c = 0xfffd
			}
		default:
			c = rune(0x10000 + r.IntN(0x110000-0x10000))
		}
		p = utf8.AppendRune(p, c)
	}
	return p
}

// Pieces returns a reader of data that yields it in pieces of random sizes,
// 1 to max bytes, as the frames of a fragmented message arrive.
func Pieces(data []byte, r *rand.Rand, max int) io.Reader {
	return &pieceReader{data: data, rng: r, max: max}
}

type pieceReader struct {
	data []byte
	rng  *rand.Rand
	max  int
}

func (r *pieceReader) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, io.EOF
	}
	n := min(len(p), len(r.data), 1+r.rng.IntN(r.max))
	copy(p, r.data[:n])
	r.data = r.data[n:]
	return n, nil
}

// BombSegment returns a sync-flushed DEFLATE segment that inflates to 1 MiB
// of zeros. Segments can be chained: each ends on a byte boundary with an
// empty stored block, and a chain of n is a valid message of n MiB.
func BombSegment() []byte {
	var buf bytes.Buffer
	w, _ := flate.NewWriter(&buf, flate.BestCompression)
	w.Write(make([]byte, 1<<20))
	w.Flush()
	return buf.Bytes()
}

// ValidPrefixRef is a slow reference for a validator's prefix rule, built
// only on utf8.Valid: either p is valid, or some completion of its trailing
// sequence makes it valid. A second byte of 80, 90 or A0 suits every lead
// (E0 needs A0–BF, F0 needs 90–BF, ED and F4 need 80–8F); later bytes may be
// 80.
func ValidPrefixRef(p []byte) bool {
	if utf8.Valid(p) {
		return true
	}
	buf := make([]byte, 0, len(p)+3)
	for _, second := range []byte{0x80, 0x90, 0xa0} {
		for extra := range 3 {
			buf = append(buf[:0], p...)
			buf = append(buf, second)
			for range extra {
				buf = append(buf, 0x80)
			}
			if utf8.Valid(buf) {
				return true
			}
		}
	}
	return false
}

// FirstInvalidRef returns the index of the first byte of p after which no
// completion can be valid, or -1. Being a valid prefix is monotone (no
// extension of an invalid prefix is valid), so a binary search finds it.
func FirstInvalidRef(p []byte) int {
	if ValidPrefixRef(p) {
		return -1
	}
	return sort.Search(len(p), func(k int) bool { return !ValidPrefixRef(p[:k+1]) })
}

// Inflater is what InflateInPieces needs of a decompressor (internal/inflate's
// Reader): a message begins with its source and limit, then is read.
type Inflater interface {
	Begin(src io.Reader, limit int64)
	io.Reader
}

// InflateInPieces decompresses one message payload with f, reading the
// output in pieces of the given size.
func InflateInPieces(f Inflater, src io.Reader, limit int64, piece int) ([]byte, error) {
	f.Begin(src, limit)
	var out []byte
	buf := make([]byte, piece)
	for range 1 << 30 {
		n, err := f.Read(buf)
		out = append(out, buf[:n]...)
		if err == io.EOF {
			return out, nil
		}
		if err != nil {
			return out, err
		}
	}
	panic("unreachable")
}
