// Package h2stream presents one HTTP/2 stream as a net.Conn: on the server
// it reads the request body and writes the response, on the client it
// writes the request body and reads the response. WebSockets over HTTP/2
// (RFC 8441) use it as their transport: the stream an extended CONNECT
// opens carries the WebSocket frames.
//
// The deadlines of net/http cannot serve a net.Conn: on an HTTP/2 stream a
// read deadline that passes closes the request body for good, and a write
// deadline that passes resets the stream, even when no read or write is in
// progress. A net.Conn's deadline only fails the calls it interrupts, and a
// later deadline makes the connection usable again. So Conn keeps its own
// deadlines. A goroutine pumps the incoming body into a buffer that Read
// takes from, so that a read can give up without touching the body. A write
// deadline that passes between writes fails the next write; one that passes
// during a write aborts the stream, since part of the bytes may be out and
// cannot be taken back.
package h2stream

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sync"
	"time"
)

// pumpBufferSize is the most incoming bytes Conn holds beyond what the
// HTTP/2 layer buffers itself. A DATA frame carries at most 16 KiB unless
// the peer allows more, so half a frame per hand-over keeps the copy cheap.
const pumpBufferSize = 8 << 10

// maxEmptyReads bounds how many reads of the incoming body in a row may
// return neither bytes nor an error before the pump gives up.
const maxEmptyReads = 100

// Config is what New needs: the two directions of the stream and how to end
// or abort it.
type Config struct {
	// In carries the peer's bytes: the request body on the server, the
	// response body on the client. Close closes it, which must make a
	// blocked Read return.
	In io.ReadCloser

	// Out takes our bytes: the http.ResponseWriter on the server, the
	// writing end of the request body's pipe on the client.
	Out io.Writer

	// Flush, when set, is called after each write so that the bytes leave
	// at once (http.ResponseController.Flush on the server).
	Flush func() error

	// Abort makes a write blocked in Out or Flush return, ending the stream
	// abruptly (RST_STREAM). It is called when the write deadline passes or
	// Close is called during a write.
	Abort func()

	// Finish, when set, ends our side of the stream on Close (on the
	// client: closing the request body, which sends END_STREAM). The server
	// ends its side when its handler returns.
	Finish func() error

	// Context, when set, bounds the use of Out: once it ends (on the
	// server, the request's context ends when the handler returns or the
	// client resets the stream) writes fail without touching Out, Flush or
	// Abort again. Reads go on until In ends, which it does soon after,
	// so that bytes the peer sent before the end are not lost.
	Context context.Context

	// Local and Remote are the addresses LocalAddr and RemoteAddr report;
	// nil is reported as an empty TCP address.
	Local, Remote net.Addr
}

// errTimeoutAbort is what a write aborted by the write deadline returns.
var errTimeoutAbort = fmt.Errorf("h2stream: write deadline passed during a write: %w", os.ErrDeadlineExceeded)

// Errors of Write.
var (
	// ErrAborted is returned by writes after one was aborted: the stream
	// was reset and carries nothing more.
	ErrAborted = errors.New("h2stream: the stream was reset during a write")

	// ErrStreamEnded is returned by writes after the stream's context
	// ended (on the server: the handler returned, or the client reset the
	// stream).
	ErrStreamEnded = errors.New("h2stream: the HTTP/2 stream has ended")
)

// Conn is a net.Conn over one HTTP/2 stream. Reads and writes may run
// concurrently with each other; concurrent reads are serialised, and so are
// concurrent writes.
type Conn struct {
	cfg Config

	rmu     sync.Mutex // serialises Read; guards pending and readErr
	pending []byte     // bytes handed over by the pump, not yet read
	readErr error      // how the incoming body ended, after pending
	chunks  chan chunk // pump -> Read
	free    chan struct{}
	rdl     *deadline

	wmu sync.Mutex // serialises Write
	wdl *deadline

	smu     sync.Mutex // guards the write state below
	writing bool       // a write is in Out or Flush
	aborted error      // why Abort was called for the write in progress (errTimeoutAbort, net.ErrClosed), or nil
	broken  error      // writes fail with it from now on

	closed    chan struct{}
	closeOnce sync.Once
	closeErr  error
	stopWatch func() bool
	pumpDone  chan struct{}
}

// chunk is one read of the incoming body.
type chunk struct {
	b   []byte
	err error
}

