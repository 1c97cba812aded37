package main

import (
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"
)

// fleet is the processes of one run of one library: servers, and clients
// each holding open[i] connections. In step 3 one process is both.
type fleet struct {
	o       *options
	servers []*proc
	clients []*proc
	open    []int
	base    []memory // each server's figures before any connection
	peak    []memory // each server's figures at the largest count
}

// each runs f on every process of ps at once and returns the first error.
func each(ps []*proc, f func(i int, p *proc) error) error {
	errs := make([]error, len(ps))
	var wg sync.WaitGroup
	for i, p := range ps {
		wg.Go(func() { errs[i] = f(i, p) })
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}

func (f *fleet) stop() {
	seen := map[*proc]bool{}
	for _, p := range append(f.clients, f.servers...) {
		if !seen[p] {
			seen[p] = true
			p.stop()
		}
	}
}

// mem returns each server's figures after garbage collection.
func (f *fleet) mem() ([]reply, error) {
	rs := make([]reply, len(f.servers))
	err := each(f.servers, func(i int, p *proc) error {
		var err error
		rs[i], err = p.do(command{Op: "mem"})
		return err
	})
	return rs, err
}

// waitActive polls the servers until they hold want connections together,
// and returns their last answers.
func (f *fleet) waitActive(want int, timeout time.Duration) ([]reply, error) {
	deadline := time.Now().Add(timeout)
	for {
		rs := make([]reply, len(f.servers))
		err := each(f.servers, func(i int, p *proc) error {
			var err error
			rs[i], err = p.do(command{Op: "active"})
			return err
		})
		if err != nil {
			return nil, err
		}
		n := 0
		for _, r := range rs {
			n += r.Active
		}
		if n == want {
			return rs, nil
		}
		if time.Now().After(deadline) {
			return rs, fmt.Errorf("servers hold %d connections, not %d, after %v", n, want, timeout)
		}
		time.Sleep(50 * time.Millisecond) // a poll of other processes, not a test's synchronisation
	}
}

// grow opens connections until the clients hold target together, spread
// evenly, and returns the connections per second, the failed dials and
// the first error a client saw.
func (f *fleet) grow(target int) (float64, int, string, error) {
	start := time.Now()
	before := 0
	for _, n := range f.open {
		before += n
	}
	var mu sync.Mutex
	failures, first := 0, ""
	err := each(f.clients, func(i int, p *proc) error {
		share := target / len(f.clients)
		if i < target%len(f.clients) {
			share++
		}
		if share <= f.open[i] {
			return nil
		}
		r, err := p.do(command{Op: "dial", N: share - f.open[i]})
		mu.Lock()
		defer mu.Unlock()
		f.open[i] = r.Open
		failures += r.Failures
		if first == "" {
			first = r.FirstEr
		}
		return err
	})
	if err != nil {
		return 0, failures, first, err
	}
	total := 0
	for _, n := range f.open {
		total += n
	}
	if _, err := f.waitActive(total, 2*time.Minute); err != nil {
		return 0, failures, first, err
	}
	return float64(total-before) / time.Since(start).Seconds(), failures, first, nil
}

// echo runs the active connections' round trips on every client at once
// and returns all round-trip times, sorted, and the failures.
func (f *fleet) echo(count int) ([]int64, int, string, error) {
	active := int(math.Ceil(float64(count) * f.o.active / 100))
	var mu sync.Mutex
	var rtts []int64
	failures, first := 0, ""
	err := each(f.clients, func(i int, p *proc) error {
		n := int(math.Ceil(float64(active) * float64(f.open[i]) / float64(count)))
		r, err := p.do(command{Op: "echo", N: n, Rounds: f.o.rounds, Interval: f.o.interval})
		mu.Lock()
		defer mu.Unlock()
		rtts = append(rtts, r.RTT...)
		failures += r.Failures
		if first == "" {
			first = r.FirstEr
		}
		return err
	})
	slices.Sort(rtts)
	return rtts, failures, first, err
}

// percentile returns the q-quantile of sorted, in microseconds.
func percentile(sorted []int64, q float64) int64 {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, int(q*float64(len(sorted))))]
}

// closeAll makes the clients close every connection and waits for the
// servers to see them go.
func (f *fleet) closeAll() error {
	err := each(f.clients, func(i int, p *proc) error {
		r, err := p.do(command{Op: "close"})
		f.open[i] = r.Open
		return err
	})
	if err != nil {
		return err
	}
	_, err = f.waitActive(0, 2*time.Minute)
	return err
}

// header prints the table's head.
func header(title string) {
	fmt.Printf("\n## %s\n\n", title)
	fmt.Println("| lib | server | conns | RSS/conn | heap+stack/conn | stack/conn | goroutines/conn | ramp conn/s | p50 µs | p99 µs | round trips | failures |")
	fmt.Println("|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|")
}

// perConn is (now - base) / n in bytes, formatted in KiB.
func perConn(now, base int64, n int) string {
	if n == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f KiB", float64(now-base)/float64(n)/1024)
}

