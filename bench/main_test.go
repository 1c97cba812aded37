package bench

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/leakcheck"
)

var (
	childOnce sync.Once
	theChild  *Child
	childErr  error
	fileLimit uint64
)

func TestMain(m *testing.M) {
	if os.Getenv(ChildEnv) != "" {
		os.Exit(RunChild())
	}
	fileLimit, _ = RaiseFileLimit()
	code := m.Run()
	if theChild != nil {
		theChild.Stop()
	}
	if code == 0 {
		if leaked := leakcheck.Wait(leakcheck.DefaultWait); len(leaked) > 0 {
			fmt.Fprintf(os.Stderr, "leakcheck: %d goroutine(s) still running after the tests:\n\n%s\n", len(leaked), strings.Join(leaked, "\n\n"))
			code = 1
		}
	}
	os.Exit(code)
}

// child returns the loopback server process, started on first use.
func child(tb testing.TB) *Child {
	tb.Helper()
	childOnce.Do(func() { theChild, childErr = StartChild() })
	if childErr != nil {
		tb.Fatal(childErr)
	}
	return theChild
}

// profileName turns a benchmark name into a file name.
func profileName(tb testing.TB) string {
	return strings.NewReplacer("/", "_", "=", "-").Replace(tb.Name())
}

// wsLibraries is every library but the tcp floor.
func wsLibraries() []Library {
	var out []Library
	for _, l := range Libraries() {
		if l.Name() != "tcp" {
			out = append(out, l)
		}
	}
	return out
}

// sizeName writes sizes as the tables do: 16B, 1KiB, 64KiB, 1MiB.
func sizeName(n int) string {
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return fmt.Sprintf("%dB", n)
}

// dialMany opens n client connections to url with lib, dialing a few at a
// time so that the listen backlog never overflows.
func dialMany(tb testing.TB, lib Library, url string, n int, o Options) []Conn {
	tb.Helper()
	return dialEach(tb, lib, url, n, o, nil)
}

// dialEach is dialMany that also runs then, when not nil, on each new
// connection before keeping it.
func dialEach(tb testing.TB, lib Library, url string, n int, o Options, then func(i int, c Conn) error) []Conn {
	tb.Helper()
	conns := make([]Conn, n)
	errs := make(chan error, n)
	var wg sync.WaitGroup
	const parallel = 16
	next := make(chan int)
	for range min(parallel, n) {
		wg.Go(func() {
			for i := range next {
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				c, err := lib.Dial(ctx, url, o)
				cancel()
				if err != nil {
					errs <- fmt.Errorf("dial: %w", err)
					continue
				}
				conns[i] = c
				if then != nil {
					if err := then(i, c); err != nil {
						errs <- err
					}
				}
			}
		})
	}
	for i := range n {
		next <- i
	}
	close(next)
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		closeAll(conns)
		tb.Fatalf("%s: %v", lib.Name(), err)
	}
	return conns
}

// closeAll drops every connection.
func closeAll(conns []Conn) {
	for _, c := range conns {
		if c != nil {
			c.Close()
		}
	}
}

// settle waits until the server has no connection left from a previous
// workload, so that counts and measurements start clean.
func settle(tb testing.TB, ch *Child) {
	tb.Helper()
	if err := ch.WaitActive(0, 60*time.Second); err != nil {
		tb.Fatalf("server connections did not end: %v", err)
	}
}

// serverCPU returns the server's CPU time so far.
func serverCPU(tb testing.TB, ch *Child) time.Duration {
	tb.Helper()
	d, err := ch.CPU()
	if err != nil {
		tb.Fatal(err)
	}
	return d
}

// profileServer, when BENCH_PROFILE_DIR is set, records a 2-second CPU
// profile of the server in that directory, starting now; the returned
// function waits for it. It is how run.sh's numbers get explained.
func profileServer(tb testing.TB, ch *Child, name string) func() {
	dir := os.Getenv("BENCH_PROFILE_DIR")
	if dir == "" {
		return func() {}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if err := ch.Profile("profile", "seconds=2", filepath.Join(dir, name+"-cpu.prof")); err != nil {
			tb.Log(err)
		}
	}()
	return func() { <-done }
}

// readStream reads a whole message through the streaming API into buf's
// chunks and returns its length.
func readStream(c Conn, buf []byte) (MsgType, int, error) {
	t, r, err := c.NextReader()
	if err != nil {
		return 0, 0, err
	}
	total := 0
	for {
		n, err := r.Read(buf)
		total += n
		if err != nil {
			if errors.Is(err, io.EOF) {
				return t, total, nil
			}
			return t, total, err
		}
	}
}

// writeStream writes p as one message through the streaming API, in
// pieces of at most chunk bytes.
func writeStream(c Conn, t MsgType, p []byte, chunk int) error {
	w, err := c.NextWriter(t)
	if err != nil {
		return err
	}
	for off := 0; off < len(p); off += chunk {
		if _, err := w.Write(p[off:min(off+chunk, len(p))]); err != nil {
			return err
		}
	}
	return w.Close()
}
