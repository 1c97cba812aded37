//go:build !unix

package websocket

import (
	"errors"
	"net"
)

// rawReaderOf returns nil: fillWoken is for Unix sockets only, and every
// transport here is read through its own Read.
func rawReaderOf(net.Conn) rawReader { return nil }

// readFD is never called without a rawReader.
func readFD(uintptr, []byte) (int, error) {
	return 0, errors.New("websocket: no raw socket reads on this platform")
}

// isWouldBlock is never called without a rawReader.
func isWouldBlock(error) bool { return false }
