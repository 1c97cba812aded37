package h2stream

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"os"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/leakcheck"
)

// TestMain fails the run when a test leaves goroutines behind.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// testTimeout bounds every wait; reaching it is a failure.
const testTimeout = 10 * time.Second

// gate is an Out that blocks each write until the test opens it or the
// stream is aborted, and reports when a write has begun.
type gate struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	entered chan struct{} // receives once per write that began
	open    chan struct{} // closed: writes pass
	abort   chan struct{} // closed by Abort: writes fail, unless taken
	aborts  atomic.Int32
	writes  atomic.Int32

	// taken makes an aborted write succeed, as a client's Body does when
	// the transport had read the whole chunk and was sending it.
	taken bool
}

func newGate() *gate {
	return &gate{entered: make(chan struct{}, 16), open: make(chan struct{}), abort: make(chan struct{})}
}

func (g *gate) Write(p []byte) (int, error) {
	g.writes.Add(1)
	g.entered <- struct{}{}
	select {
	case <-g.open:
	case <-g.abort:
		if !g.taken {
			return 0, errors.New("stream reset")
		}
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

func (g *gate) Abort() {
	if g.aborts.Add(1) == 1 {
		close(g.abort)
	}
}

func (g *gate) written() string {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.String()
}

// newTestConn returns a Conn whose incoming bytes the test writes to the
// returned pipe, and whose Out is g. It is closed when the test ends.
func newTestConn(t *testing.T, g *gate, edit func(*Config)) (*Conn, *io.PipeWriter) {
	t.Helper()
	pr, pw := io.Pipe()
	cfg := Config{In: pr, Out: g, Abort: g.Abort}
	if edit != nil {
		edit(&cfg)
	}
	c := New(cfg)
	t.Cleanup(func() {
		c.Close()
		pw.Close()
		c.Wait()
	})
	return c, pw
}

// within fails the test unless done is closed within testTimeout.
func within(t *testing.T, done <-chan struct{}, what string) {
	t.Helper()
	select {
	case <-done:
	case <-time.After(testTimeout):
		t.Fatalf("%s did not happen within %v", what, testTimeout)
	}
}

func isTimeout(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout() && errors.Is(err, os.ErrDeadlineExceeded)
}

func TestReadDeliversBytesThenEOF(t *testing.T) {
	c, pw := newTestConn(t, newGate(), nil)
	want := bytes.Repeat([]byte("0123456789abcdef"), 3*pumpBufferSize/16+7)
	go func() {
		for b := want; len(b) > 0; {
			n := min(len(b), 1000)
			pw.Write(b[:n])
			b = b[n:]
		}
		pw.Close()
	}()
	got, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, want) {
		t.Fatalf("read %d bytes, want the %d written", len(got), len(want))
	}
	if n, err := c.Read(make([]byte, 1)); n != 0 || err != io.EOF {
		t.Fatalf("Read after EOF = %d, %v; want 0, EOF", n, err)
	}
}

// TestPumpHoldsOneBuffer checks that the Conn takes at most one buffer's
// worth from the stream before the reader has consumed it: flow control,
// not the Conn, holds back a fast peer.
func TestPumpHoldsOneBuffer(t *testing.T) {
	var taken atomic.Int64
	pr, pw := io.Pipe()
	in := countingReader{pr, &taken}
	c, _ := newTestConn(t, newGate(), func(cfg *Config) { cfg.In = readCloser{in, pr} })
	go pw.Write(make([]byte, 4*pumpBufferSize)) // ends when the pipe is closed
	t.Cleanup(func() { pw.Close() })
	if _, err := c.Read(make([]byte, 1)); err != nil {
		t.Fatal(err)
	}
	// The pump reads again only once the reader has taken everything it
	// handed over, which it has not.
	if n := taken.Load(); n > pumpBufferSize {
		t.Fatalf("the Conn took %d bytes from the stream, more than its %d-byte buffer", n, pumpBufferSize)
	}
}

type countingReader struct {
	r io.Reader
	n *atomic.Int64
}

func (c countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n.Add(int64(n))
	return n, err
}

type readCloser struct {
	io.Reader
	io.Closer
}

func TestReadDeadlineIsResumable(t *testing.T) {
	c, pw := newTestConn(t, newGate(), nil)
	c.SetReadDeadline(time.Unix(1, 0))
	if _, err := c.Read(make([]byte, 8)); !isTimeout(err) {
		t.Fatalf("Read with a past deadline: %v, want a timeout", err)
	}
	// A deadline that passes while Read waits.
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := c.Read(make([]byte, 8)); !isTimeout(err) {
		t.Fatalf("Read reaching its deadline: %v, want a timeout", err)
	}
	// Bytes that arrive while the deadline has passed are kept.
	go pw.Write([]byte("hello"))
	c.SetReadDeadline(time.Time{})
	buf := make([]byte, 8)
	n, err := c.Read(buf)
	if err != nil || string(buf[:n]) != "hello" {
		t.Fatalf("Read after clearing the deadline = %q, %v; want hello", buf[:n], err)
	}
}

func TestWriteDeadlineBetweenWritesFailsOnlyTheNext(t *testing.T) {
	g := newGate()
	close(g.open)
	c, _ := newTestConn(t, g, nil)
	c.SetWriteDeadline(time.Unix(1, 0))
	if n, err := c.Write([]byte("x")); n != 0 || !isTimeout(err) {
		t.Fatalf("Write with a past deadline = %d, %v; want 0 and a timeout", n, err)
	}
	if g.writes.Load() != 0 || g.aborts.Load() != 0 {
		t.Fatalf("the stream saw %d writes and %d aborts, want none", g.writes.Load(), g.aborts.Load())
	}
	c.SetWriteDeadline(time.Now().Add(testTimeout))
	if n, err := c.Write([]byte("ok")); n != 2 || err != nil {
		t.Fatalf("Write after a new deadline = %d, %v", n, err)
	}
	if got := g.written(); got != "ok" {
		t.Fatalf("stream got %q, want ok", got)
	}
}

func TestWriteDeadlineDuringWriteAborts(t *testing.T) {
	g := newGate()
	c, _ := newTestConn(t, g, nil)
	done := make(chan error, 1)
	go func() {
		_, err := c.Write([]byte("blocked"))
		done <- err
	}()
	within(t, g.entered, "the write")
	c.SetWriteDeadline(time.Unix(1, 0))
	select {
	case err := <-done:
		if !isTimeout(err) {
			t.Fatalf("aborted Write: %v, want a timeout", err)
		}
	case <-time.After(testTimeout):
		t.Fatal("the write was not aborted")
	}
	if g.aborts.Load() != 1 {
		t.Fatalf("Abort called %d times, want 1", g.aborts.Load())
	}
	c.SetWriteDeadline(time.Time{})
	if _, err := c.Write([]byte("more")); !errors.Is(err, ErrAborted) {
		t.Fatalf("Write after an abort: %v, want ErrAborted", err)
	}
}

// TestAbortAfterTheStreamTookTheWrite checks a write whose bytes the
// stream had all taken when Close or the write deadline aborted it: the
// abort reset the stream, so the write fails all the same, with the abort's
// error, and so do the writes after it. (The close handshake no longer
// needs such a write to count as sent: the websocket Conn does not close
// its transport while its close frame is being written.)
func TestAbortAfterTheStreamTookTheWrite(t *testing.T) {
	const msg = "close frame"
	for _, tc := range []struct {
		name  string
		abort func(c *Conn)
		check func(err error) bool // of the aborted write
		next  error                // what the write after it fails with
	}{
		{"Close", func(c *Conn) { c.Close() }, func(err error) bool { return errors.Is(err, net.ErrClosed) }, net.ErrClosed},
		{"deadline", func(c *Conn) { c.SetWriteDeadline(time.Unix(1, 0)) }, isTimeout, ErrAborted},
	} {
		t.Run(tc.name, func(t *testing.T) {
			g := newGate()
			g.taken = true
			c, _ := newTestConn(t, g, nil)
			done := make(chan writeResult, 1)
			go func() {
				n, err := c.Write([]byte(msg))
				done <- writeResult{n, err}
			}()
			within(t, g.entered, "the write")
			tc.abort(c)
			select {
			case r := <-done:
				if r.n != len(msg) || !tc.check(r.err) {
					t.Fatalf("aborted Write the stream took = %d, %v", r.n, r.err)
				}
			case <-time.After(testTimeout):
				t.Fatal("the write did not return after the abort")
			}
			if g.aborts.Load() != 1 {
				t.Fatalf("Abort called %d times, want 1", g.aborts.Load())
			}
			c.SetWriteDeadline(time.Time{})
			if _, err := c.Write([]byte("more")); !errors.Is(err, tc.next) {
				t.Fatalf("Write after the abort: %v, want %v", err, tc.next)
			}
			if got := g.written(); got != msg {
				t.Fatalf("the stream got %q, want only the first write", got)
			}
		})
	}
}

func TestCloseUnblocksReadAndWrite(t *testing.T) {
	g := newGate()
	finished := 0
	c, _ := newTestConn(t, g, func(cfg *Config) { cfg.Finish = func() error { finished++; return nil } })
	readErr := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 8))
		readErr <- err
	}()
	writeErr := make(chan error, 1)
	go func() {
		_, err := c.Write([]byte("blocked"))
		writeErr <- err
	}()
	within(t, g.entered, "the write")
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	for name, ch := range map[string]chan error{"Read": readErr, "Write": writeErr} {
		select {
		case err := <-ch:
			if !errors.Is(err, net.ErrClosed) {
				t.Errorf("%s after Close: %v, want net.ErrClosed", name, err)
			}
		case <-time.After(testTimeout):
			t.Fatalf("%s still blocked after Close", name)
		}
	}
	if g.aborts.Load() != 1 || finished != 1 {
		t.Fatalf("Close: %d aborts, %d finishes; want 1 and 1", g.aborts.Load(), finished)
	}
	if err := c.Close(); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("second Close: %v, want net.ErrClosed", err)
	}
	done := make(chan struct{})
	go func() { c.Wait(); close(done) }()
	within(t, done, "the end of the pump")
	if err := c.SetReadDeadline(time.Time{}); !errors.Is(err, net.ErrClosed) {
		t.Fatalf("SetReadDeadline after Close: %v", err)
	}
}

