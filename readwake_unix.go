//go:build unix

package websocket

import (
	"io"
	"net"
	"os"
	"syscall"
)

// Waking an idle Conn with one read. An idle Conn waits for its next frame
// with the small buffer only; read straight into it, a 1 KiB message takes
// one read for its first 256 bytes and another for the rest. Where the
// transport is a TCP or Unix socket, the frame reader's read that finds
// nothing does not block: it waits for the socket to become readable, and
// only then borrows a full-size buffer and reads the whole frame, usually
// at once. An idle Conn still holds no big buffer. Other platforms:
// readwake_other.go.

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
	r      *frameReader
	read   func(fd uintptr) bool // s.readSocket, made once: not an allocation per read
	n      int                   // what read read
	err    error
	waited bool // read found nothing and waited for the socket
}

// socket returns the socketReader of the transport, or nil when it is not a
// socket fillWoken can wait on.
func (r *frameReader) socket() *socketReader {
	if !r.sockChecked {
		r.sockChecked = true
		if raw := rawReaderOf(r.nc); raw != nil {
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
func (r *frameReader) fillWoken(s *socketReader) (int, error) {
	s.n, s.err, s.waited = 0, nil, false
	err := s.raw.Read(s.read)
	n := s.n
	if n == 0 && r.pos == r.end && !r.isSmall() {
		// Woken by a deadline, a Close or the end of the stream: back to
		// idle with the small buffer.
		r.releaseBuffer()
	}
	if err == nil && n == 0 {
		err = r.socketReadError(s)
	}
	return n, err
}

// socketReadError is the error of a socket read that returned no bytes, as
// the transport's own Read reports it.
//
//go:noinline
func (r *frameReader) socketReadError(s *socketReader) error {
	err := s.err
	s.err = nil
	if err == nil {
		return io.EOF
	}
	return &net.OpError{Op: "read", Net: r.nc.LocalAddr().Network(),
		Source: r.nc.LocalAddr(), Addr: r.nc.RemoteAddr(), Err: os.NewSyscallError("read", err)}
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

// rawReaderOf returns raw access to the socket of a TCP or Unix transport,
// whose Read is a read(2) of that socket, or nil for any other transport.
func rawReaderOf(nc net.Conn) rawReader {
	var sc syscall.Conn
	switch t := nc.(type) {
	case *net.TCPConn:
		sc = t
	case *net.UnixConn:
		sc = t
	default:
		return nil
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return nil
	}
	return rc
}

// readFD reads once from the non-blocking socket fd into p.
func readFD(fd uintptr, p []byte) (int, error) {
	for {
		n, err := syscall.Read(int(fd), p)
		if err == syscall.EINTR {
			continue
		}
		return max(n, 0), err
	}
}

// isWouldBlock reports whether err says the socket has nothing to read yet.
func isWouldBlock(err error) bool { return err == syscall.EAGAIN || err == syscall.EWOULDBLOCK }