// result is what a test checks of one count of a ramp.
type result struct {
	Conns          int     // connections the servers held
	Failures       int     // failed dials, upgrades, accepts and echoes
	RoundTrips     int     // round trips of the active connections
	HeapStackBytes float64 // live heap plus stacks per connection
}

// row prints the figures of servers rs (against their baselines) at one
// count, and returns them.
func row(lib, server string, rs []reply, base []memory, rate float64, rtts []int64, failures int) result {
	var m, b memory
	n := 0
	for i, r := range rs {
		m.RSS += r.Mem.RSS
		m.Heap += r.Mem.Heap
		m.Stack += r.Mem.Stack
		m.Goroutines += r.Mem.Goroutines
		b.RSS += base[i].RSS
		b.Heap += base[i].Heap
		b.Stack += base[i].Stack
		b.Goroutines += base[i].Goroutines
		n += r.Active
		failures += r.Failures
	}
	gor := "—"
	if n > 0 {
		gor = fmt.Sprintf("%.2f", float64(m.Goroutines-b.Goroutines)/float64(n))
	}
	rateS, p50, p99, trips := "—", "—", "—", "—"
	if rate > 0 {
		rateS = fmt.Sprintf("%.0f", rate)
	}
	if len(rtts) > 0 {
		p50 = fmt.Sprint(percentile(rtts, 0.50))
		p99 = fmt.Sprint(percentile(rtts, 0.99))
		trips = fmt.Sprint(len(rtts))
	}
	fmt.Printf("| %s | %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %d |\n", lib, server, n,
		perConn(m.RSS, b.RSS, n), perConn(m.Heap+m.Stack, b.Heap+b.Stack, n), perConn(m.Stack, b.Stack, n),
		gor, rateS, p50, p99, trips, failures)
	res := result{Conns: n, Failures: failures, RoundTrips: len(rtts)}
	if n > 0 {
		res.HeapStackBytes = float64(m.Heap+m.Stack-b.Heap-b.Stack) / float64(n)
	}
	return res
}

// after prints what the servers hold once the clients have left, against
// their baselines and their peaks, and returns the part of the heap+stack
// growth released.
func after(lib string, rs []reply, base, peak []memory) float64 {
	var a, b, p memory
	for i, r := range rs {
		a.RSS += r.Mem.RSS
		a.Heap += r.Mem.Heap + r.Mem.Stack
		a.Goroutines += r.Mem.Goroutines
		b.RSS += base[i].RSS
		b.Heap += base[i].Heap + base[i].Stack
		b.Goroutines += base[i].Goroutines
		p.RSS += peak[i].RSS
		p.Heap += peak[i].Heap + peak[i].Stack
	}
	released := func(a, b, p int64) string {
		if p <= b {
			return "—"
		}
		return fmt.Sprintf("%.1f%%", 100*float64(p-a)/float64(p-b))
	}
	fmt.Printf("\n%s after the clients left: heap+stack %.1f MiB (baseline %.1f MiB, peak %.1f MiB, %s of the growth released), RSS %.1f MiB (baseline %.1f MiB, peak %.1f MiB, %s released), goroutines %d (baseline %d)\n",
		lib, mib(a.Heap), mib(b.Heap), mib(p.Heap), released(a.Heap, b.Heap, p.Heap),
		mib(a.RSS), mib(b.RSS), mib(p.RSS), released(a.RSS, b.RSS, p.RSS), a.Goroutines, b.Goroutines)
	if p.Heap <= b.Heap {
		return 1
	}
	return float64(p.Heap-a.Heap) / float64(p.Heap-b.Heap)
}

func mib(v int64) float64 { return float64(v) / (1 << 20) }

func mems(rs []reply) []memory {
	out := make([]memory, len(rs))
	for i, r := range rs {
		out[i] = r.Mem
	}
	return out
}

// ramp runs f's counts: grow, measure, exchange, print; then closes all
// and prints what is left. perServer prints a row per server process too.
// It returns the results of each count and the part of the growth released
// at the end.
func (f *fleet) ramp(lib string, counts []int, perServer bool) (results []result, released float64, err error) {
	rs, err := f.mem()
	if err != nil {
		return nil, 0, err
	}
	f.base = mems(rs)
	for ci, count := range counts {
		rate, failures, first, err := f.grow(count)
		if first != "" {
			fmt.Printf("<!-- %s %d: first client failure: %s -->\n", lib, count, first)
		}
		if err != nil {
			return results, 0, err
		}
		rs, err := f.mem()
		if err != nil {
			return results, 0, err
		}
		if ci == len(counts)-1 {
			f.peak = mems(rs)
			if f.o.profile != "" {
				for i, p := range f.servers {
					path, _ := filepath.Abs(filepath.Join(f.o.profile, fmt.Sprintf("scale-%s-%d-%d.heap", lib, count, i)))
					if _, err := p.do(command{Op: "profile", Path: path}); err != nil {
						return results, 0, err
					}
				}
			}
		}
		rtts, efail, efirst, err := f.echo(count)
		if efirst != "" {
			fmt.Printf("<!-- %s %d: first echo failure: %s -->\n", lib, count, efirst)
		}
		if err != nil {
			return results, 0, err
		}
		name := "all"
		if len(f.servers) == 1 {
			name = "1"
		}
		results = append(results, row(lib, name, rs, f.base, rate, rtts, failures+efail))
		if perServer && len(f.servers) > 1 {
			for i, r := range rs {
				row(lib, fmt.Sprint(i+1), []reply{r}, f.base[i:i+1], 0, nil, 0)
			}
		}
	}
	if err := f.closeAll(); err != nil {
		return results, 0, err
	}
	rs, err = f.mem()
	if err != nil {
		return results, 0, err
	}
	return results, after(lib, rs, f.base, f.peak), nil
}

