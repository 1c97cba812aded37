package main

import (
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
}
