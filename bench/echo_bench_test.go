package bench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// echoSizes are the message sizes of the one-connection loopback echo.
var echoSizes = []int{64 << 10, 1 << 20}

// BenchmarkEcho measures round trips of one connection over loopback:
// the client sends a message (from a second goroutine, so that a streaming
// server's early answer cannot block it) and reads the echo. ns/op is one
// round trip; srv-cpu-ns/op is the server process's CPU time (user+sys,
// getrusage) per round trip; allocs/op are the client's.
func BenchmarkEcho(b *testing.B) {
	ch := child(b)
	for _, size := range echoSizes {
		for _, typ := range msgTypes {
			for _, api := range apis {
				for _, lib := range Libraries() {
					name := fmt.Sprintf("size=%s/type=%s/api=%s/lib=%s", sizeName(size), typ, api, lib.Name())
					b.Run(name, func(b *testing.B) { benchEcho(b, ch, lib, typ, api, size) })
				}
			}
		}
	}
}

// sender writes the same message each time it is asked, from its own
// goroutine.
type sender struct {
	start chan struct{}
	done  chan error
}

func newSender(c Conn, typ MsgType, api string, p []byte) *sender {
	s := &sender{start: make(chan struct{}), done: make(chan error)}
	go func() {
		for range s.start {
			if api == "whole" {
				s.done <- c.WriteMessage(typ, p)
			} else {
				s.done <- writeStream(c, typ, p, streamChunk)
			}
		}
	}()
	return s
}

func (s *sender) stop() { close(s.start) }

// roundTrip sends p and reads its echo, checking the length.
func roundTrip(c Conn, s *sender, api string, buf, chunk []byte, size int) ([]byte, error) {
	s.start <- struct{}{}
	var n int
	var err error
	if api == "whole" {
		var p []byte
		_, p, err = c.ReadMessage(buf)
		n, buf = len(p), p[:0]
	} else {
		_, n, err = readStream(c, chunk)
	}
	if werr := <-s.done; err == nil {
		err = werr
	}
	if err == nil && n != size {
		err = fmt.Errorf("echo of %d bytes, want %d", n, size)
	}
	return buf, err
}

func benchEcho(b *testing.B, ch *Child, lib Library, typ MsgType, api string, size int) {
	settle(b, ch)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	c, err := lib.Dial(ctx, ch.URL(lib.Name(), "mode=echo&api="+api), Options{})
	cancel()
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	s := newSender(c, typ, api, Payload(typ, size))
	defer s.stop()
	buf := make([]byte, 0, size)
	chunk := make([]byte, streamChunk)
	if buf, err = roundTrip(c, s, api, buf, chunk, size); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	cpu0 := serverCPU(b, ch)
	b.ResetTimer()
	for range b.N {
		if buf, err = roundTrip(c, s, api, buf, chunk, size); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	cpu := serverCPU(b, ch) - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "srv-cpu-ns/op")
}
