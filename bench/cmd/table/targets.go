package main

import (
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
)

// A target is one line of issue 15's "Done when": a ratio computed from the
// medians of one run, the bound it must meet, and whether it did.
type target struct {
	what   string  // what is compared, for the reader
	ratio  float64 // NaN when a benchmark of it is missing
	bound  float64
	atMost bool // the ratio must be at most bound (memory, CPU), else at least
}

func (t target) met() bool {
	if math.IsNaN(t.ratio) {
		return false
	}
	if t.atMost {
		return t.ratio <= t.bound
	}
	return t.ratio >= t.bound
}

// medianOf returns the median of unit in the benchmark called name, or NaN.
func medianOf(res map[string]result, name, unit string) float64 {
	if s := res[name][unit]; len(s) > 0 {
		return median(s)
	}
	return math.NaN()
}

// stackLimit is where a goroutine's stack counts as 4 KiB: halfway to
// 8 KiB, the next size, since the per-goroutine figure carries a little
// of the runtime's own stacks.
const stackLimit = 6 << 10

// targets computes issue 15's targets from res: the echo of whole messages
// with the read loop inside the handler, and idle memory. Round trips per
// second are 1/ns; the tcp floor is the better of its two whole-message
// rows (alloc, append).
func targets(res map[string]result) []target {
	rate := func(name string) float64 { return 1e9 / medianOf(res, name, "ns/op") }
	echo := func(size, typ, api, lib string) string {
		return "Echo/size=" + size + "/type=" + typ + "/api=" + api + "/lib=" + lib
	}
	tcpFloor := func(size, typ string) float64 {
		a, b := rate(echo(size, typ, "alloc", "tcp")), rate(echo(size, typ, "append", "tcp"))
		if math.IsNaN(a) || b > a {
			return b
		}
		return a
	}
	// bestPeer is the highest rate of the peers' benchmarks name(peer).
	bestPeer := func(name func(lib string) string) float64 {
		best := math.NaN()
		for _, peer := range []string{"gorilla", "coder", "gobwas"} {
			if v := rate(name(peer)); !math.IsNaN(v) && (math.IsNaN(best) || v > best) {
				best = v
			}
		}
		return best
	}
	var out []target
	for _, size := range []string{"64KiB", "1MiB"} {
		for _, typ := range []string{"text", "binary"} {
			ours := rate(echo(size, typ, "alloc", "ours"))
			best := bestPeer(func(lib string) string { return echo(size, typ, "alloc", lib) })
			row := "echo " + size + " " + typ + ", ReadMessage"
			out = append(out,
				target{row + ": ours / best peer", ours / best, 2, false},
				target{row + ": ours / tcp", ours / tcpFloor(size, typ), 0.5, false},
				target{row + ": ours / our AppendMessage echo", ours / rate(echo(size, typ, "append", "ours")), 0.6, false})
		}
	}
	out = append(out, target{"echo 16MiB binary, ReadMessage: ours / gobwas",
		rate(echo("16MiB", "binary", "alloc", "ours")) / rate(echo("16MiB", "binary", "alloc", "gobwas")), 2, false})
	for _, typ := range []string{"text", "binary"} {
		row := "echo 1MiB " + typ + ", AppendMessage"
		out = append(out,
			target{row + ": ours / tcp", rate(echo("1MiB", typ, "append", "ours")) / tcpFloor("1MiB", typ), 0.8, false},
			target{row + ": server CPU, ours / tcp",
				medianOf(res, echo("1MiB", typ, "append", "ours"), "srv-cpu-ns/op") / medianOf(res, echo("1MiB", typ, "append", "tcp"), "srv-cpu-ns/op"), 1.2, true})
	}
	idle := func(handler, lib, unit string) float64 {
		for name := range res {
			if strings.HasPrefix(name, "Idle/handler="+handler+"/") && strings.HasSuffix(name, "/lib="+lib) {
				return medianOf(res, name, unit)
			}
		}
		return math.NaN()
	}
	// In process, NextReader's messages per second against the best peer's
	// streamed read.
	for _, typ := range []string{"text", "binary"} {
		name := func(lib string) string { return "CodecRead/size=1KiB/type=" + typ + "/api=stream/lib=" + lib }
		out = append(out, target{"in-process read 1KiB " + typ + ", NextReader: ours / best peer", rate(name("ours")) / bestPeer(name), 1, false})
	}
	mem := func(handler, lib string) float64 { return idle(handler, lib, "srv-B/conn") }
	out = append(out,
		target{"idle, read loop in the handler: server memory, ours / gorilla", mem("loop", "ours") / mem("loop", "gorilla"), 0.8, true},
		target{"idle, read loop in the handler: server memory, ours / tcp", mem("loop", "ours") / mem("loop", "tcp"), 1, true},
		target{"idle, read loop in the handler: server stack per goroutine, ours / 6 KiB", idle("loop", "ours", "srv-stack-B/goroutine") / stackLimit, 1, true},
		target{"idle, handler returns: server memory, ours / gorilla", mem("return", "ours") / mem("return", "gorilla"), 0.6, true})
	return out
}

// renderTargets writes the targets found in res as a table; targets whose
// benchmarks did not run show "—" and count as missed. With before (the
// results of an earlier run, say of the library before the work the
// targets ask for; nil: none), each target also shows its ratio there.
func renderTargets(w io.Writer, res, before map[string]result) {
	ts := targets(res)
	var bs []target
	fmt.Fprint(w, "### Targets (issue 15)\n\nRatios of medians in this run. The tcp floor is the better of its whole-message rows.")
	if before != nil {
		bs = targets(before)
		fmt.Fprint(w, " Before: the same ratio in the earlier run given to -before.")
	}
	fmt.Fprint(w, "\n\n| target |")
	if bs != nil {
		fmt.Fprint(w, " before |")
	}
	fmt.Fprint(w, " ratio | bound | met |\n|---|")
	if bs != nil {
		fmt.Fprint(w, "---:|")
	}
	fmt.Fprint(w, "---:|---:|:---:|\n")
	for i, t := range ts {
		op, met := "≥", "no"
		if t.atMost {
			op = "≤"
		}
		if t.met() {
			met = "yes"
		}
		fmt.Fprintf(w, "| %s |", t.what)
		if bs != nil {
			fmt.Fprintf(w, " %s |", ratio(bs[i].ratio, 1))
		}
		fmt.Fprintf(w, " %s | %s %s× | %s |\n", ratio(t.ratio, 1), op, strconv.FormatFloat(t.bound, 'f', -1, 64), met)
	}
	fmt.Fprintln(w)
}
