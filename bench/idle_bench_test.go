package bench

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"sync"
	"testing"
	"time"
)

// idleConns is how many idle connections BenchmarkIdle opens; the
// BENCH_IDLE_CONNS environment variable changes it (run.sh quick uses
// fewer).
func idleConns() int { return envCount("BENCH_IDLE_CONNS", 10000) }

// envCount is the positive count in the environment variable name, or def.
func envCount(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// handlerPatterns are the two ways a server runs a connection: its read
// loop inside the HTTP handler (loop: gorilla's echo example, most
// applications), which keeps net/http's connection goroutine and state for
// the connection's life, or on a goroutine of its own once the handler
// has returned (return: gorilla's chat example).
var handlerPatterns = []string{"loop", "return"}

// BenchmarkIdle measures what idle connections cost: it opens them, each
// with a goroutine blocked in ReadMessage on both sides (the server's, in
// either handler pattern; the client's reader), and reports per connection
// the live heap plus stack bytes and the goroutines, of the server process
// (srv-…) and of this, the client process (cli-…), after garbage
// collection, and the server's stack bytes per goroutine it added. ns/op
// is the time to open them all and means little. It runs once whatever
// b.N.
func BenchmarkIdle(b *testing.B) {
	ch := child(b)
	n := idleConns()
	// Each side holds n files; keep room for the rest of the process.
	if limit := int(fileLimit); limit > 0 && n > limit-256 {
		fmt.Fprintf(os.Stderr, "note: open-file limit %d: idle workload uses %d connections instead of %d\n", limit, limit-256, n)
		n = limit - 256
	}
	for _, handler := range handlerPatterns {
		for _, lib := range Libraries() {
			b.Run(fmt.Sprintf("handler=%s/conns=%d/lib=%s", handler, n, lib.Name()), func(b *testing.B) { benchIdle(b, ch, lib, handler, n) })
		}
	}
}

// clientMem returns this process's live heap plus stacks and goroutines
// after collecting garbage.
func clientMem() (int64, int64) {
	var ms runtime.MemStats
	runtime.GC()
	runtime.GC()
	runtime.ReadMemStats(&ms)
	return int64(ms.HeapAlloc + ms.StackInuse), int64(runtime.NumGoroutine())
}

func benchIdle(b *testing.B, ch *Child, lib Library, handler string, n int) {
	settle(b, ch)
	srv0, err := ch.Mem()
	if err != nil {
		b.Fatal(err)
	}
	cli0, gor0 := clientMem()
	start := time.Now()
	cs := dialMany(b, lib, ch.URL(lib.Name(), "mode=echo&api=alloc&handler="+handler), n, Options{})
	var readers sync.WaitGroup
	defer readers.Wait()
	defer closeAll(cs)
	for _, c := range cs {
		readers.Go(func() {
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		})
	}
	if err := ch.WaitActive(n, 2*time.Minute); err != nil {
		b.Fatal(err)
	}
	elapsed := time.Since(start)
	srv1, err := ch.Mem()
	if err != nil {
		b.Fatal(err)
	}
	cli1, gor1 := clientMem()
	if dir := os.Getenv("BENCH_PROFILE_DIR"); dir != "" {
		// The server's heap and goroutines while the connections are idle.
		for _, name := range []string{"heap", "goroutine"} {
			path := filepath.Join(dir, "idle-"+handler+"-"+lib.Name()+"-"+name+".prof")
			if err := ch.Profile(name, "gc=1", path); err != nil {
				b.Log(err)
			}
		}
	}
	per := func(v int64) float64 { return float64(v) / float64(n) }
	b.ReportMetric(float64(elapsed.Nanoseconds()), "ns/op")
	b.ReportMetric(per(srv1.Heap+srv1.Stack-srv0.Heap-srv0.Stack), "srv-B/conn")
	b.ReportMetric(per(srv1.Stack-srv0.Stack), "srv-stack-B/conn")
	b.ReportMetric(per(srv1.Goroutines-srv0.Goroutines), "srv-goroutines/conn")
	if g := srv1.Goroutines - srv0.Goroutines; g > 0 {
		b.ReportMetric(float64(srv1.Stack-srv0.Stack)/float64(g), "srv-stack-B/goroutine")
	}
	b.ReportMetric(per(cli1-cli0), "cli-B/conn")
	b.ReportMetric(per(gor1-gor0), "cli-goroutines/conn")
}
