package main

import (
	"math"
	"strings"
	"testing"

	"github.com/rfc6455/websocket/internal/leakcheck"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestMain fails the run when a test leaves goroutines behind.
func TestMain(m *testing.M) { leakcheck.Main(m) }

const sample = `goos: linux
BenchmarkEcho/size=64KiB/type=binary/api=whole/lib=ours-2   	 3193	 50000 ns/op	 948.15 MB/s	 20000 srv-cpu-ns/op	 0 B/op	 0 allocs/op
BenchmarkEcho/size=64KiB/type=binary/api=whole/lib=ours-2   	 3193	 70000 ns/op	 948.15 MB/s	 30000 srv-cpu-ns/op	 0 B/op	 0 allocs/op
BenchmarkEcho/size=64KiB/type=binary/api=whole/lib=ours-2   	 3193	 60000 ns/op	 948.15 MB/s	 25000 srv-cpu-ns/op	 0 B/op	 0 allocs/op
BenchmarkEcho/size=64KiB/type=binary/api=whole/lib=gorilla-2	  355	 200000 ns/op	 107.45 MB/s	 100000 srv-cpu-ns/op
BenchmarkEcho/size=64KiB/type=binary/api=whole/lib=coder-2  	  330	 120000 ns/op	 40.89 MB/s	 50000 srv-cpu-ns/op
BenchmarkEcho/size=64KiB/type=binary/api=whole/lib=tcp-2    	 3030	 40000 ns/op	 834.35 MB/s	 20000 srv-cpu-ns/op
PASS
`

func TestParseMedian(t *testing.T) {
	res, order, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	require.Len(t, order, 4)
	ours := res["Echo/size=64KiB/type=binary/api=whole/lib=ours"]
	assert.Len(t, ours["ns/op"], 3)
	assert.Equal(t, 60000.0, median(ours["ns/op"]))
	assert.Equal(t, 2.5, median([]float64{4, 1, 2, 3}))
}

func TestRenderRatios(t *testing.T) {
	res, order, err := parse(strings.NewReader(sample))
	require.NoError(t, err)
	var b strings.Builder
	render(&b, res, order)
	out := b.String()
	// Round trips per second: ours 16,667 (median 60 µs), best peer coder
	// 8,333, tcp 25,000.
	assert.Contains(t, out, "| size=64KiB type=binary api=whole | 16,667 | 5,000 | 8,333 | 25,000 | 2.00× | 0.67× |")
	// Server CPU, lower is better: ours 25 µs, best peer coder 50 µs.
	assert.Contains(t, out, "| size=64KiB type=binary api=whole | 25.0 | 100 | 50.0 | 20.0 | 0.50× | 1.25× |")
	assert.Contains(t, out, "| case | ours | gorilla | coder | tcp | ours / best peer | ours / tcp |")
}

func TestRenderWithoutOurs(t *testing.T) {
	in := "BenchmarkCompress/comp=context/lib=coder-2  10  100000 ns/op\n"
	res, order, err := parse(strings.NewReader(in))
	require.NoError(t, err)
	var b strings.Builder
	render(&b, res, order)
	assert.Contains(t, b.String(), "| comp=context | — | 10,000 | — |")
}

func TestRenderCompressMem(t *testing.T) {
	in := `BenchmarkCompressMem/comp=nocontext/conns=200/size=1KiB/lib=ours-2  1  5000000 ns/op  2600 cli-B/conn  9000 srv-B/conn
BenchmarkCompressMem/comp=nocontext/conns=200/size=1KiB/lib=gorilla-2  1  5000000 ns/op  9900 cli-B/conn  18000 srv-B/conn
BenchmarkCompressMem/comp=nocontext/conns=200/size=1KiB/lib=gobwas-2  1  5000000 ns/op  8800 cli-B/conn  17000 srv-B/conn
`
	res, order, err := parse(strings.NewReader(in))
	require.NoError(t, err)
	var b strings.Builder
	render(&b, res, order)
	out := b.String()
	assert.Contains(t, out, "### Compressed connections, memory after one 1 KiB message each way")
	// Lower is better: the best peer is gobwas, 17.0 KB on the server,
	// 8.80 KB on the client.
	assert.Contains(t, out, "| comp=nocontext conns=200 size=1KiB | 9.00 | 18.0 | 17.0 | 0.53× |")
	assert.Contains(t, out, "| comp=nocontext conns=200 size=1KiB | 2.60 | 9.90 | 8.80 | 0.30× |")
}

func TestFormat(t *testing.T) {
	assert.Equal(t, "1,234,568", format(1234567.8))
	assert.Equal(t, "12.3", format(12.34))
	assert.Equal(t, "1.23", format(1.234))
	assert.Equal(t, "0", format(0))
	assert.Equal(t, "—", ratio(1, 0))
	assert.Equal(t, "—", ratio(math.Inf(1), 1)) // a target whose divisor was 0
}

func TestRenderTargets(t *testing.T) {
	// Echo 64 KiB text only: ours 50 µs (20,000/s), gorilla 200 µs, coder
	// 125 µs (8,000/s), tcp alloc 40 µs, tcp append 25 µs (the floor:
	// 40,000/s), our AppendMessage 40 µs (25,000/s).
	in := `BenchmarkEcho/size=64KiB/type=text/api=alloc/lib=ours-2  100  50000 ns/op
BenchmarkEcho/size=64KiB/type=text/api=alloc/lib=gorilla-2  100  200000 ns/op
BenchmarkEcho/size=64KiB/type=text/api=alloc/lib=coder-2  100  125000 ns/op
BenchmarkEcho/size=64KiB/type=text/api=alloc/lib=tcp-2  100  40000 ns/op
BenchmarkEcho/size=64KiB/type=text/api=append/lib=ours-2  100  40000 ns/op
BenchmarkEcho/size=64KiB/type=text/api=append/lib=tcp-2  100  25000 ns/op
BenchmarkIdle/handler=loop/conns=10/lib=ours-2  1  1 ns/op  9000 srv-B/conn  4200 srv-stack-B/goroutine
BenchmarkIdle/handler=loop/conns=10/lib=gorilla-2  1  1 ns/op  15000 srv-B/conn  4100 srv-stack-B/goroutine
BenchmarkIdle/handler=loop/conns=10/lib=tcp-2  1  1 ns/op  15000 srv-B/conn  4100 srv-stack-B/goroutine
BenchmarkIdle/handler=return/conns=10/lib=ours-2  1  1 ns/op  8000 srv-B/conn
BenchmarkIdle/handler=return/conns=10/lib=gorilla-2  1  1 ns/op  10000 srv-B/conn
`
	res, _, err := parse(strings.NewReader(in))
	require.NoError(t, err)
	var b strings.Builder
	renderTargets(&b, res, nil)
	out := b.String()
	assert.Contains(t, out, "| echo 64KiB text, ReadMessage: ours / best peer | 2.50× | ≥ 2× | yes |")
	assert.Contains(t, out, "| echo 64KiB text, ReadMessage: ours / tcp | 0.50× | ≥ 0.5× | yes |")
	assert.Contains(t, out, "| echo 64KiB text, ReadMessage: ours / our AppendMessage echo | 0.80× | ≥ 0.6× | yes |")
	assert.Contains(t, out, "| echo 64KiB binary, ReadMessage: ours / best peer | — | ≥ 2× | no |")
	assert.Contains(t, out, "| idle, read loop in the handler: server memory, ours / gorilla | 0.60× | ≤ 0.8× | yes |")
	assert.Contains(t, out, "| idle, read loop in the handler: server stack per goroutine, ours / 6 KiB | 0.68× | ≤ 1× | yes |")
	assert.Contains(t, out, "| idle, handler returns: server memory, ours / gorilla | 0.80× | ≤ 0.6× | no |")
}

func TestRenderTargetsBefore(t *testing.T) {
	// NextReader of 1 KiB binary: ours 100 ns now, 200 ns before; the best
	// peer (gobwas) 125 ns in both runs.
	run := func(ours string) map[string]result {
		in := "BenchmarkCodecRead/size=1KiB/type=binary/api=stream/lib=ours-2  100  " + ours + " ns/op\n" +
			"BenchmarkCodecRead/size=1KiB/type=binary/api=stream/lib=gorilla-2  100  250 ns/op\n" +
			"BenchmarkCodecRead/size=1KiB/type=binary/api=stream/lib=gobwas-2  100  125 ns/op\n" +
			"BenchmarkEcho/size=64KiB/type=text/api=alloc/lib=ours-2  100  50000 ns/op\n"
		res, _, err := parse(strings.NewReader(in))
		require.NoError(t, err)
		return res
	}
	var b strings.Builder
	renderTargets(&b, run("100"), run("200"))
	out := b.String()
	assert.Contains(t, out, "| target | before | ratio | bound | met |")
	assert.Contains(t, out, "| in-process read 1KiB binary, NextReader: ours / best peer | 0.62× | 1.25× | ≥ 1× | yes |")
	assert.Contains(t, out, "| in-process read 1KiB text, NextReader: ours / best peer | — | — | ≥ 1× | no |")
}
