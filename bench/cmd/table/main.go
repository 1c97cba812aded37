// Command table reads `go test -bench` output of the bench package on
// standard input and prints one Markdown table per workload and metric,
// with a column per library, the tcp floor, and the ratios ours / best peer
// and ours / tcp. With -count above 1 it shows the median of the runs.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
)

// view is how one metric of one workload is shown.
type view struct {
	unit   string // as go test reports it
	title  string
	scale  func(float64) float64
	higher bool // a higher shown value is better
}

// workload is one benchmark function's tables.
type workload struct {
	name  string // the benchmark name without "Benchmark"
	title string
	note  string
	views []view
}

func perSecond(v float64) float64 { return 1e9 / v }
func micro(v float64) float64     { return v / 1e3 }
func milli(v float64) float64     { return v / 1e6 }
func kilo(v float64) float64      { return v / 1e3 }
func same(v float64) float64      { return v }

// workloads are shown in this order: first what users write (whole
// messages over loopback, the read loop in the handler), then memory.
var workloads = []workload{
	{"Echo", "Echo over loopback, one connection", "Server in a child process, its read loop inside the HTTP handler; both sides read with the api of the row: alloc is ReadMessage (the library's allocating call), append AppendMessage into a reused buffer, stream NextReader/NextWriter. Server CPU is its user+sys time (getrusage) per round trip.", []view{
		{"ns/op", "round trips per second", perSecond, true},
		{"srv-cpu-ns/op", "server CPU µs per round trip", micro, false},
	}},
	{"Idle", "Idle connections", "Live heap + stacks after GC, per connection; each side has one goroutine per connection blocked in ReadMessage. handler=loop: the server reads inside its HTTP handler, on net/http's goroutine, which keeps its state; handler=return: on a goroutine of its own after the handler returned.", []view{
		{"srv-B/conn", "server KB per connection", kilo, false},
		{"srv-stack-B/goroutine", "server stack KB per goroutine", kilo, false},
		{"srv-goroutines/conn", "server goroutines per connection", same, false},
		{"cli-B/conn", "client KB per connection", kilo, false},
		{"cli-goroutines/conn", "client goroutines per connection", same, false},
	}},
	{"Conns", "100 connections × 1 KiB echo", "All connections at once, the server's read loops inside the handler, both sides reading with the api of the row; rates are of all connections together.", []view{
		{"ns/op", "round trips per second", perSecond, true},
		{"srv-cpu-ns/op", "server CPU µs per round trip", micro, false},
	}},
	{"Broadcast", "Broadcast of 1 KiB to 1,000 connections", "One goroutine writes to every connection with the library's best means; clients use the same library.", []view{
		{"ns/op", "ms until all have it", milli, false},
		{"srv-cpu-ns/msg", "server CPU µs per delivered message", micro, false},
	}},
	{"Compress", "Compressed echo, 1 KiB JSON-like text, 10 connections", "permessage-deflate, the server's read loops inside the handler, both sides reading with the api of the row; — means the library cannot negotiate the mode (or has no AppendMessage).", []view{
		{"ns/op", "round trips per second", perSecond, true},
		{"srv-cpu-ns/op", "server CPU µs per round trip", micro, false},
	}},
	{"CompressMem", "Compressed connections, memory after one 1 KiB message each way", "Live heap + stacks after GC, per connection; the server has a goroutine per connection blocked in ReadMessage (handler=loop: net/http's, inside the handler; handler=return: its own), the client none. comp=off is the same without compression.", []view{
		{"srv-B/conn", "server KB per connection", kilo, false},
		{"cli-B/conn", "client KB per connection", kilo, false},
	}},
	{"CodecRead", "Codec, read side (server, in process)", "Messages read from an in-memory stream of masked frames; no network.", []view{
		{"ns/op", "messages per second", perSecond, true},
		{"allocs/op", "allocations per message", same, false},
	}},
	{"CodecWrite", "Codec, write side (client, in process)", "Messages masked and written to a transport that drops them; no network.", []view{
		{"ns/op", "messages per second", perSecond, true},
		{"allocs/op", "allocations per message", same, false},
	}},
}

// libOrder is the column order; unknown libraries follow, tcp stays last.
var libOrder = []string{"ours", "gorilla", "coder", "gobwas", "nbio"}

var lineRE = regexp.MustCompile(`^Benchmark(\S+?)(?:-\d+)?\s+\d+\s+(.+)$`)

// result is every sample of one benchmark, by unit.
type result map[string][]float64

// parse reads benchmark lines: name → unit → samples.
func parse(r io.Reader) (map[string]result, []string, error) {
	out := map[string]result{}
	var order []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := lineRE.FindStringSubmatch(strings.TrimSpace(sc.Text()))
		if m == nil {
			continue
		}
		name, fields := m[1], strings.Fields(m[2])
		res := out[name]
		if res == nil {
			res = result{}
			out[name] = res
			order = append(order, name)
		}
		for i := 0; i+1 < len(fields); i += 2 {
			v, err := strconv.ParseFloat(fields[i], 64)
			if err != nil {
				continue
			}
			res[fields[i+1]] = append(res[fields[i+1]], v)
		}
	}
	return out, order, sc.Err()
}