// TestContextEndLeavesOutAlone checks that the end of the stream's context
// (the handler returned, or the client reset the stream) stops writes
// without another call to Out or Abort, which net/http forbids after the
// handler returned, and that reads still deliver what arrived before.
func TestContextEndLeavesOutAlone(t *testing.T) {
	g := newGate()
	close(g.open)
	ctx, cancel := context.WithCancel(context.Background())
	c, pw := newTestConn(t, g, func(cfg *Config) { cfg.Context = ctx })
	go func() {
		pw.Write([]byte("last words"))
		pw.CloseWithError(errors.New("stream reset"))
	}()
	cancel()
	if _, err := c.Write([]byte("late")); !errors.Is(err, ErrStreamEnded) {
		t.Fatalf("Write after the context ended: %v, want ErrStreamEnded", err)
	}
	c.SetReadDeadline(time.Now().Add(testTimeout))
	got, err := io.ReadAll(c)
	if string(got) != "last words" || err == nil || err.Error() != "stream reset" {
		t.Fatalf("reads after the context ended: %q, %v; want the bytes, then the stream's error", got, err)
	}
	c.Close()
	if g.writes.Load() != 0 || g.aborts.Load() != 0 {
		t.Fatalf("Out saw %d writes and %d aborts after the context ended", g.writes.Load(), g.aborts.Load())
	}
}

