package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkBroadcast measures one 1 KiB binary message delivered by the
// server to 1,000 connections, written one connection after the other from
// one goroutine with the library's best means (Prepare: the prepared
// messages of ours and gorilla, gobwas's and tcp's pre-encoded frames,
// WriteMessage for coder, which has neither). Clients read with
// ReadMessage; the server's members read inside their HTTP handlers. ns/op
// is from the trigger
// until every client has read the message; srv-cpu-ns/msg is the server's
// CPU time per delivered message.
func BenchmarkBroadcast(b *testing.B) {
	ch := child(b)
	const conns, size = 1000, 1 << 10
	for _, lib := range Libraries() {
		name := fmt.Sprintf("conns=%d/size=%s/lib=%s", conns, sizeName(size), lib.Name())
		b.Run(name, func(b *testing.B) { benchBroadcast(b, ch, lib, conns, size) })
	}
}

func benchBroadcast(b *testing.B, ch *Child, lib Library, n, size int) {
	settle(b, ch)
	cs := dialMany(b, lib, ch.URL(lib.Name(), "mode=sink"), n, Options{})
	var readers sync.WaitGroup
	defer readers.Wait()
	defer closeAll(cs)
	if err := ch.WaitActive(n, 60*time.Second); err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	trigger, err := ch.Broadcaster(ctx, lib.Name(), Binary, size)
	cancel()
	if err != nil {
		b.Fatal(err)
	}
	defer trigger.Close()

	var got, want atomic.Int64
	var bad atomic.Int64
	all := make(chan struct{}, 1)
	for _, c := range cs {
		readers.Go(func() {
			for {
				_, p, err := c.ReadMessage()
				if err != nil {
					return
				}
				if len(p) != size {
					bad.Add(1)
				}
				if got.Add(1) == want.Load() {
					all <- struct{}{}
				}
			}
		})
	}
	one := []byte{1}
	round := func(i int) {
		want.Store(int64(n * (i + 1)))
		if err := trigger.WriteMessage(Binary, one); err != nil {
			b.Fatal(err)
		}
		select {
		case <-all:
		case <-time.After(60 * time.Second):
			b.Fatalf("broadcast %d: %d of %d deliveries", i, got.Load()-int64(n*i), n)
		}
	}
	round(0) // warm up
	b.ReportAllocs()
	b.SetBytes(int64(n * size))
	cpu0 := serverCPU(b, ch)
	b.ResetTimer()
	for i := range b.N {
		round(i + 1)
	}
	b.StopTimer()
	if bad.Load() > 0 {
		b.Fatalf("%d deliveries of the wrong size", bad.Load())
	}
	cpu := serverCPU(b, ch) - cpu0
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N*n), "srv-cpu-ns/msg")
}
