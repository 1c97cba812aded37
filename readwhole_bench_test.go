package websocket

import (
	"fmt"
	"testing"
)

// BenchmarkReadMessage reads single-frame messages (masked, as a server
// reads them) into a new slice each time, from an in-memory transport that
// replays them: the cost of ReadMessage's allocation beside the copy.
func BenchmarkReadMessage(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20, 16 << 20} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			stream := encodeFrame(true, true, 0, opBinary, pattern(6, size))
			c := newConn(connConfig{netConn: &replayConn{stream: stream}})
			defer c.CloseNow()
			b.SetBytes(int64(size))
			b.ReportAllocs()
			for b.Loop() {
				if _, p, err := c.ReadMessage(); err != nil || len(p) != size {
					b.Fatal(len(p), err)
				}
			}
		})
	}
}

// BenchmarkEchoReadMessage is BenchmarkEcho with ReadMessage on both sides,
// as most applications read: a new slice per message.
func BenchmarkEchoReadMessage(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprint(size), func(b *testing.B) {
			client, server := connPair(b, nil)
			go func() {
				for {
					typ, m, err := server.ReadMessage()
					if err != nil {
						return
					}
					if server.WriteMessage(typ, m) != nil {
						return
					}
				}
			}()
			msg := pattern(1, size)
			b.SetBytes(int64(2 * size))
			b.ReportAllocs()
			for b.Loop() {
				if err := client.WriteMessage(BinaryMessage, msg); err != nil {
					b.Fatal(err)
				}
				if _, _, err := client.ReadMessage(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			client.Close()
		})
	}
}
