package websocket

import (
	"bytes"
	"net"
	"sync/atomic"
	"testing"

	"github.com/rfc6455/websocket/internal/wstest"
)

// writeCountingConn counts the Write calls made on a transport. As a
// wrapper it is neither a *net.TCPConn nor a buffersWriter, so the Conn
// takes its path for transports without vectored writes (TLS and the
// like), the one that copies.
type writeCountingConn struct {
	net.Conn
	writes atomic.Int64
}

func (c *writeCountingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestLargeMessageFewWrites: a 1 MiB message, masked by a client or sent
// by a server, reaches the transport in at most two writes, and arrives
// intact. With a 64 KiB scratch buffer it took seventeen.
func TestLargeMessageFewWrites(t *testing.T) {
	msg := pattern(3, 1<<20)
	for _, client := range []bool{true, false} {
		name := map[bool]string{true: "client", false: "server"}[client]
		t.Run(name, func(t *testing.T) {
			cn, sn := wstest.TCPPair(t)
			counted := &writeCountingConn{Conn: cn}
			w := newConn(connConfig{netConn: counted, client: client})
			r := newConn(connConfig{netConn: sn, client: !client})
			t.Cleanup(func() { w.CloseNow(); r.CloseNow() })
			for _, api := range []string{"WriteMessage", "NextWriter"} {
				before := counted.writes.Load()
				done := make(chan error, 1)
				go func() {
					if api == "WriteMessage" {
						done <- w.WriteMessage(BinaryMessage, msg)
						return
					}
					nw, err := w.NextWriter(BinaryMessage)
					if err == nil {
						_, err = nw.Write(msg)
					}
					if err == nil {
						err = nw.Close()
					}
					done <- err
				}()
				_, got, err := r.ReadMessage()
				if err != nil {
					t.Fatal(err)
				}
				if err := <-done; err != nil {
					t.Fatalf("%s: %v", api, err)
				}
				if !bytes.Equal(got, msg) {
					t.Fatalf("%s: message corrupted", api)
				}
				n := counted.writes.Load() - before
				t.Logf("%s %s: 1 MiB in %d writes", name, api, n)
				// NextWriter's Close sends an empty final fragment: one more.
				limit := int64(2)
				if api == "NextWriter" {
					limit = 3
				}
				if n > limit {
					t.Errorf("%s: 1 MiB message in %d transport writes, want ≤ %d", api, n, limit)
				}
			}
		})
	}
}
