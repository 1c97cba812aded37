package websocket

import (
	"bytes"
	"fmt"
	"testing"
)

// BenchmarkHTTP2Echo measures a message's round trip through an echo
// server over HTTP/1.1 with TLS, HTTP/2 with TLS, and HTTP/2 without TLS
// (h2c), on loopback: the cost of carrying WebSockets on an HTTP/2 stream.
func BenchmarkHTTP2Echo(b *testing.B) {
	for _, size := range []int{128, 16 << 10, 1 << 20} {
		for _, tr := range []struct {
			name   string
			useTLS bool
			mode   HTTP2Mode
		}{{"http1-tls", true, HTTP2Never}, {"h2-tls", true, HTTP2Always}, {"h2c", false, HTTP2Always}} {
			b.Run(fmt.Sprintf("%s/%d", tr.name, size), func(b *testing.B) {
				s := startH2Server(b, tr.useTLS, &Upgrader{ReadLimit: 2 << 20}, echoMessages)
				d := *s.dialer
				d.HTTP2 = tr.mode
				d.ReadLimit = 2 << 20
				c, _ := dialWith(b, &d, s.url)
				msg := bytes.Repeat([]byte("x"), size)
				b.SetBytes(int64(2 * size))
				b.ReportAllocs()
				for b.Loop() {
					errc := make(chan error, 1)
					go func() { errc <- c.WriteMessage(BinaryMessage, msg) }()
					if _, _, err := c.ReadMessage(); err != nil {
						b.Fatal(err)
					}
					if err := <-errc; err != nil {
						b.Fatal(err)
					}
				}
			})
		}
	}
}
