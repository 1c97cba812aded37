package main

import (
	"io"
	"net"
	"sync"
	"time"
)

// pipe is an in-memory full-duplex byte stream with no file descriptor and
// no goroutine: the transport of the in-process step. Writes append to the
// other side's pending bytes and never block; reads wait for bytes or for
// Close. Deadlines are accepted and ignored: nothing in the step relies on
// them, and Close ends any wait.
type pipe struct {
	mu     sync.Mutex
	side   [2]pipeSide // [0]: what the server reads; [1]: what the client reads
	ends   [2]pipeEnd
	closed chan struct{}
	once   sync.Once
}

// pipeSide is the bytes one end has yet to read, and its wake-up.
type pipeSide struct {
	pending []byte
	wake    chan struct{} // capacity 1: a write's signal is never lost
}

// pipeEnd is one end of a pipe: 0 the server's, 1 the client's.
type pipeEnd struct {
	p  *pipe
	me int
}

func newPipe() *pipe {
	p := &pipe{closed: make(chan struct{})}
	p.side[0].wake = make(chan struct{}, 1)
	p.side[1].wake = make(chan struct{}, 1)
	p.ends = [2]pipeEnd{{p, 0}, {p, 1}}
	return p
}

func (p *pipe) server() *pipeEnd { return &p.ends[0] }

func (p *pipe) client() *pipeEnd { return &p.ends[1] }

func (e *pipeEnd) Read(b []byte) (int, error) {
	s := &e.p.side[e.me]
	for {
		e.p.mu.Lock()
		if len(s.pending) > 0 {
			n := copy(b, s.pending)
			s.pending = s.pending[n:]
			if len(s.pending) == 0 {
				s.pending = nil // an idle end keeps no buffer
			}
			e.p.mu.Unlock()
			return n, nil
		}
		e.p.mu.Unlock()
		select {
		case <-s.wake:
		case <-e.p.closed:
			return 0, io.EOF
		}
	}
}

func (e *pipeEnd) Write(b []byte) (int, error) {
	s := &e.p.side[1-e.me]
	e.p.mu.Lock()
	select {
	case <-e.p.closed:
		e.p.mu.Unlock()
		return 0, net.ErrClosed
	default:
	}
	s.pending = append(s.pending, b...)
	e.p.mu.Unlock()
	select {
	case s.wake <- struct{}{}:
	default:
	}
	return len(b), nil
}

// readFull waits for n bytes on the end and returns them.
func (e *pipeEnd) readFull(n int) ([]byte, error) {
	b := make([]byte, n)
	_, err := io.ReadFull(e, b)
	return b, err
}

// Close closes both ends.
func (e *pipeEnd) Close() error {
	e.p.once.Do(func() { close(e.p.closed) })
	return nil
}

// pipeAddr is the address both ends report.
var pipeAddr = &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 1}

func (e *pipeEnd) LocalAddr() net.Addr              { return pipeAddr }
func (e *pipeEnd) RemoteAddr() net.Addr             { return pipeAddr }
func (e *pipeEnd) SetDeadline(time.Time) error      { return nil }
func (e *pipeEnd) SetReadDeadline(time.Time) error  { return nil }
func (e *pipeEnd) SetWriteDeadline(time.Time) error { return nil }
