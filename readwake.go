package websocket

import (
	"io"
	"net"
	"os"
)

// Waking an idle Conn with one read. An idle Conn waits for its next frame
// with the small buffer only; read straight into it, a 1 KiB message takes
// one read for its first 256 bytes and another for the rest. Where the
// transport is a socket we can wait on (readwake_unix.go), the read that
// finds nothing does not block: the Conn waits for the socket to become
// readable, and only then borrows a full-size buffer and reads the whole
// frame, usually at once. An idle Conn still holds no big buffer.

// rawReader is the part of syscall.RawConn that fillWoken uses: Read calls
// f until it returns true, waiting for the descriptor to become readable
// (or the read deadline, or Close) in between.
type rawReader interface {
	Read(f func(fd uintptr) bool) error
}

// socketReader is what fillWoken needs of a socket transport. It is made on
// the first read, outside the Conn, so that a Conn over another transport
// does not grow.
type socketReader struct {
	raw    rawReader
	r      *readState
	read   func(fd uintptr) bool // s.readSocket, made once: not an allocation per read
	n      int                   // what read read
	err    error
	waited bool // read found nothing and waited for the socket
}

// socket returns the socketReader of the transport, or nil when it is not a
// socket fillWoken can wait on.
func (c *Conn) socket() *socketReader {
	r := &c.reader
	if !r.sockChecked {
		r.sockChecked = true
		if raw := rawReaderOf(c.netConn); raw != nil {
			s := &socketReader{raw: raw, r: r}
			s.read = s.readSocket
			r.sock = s
		}
	}
	return r.sock
}

// fillWoken reads into the buffer from the socket s: at once into the
// small buffer if bytes are waiting; else, once the socket is readable, into
// a borrowed full-size buffer. It returns what fill's transport read would.
// Its frames stay small: an idle Conn's goroutine waits below them, and a
// deeper wait can double its stack.
func (c *Conn) fillWoken(s *socketReader) (int, error) {
	r := &c.reader
	s.n, s.err, s.waited = 0, nil, false
	err := s.raw.Read(s.read)
	n := s.n
	if n == 0 && r.pos == r.end && !r.isSmall() {
		// Woken by a deadline, a Close or the end of the stream: back to
		// idle with the small buffer.
		r.releaseBuffer()
	}
	if err == nil && n == 0 {
		err = c.socketReadError(s)
	}
	return n, err
}

// socketReadError is the error of a socket read that returned no bytes, as
// the transport's own Read reports it.
//
//go:noinline
func (c *Conn) socketReadError(s *socketReader) error {
	err := s.err
	s.err = nil
	if err == nil {
		return io.EOF
	}
	return &net.OpError{Op: "read", Net: c.netConn.LocalAddr().Network(),
		Source: c.netConn.LocalAddr(), Addr: c.netConn.RemoteAddr(), Err: os.NewSyscallError("read", err)}
}

// readSocket is fillWoken's function for rawReader.Read: one read of the
// socket into the buffer. Once the socket has made us wait, the read goes
// into a full-size buffer, borrowed only now so that a Conn waiting idle
// holds none.
func (s *socketReader) readSocket(fd uintptr) bool {
	r := s.r
	if s.waited && r.isSmall() {
		r.borrowBuffer()
	}
	s.n, s.err = readFD(fd, r.buf[r.end:])
	if isWouldBlock(s.err) {
		if !r.isSmall() && r.pos == r.end {
			// Woken with nothing to read after all: wait idle again.
			r.releaseBuffer()
		}
		s.waited = true
		return false
	}
	return true
}
