//go:build unix

package websocket

import (
	"bytes"
	"compress/flate"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"runtime"
	"syscall"
	"testing"
	"time"
)

// cpuTime returns the CPU time the process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// cpuPerOp runs op n times on one thread and returns the CPU time per
// call, the best of three rounds. CPU time rather than wall time, because
// on a shared machine wall time mostly measures the other tenants.
func cpuPerOp(n int, op func()) time.Duration {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	best := time.Duration(1 << 62)
	for range 3 {
		start := cpuTime()
		for range n {
			op()
		}
		best = min(best, (cpuTime()-start)/time.Duration(n))
	}
	return best
}

// TestDeflateFigures prints the CPU cost and ratio of compressing and
// decompressing 1 KiB JSON-like messages at each level, with and without
// context takeover, beside compress/flate. It measures rather than checks,
// so it runs only when WEBSOCKET_DEFLATE_FIGURES is set:
//
//	WEBSOCKET_DEFLATE_FIGURES=1 go test -run TestDeflateFigures -v
func TestDeflateFigures(t *testing.T) {
	if os.Getenv("WEBSOCKET_DEFLATE_FIGURES") == "" {
		t.Skip("set WEBSOCKET_DEFLATE_FIGURES=1 to measure")
	}
	rng := rand.New(rand.NewPCG(60, 61))
	msgs := make([][]byte, 64)
	for i := range msgs {
		msgs[i] = jsonLike(rng, 1024)
	}
	const n = 4000
	t.Logf("%-28s %10s %10s %7s", "1 KiB JSON messages", "deflate", "inflate", "ratio")
	for _, takeover := range []bool{false, true} {
		for _, level := range []int{-2, 1, 2, 3, 4, 6, 9} {
			dir := deflateDirection{takeover: takeover, windowBits: 15}
			d := newDeflater(dir, level, 0)
			buf := make([]byte, 0, 4096)
			in, out, i := 0, 0, 0
			comp := cpuPerOp(n, func() {
				msg := msgs[i%len(msgs)]
				i++
				buf = d.compress(buf[:0], msg)
				in += len(msg)
				out += len(buf)
			})
			// Decompress a fixed sequence, restarting the history with it.
			d = newDeflater(dir, level, 0)
			payloads := make([][]byte, len(msgs))
			for j, m := range msgs {
				payloads[j] = d.compress(nil, m)
			}
			f := newInflater(dir)
			src := new(bytes.Reader)
			p := make([]byte, 2048)
			j := 0
			decomp := cpuPerOp(n, func() {
				if j%len(payloads) == 0 {
					f = newInflater(dir)
				}
				src.Reset(payloads[j%len(payloads)])
				j++
				f.Begin(src, 1<<20)
				for {
					if _, err := f.Read(p); err == io.EOF {
						break
					} else if err != nil {
						t.Fatal(err)
					}
				}
			})
			t.Logf("%-28s %10v %10v %7.3f", fmt.Sprintf("takeover=%v level=%d", takeover, level), comp, decomp, float64(out)/float64(in))
		}
		for _, level := range []int{1, 6} {
			var sink bytes.Buffer
			w, _ := flate.NewWriter(&sink, level)
			in, out, i := 0, 0, 0
			comp := cpuPerOp(n, func() {
				msg := msgs[i%len(msgs)]
				i++
				sink.Reset()
				if !takeover {
					w.Reset(&sink)
				}
				w.Write(msg)
				w.Flush()
				in += len(msg)
				out += sink.Len() - 4
			})
			t.Logf("%-28s %10v %10s %7.3f", fmt.Sprintf("takeover=%v compress/flate %d", takeover, level), comp, "", float64(out)/float64(in))
		}
	}
}
