package bench

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkCompress measures echo of 1 KiB JSON-like text messages with
// permessage-deflate (RFC 7692), without and with context takeover, over
// 10 connections at once (one connection alone would measure the
// scheduler). ns/op is per round trip of all connections together;
// srv-cpu-ns/op the server's CPU time per round trip; srv-B/conn the
// server's live heap and stacks per connection after the traffic, with the
// connections still open. A library that cannot negotiate the mode is
// skipped.
func BenchmarkCompress(b *testing.B) {
	ch := child(b)
	const conns, size = 10, 1 << 10
	for _, mode := range []Compression{CompressionNoContext, CompressionContext} {
		for _, lib := range wsLibraries() {
			name := fmt.Sprintf("comp=%s/conns=%d/size=%s/lib=%s", mode, conns, sizeName(size), lib.Name())
			b.Run(name, func(b *testing.B) { benchCompress(b, ch, lib, mode, conns, size) })
		}
	}
}

func benchCompress(b *testing.B, ch *Child, lib Library, mode Compression, n, size int) {
	if !lib.Supports(mode) {
		b.Skipf("%s does not offer %s", lib.Name(), mode)
	}
	settle(b, ch)
	base, err := ch.Mem()
	if err != nil {
		b.Fatal(err)
	}
	cs := dialMany(b, lib, ch.URL(lib.Name(), "mode=echo&api=whole&comp="+mode.String()), n, Options{Compression: mode})
	defer closeAll(cs)
	msgs := JSONPayloads(64, size)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	run := func(rounds int64) {
		next.Store(0)
		var wg sync.WaitGroup
		for _, c := range cs {
			wg.Go(func() {
				var buf []byte
				for {
					i := next.Add(1)
					if i > rounds {
						return
					}
					m := msgs[i%int64(len(msgs))]
					if err := c.WriteMessage(Text, m); err != nil {
						failed.CompareAndSwap(nil, &err)
						return
					}
					_, p, err := c.ReadMessage(buf)
					if err == nil && string(p) != string(m) {
						err = fmt.Errorf("echo differs from the message sent")
					}
					if err != nil {
						failed.CompareAndSwap(nil, &err)
						return
					}
					buf = p[:0]
				}
			})
		}
		wg.Wait()
	}
	run(int64(4 * n))
	b.ReportAllocs()
	b.SetBytes(int64(size))
	cpu0 := serverCPU(b, ch)
	b.ResetTimer()
	run(int64(b.N))
	b.StopTimer()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	cpu := serverCPU(b, ch) - cpu0
	after, err := ch.Mem()
	if err != nil {
		b.Fatal(err)
	}
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "srv-cpu-ns/op")
	b.ReportMetric(float64(after.Heap+after.Stack-base.Heap-base.Stack)/float64(n), "srv-B/conn")
}