type panicWriter struct{}

func (panicWriter) Write([]byte) (int, error) { panic("Write called after Handler finished") }

func TestPanicInOutBecomesError(t *testing.T) {
	c, _ := newTestConn(t, newGate(), func(cfg *Config) { cfg.Out = panicWriter{} })
	if _, err := c.Write([]byte("x")); !errors.Is(err, ErrStreamEnded) {
		t.Fatalf("Write into a panicking Out: %v, want ErrStreamEnded", err)
	}
}

func TestFlushAfterEachWrite(t *testing.T) {
	g := newGate()
	close(g.open)
	var flushed []string
	c, _ := newTestConn(t, g, func(cfg *Config) {
		cfg.Flush = func() error { flushed = append(flushed, g.written()); return nil }
	})
	c.Write([]byte("a"))
	c.Write([]byte("b"))
	if len(flushed) != 2 || flushed[0] != "a" || flushed[1] != "ab" {
		t.Fatalf("flushes saw %q, want [a ab]", flushed)
	}
}

func TestAddresses(t *testing.T) {
	local := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}
	c, _ := newTestConn(t, newGate(), func(cfg *Config) { cfg.Local = local })
	if c.LocalAddr() != local {
		t.Errorf("LocalAddr = %v, want %v", c.LocalAddr(), local)
	}
	if a, ok := c.RemoteAddr().(*net.TCPAddr); !ok || a.Port != 0 {
		t.Errorf("RemoteAddr without one = %v, want an empty TCP address", c.RemoteAddr())
	}
}

// TestWriteBuffersFlushesOnce checks that the slices of one WriteBuffers
// reach Out in order and are flushed once, after the last: a frame header
// and its payload then leave in the same DATA frame.
func TestWriteBuffersFlushesOnce(t *testing.T) {
	g := newGate()
	close(g.open)
	var flushed []string
	c, _ := newTestConn(t, g, func(cfg *Config) {
		cfg.Flush = func() error { flushed = append(flushed, g.written()); return nil }
	})
	n, err := c.WriteBuffers([][]byte{[]byte("\x82\x05"), nil, []byte("hel"), []byte("lo")})
	if n != 7 || err != nil {
		t.Fatalf("WriteBuffers = %d, %v; want 7, nil", n, err)
	}
	if len(flushed) != 1 || flushed[0] != "\x82\x05hello" {
		t.Fatalf("flushes saw %q, want one after all 7 bytes", flushed)
	}
	c.SetWriteDeadline(time.Unix(1, 0))
	if n, err := c.WriteBuffers([][]byte{[]byte("x")}); n != 0 || !isTimeout(err) {
		t.Fatalf("WriteBuffers after the deadline = %d, %v; want 0 and a timeout", n, err)
	}
}
