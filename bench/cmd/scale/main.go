// Command scale measures how many WebSocket connections one machine holds
// and what each costs, in the handler-loop pattern (the read loop runs
// inside the http.Handler, as most applications write it), for this
// module's library, gorilla/websocket and the tcp floor of package bench.
// It is Linux only (SO_REUSEPORT, /proc) and is run by `bench/run.sh scale`.
//
// Three steps, each ramping up through counts of connections:
//
//  1. One server process over real loopback sockets, up to what its
//     open-file limit allows: it raises its soft RLIMIT_NOFILE to the hard
//     limit and reports both. Clients run in other processes, each from a
//     loopback source address of its own (127.0.0.2, 127.0.0.3, …), so
//     that no address runs out of ephemeral ports.
//  2. Several server processes sharing one port (SO_REUSEPORT) until the
//     machine holds -machine connections, each process reporting its own
//     figures.
//  3. The library alone, in one process: server Conns over in-memory pipes
//     (no file descriptor, no net/http server), each with a goroutine
//     blocked in ReadMessage.
//
// At each count it reports the servers' resident set and live heap plus
// goroutine stacks per connection (after garbage collection), goroutines
// per connection, the connections opened per second during the ramp, the
// p50 and p99 round trip of a 64-byte message while -active percent of the
// connections send one every -interval and the rest stay idle, and the
// failures. After the clients leave it measures again, against the
// baseline taken before any connection.
package main

import (
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// runRole plays the role a step started this process in (server, client
// or in-process, from roleEnv), and reports whether it had one.
func runRole() bool {
	switch os.Getenv(roleEnv) {
	case "server":
		runServer()
	case "client":
		runClient()
	case "inproc":
		runInproc()
	default:
		return false
	}
	return true
}

func main() {
	if runRole() {
		return
	}
	var o options
	flag.StringVar(&o.steps, "steps", "1,2,3", "the steps to run")
	flag.StringVar(&o.libs, "libs", "ours,gorilla,tcp", "the libraries of steps 1 and 2")
	flag.StringVar(&o.counts, "counts", "1000,5000,10000,max", "step 1's counts; max is the open-file limit less a reserve")
	flag.StringVar(&o.machine, "machine", "10000,50000,100000", "step 2's counts, all server processes together")
	flag.IntVar(&o.servers, "servers", 0, "step 2's server processes; 0 is enough to hold the largest count at 70% of the limit each")
	flag.StringVar(&o.inproc, "inproc", "10000,100000,1000000", "step 3's counts")
	flag.IntVar(&o.perClient, "per-client", 17000, "the most connections one client process opens")
	flag.Float64Var(&o.active, "active", 1, "the percentage of connections exchanging messages")
	flag.IntVar(&o.rounds, "rounds", 20, "round trips per active connection")
	flag.DurationVar(&o.interval, "interval", 100*time.Millisecond, "time between two round trips of an active connection")
	flag.StringVar(&o.profile, "profile", "", "directory for heap profiles of the servers at the largest count")
	flag.Parse()
	fmt.Printf("# scale: %s, %d cores, %s, go %s, load %s\n", time.Now().UTC().Format(time.RFC3339), runtime.NumCPU(), memTotal(), runtime.Version(), loadAvg())
	fmt.Printf("# %s\n", strings.Join(os.Args[1:], " "))
	if err := o.runSteps(); err != nil {
		os.Exit(1)
	}
}

// runSteps runs the steps of o.steps in order, all of them even when one
// fails, and reports the first failure.
func (o *options) runSteps() error {
	var first error
	for _, step := range strings.Split(o.steps, ",") {
		var err error
		switch step {
		case "1":
			err = o.step1()
		case "2":
			err = o.step2()
		case "3":
			err = o.step3()
		default:
			err = fmt.Errorf("unknown step %q", step)
		}
		if err != nil {
			err = fmt.Errorf("scale: step %s: %w", step, err)
			fmt.Fprintln(os.Stderr, err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// options are the flags.
type options struct {
	steps, libs, counts, machine, inproc string
	servers, perClient, rounds           int
	active                               float64
	interval                             time.Duration
	profile                              string
	runs                                 []run // what the steps measured, for tests
}

// ints parses a comma-separated list of counts; "max" becomes max.
func ints(s string, max int) ([]int, error) {
	var out []int
	for _, f := range strings.Split(s, ",") {
		if f == "max" {
			out = append(out, max)
			continue
		}
		n, err := strconv.Atoi(strings.ReplaceAll(f, "_", ""))
		if err != nil || n <= 0 {
			return nil, fmt.Errorf("bad count %q", f)
		}
		out = append(out, n)
	}
	return out, nil
}

// memTotal returns the machine's memory as /proc/meminfo says.
func memTotal() string {
	b, _ := os.ReadFile("/proc/meminfo")
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 2 {
		return "memory unknown"
	}
	kb, _ := strconv.ParseFloat(f[1], 64)
	return fmt.Sprintf("%.1f GiB RAM", kb/(1<<20))
}

// loadAvg returns the 1, 5 and 15-minute load averages.
func loadAvg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], " ")
}
