package bench

import (
	"fmt"
	"testing"
)

// codecSizes are the message sizes of the in-process workload.
var codecSizes = []int{16, 1 << 10, 64 << 10, 1 << 20}

var (
	msgTypes = []MsgType{Text, Binary}
	// readAPIs are the read calls of the workloads; writes have two, a
	// whole message (WriteMessage) or a stream (NextWriter).
	readAPIs  = []string{apiAlloc, apiAppend, apiStream}
	writeAPIs = []string{"whole", apiStream}
)

// BenchmarkCodecRead measures the server's read side alone: messages read
// from an endless in-memory stream of pre-encoded masked frames, with
// unmasking and (where the library does it) UTF-8 validation, no network,
// with each read API (alloc: ReadMessage; append: AppendMessage into a
// reused buffer; stream: NextReader). ns/op and allocs/op are per message.
func BenchmarkCodecRead(b *testing.B) {
	for _, size := range codecSizes {
		for _, typ := range msgTypes {
			for _, api := range readAPIs {
				for _, lib := range wsLibraries() {
					name := fmt.Sprintf("size=%s/type=%s/api=%s/lib=%s", sizeName(size), typ, api, lib.Name())
					b.Run(name, func(b *testing.B) { benchCodecRead(b, lib, typ, api, size) })
				}
			}
		}
	}
}

func benchCodecRead(b *testing.B, lib Library, typ MsgType, api string, size int) {
	skipAPI(b, lib, api)
	payload := Payload(typ, size)
	c, err := ReplayServer(lib, ReplayStream(typ, payload))
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	buf := make([]byte, 0, size)
	chunk := make([]byte, min(size, streamChunk))
	b.ReportAllocs()
	b.SetBytes(int64(size))
	for b.Loop() {
		var n int
		if api == apiStream {
			_, n, err = readStream(c, chunk)
			if err != nil {
				b.Fatal(err)
			}
		} else {
			_, p, err := readWhole(c, api, buf)
			if err != nil {
				b.Fatal(err)
			}
			n = len(p)
			if api == apiAppend {
				buf = p[:0]
			}
		}
		if n != size {
			b.Fatalf("read %d bytes, want %d", n, size)
		}
	}
}

// BenchmarkCodecWrite measures the client's write side alone: messages
// masked and written to an in-memory transport that drops them. ns/op and
// allocs/op are per message; the streaming API writes 32 KiB pieces.
func BenchmarkCodecWrite(b *testing.B) {
	for _, size := range codecSizes {
		for _, typ := range msgTypes {
			for _, api := range writeAPIs {
				for _, lib := range wsLibraries() {
					name := fmt.Sprintf("size=%s/type=%s/api=%s/lib=%s", sizeName(size), typ, api, lib.Name())
					b.Run(name, func(b *testing.B) { benchCodecWrite(b, lib, typ, api, size) })
				}
			}
		}
	}
}

func benchCodecWrite(b *testing.B, lib Library, typ MsgType, api string, size int) {
	payload := Payload(typ, size)
	c, sink, err := SinkClient(lib)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	b.ReportAllocs()
	b.SetBytes(int64(size))
	before := sink.written
	n := 0
	for b.Loop() {
		if api == "whole" {
			err = c.WriteMessage(typ, payload)
		} else {
			err = writeStream(c, typ, payload, streamChunk)
		}
		if err != nil {
			b.Fatal(err)
		}
		n++
	}
	if got := sink.written - before; got < int64(n*size) {
		b.Fatalf("%d bytes reached the transport, want at least %d", got, n*size)
	}
}
