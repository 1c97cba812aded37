package deflate

import (
	"bytes"
	"testing"
)

// FuzzDeflate compresses arbitrary data as two messages (split at a fuzzed
// point) and then whole, with a fuzzed window, level and takeover, and
// checks all three come back through compress/flate and through the
// exact-window reference decoder.
func FuzzDeflate(f *testing.F) {
	f.Add([]byte("hello hello hello hello"), uint8(15), int8(2), true, uint16(5))
	f.Add(bytes.Repeat([]byte("abcdefgh"), 200), uint8(8), int8(9), true, uint16(700))
	f.Add(make([]byte, 3000), uint8(9), int8(1), false, uint16(0))
	f.Add([]byte{}, uint8(12), int8(-2), true, uint16(0))
	e := NewEncoder()
	f.Fuzz(func(t *testing.T, data []byte, bits uint8, level int8, takeover bool, split uint16) {
		lvl := int(level)%11 - 1 // -1 to 9; -1 stands for Huffman-only
		if lvl <= 0 {
			lvl = -2
		}
		cut := min(int(split), len(data))
		checkRoundTrip(t, e, MinWindowBits+int(bits)%8, lvl, takeover, [][]byte{data[:cut], data[cut:], data}, nil)
	})
}
