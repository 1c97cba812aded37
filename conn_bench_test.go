package websocket

import (
	"fmt"
	"testing"
)

// BenchmarkEcho measures a client writing a message that the server reads
// with AppendMessage and writes back, over loopback TCP.
func BenchmarkEcho(b *testing.B) {
	for _, size := range []int{16, 1 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			client, server := connPair(b, nil)
			go func() {
				buf := make([]byte, 0, size)
				for {
					typ, m, err := server.AppendMessage(buf[:0])
					if err != nil {
						return
					}
					if server.WriteMessage(typ, m) != nil {
						return
					}
					buf = m
				}
			}()
			msg := pattern(1, size)
			buf := make([]byte, 0, size)
			b.SetBytes(int64(2 * size))
			b.ReportAllocs()
			for b.Loop() {
				if err := client.WriteMessage(BinaryMessage, msg); err != nil {
					b.Fatal(err)
				}
				if _, _, err := client.AppendMessage(buf[:0]); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			client.Close()
		})
	}
}

// BenchmarkWriterFragments measures NextWriter sending 1 MiB in fragments
// of the default write buffer to a reader draining it.
func BenchmarkWriterFragments(b *testing.B) {
	client, server := connPair(b, nil)
	go func() {
		buf := make([]byte, 0, 1<<20)
		for {
			if _, _, err := server.AppendMessage(buf[:0]); err != nil {
				return
			}
		}
	}()
	msg := pattern(2, 1<<20)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for b.Loop() {
		w, err := client.NextWriter(BinaryMessage)
		if err != nil {
			b.Fatal(err)
		}
		w.Write(msg)
		if err := w.Close(); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	client.CloseNow()
}
