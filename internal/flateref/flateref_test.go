package flateref

import (
	"bytes"
	"compress/flate"
	"strings"
	"testing"
)

// deflate compresses in with compress/flate at level, ending the stream
// with a final block, or with a sync flush whose 00 00 ff ff tail stays.
func deflate(t *testing.T, in []byte, level int, final bool, dict []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	fw, err := flate.NewWriterDict(&buf, level, dict)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fw.Write(in); err != nil {
		t.Fatal(err)
	}
	if final {
		err = fw.Close()
	} else {
		err = fw.Flush()
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// pseudoRandom is n bytes with no repeat shorter than 256 bytes.
func pseudoRandom(n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(i*31 + i>>8 + 7)
	}
	return b
}

// TestInflateMatchesCompressFlate checks the decoder against compress/flate
// on every block kind, and that it measures back-reference distances.
func TestInflateMatchesCompressFlate(t *testing.T) {
	long := []byte(strings.Repeat("a window of 32 KiB holds this sentence many times over. ", 2000))
	inputs := [][]byte{nil, []byte("x"), []byte("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"), pseudoRandom(100000), long}
	var kinds [3]int
	for _, level := range []int{flate.NoCompression, flate.BestSpeed, flate.DefaultCompression, flate.BestCompression, flate.HuffmanOnly} {
		for i, in := range inputs {
			got, st, err := Inflate(deflate(t, in, level, true, nil), nil, Options{})
			if err != nil || !bytes.Equal(got, in) {
				t.Fatalf("level %d input %d: got %d bytes, %v; want %d bytes", level, i, len(got), err, len(in))
			}
			if level == flate.HuffmanOnly && st.MaxDist != 0 {
				t.Errorf("Huffman-only data has a back-reference of %d", st.MaxDist)
			}
			if level == flate.NoCompression && (st.Blocks[1] != 0 || st.Blocks[2] != 0) {
				t.Errorf("uncompressed data counted %v blocks", st.Blocks)
			}
			for k, n := range st.Blocks {
				kinds[k] += n
			}
		}
	}
	for k, n := range kinds {
		if n == 0 {
			t.Errorf("no block of type %d met: the inputs do not cover every kind", k)
		}
	}
	// Data that repeats only after 2000 bytes needs a window past 2^10.
	in := append(pseudoRandom(2000), pseudoRandom(2000)...)
	if _, st, err := Inflate(deflate(t, in, flate.BestSpeed, true, nil), nil, Options{}); err != nil || st.MaxDist <= 1<<10 {
		t.Fatalf("distance %d, %v; want more than 1024", st.MaxDist, err)
	}
	// History: a stream that refers into it decodes with it and fails
	// without it.
	hist := []byte("0123456789abcdef0123456789abcdef")
	withHist := deflate(t, hist, flate.DefaultCompression, true, hist)
	if got, _, err := Inflate(withHist, hist, Options{}); err != nil || !bytes.Equal(got, hist) {
		t.Fatalf("with history: %q, %v", got, err)
	}
	if _, _, err := Inflate(withHist, nil, Options{}); err == nil {
		t.Fatal("a reference into missing history decoded")
	}
	for _, bad := range [][]byte{{0xff, 0xff, 0xff, 0xff}, {0x07}, {0x00, 0x05, 0x00, 0x00, 0x00}} {
		if _, _, err := Inflate(bad, nil, Options{}); err == nil {
			t.Errorf("%x decoded", bad)
		}
	}
}

// TestInflateOptions checks each option at its boundary: what passes at the
// bound fails one step past it.
func TestInflateOptions(t *testing.T) {
	in := append(pseudoRandom(2000), pseudoRandom(2000)...)
	stream := deflate(t, in, flate.BestSpeed, true, nil)
	_, st, err := Inflate(stream, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("Window", func(t *testing.T) {
		if _, _, err := Inflate(stream, nil, Options{Window: st.MaxDist}); err != nil {
			t.Errorf("window of the longest distance %d: %v", st.MaxDist, err)
		}
		if _, _, err := Inflate(stream, nil, Options{Window: st.MaxDist - 1}); err == nil {
			t.Errorf("distance %d decoded with a window one byte shorter", st.MaxDist)
		}
	})
	t.Run("Limit", func(t *testing.T) {
		if got, _, err := Inflate(stream, nil, Options{Limit: len(in)}); err != nil || len(got) != len(in) {
			t.Errorf("limit of the output size: %d bytes, %v", len(got), err)
		}
		if _, _, err := Inflate(stream, nil, Options{Limit: len(in) - 1}); err == nil {
			t.Error("output one byte past the limit decoded")
		}
		stored := deflate(t, in, flate.NoCompression, true, nil)
		if _, _, err := Inflate(stored, nil, Options{Limit: len(in) - 1}); err == nil {
			t.Error("stored output one byte past the limit decoded")
		}
	})
	t.Run("NoFinal", func(t *testing.T) {
		if _, _, err := Inflate(stream, nil, Options{NoFinal: true}); err == nil {
			t.Error("a final block decoded with NoFinal")
		}
		flushed := deflate(t, in, flate.BestSpeed, false, nil)
		if got, _, err := Inflate(flushed, nil, Options{NoFinal: true}); err != nil || !bytes.Equal(got, in) {
			t.Errorf("a sync-flushed stream: %d bytes, %v", len(got), err)
		}
	})
	t.Run("CompleteCodes", func(t *testing.T) {
		// A dynamic block whose only distance code has length 1: RFC 1951
		// §3.2.7 allows one distance code, but it fills half the space.
		incomplete := oneDistanceCode()
		if got, _, err := Inflate(incomplete, nil, Options{}); err != nil || string(got) != "a" {
			t.Fatalf("one distance code: %q, %v", got, err)
		}
		if _, _, err := Inflate(incomplete, nil, Options{CompleteCodes: true}); err == nil {
			t.Error("an incomplete distance code decoded with CompleteCodes")
		}
		if got, _, err := Inflate(stream, nil, Options{CompleteCodes: true}); err != nil || !bytes.Equal(got, in) {
			t.Errorf("compress/flate's complete codes: %d bytes, %v", len(got), err)
		}
	})
}

// bitWriter packs fields least significant bit first (RFC 1951 §3.1.1).
type bitWriter struct {
	out  []byte
	nbit uint
}

func (w *bitWriter) put(v int, n uint) {
	for i := range n {
		if w.nbit%8 == 0 {
			w.out = append(w.out, 0)
		}
		w.out[len(w.out)-1] |= byte(v>>i&1) << (w.nbit % 8)
		w.nbit++
	}
}

// zeros writes code length symbol 18, coded 1: a run of n zero lengths,
// 11 to 138.
func (w *bitWriter) zeros(n int) {
	w.put(1, 1)
	w.put(n-11, 7)
}

// oneDistanceCode is a final dynamic block that decodes to "a": literal
// codes 'a' and end-of-block of one bit each, and one distance code of one
// bit, which leaves half of the distance code space unused.
func oneDistanceCode() []byte {
	var w bitWriter
	w.put(1, 1)  // BFINAL
	w.put(2, 2)  // dynamic
	w.put(0, 5)  // HLIT: 257 literal/length codes
	w.put(0, 5)  // HDIST: 1 distance code
	w.put(14, 4) // HCLEN: 18 code length code lengths, up to symbol 1
	// Code length code: symbols 18 (runs of zeros) and 1, one bit each;
	// in canonical order symbol 1 gets 0 and symbol 18 gets 1.
	for _, s := range codeLengthOrder[:18] {
		if s == 18 || s == 1 {
			w.put(1, 3)
		} else {
			w.put(0, 3)
		}
	}
	w.zeros(97)  // symbols 0-96
	w.put(0, 1)  // 'a': length 1
	w.zeros(138) // symbols 98-235
	w.zeros(20)  // symbols 236-255
	w.put(0, 1)  // end of block: length 1
	w.put(0, 1)  // the one distance code: length 1
	w.put(0, 1)  // data: 'a'
	w.put(1, 1)  // end of block
	return w.out
}
