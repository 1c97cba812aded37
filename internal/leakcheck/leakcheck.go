// Package leakcheck fails a test binary whose tests leave goroutines
// running.
package leakcheck

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"
)

// DefaultWait is how long Main lets goroutines that tests started finish
// before it calls them leaked.
const DefaultWait = 5 * time.Second

// ignored are stack fragments of goroutines that belong to the runtime, the
// testing package or the standard library's long-lived helpers, not to a
// test.
var ignored = []string{
	"testing.(*M).",
	"testing.tRunner(",
	"testing.runTests",
	"testing.(*T).Run(",
	"testing.(*F).",
	"os/signal.signal_recv", // signal.Notify's loop
	"os/signal.loop",
	"runtime.ensureSigM",
	"runtime/trace.Start", // go test -trace
	"runtime.handleEvent", // js/wasm: the runtime's goroutine for JavaScript callbacks
}

// Main runs the tests of m, then waits up to DefaultWait for the goroutines
// they started to end, and exits. The exit code is m.Run's, or 1 when
// goroutines remain: their stacks are printed. Call it from TestMain.
func Main(m *testing.M) {
	code := m.Run()
	if code == 0 {
		if leaked := Wait(DefaultWait); len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "leakcheck: %d goroutine(s) still running after the tests:\n\n%s\n",
				len(leaked), strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// Wait polls, with growing pauses, until no goroutine other than the
// caller and the ignored ones is running, or until max has passed. It
// returns the stacks of those still running.
func Wait(max time.Duration) []string {
	deadline := time.Now().Add(max)
	pause := time.Millisecond
	for {
		leaked := running()
		if len(leaked) == 0 || time.Now().After(deadline) {
			return leaked
		}
		time.Sleep(pause)
		pause = min(2*pause, 100*time.Millisecond)
	}
}

// running returns the stacks of the goroutines a test may have leaked.
func running() []string {
	buf := make([]byte, 1<<20)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	// The first goroutine is the caller.
	stacks := strings.Split(string(buf), "\n\n")[1:]
	var leaked []string
	for _, s := range stacks {
		if s = strings.TrimSpace(s); s != "" && !isIgnored(s) {
			leaked = append(leaked, s)
		}
	}
	return leaked
}

func isIgnored(stack string) bool {
	for _, frag := range ignored {
		if strings.Contains(stack, frag) {
			return true
		}
	}
	return false
}