// New returns a Conn over the stream cfg describes, and starts the goroutine
// that reads cfg.In; it ends when the body ends or the Conn is closed.
func New(cfg Config) *Conn {
	c := &Conn{
		cfg:      cfg,
		chunks:   make(chan chunk),
		free:     make(chan struct{}, 1),
		closed:   make(chan struct{}),
		pumpDone: make(chan struct{}),
	}
	c.rdl = newDeadline(nil)
	c.wdl = newDeadline(c.writeDeadlinePassed)
	if cfg.Context != nil {
		c.stopWatch = context.AfterFunc(cfg.Context, c.writesEnded)
	}
	go c.pump()
	return c
}

// pump reads the incoming body and hands each read to Read, waiting until
// Read has taken all of it before reading again, so that the HTTP/2 flow
// control window, not this buffer, holds back a fast peer.
func (c *Conn) pump() {
	defer close(c.pumpDone)
	buf := make([]byte, pumpBufferSize)
	empty := 0
	for {
		n, err := c.cfg.In.Read(buf)
		if n == 0 && err == nil {
			if empty++; empty < maxEmptyReads {
				continue
			}
			err = io.ErrNoProgress
		}
		empty = 0
		select {
		case c.chunks <- chunk{buf[:n], err}:
		case <-c.closed:
			return
		}
		if err != nil {
			return
		}
		select {
		case <-c.free:
		case <-c.closed:
			return
		}
	}
}

// Read reads the peer's bytes. At the read deadline it returns an error
// for which errors.Is(err, os.ErrDeadlineExceeded) holds and which is a
// net.Error whose Timeout reports true; nothing is lost, and a later Read
// continues. When the peer ends the stream it returns io.EOF.
func (c *Conn) Read(p []byte) (int, error) {
	c.rmu.Lock()
	defer c.rmu.Unlock()
	if isClosed(c.closed) {
		return 0, net.ErrClosed
	}
	if c.rdl.passed() {
		return 0, os.ErrDeadlineExceeded
	}
	if len(c.pending) == 0 && c.readErr == nil {
		select {
		case ch := <-c.chunks:
			c.pending, c.readErr = ch.b, ch.err
		case <-c.closed:
			return 0, net.ErrClosed
		case <-c.rdl.done():
			return 0, os.ErrDeadlineExceeded
		}
	}
	if len(p) == 0 {
		return 0, nil
	}
	if len(c.pending) == 0 {
		return 0, c.readErr
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	if len(c.pending) == 0 && c.readErr == nil {
		c.free <- struct{}{} // the pump waits for exactly this one
	}
	return n, nil
}

// Write sends p and flushes it. A write deadline that passed before Write
// was called fails it with a timeout and nothing sent; the Conn stays
// usable. One that passes during the write aborts the stream: Write then
// returns what it had handed to the stream and a timeout error, and later
// writes fail with ErrAborted. Close during a write aborts it likewise,
// and Write returns net.ErrClosed, even when Out had taken all of p: the
// stream was reset, and the bytes may not have left.
func (c *Conn) Write(p []byte) (int, error) {
	bufs := [1][]byte{p}
	n, err := c.write(bufs[:])
	return int(n), err
}

// WriteBuffers sends the slices of bufs in order, as Write would send them
// joined, with one flush at the end. A flush ends the DATA frame its bytes
// are in, so a WebSocket frame header and its payload written by two
// Writes would leave in two DATA frames; written together they share one.
// Deadlines, Close and errors are as for Write, for all the slices' bytes.
func (c *Conn) WriteBuffers(bufs [][]byte) (int64, error) {
	return c.write(bufs)
}

// write is Write of the slices of bufs, joined.
func (c *Conn) write(bufs [][]byte) (int64, error) {
	c.wmu.Lock()
	defer c.wmu.Unlock()
	c.smu.Lock()
	if c.broken == nil && c.cfg.Context != nil && c.cfg.Context.Err() != nil {
		// The context ended and writesEnded has yet to run.
		c.broken = ErrStreamEnded
	}
	switch {
	case c.broken != nil:
		err := c.broken
		c.smu.Unlock()
		return 0, err
	case isClosed(c.closed):
		c.smu.Unlock()
		return 0, net.ErrClosed
	case c.wdl.passed():
		c.smu.Unlock()
		return 0, os.ErrDeadlineExceeded
	}
	c.writing = true
	c.smu.Unlock()

	n, err := c.send(bufs)

	c.smu.Lock()
	defer c.smu.Unlock()
	c.writing = false
	if abortErr := c.aborted; abortErr != nil {
		// Aborted meanwhile, by the deadline or by Close; c.broken fails
		// the writes that follow.
		c.aborted = nil
		return n, abortErr
	}
	if err != nil && c.broken == nil {
		c.broken = err
	}
	return n, err
}

// send writes the slices of bufs to Out and flushes once. A panic of Out
// means that the server's handler returned while the stream was in use
// (net/http then refuses writes by panicking); it becomes an error, so
// that the misuse costs the connection, not the process.
func (c *Conn) send(bufs [][]byte) (n int64, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("%w (%v)", ErrStreamEnded, r)
		}
	}()
	for _, b := range bufs {
		if len(b) == 0 && len(bufs) > 1 {
			continue
		}
		k, werr := c.cfg.Out.Write(b)
		n += int64(k)
		if werr != nil {
			return n, werr
		}
	}
	if c.cfg.Flush != nil {
		err = c.cfg.Flush()
	}
	return n, err
}

