package websocket

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
)

// serverOverTCP returns a server Conn straight over a loopback TCP socket
// (so that fillWoken serves it) and the raw client socket.
func serverOverTCP(t *testing.T) (*Conn, net.Conn) {
	t.Helper()
	cn, sn := wstest.TCPPair(t)
	if rawReaderOf(sn) == nil {
		t.Skip("no raw socket reads on this platform")
	}
	c := newConn(connConfig{netConn: sn})
	t.Cleanup(func() { c.CloseNow() })
	return c, cn
}

// waitParkedInFillWoken waits until some goroutine is blocked inside
// fillWoken, that is, an idle Conn waits for its socket.
func waitParkedInFillWoken(t *testing.T) {
	t.Helper()
	buf := make([]byte, 1<<20)
	for range 10000 {
		n := runtime.Stack(buf, true)
		// Both in the same goroutine's trace: another goroutine of the
		// process may be waiting on I/O elsewhere.
		for g := range bytes.SplitSeq(buf[:n], []byte("\n\n")) {
			if bytes.Contains(g, []byte("fillWoken")) && bytes.Contains(g, []byte("[IO wait")) {
				return
			}
		}
		runtime.Gosched()
	}
	t.Fatal("no Conn is waiting in fillWoken")
}

func TestWokenConnReadsMessageAtOnce(t *testing.T) {
	c, peer := serverOverTCP(t)
	msg := pattern(9, 1000)
	for i := range 3 {
		type result struct {
			b   []byte
			err error
		}
		done := make(chan result, 1)
		reads0 := c.readProgress.Load()
		go func() {
			_, b, err := c.ReadMessage()
			done <- result{b, err}
		}()
		waitParkedInFillWoken(t)
		if _, err := peer.Write(encodeFrame(true, true, 0, opBinary, msg)); err != nil {
			t.Fatal(err)
		}
		res := <-done
		if res.err != nil || !bytes.Equal(res.b, msg) {
			t.Fatalf("message %d: %d bytes, %v", i, len(res.b), res.err)
		}
		// Header and payload in one read of the socket, where the small
		// buffer alone takes two.
		if reads := c.readProgress.Load() - reads0; reads != 1 {
			t.Errorf("message %d took %d socket reads, want 1", i, reads)
		}
		if !c.reader.isSmall() || c.reader.pooled != nil {
			t.Fatalf("message %d: the idle Conn kept a pooled read buffer", i)
		}
	}
}

func TestWokenConnDeadlineResumes(t *testing.T) {
	c, peer := serverOverTCP(t)
	// Already expired: the socket read is not even tried.
	c.SetReadDeadline(time.Now().Add(-time.Second))
	if _, _, err := c.ReadMessage(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("expired deadline: %v", err)
	}
	// Expiring while the Conn waits for its socket, inside a header.
	frame := encodeFrame(true, true, 0, opText, []byte("after the deadline"))
	if _, err := peer.Write(frame[:1]); err != nil {
		t.Fatal(err)
	}
	c.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, _, err := c.ReadMessage(); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("deadline while waiting: %v", err)
	}
	if c.reader.pooled != nil && c.reader.pos == c.reader.end {
		t.Fatal("a timed-out idle read kept a pooled buffer with nothing in it")
	}
	c.SetReadDeadline(time.Time{})
	if _, err := peer.Write(frame[1:]); err != nil {
		t.Fatal(err)
	}
	if _, b, err := c.ReadMessage(); err != nil || string(b) != "after the deadline" {
		t.Fatalf("after the deadline: %q, %v", b, err)
	}
}

func TestWokenConnPeerGone(t *testing.T) {
	t.Run("eof", func(t *testing.T) {
		c, peer := serverOverTCP(t)
		peer.Close()
		_, _, err := c.ReadMessage()
		if !errors.Is(err, io.ErrUnexpectedEOF) || CloseStatus(err) != StatusAbnormalClosure {
			t.Fatalf("err = %v, want 1006 wrapping io.ErrUnexpectedEOF", err)
		}
	})
	t.Run("closed locally", func(t *testing.T) {
		c, _ := serverOverTCP(t)
		done := make(chan error, 1)
		go func() {
			_, _, err := c.ReadMessage()
			done <- err
		}()
		waitParkedInFillWoken(t)
		c.CloseNow()
		if err := <-done; !errors.Is(err, net.ErrClosed) {
			t.Fatalf("err = %v, want net.ErrClosed", err)
		}
	})
	t.Run("reset", func(t *testing.T) {
		c, peer := serverOverTCP(t)
		peer.(*net.TCPConn).SetLinger(0)
		peer.Close()
		_, _, err := c.ReadMessage()
		if err == nil || !strings.Contains(err.Error(), "read") {
			t.Fatalf("err = %v, want the socket's read error", err)
		}
	})
}
