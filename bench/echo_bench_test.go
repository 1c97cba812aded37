package bench

import (
	"context"
	"fmt"
	"testing"
	"time"
)

// echoCase is one row of BenchmarkEcho.
type echoCase struct {
	size int
	typ  MsgType
	api  string
}

// echoCases are BenchmarkEcho's rows, in the tables' order: the allocating
// reads first (what users write), then the reusing and the streaming ones,
// at 64 KiB and 1 MiB; then 16 MiB, where the cost of growing and clearing
// a slice shows most.
func echoCases() []echoCase {
	var out []echoCase
	for _, api := range []string{apiAlloc, apiAppend, apiStream} {
		for _, size := range []int{64 << 10, 1 << 20} {
			for _, typ := range msgTypes {
				out = append(out, echoCase{size, typ, api})
			}
		}
	}
	for _, api := range []string{apiAlloc, apiAppend} {
		out = append(out, echoCase{16 << 20, Binary, api})
	}
	return out
}

// BenchmarkEcho measures round trips of one connection over loopback, the
// server's read loop inside its HTTP handler: the client sends a message
// (from a second goroutine, so that a streaming server's early answer
// cannot block it) and reads the echo, both sides with the same API
// (api=alloc: ReadMessage, a new slice per message; append: AppendMessage
// into a reused buffer, where the library has it; stream: NextReader and
// NextWriter). ns/op is one round trip; srv-cpu-ns/op is the server
// process's CPU time (user+sys, getrusage) per round trip; allocs/op are
// the client's.
func BenchmarkEcho(b *testing.B) {
	ch := child(b)
	for _, ec := range echoCases() {
		for _, lib := range Libraries() {
			name := fmt.Sprintf("size=%s/type=%s/api=%s/lib=%s", sizeName(ec.size), ec.typ, ec.api, lib.Name())
			b.Run(name, func(b *testing.B) { benchEcho(b, ch, lib, ec.typ, ec.api, ec.size) })
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
			if api == apiStream {
				s.done <- writeStream(c, typ, p, streamChunk)
			} else {
				s.done <- c.WriteMessage(typ, p)
			}
		}
	}()
	return s
}

func (s *sender) stop() { close(s.start) }

// roundTrip sends p and reads its echo, checking the length. buf is the
// buffer api=append reuses, returned for the next call.
func roundTrip(c Conn, s *sender, api string, buf, chunk []byte, size int) ([]byte, error) {
	s.start <- struct{}{}
	var n int
	var err error
	if api == apiStream {
		_, n, err = readStream(c, chunk)
	} else {
		var p []byte
		_, p, err = readWhole(c, api, buf)
		n = len(p)
		if api == apiAppend && p != nil {
			buf = p[:0]
		}
	}
	if werr := <-s.done; err == nil {
		err = werr
	}
	if err == nil && n != size {
		err = fmt.Errorf("echo of %d bytes, want %d", n, size)
	}
	return buf, err
}

// skipAPI skips a workload that asks lib for a read call it does not have.
func skipAPI(tb testing.TB, lib Library, api string) {
	if api == apiAppend && !lib.Appends() {
		tb.Skipf("%s has no AppendMessage", lib.Name())
	}
}

func benchEcho(b *testing.B, ch *Child, lib Library, typ MsgType, api string, size int) {
	skipAPI(b, lib, api)
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
	var buf []byte
	if api == apiAppend {
		buf = make([]byte, 0, size)
	}
	chunk := make([]byte, streamChunk)
	if buf, err = roundTrip(c, s, api, buf, chunk, size); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(size))
	cpu0 := serverCPU(b, ch)
	b.ResetTimer()
	wait := profileServer(b, ch, profileName(b))
	for range b.N {
		if buf, err = roundTrip(c, s, api, buf, chunk, size); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	wait()
	cpu := serverCPU(b, ch) - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "srv-cpu-ns/op")
}
