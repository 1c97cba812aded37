package h2stream

import (
	"errors"
	"io"
	"sync"
)

// Body is the request body of a client stream: the HTTP/2 transport reads
// it, and the Conn writes into it. Unlike an io.Pipe, whose Write returns
// as soon as the reader has copied the bytes, a Body's Write returns once
// the transport has come back for more after taking all of them. The
// transports of net/http and golang.org/x/net/http2 send (and flush) what
// one Read returned before they read again, so the bytes of a Write that
// returned are on the connection: closing the stream right after cannot
// drop them, as closing a TCP socket after a write does not.
type Body struct {
	wmu sync.Mutex // serialises Write

	mu     sync.Mutex
	cur    []byte        // what is left of the chunk being sent: the writer's memory
	taken  int           // bytes of the current chunk the transport has read
	handed bool          // the transport has read all of cur; its next Read means it sent it
	err    error         // what Read returns once cur is empty: io.EOF, or why the body was aborted
	closed chan struct{} // closed when err is set
	ready  chan struct{} // wakes the reader: cur or err changed
	sent   chan struct{} // wakes the writer: its chunk is out
}

// NewBody returns an empty Body.
func NewBody() *Body {
	return &Body{
		closed: make(chan struct{}),
		ready:  make(chan struct{}, 1),
		sent:   make(chan struct{}, 1),
	}
}

// errBodyClosed is what Write returns after the transport closed the body.
var errBodyClosed = errors.New("h2stream: the request body was closed")

// Read is the transport's side: it returns the bytes of the current
// Write, then io.EOF after CloseWrite.
func (b *Body) Read(p []byte) (int, error) {
	for {
		b.mu.Lock()
		if b.handed {
			// The transport sent the whole chunk before asking again.
			b.handed = false
			notify(b.sent)
		}
		if len(b.cur) > 0 {
			n := copy(p, b.cur)
			b.cur = b.cur[n:]
			b.taken += n
			b.handed = len(b.cur) == 0
			b.mu.Unlock()
			return n, nil
		}
		if b.err != nil {
			err := b.err
			b.mu.Unlock()
			return 0, err
		}
		b.mu.Unlock()
		select {
		case <-b.ready:
		case <-b.closed:
		}
	}
}

// Close is called by the transport when it is done with the body, early
// when the stream was reset: a Write in progress returns.
func (b *Body) Close() error {
	b.Abort(errBodyClosed)
	return nil
}

// Write hands p to the transport and returns once the transport has sent
// all of it, or the body was aborted: it then returns how many bytes the
// transport had taken, and the abort's error. Write may not be called
// after CloseWrite.
func (b *Body) Write(p []byte) (int, error) {
	b.wmu.Lock()
	defer b.wmu.Unlock()
	if len(p) == 0 {
		return 0, nil
	}
	b.mu.Lock()
	if b.err != nil {
		err := b.err
		b.mu.Unlock()
		return 0, writeErr(err)
	}
	b.cur, b.taken, b.handed = p, 0, false
	b.mu.Unlock()
	notify(b.ready)
	select {
	case <-b.sent:
		return len(p), nil
	case <-b.closed:
	}
	// Stop the transport from reading p after Write returns.
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.handed || b.taken == len(p) {
		// The transport has all of p and was sending it when the body
		// ended; as with a socket, the error waits for the next write.
		b.cur, b.handed = nil, false
		return len(p), nil
	}
	b.cur = nil
	return b.taken, writeErr(b.err)
}

// writeErr is the error of a write into a body that ended with err.
func writeErr(err error) error {
	if err == io.EOF {
		return io.ErrClosedPipe
	}
	return err
}

// CloseWrite ends the body: once the transport has read what is left, it
// reads io.EOF and ends the stream (END_STREAM).
func (b *Body) CloseWrite() {
	b.end(io.EOF)
}

// Abort ends the body with err: a Write in progress returns, and the
// transport reads err, after which it resets the stream.
func (b *Body) Abort(err error) {
	b.mu.Lock()
	b.cur = nil
	b.mu.Unlock()
	b.end(err)
}

// end sets the body's final error once.
func (b *Body) end(err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err == nil {
		b.err = err
		close(b.closed)
	}
}

// notify wakes the goroutine waiting on c, or leaves a wake-up for it.
func notify(c chan struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}