func median(v []float64) float64 {
	s := slices.Clone(v)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// split turns "Echo/size=64KiB/lib=ours" into the workload, the row key
// ("size=64KiB") and the library.
func split(name string) (work, row, lib string) {
	parts := strings.Split(name, "/")
	work = parts[0]
	var keys []string
	for _, p := range parts[1:] {
		if v, ok := strings.CutPrefix(p, "lib="); ok {
			lib = v
			continue
		}
		keys = append(keys, p)
	}
	return work, strings.Join(keys, " "), lib
}

// format shows v with three significant digits and thousands separators.
func format(v float64) string {
	switch {
	case math.IsNaN(v):
		return "—"
	case v == 0:
		return "0"
	case math.Abs(v) >= 100:
		s := strconv.FormatFloat(math.Round(v), 'f', 0, 64)
		var b strings.Builder
		for i, c := range s {
			if i > 0 && (len(s)-i)%3 == 0 {
				b.WriteByte(',')
			}
			b.WriteRune(c)
		}
		return b.String()
	case math.Abs(v) >= 10:
		return strconv.FormatFloat(v, 'f', 1, 64)
	default:
		return strconv.FormatFloat(v, 'f', 2, 64)
	}
}

// ratio formats a/b as "1.52×", or "—" when it cannot be computed.
func ratio(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) || b == 0 {
		return "—"
	}
	return strconv.FormatFloat(a/b, 'f', 2, 64) + "×"
}

// render writes the tables of every workload found in res.
func render(w io.Writer, res map[string]result, order []string) {
	for _, wl := range workloads {
		var rows []string
		libsSeen := map[string]bool{}
		cells := map[string]map[string]result{} // row → lib → result
		for _, name := range order {
			work, row, lib := split(name)
			if work != wl.name || lib == "" {
				continue
			}
			if cells[row] == nil {
				cells[row] = map[string]result{}
				rows = append(rows, row)
			}
			cells[row][lib] = res[name]
			libsSeen[lib] = true
		}
		if len(rows) == 0 {
			continue
		}
		// ours always has a column: "—" says it did not run (a mode it
		// does not offer).
		libsSeen["ours"] = true
		var libs []string
		for _, l := range libOrder {
			if libsSeen[l] {
				libs = append(libs, l)
			}
		}
		for l := range libsSeen {
			if !slices.Contains(libOrder, l) && l != "tcp" {
				libs = append(libs, l)
			}
		}
		hasTCP := libsSeen["tcp"]
		if hasTCP {
			libs = append(libs, "tcp")
		}
		fmt.Fprintf(w, "### %s\n\n%s\n\n", wl.title, wl.note)
		for _, v := range wl.views {
			fmt.Fprintf(w, "%s:\n\n| %s | %s | ours / best peer |", v.title, "case", strings.Join(libs, " | "))
			if hasTCP {
				fmt.Fprint(w, " ours / tcp |")
			}
			fmt.Fprintln(w)
			fmt.Fprint(w, "|---|", strings.Repeat("---:|", len(libs)+1))
			if hasTCP {
				fmt.Fprint(w, "---:|")
			}
			fmt.Fprintln(w)
			for _, row := range rows {
				vals := map[string]float64{}
				for _, l := range libs {
					vals[l] = math.NaN()
					if samples := cells[row][l][v.unit]; len(samples) > 0 {
						vals[l] = v.scale(median(samples))
					}
				}
				best := math.NaN()
				for _, l := range libs {
					if l == "ours" || l == "tcp" || math.IsNaN(vals[l]) {
						continue
					}
					if math.IsNaN(best) || (v.higher && vals[l] > best) || (!v.higher && vals[l] < best) {
						best = vals[l]
					}
				}
				label := row
				if label == "" {
					label = "—"
				}
				fmt.Fprintf(w, "| %s |", label)
				for _, l := range libs {
					fmt.Fprintf(w, " %s |", format(vals[l]))
				}
				fmt.Fprintf(w, " %s |", ratio(vals["ours"], best))
				if hasTCP {
					fmt.Fprintf(w, " %s |", ratio(vals["ours"], vals["tcp"]))
				}
				fmt.Fprintln(w)
			}
			fmt.Fprintln(w)
		}
	}
}

func main() {
	flag.Usage = func() {
		fmt.Fprintln(os.Stderr, "usage: go test -bench . | table [-before FILE]")
		flag.PrintDefaults()
	}
	beforeFile := flag.String("before", "", "raw `go test -bench` output of an earlier run: the targets table shows its ratios beside this run's")
	flag.Parse()
	res, order, err := parse(os.Stdin)
	if err != nil {
		fmt.Fprintln(os.Stderr, "table:", err)
		os.Exit(1)
	}
	var before map[string]result
	if *beforeFile != "" {
		f, err := os.Open(*beforeFile)
		if err == nil {
			before, _, err = parse(f)
			f.Close()
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, "table:", err)
			os.Exit(1)
		}
	}
	if len(res) == 0 {
		fmt.Fprintln(os.Stderr, "table: no benchmark lines on standard input")
		os.Exit(1)
	}
	if _, ok := res["Echo/size=64KiB/type=text/api=alloc/lib=ours"]; ok {
		renderTargets(os.Stdout, res, before)
	}
	render(os.Stdout, res, order)
}
