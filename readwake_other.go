//go:build !unix

package websocket

import "net"

// Without Unix sockets the frame reader has no socket to wait on, and reads
// every transport through its own Read (readwake_unix.go says why it waits
// where it can).

type socketReader struct{}

// rawReaderOf returns nil: no transport here is a socket to wait on.
func rawReaderOf(net.Conn) any { return nil }

// socket returns nil: see rawReaderOf.
func (r *frameReader) socket() *socketReader { return nil }

// fillWoken is never called, since socket returns nil.
func (r *frameReader) fillWoken(*socketReader) (int, error) { return 0, nil }
