package wstest

import (
	"bytes"
	"errors"
	"io"
	"slices"
	"testing"
)

// message is one message of fakeConn: its type and payload.
type message struct {
	typ  int
	data string
}

// fakeConn serves the messages of in, then io.EOF, and records what is
// written back.
type fakeConn struct {
	in       []message
	out      []message
	writeErr error
	closed   int
}

func (c *fakeConn) next() (message, error) {
	if len(c.in) == 0 {
		return message{}, io.EOF
	}
	m := c.in[0]
	c.in = c.in[1:]
	return m, nil
}

func (c *fakeConn) ReadMessage() (int, []byte, error) {
	m, err := c.next()
	return m.typ, []byte(m.data), err
}

func (c *fakeConn) WriteMessage(typ int, data []byte) error {
	if c.writeErr != nil {
		return c.writeErr
	}
	c.out = append(c.out, message{typ, string(data)})
	return nil
}

func (c *fakeConn) NextReader() (int, io.Reader, error) {
	m, err := c.next()
	return m.typ, bytes.NewReader([]byte(m.data)), err
}

func (c *fakeConn) NextWriter(typ int) (io.WriteCloser, error) {
	if c.writeErr != nil {
		return nil, c.writeErr
	}
	return &fakeWriter{c: c, typ: typ}, nil
}

func (c *fakeConn) Close() error {
	c.closed++
	return nil
}

// fakeWriter buffers one message and adds it to its conn's output on
// Close.
type fakeWriter struct {
	c   *fakeConn
	typ int
	buf bytes.Buffer
}

func (w *fakeWriter) Write(p []byte) (int, error) { return w.buf.Write(p) }

func (w *fakeWriter) Close() error {
	w.c.out = append(w.c.out, message{w.typ, w.buf.String()})
	return nil
}

func TestEcho(t *testing.T) {
	msgs := []message{{1, "text"}, {2, "\x00binary"}, {1, ""}}
	for _, stream := range []bool{false, true} {
		c := &fakeConn{in: slices.Clone(msgs)}
		if err := Echo(c, stream, 10); !errors.Is(err, io.EOF) {
			t.Errorf("stream=%v: Echo returned %v, want the read's io.EOF", stream, err)
		}
		if !slices.Equal(c.out, msgs) {
			t.Errorf("stream=%v: echoed %v, want %v", stream, c.out, msgs)
		}
		if c.closed != 1 {
			t.Errorf("stream=%v: closed %d times, want once", stream, c.closed)
		}

		// The bound: after max messages Echo stops with ErrEchoLimit,
		// leaving the rest unread.
		c = &fakeConn{in: slices.Clone(msgs)}
		if err := Echo(c, stream, 2); !errors.Is(err, ErrEchoLimit) {
			t.Errorf("stream=%v: Echo with max 2 returned %v, want ErrEchoLimit", stream, err)
		}
		if !slices.Equal(c.out, msgs[:2]) || len(c.in) != 1 || c.closed != 1 {
			t.Errorf("stream=%v: max 2: echoed %v, %d left unread, closed %d times", stream, c.out, len(c.in), c.closed)
		}

		// A failed write ends the loop with its error.
		failed := errors.New("write failed")
		c = &fakeConn{in: slices.Clone(msgs), writeErr: failed}
		if err := Echo(c, stream, 10); !errors.Is(err, failed) || len(c.in) != 2 || c.closed != 1 {
			t.Errorf("stream=%v: failing writes: %v, %d left unread, closed %d times", stream, err, len(c.in), c.closed)
		}
	}
}
