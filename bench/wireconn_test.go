package bench

import (
	"bufio"
	"bytes"
	"context"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
)

// wireConn is a client's TCP connection that counts the bytes it carries
// each way and keeps the first bytes it reads, the server's handshake
// answer, so a test can see what went over the wire whatever the library.
type wireConn struct {
	net.Conn
	read, written atomic.Int64
	mu            sync.Mutex
	head          []byte // first bytes read, up to headKeep
}

// headKeep is how much of the server's first bytes wireConn keeps: more
// than any handshake answer of the adapters.
const headKeep = 4 << 10

func (c *wireConn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	c.read.Add(int64(n))
	c.mu.Lock()
	if room := headKeep - len(c.head); room > 0 {
		c.head = append(c.head, p[:min(n, room)]...)
	}
	c.mu.Unlock()
	return n, err
}

func (c *wireConn) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.written.Add(int64(n))
	return n, err
}

// answer parses the handshake answer read so far.
func (c *wireConn) answer() (*http.Response, error) {
	c.mu.Lock()
	head := bytes.Clone(c.head)
	c.mu.Unlock()
	return http.ReadResponse(bufio.NewReader(bytes.NewReader(head)), nil)
}

// wireDialer returns an Options.NetDial that records its one connection in
// *got.
func wireDialer(got **wireConn) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err != nil {
			return nil, err
		}
		w := &wireConn{Conn: c}
		*got = w
		return w, nil
	}
}
