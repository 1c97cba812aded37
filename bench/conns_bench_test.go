package bench

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
)

// BenchmarkConns measures 100 connections echoing 1 KiB binary messages
// at once, each client sending its next message when the last one came
// back, both sides reading with the api of the name (alloc: ReadMessage;
// append: AppendMessage), the server's read loops inside its HTTP handler.
// ns/op is per round trip of all connections together; srv-cpu-ns/op is
// the server's CPU time per round trip.
func BenchmarkConns(b *testing.B) {
	ch := child(b)
	const conns, size = 100, 1 << 10
	for _, api := range []string{apiAlloc, apiAppend} {
		for _, lib := range Libraries() {
			name := fmt.Sprintf("conns=%d/size=%s/api=%s/lib=%s", conns, sizeName(size), api, lib.Name())
			b.Run(name, func(b *testing.B) { benchConns(b, ch, lib, api, conns, size) })
		}
	}
}

func benchConns(b *testing.B, ch *Child, lib Library, api string, n, size int) {
	skipAPI(b, lib, api)
	settle(b, ch)
	cs := dialMany(b, lib, ch.URL(lib.Name(), "mode=echo&api="+api), n, Options{})
	defer closeAll(cs)
	payload := Payload(Binary, size)
	var next atomic.Int64
	var failed atomic.Pointer[error]
	run := func(rounds int64) {
		next.Store(0)
		var wg sync.WaitGroup
		for _, c := range cs {
			wg.Go(func() {
				buf := make([]byte, 0, size)
				for next.Add(1) <= rounds {
					if err := c.WriteMessage(Binary, payload); err != nil {
						failed.CompareAndSwap(nil, &err)
						return
					}
					_, p, err := readWhole(c, api, buf)
					if err == nil && len(p) != size {
						err = fmt.Errorf("echo of %d bytes, want %d", len(p), size)
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
	run(int64(n)) // warm up: one message each, more or less
	b.ReportAllocs()
	b.SetBytes(int64(size))
	cpu0 := serverCPU(b, ch)
	b.ResetTimer()
	wait := profileServer(b, ch, profileName(b))
	run(int64(b.N))
	b.StopTimer()
	wait()
	if err := failed.Load(); err != nil {
		b.Fatal(*err)
	}
	cpu := serverCPU(b, ch) - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "srv-cpu-ns/op")
}
