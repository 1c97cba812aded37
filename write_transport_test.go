package websocket

import (
	"bytes"
	"io"
	"net"
	"sync"
	"testing"

	"github.com/rfc6455/websocket/internal/h2stream"
	"github.com/rfc6455/websocket/internal/wstest"
)

// flushRecorder is the Out of an h2stream.Conn: it keeps what was written
// and, at each flush, the bytes written since the previous one (what one
// DATA frame, or one run of them, carries).
type flushRecorder struct {
	mu      sync.Mutex
	pending bytes.Buffer
	flushes [][]byte
}

func (r *flushRecorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending.Write(p)
}

func (r *flushRecorder) Flush() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.flushes = append(r.flushes, bytes.Clone(r.pending.Bytes()))
	r.pending.Reset()
	return nil
}

// TestServerFrameOneFlushOverHTTP2 checks that a server frame too large for
// the small buffer leaves over an HTTP/2 stream in one flush, header and
// payload together, whether sent whole or as a writer's fragment.
func TestServerFrameOneFlushOverHTTP2(t *testing.T) {
	rec := &flushRecorder{}
	pr, pw := io.Pipe()
	stream := h2stream.New(h2stream.Config{In: pr, Out: rec, Flush: rec.Flush})
	c := newConn(connConfig{netConn: stream})
	t.Cleanup(func() {
		c.CloseNow()
		pw.Close()
		stream.Wait()
	})
	msg := pattern(7, 10_000)
	if err := c.WriteMessage(BinaryMessage, msg); err != nil {
		t.Fatal(err)
	}
	w, err := c.NextWriter(BinaryMessage)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(msg); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	want := [][]byte{
		append([]byte{0x82, 126, 0x27, 0x10}, msg...), // whole
		append([]byte{0x02, 126, 0x27, 0x10}, msg...), // first fragment
		{0x80, 0}, // final, empty
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.flushes) != len(want) {
		t.Fatalf("%d flushes, want %d", len(rec.flushes), len(want))
	}
	for i := range want {
		if !bytes.Equal(rec.flushes[i], want[i]) {
			t.Fatalf("flush %d: %d bytes starting %x, want %d starting %x", i, len(rec.flushes[i]), rec.flushes[i][:4], len(want[i]), want[i][:4])
		}
	}
}

// writeCounter counts the writes that reach a transport.
type writeCounter struct {
	net.Conn
	mu     sync.Mutex
	writes []int
}

func (w *writeCounter) Write(p []byte) (int, error) {
	w.mu.Lock()
	w.writes = append(w.writes, len(p))
	w.mu.Unlock()
	return w.Conn.Write(p)
}

// TestServerFrameOneWriteWithoutWritev checks that on a transport without
// vectored writes (here a wrapper; TLS is another), a server's frame
// leaves in one write, header with payload, rather than a header alone
// first, and that the peer reads it intact.
func TestServerFrameOneWriteWithoutWritev(t *testing.T) {
	cn, sn := wstest.TCPPair(t)
	counter := &writeCounter{Conn: sn}
	c := newConn(connConfig{netConn: counter})
	peer := newConn(connConfig{netConn: cn, client: true})
	t.Cleanup(func() { c.CloseNow(); peer.CloseNow() })
	msg := pattern(8, 20_000)
	errc := make(chan error, 1)
	go func() { errc <- c.WriteMessage(BinaryMessage, msg) }()
	if _, got, err := peer.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
		t.Fatalf("read %d bytes, %v", len(got), err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	counter.mu.Lock()
	writes := counter.writes
	counter.mu.Unlock()
	if len(writes) != 1 || writes[0] != 4+len(msg) {
		t.Fatalf("writes of %v bytes, want one of %d", writes, 4+len(msg))
	}
}