// startClients starts n client processes of lib against url, the i-th
// from source address 127.0.0.(2+i).
func (f *fleet) startClients(lib, url string, n int) error {
	for i := range n {
		p, _, err := startProc("client", libEnv+"="+lib, urlEnv+"="+url, fmt.Sprintf("%s=127.0.0.%d", srcEnv, 2+i))
		if err != nil {
			return err
		}
		f.clients = append(f.clients, p)
		f.open = append(f.open, 0)
	}
	return nil
}

// fileReserve is what a server keeps of its open-file limit for other
// files than connections (standard streams, listener, epoll, pipes).
const fileReserve = 100

// step1 is one server process per library, up to its open-file limit.
func (o *options) step1() error {
	for _, lib := range strings.Split(o.libs, ",") {
		srv, first, err := startProc("server", libEnv+"="+lib, addrEnv+"=127.0.0.1:0")
		if err != nil {
			return err
		}
		f := &fleet{o: o, servers: []*proc{srv}}
		err = func() error {
			defer f.stop()
			counts, err := ints(o.counts, int(first.Soft)-fileReserve)
			if err != nil {
				return err
			}
			largest := slices.Max(counts)
			if err := f.startClients(lib, "ws://"+first.Addr+"/ws", (largest+o.perClient-1)/o.perClient); err != nil {
				return err
			}
			header(fmt.Sprintf("Step 1: %s, one server process (open files: soft limit %d, hard limit %d), %d client processes", lib, first.Soft, first.Hard, len(f.clients)))
			return o.record(1, lib)(f.ramp(lib, counts, false))
		}()
		if err != nil {
			return fmt.Errorf("%s: %w", lib, err)
		}
	}
	return nil
}

// step2 is several server processes sharing one port, per library.
func (o *options) step2() error {
	counts, err := ints(o.machine, 0)
	if err != nil {
		return err
	}
	largest := slices.Max(counts)
	for _, lib := range strings.Split(o.libs, ",") {
		f := &fleet{o: o}
		err := func() error {
			defer f.stop()
			srv, first, err := startProc("server", libEnv+"="+lib, addrEnv+"=127.0.0.1:0", reusePortEnv+"=1")
			if err != nil {
				return err
			}
			f.servers = append(f.servers, srv)
			k := o.servers
			if k == 0 {
				// The kernel's hash spreads connections unevenly: keep
				// each process at 70% of its limit on average.
				k = int(math.Ceil(float64(largest) / (0.7 * float64(first.Soft-fileReserve))))
			}
			for range k - 1 {
				p, _, err := startProc("server", libEnv+"="+lib, addrEnv+"="+first.Addr, reusePortEnv+"=1")
				if err != nil {
					return err
				}
				f.servers = append(f.servers, p)
			}
			if err := f.startClients(lib, "ws://"+first.Addr+"/ws", (largest+o.perClient-1)/o.perClient); err != nil {
				return err
			}
			header(fmt.Sprintf("Step 2: %s, %d server processes on one port (SO_REUSEPORT; open files: soft limit %d, hard limit %d each), %d client processes", lib, k, first.Soft, first.Hard, len(f.clients)))
			return o.record(2, lib)(f.ramp(lib, counts, true))
		}()
		if err != nil {
			return fmt.Errorf("%s: %w", lib, err)
		}
	}
	return nil
}

// step3 is the library alone, in process, over pipes.
func (o *options) step3() error {
	counts, err := ints(o.inproc, 0)
	if err != nil {
		return err
	}
	p, first, err := startProc("inproc", libEnv+"=ours")
	if err != nil {
		return err
	}
	f := &fleet{o: o, servers: []*proc{p}, clients: []*proc{p}, open: []int{0}}
	defer f.stop()
	header(fmt.Sprintf("Step 3: ours alone, in process, over in-memory pipes (each connection's figures include its pipe, %d B, and the runtime's waiters of its blocked select)", first.PipeBytes))
	return o.record(3, "ours")(f.ramp("ours", counts, false))
}

// run is the outcome of one library's ramp in one step.
type run struct {
	Step     int
	Lib      string
	Results  []result
	Released float64 // the part of the heap+stack growth released at the end
}

// record returns a function that keeps a ramp's outcome in o.runs and
// passes its error on.
func (o *options) record(step int, lib string) func([]result, float64, error) error {
	return func(rs []result, released float64, err error) error {
		o.runs = append(o.runs, run{Step: step, Lib: lib, Results: rs, Released: released})
		return err
	}
}
