package websocket

import (
	"bytes"
	"errors"
	"io"
	"net"
	"sync"
	"testing"
	"time"
)

// FuzzParseClosePayload checks that any close payload is either refused
// with a protocol error or parsed into a code and reason that encode back to
// the same bytes.
func FuzzParseClosePayload(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{3})
	f.Add([]byte("\x03\xe8bye"))
	f.Add([]byte("\x03\xe8\xff"))
	f.Add([]byte("\x0f\xa0"))
	f.Fuzz(func(t *testing.T, p []byte) {
		code, reason, err := parseClosePayload(p)
		if err != nil {
			if _, ok := closeCode(err); !ok {
				t.Fatalf("error without a close code: %v", err)
			}
			return
		}
		if got := FormatCloseMessage(code, reason); !bytes.Equal(got, p) {
			t.Fatalf("%q parsed as %d %q, which encodes as %q", p, code, reason, got)
		}
	})
}

// FuzzReadMessages feeds arbitrary bytes to a server Conn: it must read
// messages or fail with an error, never panic or hang.
func FuzzReadMessages(f *testing.F) {
	masked := func(fin bool, op opcode, p string) []byte { return encodeFrame(true, fin, 0, op, []byte(p)) }
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	f.Add(masked(true, opText, "hello"))
	f.Add(cat(masked(false, opText, "he"), masked(true, opPing, "p"), masked(true, opContinuation, "llo")))
	f.Add(cat(masked(true, opBinary, ""), masked(true, opClose, "\x03\xe8")))
	f.Add(masked(true, opText, "\xce\xba\xe1"))
	f.Add(encodeFrame(false, true, 0, opText, []byte("to a client")))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, client := range []bool{false, true} {
			c := newConn(connConfig{netConn: &scriptConn{r: bytes.NewReader(data)}, client: client, readLimit: 1 << 16, closeTimeout: time.Second})
			readAll(t, c, len(data))
			c.CloseNow()
		}
	})
}

// readAll reads messages until an error; there cannot be more than n.
func readAll(t *testing.T, c *Conn, n int) {
	var buf []byte
	for range n + 1 {
		var err error
		if _, buf, err = c.AppendMessage(buf[:0]); err != nil {
			return
		}
	}
	t.Fatal("more messages than input bytes")
}

// scriptConn is a transport that reads from r and swallows writes. Like a
// net.Conn, it may be used from several goroutines at once: a lingering
// close reads it while the test closes it.
type scriptConn struct {
	mu     sync.Mutex
	r      io.Reader
	closed bool
}

func (s *scriptConn) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, net.ErrClosed
	}
	return s.r.Read(p)
}

func (s *scriptConn) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return 0, net.ErrClosed
	}
	return len(p), nil
}

func (s *scriptConn) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return errors.New("closed twice")
	}
	s.closed = true
	return nil
}

func (s *scriptConn) LocalAddr() net.Addr              { return &net.TCPAddr{} }
func (s *scriptConn) RemoteAddr() net.Addr             { return &net.TCPAddr{} }
func (s *scriptConn) SetDeadline(time.Time) error      { return nil }
func (s *scriptConn) SetReadDeadline(time.Time) error  { return nil }
func (s *scriptConn) SetWriteDeadline(time.Time) error { return nil }
