package bench

import (
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkCompress measures echo of 1 KiB JSON-like text messages with
// permessage-deflate (RFC 7692), without and with context takeover, over
// 10 connections at once (one connection alone would measure the
// scheduler), both sides reading with the api of the name, the server's
// read loops inside its HTTP handler. ns/op is per round trip of all
// connections together;
// srv-cpu-ns/op the server's CPU time per round trip. Memory per
// connection is BenchmarkCompressMem's. A library that cannot negotiate the
// mode is skipped.
func BenchmarkCompress(b *testing.B) {
	ch := child(b)
	const conns, size = 10, 1 << 10
	for _, api := range []string{apiAlloc, apiAppend} {
		for _, mode := range []Compression{CompressionNoContext, CompressionContext} {
			for _, lib := range wsLibraries() {
				name := fmt.Sprintf("comp=%s/conns=%d/size=%s/api=%s/lib=%s", mode, conns, sizeName(size), api, lib.Name())
				b.Run(name, func(b *testing.B) { benchCompress(b, ch, lib, mode, api, conns, size) })
			}
		}
	}
}

func benchCompress(b *testing.B, ch *Child, lib Library, mode Compression, api string, n, size int) {
	if !lib.Supports(mode) {
		b.Skipf("%s does not offer %s", lib.Name(), mode)
	}
	skipAPI(b, lib, api)
	settle(b, ch)
	cs := dialMany(b, lib, ch.URL(lib.Name(), "mode=echo&api="+api+"&comp="+mode.String()), n, Options{Compression: mode})
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
					_, p, err := readWhole(c, api, buf)
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
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "srv-cpu-ns/op")
}

// compressConns is how many connections BenchmarkCompressMem opens; the
// BENCH_COMPRESS_CONNS environment variable changes it (run.sh quick uses
// fewer).
func compressConns() int { return envCount("BENCH_COMPRESS_CONNS", 1000) }

// BenchmarkCompressMem measures what a compressed connection keeps once it
// has been used: it opens the connections, each client sends one 1 KiB
// JSON-like text message and reads its echo, and then it reports per
// connection the live heap plus stacks of the server process (srv-B/conn,
// its echo loop blocked in ReadMessage inside the HTTP handler, or on a
// goroutine of its own for handler=return) and of this, the client process
// (cli-B/conn, no goroutine per connection), after garbage collection. With context takeover this includes the history each
// direction keeps (RFC 7692 §7.2.1); comp=off is the same without
// compression, for reference. ns/op is the time to open them all and
// means little. It runs once whatever b.N.
func BenchmarkCompressMem(b *testing.B) {
	ch := child(b)
	n := compressConns()
	const size = 1 << 10
	for _, handler := range handlerPatterns {
		for _, mode := range []Compression{CompressionOff, CompressionNoContext, CompressionContext} {
			for _, lib := range wsLibraries() {
				name := fmt.Sprintf("handler=%s/comp=%s/conns=%d/size=%s/lib=%s", handler, mode, n, sizeName(size), lib.Name())
				b.Run(name, func(b *testing.B) { benchCompressMem(b, ch, lib, handler, mode, n, size) })
			}
		}
	}
}

func benchCompressMem(b *testing.B, ch *Child, lib Library, handler string, mode Compression, n, size int) {
	if !lib.Supports(mode) {
		b.Skipf("%s does not offer %s", lib.Name(), mode)
	}
	settle(b, ch)
	srv0, err := ch.Mem()
	if err != nil {
		b.Fatal(err)
	}
	cli0, _ := clientMem()
	start := time.Now()
	cs := exchangeMany(b, lib, ch.URL(lib.Name(), "mode=echo&api=alloc&handler="+handler+"&comp="+mode.String()), n, mode, JSONPayloads(16, size))
	defer closeAll(cs)
	if err := ch.WaitActive(n, 2*time.Minute); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	srv1, err := ch.Mem()
	if err != nil {
		b.Fatal(err)
	}
	cli1, _ := clientMem()
	per := func(v int64) float64 { return float64(v) / float64(n) }
	b.ReportMetric(float64(elapsed.Nanoseconds()), "ns/op")
	b.ReportMetric(per(srv1.Heap+srv1.Stack-srv0.Heap-srv0.Stack), "srv-B/conn")
	b.ReportMetric(per(cli1-cli0), "cli-B/conn")
}

// exchangeMany opens n connections to the echo url with lib, a few at a
// time, and sends one of msgs on each and reads its echo before keeping
// it.
func exchangeMany(tb testing.TB, lib Library, url string, n int, mode Compression, msgs [][]byte) []Conn {
	tb.Helper()
	return dialEach(tb, lib, url, n, Options{Compression: mode}, func(i int, c Conn) error {
		m := msgs[i%len(msgs)]
		if err := c.WriteMessage(Text, m); err != nil {
			return err
		}
		if _, p, err := c.ReadMessage(); err != nil || string(p) != string(m) {
			return fmt.Errorf("echo: %v, %d bytes", err, len(p))
		}
		return nil
	})
}
