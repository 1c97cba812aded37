package websocket

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	// The HTTP/2 servers of this test binary allow extended CONNECT.
	_ "github.com/rfc6455/websocket/http2xconnect"
	"github.com/rfc6455/websocket/internal/wstest"
	"golang.org/x/net/http2"
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
// test ends. configure, when given, adjusts the http.Server before it
// starts.
func startH2Server(t testing.TB, useTLS bool, up *Upgrader, serve func(c *Conn), configure ...func(*http.Server)) *h2TestServer {
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
		s.Server = wstest.H2Server(t, h, configure...)
		s.dialer.TLSClientConfig = wstest.TLSConfigFor(s.Server)
		s.url = "wss" + strings.TrimPrefix(s.Server.URL, "https")
	} else {
		s.Server = wstest.H2CServer(t, h, configure...)
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
func (s *h2TestServer) dial(t testing.TB, path string) (*Conn, *http.Response) {
	t.Helper()
	return dialWith(t, s.dialer, s.url+path)
}

// dialWith dials u with d under testTimeout and drops the Conn when the
// test ends.
func dialWith(t testing.TB, d *Dialer, u string) (*Conn, *http.Response) {
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

// noXConnectServer is a TLS server on loopback that speaks HTTP/2 without
// allowing extended CONNECT, as net/http does by default: a connection on
// which the client picks h2 by ALPN gets SETTINGS without
// SETTINGS_ENABLE_CONNECT_PROTOCOL and nothing more; one on which it picks
// HTTP/1.1 is served by an http.Server whose handler upgrades and echoes.
type noXConnectServer struct {
	url    string // wss:// URL
	tls    *tls.Config
	h2     atomic.Int32 // connections that chose h2
	http1  atomic.Int32 // connections that chose HTTP/1.1
	served atomic.Int32 // WebSockets upgraded (over HTTP/1.1)
}

func startNoXConnectServer(t *testing.T) *noXConnectServer {
	t.Helper()
	s := &noXConnectServer{}
	cert := httptest.NewUnstartedServer(nil) // for its test certificate
	cert.StartTLS()
	certs := cert.TLS.Certificates
	s.tls = wstest.TLSConfigFor(cert)
	cert.Close()

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s.url = "wss://" + ln.Addr().String()
	http1 := &chanListener{conns: make(chan net.Conn), done: make(chan struct{}), addr: ln.Addr()}
	var wg sync.WaitGroup
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		s.served.Add(1)
		defer c.CloseNow()
		echoMessages(c)
	})}
	wg.Add(2)
	go func() {
		defer wg.Done()
		srv.Serve(http1)
	}()
	var open sync.WaitGroup
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			open.Go(func() {
				tc := tls.Server(conn, &tls.Config{Certificates: certs, NextProtos: []string{"h2", "http/1.1"}})
				tc.SetDeadline(time.Now().Add(testTimeout))
				if err := tc.Handshake(); err != nil {
					conn.Close()
					return
				}
				if tc.ConnectionState().NegotiatedProtocol != "h2" {
					s.http1.Add(1)
					tc.SetDeadline(time.Time{})
					select {
					case http1.conns <- tc:
					case <-http1.done:
						tc.Close()
					}
					return
				}
				s.h2.Add(1)
				defer tc.Close()
				preface := make([]byte, len(http2.ClientPreface))
				if _, err := io.ReadFull(tc, preface); err != nil {
					return
				}
				// A server's SETTINGS as net/http sends them when
				// GODEBUG lacks http2xconnect=1.
				fr := http2.NewFramer(tc, tc)
				fr.WriteSettings(http2.Setting{ID: http2.SettingMaxConcurrentStreams, Val: 250},
					http2.Setting{ID: http2.SettingMaxFrameSize, Val: 1 << 20})
				io.Copy(io.Discard, tc) // until the client gives up
			})
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		srv.Close()
		open.Wait()
		wg.Wait()
	})
	return s
}

// dialer returns a Dialer in mode m that trusts the server.
func (s *noXConnectServer) dialer(m HTTP2Mode) *Dialer {
	return &Dialer{HandshakeTimeout: testTimeout, TLSClientConfig: s.tls, HTTP2: m}
}

// chanListener is a net.Listener whose connections come from a channel.
type chanListener struct {
	conns     chan net.Conn
	done      chan struct{}
	closeOnce sync.Once
	addr      net.Addr
}

func (l *chanListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

func (l *chanListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return nil
}

func (l *chanListener) Addr() net.Addr { return l.addr }

// forgetRefusals empties the memory of servers that refused WebSockets
// over HTTP/2, so that a test starts from nothing.
func forgetRefusals(t *testing.T) {
	t.Helper()
	reset := func() {
		refusals.Lock()
		refusals.until = make(map[string]time.Time)
		refusals.Unlock()
	}
	reset()
	t.Cleanup(reset)
}
