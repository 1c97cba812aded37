package bench

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"unicode/utf8"
)

// Payload returns size bytes of deterministic content: random bytes for a
// binary message; for a text message, prose that is mostly ASCII with some
// two- and three-byte characters, valid UTF-8 of exactly size bytes.
func Payload(typ MsgType, size int) []byte {
	if typ == Binary {
		r := rand.New(rand.NewChaCha8([32]byte{'b', 'e', 'n', 'c', 'h'}))
		b := make([]byte, size)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return b
	}
	const prose = "The quick brown fox jumps over the lazy dog — naïve café, 5 € each. "
	s := strings.Repeat(prose, size/len(prose)+1)
	b := []byte(s[:size])
	// Cut at a rune boundary and pad with ASCII to keep the size exact.
	for len(b) > 0 && !utf8.Valid(b) {
		b = b[:len(b)-1]
	}
	for len(b) < size {
		b = append(b, ' ')
	}
	return b
}

// JSONPayloads returns n JSON-like text messages of about size bytes, alike
// in shape and different in values, as an API's messages are: the case
// where compression with context takeover pays.
func JSONPayloads(n, size int) [][]byte {
	r := rand.New(rand.NewPCG(7, 11))
	names := []string{"alice", "bob", "carol", "dave", "erin", "frank"}
	out := make([][]byte, n)
	for i := range out {
		var sb strings.Builder
		fmt.Fprintf(&sb, `{"id":%d,"user":"%s","ts":"2025-11-21T07:%02d:%02dZ","items":[`, 100000+r.IntN(900000), names[r.IntN(len(names))], r.IntN(60), r.IntN(60))
		for j := 0; sb.Len() < size-40; j++ {
			if j > 0 {
				sb.WriteByte(',')
			}
			fmt.Fprintf(&sb, `{"sku":"SKU-%05d","qty":%d,"price":%d.%02d,"tags":["%s"]}`, r.IntN(100000), 1+r.IntN(9), r.IntN(500), r.IntN(100), names[r.IntN(len(names))])
		}
		sb.WriteString(`],"ok":true}`)
		out[i] = []byte(sb.String())
	}
	return out
}
