package websocket

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	// The HTTP/2 servers of this test binary allow extended CONNECT.
	_ "github.com/rfc6455/websocket/http2xconnect"
	"github.com/rfc6455/websocket/internal/wstest"
)

// h2Request is how a request reached a test handler.
type h2Request struct {
	method     string
	protoMajor int
	protocol   string // the :protocol pseudo-header, or ""
}

// isWebSocketOverHTTP2 reports whether the request was an extended CONNECT
// for a WebSocket on an HTTP/2 connection.
func (r h2Request) isWebSocketOverHTTP2() bool {
	return r.method == http.MethodConnect && r.protoMajor == 2 && r.protocol == "websocket"
}

// h2TestServer is a test server whose handler upgrades every request and
// hands the Conn to serve, and records how the requests came.
type h2TestServer struct {
	*httptest.Server
	url    string  // ws:// or wss:// URL of the server's root
	dialer *Dialer // trusts the server's certificate; HTTP2 is HTTP2Always

	mu       sync.Mutex
	requests []h2Request
	errs     []error // Upgrade's errors
}

// startH2Server starts a server on loopback that speaks HTTP/2 over TLS
// (useTLS) or unencrypted with prior knowledge, besides HTTP/1.1. serve
// runs in the handler and should return when the Conn fails; nil means an
// echo loop. The server is closed, after the handlers returned, when the
// test ends.
func startH2Server(t *testing.T, useTLS bool, up *Upgrader, serve func(c *Conn)) *h2TestServer {
	t.Helper()
	if up == nil {
		up = &Upgrader{}
	}
	if serve == nil {
		serve = echoMessages
	}
	s := &h2TestServer{}
	var handlers sync.WaitGroup
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		handlers.Add(1)
		defer handlers.Done()
		s.mu.Lock()
		s.requests = append(s.requests, h2Request{r.Method, r.ProtoMajor, r.Header.Get(":protocol")})
		s.mu.Unlock()
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			s.mu.Lock()
			s.errs = append(s.errs, err)
			s.mu.Unlock()
			return
		}
		defer c.CloseNow()
		serve(c)
	})
	s.dialer = &Dialer{HandshakeTimeout: testTimeout, HTTP2: HTTP2Always}
	if useTLS {
		s.Server = wstest.H2Server(t, h)
		s.dialer.TLSClientConfig = wstest.TLSConfigFor(s.Server)
		s.url = "wss" + strings.TrimPrefix(s.Server.URL, "https")
	} else {
		s.Server = wstest.H2CServer(t, h)
		s.url = "ws" + strings.TrimPrefix(s.Server.URL, "http")
	}
	// Runs before the server's own cleanup, which waits for its handlers.
	t.Cleanup(func() {
		s.Server.CloseClientConnections()
		handlers.Wait()
	})
	return s
}

// seen returns the requests the handler has received so far.
func (s *h2TestServer) seen() []h2Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]h2Request(nil), s.requests...)
}

// upgradeErrors returns the errors Upgrade has returned so far.
func (s *h2TestServer) upgradeErrors() []error {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]error(nil), s.errs...)
}

// dial opens a WebSocket to the server's path with the server's Dialer and
// closes it when the test ends.
func (s *h2TestServer) dial(t *testing.T, path string) (*Conn, *http.Response) {
	t.Helper()
	return dialWith(t, s.dialer, s.url+path)
}

// dialWith dials u with d under testTimeout and drops the Conn when the
// test ends.
func dialWith(t *testing.T, d *Dialer, u string) (*Conn, *http.Response) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, resp, err := d.Dial(ctx, u, nil)
	if err != nil {
		t.Fatalf("Dial %s: %v", u, err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return c, resp
}

// echoMessages sends back every message it reads until a read or a write
// fails.
func echoMessages(c *Conn) {
	for range 1 << 20 {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			return
		}
		if err := c.WriteMessage(typ, msg); err != nil {
			return
		}
	}
}

// echoStreaming sends back every message as it arrives, through NextReader
// and NextWriter, until a read or a write fails.
func echoStreaming(c *Conn) {
	for range 1 << 20 {
		typ, r, err := c.NextReader()
		if err != nil {
			return
		}
		w, err := c.NextWriter(typ)
		if err != nil {
			return
		}
		_, err = io.Copy(w, r)
		if cerr := w.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return
		}
	}
}