// writeDeadlinePassed aborts the write in progress, if any.
func (c *Conn) writeDeadlinePassed() {
	c.smu.Lock()
	abort := c.writing && c.broken == nil
	if abort {
		c.broken, c.aborted = ErrAborted, errTimeoutAbort
	}
	c.smu.Unlock()
	if abort && c.cfg.Abort != nil {
		c.cfg.Abort()
	}
}

// writesEnded stops writes when the stream's context ends: on the server,
// Out is no longer ours to use. A write in progress then is the caller's
// race with the handler's return, which Upgrade's documentation forbids.
func (c *Conn) writesEnded() {
	c.smu.Lock()
	if c.broken == nil {
		c.broken = ErrStreamEnded
	}
	c.smu.Unlock()
}

// Close ends the stream: a write in progress is aborted, a blocked Read
// returns net.ErrClosed, and our side of the stream ends (Config.Finish).
// Later calls return net.ErrClosed.
func (c *Conn) Close() error {
	if !c.close() {
		return net.ErrClosed
	}
	return c.closeErr
}

// close closes the Conn once and reports whether this call did.
func (c *Conn) close() bool {
	did := false
	c.closeOnce.Do(func() {
		did = true
		c.smu.Lock()
		close(c.closed)
		abort := c.writing && c.broken == nil
		if abort {
			c.aborted = net.ErrClosed
		}
		if c.broken == nil {
			c.broken = net.ErrClosed
		}
		c.smu.Unlock()
		if c.stopWatch != nil {
			c.stopWatch()
		}
		if abort && c.cfg.Abort != nil {
			c.cfg.Abort()
		}
		c.rdl.stop()
		c.wdl.stop()
		err := c.cfg.In.Close() // makes a pump blocked in Read return
		if c.cfg.Finish != nil {
			if ferr := c.cfg.Finish(); err == nil {
				err = ferr
			}
		}
		c.closeErr = err
	})
	return did
}

// LocalAddr returns Config.Local.
func (c *Conn) LocalAddr() net.Addr { return addrOrEmpty(c.cfg.Local) }

// RemoteAddr returns Config.Remote.
func (c *Conn) RemoteAddr() net.Addr { return addrOrEmpty(c.cfg.Remote) }

func addrOrEmpty(a net.Addr) net.Addr {
	if a == nil {
		return &net.TCPAddr{}
	}
	return a
}

// SetDeadline sets both deadlines.
func (c *Conn) SetDeadline(t time.Time) error {
	c.SetReadDeadline(t)
	return c.SetWriteDeadline(t)
}

// SetReadDeadline sets the read deadline; the zero time means none. It
// never affects the stream itself.
func (c *Conn) SetReadDeadline(t time.Time) error {
	if isClosed(c.closed) {
		return net.ErrClosed
	}
	c.rdl.set(t)
	return nil
}

// SetWriteDeadline sets the write deadline; the zero time means none. A
// deadline in the past aborts a write in progress at once.
func (c *Conn) SetWriteDeadline(t time.Time) error {
	if isClosed(c.closed) {
		return net.ErrClosed
	}
	c.wdl.set(t)
	return nil
}

// Wait blocks until the goroutine reading the incoming body has ended,
// which it does once the Conn is closed or the body ended and was read.
func (c *Conn) Wait() { <-c.pumpDone }
