package websocket

import (
	"bytes"
	"testing"
)

// FuzzNextWriter streams messages through NextWriter in pieces the fuzzer
// cuts, as a client or a server, with or without compression, with a small
// or a default write buffer, and checks the wire: well-formed frames in
// fragment order (a client's all masked), which a Conn of the other role
// reads back as exactly the messages written. It covers the writer's paths
// between its inline bytes, a borrowed buffer, a large Write leaving at once
// with what was buffered, a client's bytes masked as they are buffered, and
// compression starting after bytes were buffered.
func FuzzNextWriter(f *testing.F) {
	f.Add(byte(0), []byte("hello"), []byte{3, 1, 200})
	f.Add(byte(1), []byte("masked"), []byte{7, 250, 1, 0, 5, 201})
	f.Add(byte(1|2<<1|1<<3), []byte(`{"a":1,"b":[1,2,3]}`), []byte{60, 60, 0, 255, 3})
	f.Add(byte(1|1<<1|2<<4), []byte("abcabcabc"), []byte{120, 0, 0, 9, 230, 11})
	f.Add(byte(0|2<<1|1<<4), []byte{0xff, 0, 7}, []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 210})
	f.Fuzz(func(t *testing.T, flags byte, seed, cuts []byte) {
		client := flags&1 == 1
		var pmd *deflateConfig
		switch flags >> 1 % 4 {
		case 1:
			pmd = pmdConfig(false, false, 15, 15)
		case 2:
			pmd = pmdConfig(true, true, 9, 9)
		}
		var rsv byte
		if pmd != nil {
			rsv = rsv1Bit
			if flags>>3&1 == 1 {
				pmd.threshold = 100 // compression starts after bytes were buffered
			}
		}
		bufSize := []int{defaultWriteBufferSize, 256, 1024}[int(flags>>4)%3]
		msgs := fuzzWriterMessages(seed, cuts)

		sink := &fuzzTransport{}
		w := newConn(connConfig{netConn: sink, client: client, writeBufferSize: bufSize, deflate: pmd})
		defer w.CloseNow()
		for i, pieces := range msgs {
			nw, err := w.NextWriter(BinaryMessage)
			if err != nil {
				t.Fatalf("message %d: NextWriter: %v", i, err)
			}
			for _, p := range pieces {
				if n, err := nw.Write(p); err != nil || n != len(p) {
					t.Fatalf("message %d: Write(%d bytes) = %d, %v", i, len(p), n, err)
				}
			}
			if err := nw.Close(); err != nil {
				t.Fatalf("message %d: Close: %v", i, err)
			}
		}
		wire := bytes.Clone(sink.out.Bytes())
		checkWire(t, wire, client, rsv, nil)

		r := newConn(connConfig{netConn: &fuzzTransport{script: wire, chunk: len(wire) + 1}, client: !client, deflate: pmd})
		defer r.CloseNow()
		for i, pieces := range msgs {
			typ, got, err := r.ReadMessage()
			if err != nil {
				t.Fatalf("message %d: read back: %v", i, err)
			}
			if want := bytes.Join(pieces, nil); typ != BinaryMessage || !bytes.Equal(got, want) {
				t.Fatalf("message %d: read back %v of %d bytes, want binary of %d bytes", i, typ, len(got), len(want))
			}
		}
	})
}

// fuzzWriterMessages turns the fuzzer's cuts into at most 8 messages of
// pieces, at most 512 KiB in all, with content from seed. A cut of 0 ends
// a message; 1–199 is a piece of that many bytes; 200–255 a large piece of
// (c-199) KiB, to reach the writes that leave at once.
func fuzzWriterMessages(seed, cuts []byte) [][][]byte {
	if len(seed) == 0 {
		seed = []byte{0x5a}
	}
	const maxTotal = 512 << 10
	total, off := 0, 0
	next := func(n int) []byte {
		p := make([]byte, n)
		for i := range p {
			p[i] = seed[(off+i)%len(seed)] + byte((off+i)/len(seed))
		}
		off += n
		return p
	}
	msgs := [][][]byte{nil}
	for _, c := range cuts {
		n := int(c)
		switch {
		case c == 0:
			if len(msgs) == 8 {
				return msgs
			}
			msgs = append(msgs, nil)
			continue
		case c >= 200:
			n = int(c-199) << 10
		}
		if total+n > maxTotal {
			break
		}
		total += n
		last := len(msgs) - 1
		msgs[last] = append(msgs[last], next(n))
	}
	return msgs
}
