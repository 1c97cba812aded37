package main

import (
	"os"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
)

// memory is one process's footprint at a moment, after garbage collection.
type memory struct {
	Heap       int64 `json:"heap"`  // live heap bytes (HeapAlloc)
	Stack      int64 `json:"stack"` // goroutine stack bytes (StackInuse)
	RSS        int64 `json:"rss"`   // resident set, from /proc/self/statm
	Goroutines int64 `json:"goroutines"`
}

// measure collects garbage, returns freed pages to the system so that the
// resident set means what is live, and reads the figures.
func measure() memory {
	runtime.GC()
	// FreeOSMemory collects again and scavenges: two collections also let
	// goroutine stacks shrink (the runtime halves a stack that uses under a
	// quarter of it, at most once per collection).
	debug.FreeOSMemory()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return memory{
		Heap:       int64(ms.HeapAlloc),
		Stack:      int64(ms.StackInuse),
		RSS:        rss(),
		Goroutines: int64(runtime.NumGoroutine()),
	}
}

// rss returns this process's resident set in bytes, or 0 when /proc is
// not there.
func rss() int64 {
	b, err := os.ReadFile("/proc/self/statm")
	if err != nil {
		return 0
	}
	f := strings.Fields(string(b))
	if len(f) < 2 {
		return 0
	}
	pages, err := strconv.ParseInt(f[1], 10, 64)
	if err != nil {
		return 0
	}
	return pages * int64(os.Getpagesize())
}

// raiseFileLimit raises the soft RLIMIT_NOFILE to the hard limit, as far as
// the system lets it, and returns both as they are then.
func raiseFileLimit() (soft, hard uint64) {
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) != nil {
		return 0, 0
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim)
		syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim)
	}
	return lim.Cur, lim.Max
}
