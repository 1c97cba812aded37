//go:build unix

package websocket

import (
	"net"
	"syscall"
)

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
