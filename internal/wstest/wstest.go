// Package wstest provides connected transports for tests: the two ends of a
// loopback TCP connection, or of an in-memory pipe. It does not import the
// websocket package, so that package's own tests can use it.
package wstest

import (
	"net"
	"testing"
)

// TCPPair returns the two ends of a TCP connection on 127.0.0.1: client
// dialed it, server accepted it. Both are closed when the test ends.
func TCPPair(tb testing.TB) (client, server net.Conn) {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("wstest: listen: %v", err)
	}
	defer ln.Close()
	type accepted struct {
		c   net.Conn
		err error
	}
	ch := make(chan accepted, 1)
	go func() {
		c, err := ln.Accept()
		ch <- accepted{c, err}
	}()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		ln.Close()
		<-ch
		tb.Fatalf("wstest: dial: %v", err)
	}
	a := <-ch
	if a.err != nil {
		client.Close()
		tb.Fatalf("wstest: accept: %v", a.err)
	}
	server = a.c
	tb.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}

// Pipe returns the two ends of an in-memory, unbuffered, synchronous
// connection (net.Pipe): every write blocks until the other end reads it.
// Both are closed when the test ends.
func Pipe(tb testing.TB) (client, server net.Conn) {
	client, server = net.Pipe()
	tb.Cleanup(func() {
		client.Close()
		server.Close()
	})
	return client, server
}
