package deflate

import (
	"bytes"
	"testing"
)

// TestHuffmanLimits builds codes for skewed frequency sets that
// would exceed the length limits unchecked, and checks every code is
// complete and within its limit.
func TestHuffmanLimits(t *testing.T) {
	var b huffmanBuilder
	h := newHuffmanCode(numLitLenSyms)
	fib := make([]uint32, numLitLenSyms)
	x, y := uint32(1), uint32(1)
	for i := range 40 {
		fib[i] = x
		x, y = y, x+y
	}
	cases := map[string][]uint32{
		"fibonacci": fib,
		"single":    append([]uint32{5}, make([]uint32, numLitLenSyms-1)...),
		"none":      make([]uint32, numLitLenSyms),
		"uniform":   bytes2freq(bytes.Repeat([]byte{1}, numLitLenSyms)),
	}
	for name, freq := range cases {
		for _, limit := range []int{7, 15} {
			if name == "uniform" && limit == 7 {
				continue // 286 codes do not fit in 7 bits; only 19 symbols ever use that limit
			}
			b.build(&h, freq, limit)
			sum, used := 0, 0
			for s, l := range h.length {
				if int(l) > limit {
					t.Fatalf("%s/%d: symbol %d has length %d", name, limit, s, l)
				}
				if freq[s] != 0 && l == 0 {
					t.Fatalf("%s/%d: used symbol %d has no code", name, limit, s)
				}
				if l > 0 {
					sum += 1 << (15 - l)
					used++
				}
			}
			if sum != 1<<15 || used < 2 {
				t.Fatalf("%s/%d: code space %d/%d with %d codes", name, limit, sum, 1<<15, used)
			}
		}
	}
}

func bytes2freq(b []byte) []uint32 {
	f := make([]uint32, len(b))
	for i, c := range b {
		f[i] = uint32(c)
	}
	return f
}
