package websocket

import (
	"bytes"
	"testing"
)

// FuzzDeflate compresses arbitrary data as two messages (split at a fuzzed
// point) with a fuzzed window, level and takeover, and checks both come
// back through compress/flate and through the exact-window decoder.
func FuzzDeflate(f *testing.F) {
	f.Add([]byte("hello hello hello hello"), uint8(15), int8(2), true, uint16(5))
	f.Add(bytes.Repeat([]byte("abcdefgh"), 200), uint8(8), int8(9), true, uint16(700))
	f.Add(make([]byte, 3000), uint8(9), int8(1), false, uint16(0))
	f.Add([]byte{}, uint8(12), int8(-2), true, uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, bits uint8, level int8, takeover bool, split uint16) {
		dir := deflateDirection{takeover: takeover, windowBits: minWindowBits + int(bits)%8}
		lvl := int(level)%11 - 1 // -1 to 9; -1 stands for Huffman-only
		if lvl <= 0 {
			lvl = -2
		}
		cut := min(int(split), len(data))
		d := newDeflater(dir, lvl, 0)
		inf := newInflater(dir)
		ref := newWindowInflater(dir.windowBits, dir.takeover)
		for _, msg := range [][]byte{data[:cut], data[cut:], data} {
			payload := d.compress(nil, msg)
			got, err := inflateMessage(inf, bytes.NewReader(payload), -1, 512)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("inflate: %v", err)
			}
			got, err = ref.message(payload)
			if err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("window-%d decoder: %v", dir.windowBits, err)
			}
		}
	})
}
