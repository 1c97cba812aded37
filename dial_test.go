package websocket

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cannedServer is a raw TCP server on loopback that reads one request per
// connection and writes whatever its respond function returns, so that tests
// control every byte of the handshake answer.
type cannedServer struct {
	ln       net.Listener
	requests chan *http.Request
	wg       sync.WaitGroup

	mu    sync.Mutex
	conns []net.Conn
}

// startCannedServer serves on 127.0.0.1 until the test ends. respond gets the
// request and returns the raw answer; if it returns "", the connection is
// left silent until the test ends. When closeAfter is true the server closes
// each connection once the answer is written.
func startCannedServer(t *testing.T, network, addr string, closeAfter bool, respond func(r *http.Request) string) *cannedServer {
	t.Helper()
	ln, err := net.Listen(network, addr)
	if err != nil {
		t.Skipf("cannot listen on %s %s: %v", network, addr, err)
	}
	s := &cannedServer{ln: ln, requests: make(chan *http.Request, 16)}
	s.wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			s.mu.Lock()
			s.conns = append(s.conns, conn)
			s.mu.Unlock()
			s.wg.Go(func() {
				req, err := http.ReadRequest(bufio.NewReader(conn))
				if err != nil {
					conn.Close()
					return
				}
				s.requests <- req
				if answer := respond(req); answer != "" {
					io.WriteString(conn, answer)
					if closeAfter {
						conn.Close()
					}
				}
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.mu.Lock()
		for _, c := range s.conns {
			c.Close()
		}
		s.mu.Unlock()
		s.wg.Wait()
	})
	return s
}

func (s *cannedServer) url() string { return "ws://" + s.ln.Addr().String() + "/" }

// switching returns a correct 101 answer to r with extra header lines.
func switching(r *http.Request, extra ...string) string {
	lines := []string{
		"HTTP/1.1 101 Switching Protocols",
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Accept: " + acceptKey(r.Header.Get("Sec-WebSocket-Key")),
	}
	return strings.Join(append(lines, extra...), "\r\n") + "\r\n\r\n"
}

// dialCfg dials with d and closes whatever it hands over at the end of the
// test.
func dialCfg(t *testing.T, d *Dialer, ctx context.Context, urlStr string, header http.Header) (connConfig, *http.Response, error) {
	t.Helper()
	cfg, resp, err := d.dial(ctx, urlStr, header)
	if cfg.netConn != nil {
		t.Cleanup(func() { cfg.netConn.Close() })
	}
	return cfg, resp, err
}

func TestDialChecksResponse(t *testing.T) {
	tests := []struct {
		name      string
		offer     []string
		respond   func(r *http.Request) string
		wantProto string
		// For a refusal: the status in the *HandshakeError, or 0 when the
		// answer is not HTTP at all, and the body the response must carry.
		wantErr    bool
		wantStatus int
		wantBody   string
	}{
		{name: "correct", respond: func(r *http.Request) string { return switching(r) }},
		{name: "connection list", respond: func(r *http.Request) string {
			return strings.Replace(switching(r), "Connection: Upgrade", "Connection: keep-alive, upgrade", 1)
		}},
		{name: "upgrade case", respond: func(r *http.Request) string {
			return strings.Replace(switching(r), "Upgrade: websocket", "Upgrade: WebSocket", 1)
		}},
		{name: "subprotocol chosen", offer: []string{"a", "b"}, wantProto: "b", respond: func(r *http.Request) string {
			return switching(r, "Sec-WebSocket-Protocol: b")
		}},
		{name: "subprotocol declined", offer: []string{"a"}, respond: func(r *http.Request) string { return switching(r) }},
		{name: "wrong accept", wantErr: true, wantStatus: 101, respond: func(r *http.Request) string {
			return strings.Replace(switching(r), acceptKey(r.Header.Get("Sec-WebSocket-Key")), acceptKey(sampleKey), 1)
		}},
		{name: "missing accept", wantErr: true, wantStatus: 101, respond: func(r *http.Request) string {
			return "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\r\n"
		}},
		{name: "two accepts", wantErr: true, wantStatus: 101, respond: func(r *http.Request) string {
			return switching(r, "Sec-WebSocket-Accept: "+acceptKey(r.Header.Get("Sec-WebSocket-Key")))
		}},
		{name: "unrequested subprotocol", offer: []string{"a"}, wantErr: true, wantStatus: 101, respond: func(r *http.Request) string {
			return switching(r, "Sec-WebSocket-Protocol: c")
		}},
		{name: "subprotocol without offer", wantErr: true, wantStatus: 101, respond: func(r *http.Request) string {
			return switching(r, "Sec-WebSocket-Protocol: a")
		}},
		{name: "two subprotocols", offer: []string{"a", "b"}, wantErr: true, wantStatus: 101, respond: func(r *http.Request) string {
			return switching(r, "Sec-WebSocket-Protocol: a, b")
		}},
		{name: "extension", wantErr: true, wantStatus: 101, respond: func(r *http.Request) string {
			return switching(r, "Sec-WebSocket-Extensions: permessage-deflate")
		}},
		{name: "malformed extension", wantErr: true, wantStatus: 101, respond: func(r *http.Request) string {
			return switching(r, "Sec-WebSocket-Extensions: ;")
		}},
		{name: "missing upgrade", wantErr: true, wantStatus: 101, respond: func(r *http.Request) string {
			return strings.Replace(switching(r), "Upgrade: websocket\r\n", "", 1)
		}},
		{name: "upgrade h2c", wantErr: true, wantStatus: 101, respond: func(r *http.Request) string {
			return strings.Replace(switching(r), "Upgrade: websocket", "Upgrade: h2c", 1)
		}},
		{name: "missing connection", wantErr: true, wantStatus: 101, respond: func(r *http.Request) string {
			return strings.Replace(switching(r), "Connection: Upgrade\r\n", "", 1)
		}},
		{name: "forbidden", wantErr: true, wantStatus: 403, wantBody: "go away", respond: func(r *http.Request) string {
			return "HTTP/1.1 403 Forbidden\r\nContent-Length: 7\r\n\r\ngo away"
		}},
		{name: "ok with chunked body", wantErr: true, wantStatus: 200, wantBody: "hello", respond: func(r *http.Request) string {
			return "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n"
		}},
		{name: "not http", wantErr: true, respond: func(r *http.Request) string { return "SSH-2.0-OpenSSH\r\n\r\n" }},
	}
	srv := startCannedServer(t, "tcp", "127.0.0.1:0", false, func(r *http.Request) string {
		for _, tt := range tests {
			if r.URL.Query().Get("case") == tt.name {
				return tt.respond(r)
			}
		}
		return "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n"
	})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Dialer{Subprotocols: tt.offer}
			cfg, resp, err := dialCfg(t, d, t.Context(), srv.url()+"?case="+url.QueryEscape(tt.name), nil)
			<-srv.requests
			if !tt.wantErr {
				require.NoError(t, err)
				assert.Equal(t, 101, resp.StatusCode)
				assert.True(t, cfg.client)
				assert.NotNil(t, cfg.netConn)
				assert.NotNil(t, cfg.br)
				assert.Equal(t, tt.wantProto, cfg.subprotocol)
				body, err := io.ReadAll(resp.Body)
				require.NoError(t, err)
				assert.Empty(t, body)
				return
			}
			require.Error(t, err)
			assert.Nil(t, cfg.netConn)
			if tt.wantStatus == 0 {
				assert.NotErrorIs(t, err, ErrBadHandshake)
				return
			}
			var he *HandshakeError
			require.ErrorAs(t, err, &he, "%v", err)
			assert.ErrorIs(t, err, ErrBadHandshake)
			assert.Equal(t, tt.wantStatus, he.Status)
			require.NotNil(t, resp)
			assert.Equal(t, tt.wantStatus, resp.StatusCode)
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tt.wantBody, string(body))
		})
	}
}

func TestDialRefusalBodyUntilClose(t *testing.T) {
	// A body without a length ends when the server closes the connection;
	// it is still readable after Dial closed its side.
	srv := startCannedServer(t, "tcp", "127.0.0.1:0", true, func(r *http.Request) string {
		return "HTTP/1.1 400 Bad Request\r\n\r\nmissing token"
	})
	_, resp, err := dialCfg(t, &Dialer{}, t.Context(), srv.url(), nil)
	var he *HandshakeError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, 400, he.Status)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, "missing token", string(body))
}

func TestDialRefusalBodyBounded(t *testing.T) {
	const size = 3 << 20
	srv := startCannedServer(t, "tcp", "127.0.0.1:0", true, func(r *http.Request) string {
		return "HTTP/1.1 400 Bad Request\r\nContent-Length: 3145728\r\n\r\n" + strings.Repeat("x", size)
	})
	_, resp, err := dialCfg(t, &Dialer{}, t.Context(), srv.url(), nil)
	require.ErrorIs(t, err, ErrBadHandshake)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Equal(t, maxResponseBodyBytes, len(body))
}

func TestDialResponseHeaderBounded(t *testing.T) {
	srv := startCannedServer(t, "tcp", "127.0.0.1:0", true, func(r *http.Request) string {
		return "HTTP/1.1 101 Switching Protocols\r\nX-Long: " + strings.Repeat("x", 2<<20) + "\r\n\r\n"
	})
	_, resp, err := dialCfg(t, &Dialer{}, t.Context(), srv.url(), nil)
	require.Error(t, err)
	assert.Nil(t, resp)
	assert.Contains(t, err.Error(), "too large")
}

func TestDialRequest(t *testing.T) {
	srv := startCannedServer(t, "tcp", "127.0.0.1:0", false, func(r *http.Request) string {
		return switching(r, "Set-Cookie: session=abc; Path=/")
	})
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	d := &Dialer{
		Subprotocols: []string{"chat", "v2.chat"},
		Header:       http.Header{"X-Default": {"d"}, "X-Both": {"from dialer"}},
		Jar:          jar,
	}
	u := "ws://user:secret@" + srv.ln.Addr().String() + "/path/x?q=1&r=%20"

	_, resp, err := dialCfg(t, d, t.Context(), u, http.Header{"x-both": {"from call"}, "Origin": {"http://example.com"}})
	require.NoError(t, err)
	assert.Equal(t, 101, resp.StatusCode)
	r := <-srv.requests
	assert.Equal(t, "GET", r.Method)
	assert.Equal(t, "/path/x?q=1&r=%20", r.RequestURI)
	assert.Equal(t, "HTTP/1.1", r.Proto)
	assert.Equal(t, srv.ln.Addr().String(), r.Host)
	assert.Equal(t, "websocket", r.Header.Get("Upgrade"))
	assert.Equal(t, "Upgrade", r.Header.Get("Connection"))
	assert.Equal(t, "13", r.Header.Get("Sec-WebSocket-Version"))
	assert.True(t, validKey(r.Header.Get("Sec-WebSocket-Key")))
	assert.Equal(t, []string{"chat, v2.chat"}, r.Header.Values("Sec-WebSocket-Protocol"))
	assert.Empty(t, r.Header.Values("Sec-WebSocket-Extensions"))
	assert.Equal(t, "d", r.Header.Get("X-Default"))
	assert.Equal(t, []string{"from call"}, r.Header.Values("X-Both"))
	assert.Equal(t, "http://example.com", r.Header.Get("Origin"))
	user, password, ok := r.BasicAuth()
	assert.True(t, ok)
	assert.Equal(t, "user", user)
	assert.Equal(t, "secret", password)
	assert.Empty(t, r.Header.Values("Cookie"), "the jar was empty")

	// The cookie set by the first answer goes with the second request; the
	// Host override is what the server sees.
	_, _, err = dialCfg(t, d, t.Context(), u, http.Header{"Host": {"example.com:8080"}, "Sec-WebSocket-Protocol": nil})
	require.NoError(t, err)
	r = <-srv.requests
	assert.Equal(t, "example.com:8080", r.Host)
	c, err := r.Cookie("session")
	require.NoError(t, err)
	assert.Equal(t, "abc", c.Value)
	// The keys of two handshakes differ.
	assert.True(t, validKey(r.Header.Get("Sec-WebSocket-Key")))
}

func TestDialSubprotocolHeader(t *testing.T) {
	srv := startCannedServer(t, "tcp", "127.0.0.1:0", false, func(r *http.Request) string {
		return switching(r, "Sec-WebSocket-Protocol: y")
	})
	cfg, _, err := dialCfg(t, &Dialer{}, t.Context(), srv.url(), http.Header{"Sec-WebSocket-Protocol": {"x", "y"}})
	require.NoError(t, err)
	assert.Equal(t, "y", cfg.subprotocol)
	r := <-srv.requests
	assert.Equal(t, []string{"x, y"}, r.Header.Values("Sec-WebSocket-Protocol"))
}

func TestDialRejectsBadInput(t *testing.T) {
	tests := []struct {
		name   string
		dialer Dialer
		url    string
		header http.Header
	}{
		{name: "scheme", url: "ftp://127.0.0.1/"},
		{name: "no host", url: "ws:///path"},
		{name: "unparsable", url: "ws://[::1/"},
		{name: "fragment", url: "ws://127.0.0.1/#frag"},
		{name: "Upgrade", url: "ws://127.0.0.1/", header: http.Header{"Upgrade": {"websocket"}}},
		{name: "Connection", url: "ws://127.0.0.1/", header: http.Header{"connection": {"close"}}},
		{name: "Sec-WebSocket-Key", url: "ws://127.0.0.1/", header: http.Header{"Sec-WebSocket-Key": {sampleKey}}},
		{name: "Sec-WebSocket-Version", url: "ws://127.0.0.1/", dialer: Dialer{Header: http.Header{"Sec-WebSocket-Version": {"13"}}}},
		{name: "Sec-WebSocket-Extensions", url: "ws://127.0.0.1/", header: http.Header{"Sec-WebSocket-Extensions": {"permessage-deflate"}}},
		{name: "protocol twice", url: "ws://127.0.0.1/", dialer: Dialer{Subprotocols: []string{"a"}}, header: http.Header{"Sec-WebSocket-Protocol": {"b"}}},
		{name: "protocol not a token", url: "ws://127.0.0.1/", dialer: Dialer{Subprotocols: []string{"a b"}}},
		{name: "protocol header not tokens", url: "ws://127.0.0.1/", header: http.Header{"Sec-WebSocket-Protocol": {"a;b"}}},
		{name: "header splitting", url: "ws://127.0.0.1/", header: http.Header{"X-Evil": {"a\r\nInjected: 1"}}},
		{name: "bad field name", url: "ws://127.0.0.1/", header: http.Header{"Bad Name": {"1"}}},
		{name: "bad Host", url: "ws://127.0.0.1/", header: http.Header{"Host": {"a b"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := tt.dialer
			d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
				t.Errorf("dialed %s despite bad input", addr)
				return nil, errors.New("unexpected dial")
			}
			_, resp, err := dialCfg(t, &d, t.Context(), tt.url, tt.header)
			require.Error(t, err)
			assert.Nil(t, resp)
			assert.True(t, strings.HasPrefix(err.Error(), "websocket: "), "%v", err)
		})
	}
}

func TestDialSchemesAndAddresses(t *testing.T) {
	srv := startCannedServer(t, "tcp", "127.0.0.1:0", false, func(r *http.Request) string { return switching(r) })
	for _, scheme := range []string{"ws", "http", "WS"} {
		cfg, _, err := dialCfg(t, &Dialer{}, t.Context(), scheme+"://"+srv.ln.Addr().String(), nil)
		require.NoError(t, err, scheme)
		assert.Equal(t, srv.ln.Addr().String(), cfg.netConn.RemoteAddr().String())
		r := <-srv.requests
		assert.Equal(t, "/", r.RequestURI, "an empty path is sent as /")
	}

	// The default port of ws is 80; the dialer is asked for it.
	var asked string
	d := &Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		asked = addr
		var nd net.Dialer
		return nd.DialContext(ctx, network, srv.ln.Addr().String())
	}}
	_, _, err := dialCfg(t, d, t.Context(), "ws://localhost/", nil)
	require.NoError(t, err)
	assert.Equal(t, "localhost:80", asked)
	r := <-srv.requests
	assert.Equal(t, "localhost", r.Host)
}

func TestDialIPv6(t *testing.T) {
	srv := startCannedServer(t, "tcp6", "[::1]:0", false, func(r *http.Request) string { return switching(r) })
	port := portOf(srv.ln.Addr().String())
	cfg, _, err := dialCfg(t, &Dialer{}, t.Context(), "ws://[::1]:"+port+"/v6", nil)
	require.NoError(t, err)
	assert.Equal(t, "[::1]:"+port, cfg.netConn.RemoteAddr().String())
	r := <-srv.requests
	assert.Equal(t, "[::1]:"+port, r.Host)
}

func TestDialKeepsBytesAfterResponse(t *testing.T) {
	frame := "\x81\x05Hello" // RFC 6455 §5.7, unmasked from a server
	srv := startCannedServer(t, "tcp", "127.0.0.1:0", false, func(r *http.Request) string { return switching(r) + frame })
	cfg, _, err := dialCfg(t, &Dialer{}, t.Context(), srv.url(), nil)
	require.NoError(t, err)
	require.NoError(t, cfg.netConn.SetReadDeadline(time.Now().Add(10*time.Second)))
	got := make([]byte, len(frame))
	_, err = io.ReadFull(cfg.br, got)
	require.NoError(t, err)
	assert.Equal(t, frame, string(got))
}

func TestDialClearsDeadline(t *testing.T) {
	// A HandshakeTimeout that has long passed when the connection is used
	// must not fail its reads.
	srv := startCannedServer(t, "tcp", "127.0.0.1:0", false, func(r *http.Request) string { return switching(r) + "x" })
	ctx, cancel := context.WithTimeout(t.Context(), time.Hour)
	defer cancel()
	cfg, _, err := dialCfg(t, &Dialer{HandshakeTimeout: time.Hour}, ctx, srv.url(), nil)
	require.NoError(t, err)
	cancel() // the context's end must not reach the connection either
	b, err := cfg.br.ReadByte()
	require.NoError(t, err)
	assert.Equal(t, byte('x'), b)
}

func TestDialContextCancel(t *testing.T) {
	srv := startCannedServer(t, "tcp", "127.0.0.1:0", false, func(r *http.Request) string { return "" })
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() {
		_, _, err := dialCfg(t, &Dialer{}, ctx, srv.url(), nil)
		done <- err
	}()
	<-srv.requests // the handshake is under way
	cancel()
	select {
	case err := <-done:
		require.Error(t, err)
		assert.ErrorIs(t, err, context.Canceled)
	case <-time.After(10 * time.Second):
		t.Fatal("Dial did not return after its context was canceled")
	}
}

func TestDialHandshakeTimeout(t *testing.T) {
	srv := startCannedServer(t, "tcp", "127.0.0.1:0", false, func(r *http.Request) string { return "" })
	start := time.Now()
	_, _, err := dialCfg(t, &Dialer{HandshakeTimeout: 100 * time.Millisecond}, t.Context(), srv.url(), nil)
	require.Error(t, err)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), 10*time.Second)
}

func TestDialConnectionRefused(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	ln.Close()
	_, resp, err := dialCfg(t, &Dialer{}, t.Context(), "ws://"+addr, nil)
	require.Error(t, err)
	assert.Nil(t, resp)
	assert.NotErrorIs(t, err, ErrBadHandshake)
	assert.Contains(t, err.Error(), addr)
}

// tlsConfigFor returns a client TLS configuration that trusts srv.
func tlsConfigFor(srv *httptest.Server) *tls.Config {
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())
	return &tls.Config{RootCAs: pool}
}

// startUpgradeHTTPServer runs u.upgrade behind httptest, over TLS when
// useTLS is set, and reports each outcome; the test closes what is handed
// over.
func startUpgradeHTTPServer(t *testing.T, useTLS bool, u *Upgrader) (*httptest.Server, <-chan upgradeResult) {
	t.Helper()
	ch := make(chan upgradeResult, 16)
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg, err := u.upgrade(w, r, nil)
		if cfg.netConn != nil {
			t.Cleanup(func() { cfg.netConn.Close() })
		}
		ch <- upgradeResult{cfg, err}
	})
	srv := startHTTPServer(useTLS, h)
	t.Cleanup(srv.Close)
	return srv, ch
}

// startHTTPServer starts an httptest server, over TLS when useTLS is set,
// that does not log the failed TLS handshakes some tests cause on purpose.
func startHTTPServer(useTLS bool, h http.Handler) *httptest.Server {
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if useTLS {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	return srv
}

// exchange checks that bytes pass both ways between a dialed and an
// upgraded connection.
func exchange(t *testing.T, client, server connConfig) {
	t.Helper()
	require.NoError(t, client.netConn.SetDeadline(time.Now().Add(10*time.Second)))
	require.NoError(t, server.netConn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err := io.WriteString(client.netConn, "to server")
	require.NoError(t, err)
	got := make([]byte, len("to server"))
	_, err = io.ReadFull(server.br, got)
	require.NoError(t, err)
	assert.Equal(t, "to server", string(got))
	_, err = io.WriteString(server.netConn, "to client")
	require.NoError(t, err)
	_, err = io.ReadFull(client.br, got)
	require.NoError(t, err)
	assert.Equal(t, "to client", string(got))
}

func TestDialTLS(t *testing.T) {
	srv, results := startUpgradeHTTPServer(t, true, &Upgrader{Subprotocols: []string{"chat"}})
	host := srv.Listener.Addr().String()
	for _, scheme := range []string{"wss", "https"} {
		t.Run(scheme, func(t *testing.T) {
			d := &Dialer{TLSClientConfig: tlsConfigFor(srv), Subprotocols: []string{"chat"}}
			cfg, _, err := dialCfg(t, d, t.Context(), scheme+"://"+host+"/", nil)
			require.NoError(t, err)
			res := <-results
			require.NoError(t, res.err)
			assert.Equal(t, "chat", cfg.subprotocol)
			assert.Equal(t, "chat", res.cfg.subprotocol)
			tc, ok := cfg.netConn.(*tls.Conn)
			require.True(t, ok, "a wss connection is a *tls.Conn, got %T", cfg.netConn)
			assert.Equal(t, "http/1.1", tc.ConnectionState().NegotiatedProtocol)
			exchange(t, cfg, res.cfg)
		})
	}
	t.Run("untrusted", func(t *testing.T) {
		_, resp, err := dialCfg(t, &Dialer{}, t.Context(), "wss://"+host+"/", nil)
		require.Error(t, err)
		assert.Nil(t, resp)
		var certErr *tls.CertificateVerificationError
		assert.ErrorAs(t, err, &certErr)
	})
	t.Run("NetDialTLSContext", func(t *testing.T) {
		used := false
		d := &Dialer{NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			used = true
			cfg := tlsConfigFor(srv)
			cfg.NextProtos = []string{"http/1.1"}
			return (&tls.Dialer{Config: cfg}).DialContext(ctx, network, addr)
		}}
		cfg, _, err := dialCfg(t, d, t.Context(), "wss://"+host+"/", nil)
		require.NoError(t, err)
		assert.True(t, used)
		res := <-results
		require.NoError(t, res.err)
		exchange(t, cfg, res.cfg)
	})
}

func TestDialUpgradeOverTCP(t *testing.T) {
	srv, results := startUpgradeHTTPServer(t, false, &Upgrader{})
	cfg, resp, err := dialCfg(t, &Dialer{}, t.Context(), "ws"+strings.TrimPrefix(srv.URL, "http")+"/socket", nil)
	require.NoError(t, err)
	assert.Equal(t, 101, resp.StatusCode)
	res := <-results
	require.NoError(t, res.err)
	exchange(t, cfg, res.cfg)
}

func TestDefaultDialer(t *testing.T) {
	require.NotNil(t, DefaultDialer.Proxy)
	assert.Positive(t, DefaultDialer.HandshakeTimeout)
	// Loopback is never proxied by http.ProxyFromEnvironment, whatever the
	// environment says.
	req := &http.Request{URL: &url.URL{Scheme: "http", Host: "127.0.0.1:1"}}
	p, err := DefaultDialer.Proxy(req)
	require.NoError(t, err)
	assert.Nil(t, p)
}

// FuzzDialResponse feeds raw answer bytes to the client's checks: they must
// never panic, and must accept only a 101 that answers the key, with nothing
// that was not offered.
func FuzzDialResponse(f *testing.F) {
	good := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(sampleKey) + "\r\n"
	f.Add([]byte(good + "\r\n"))
	f.Add([]byte(good + "Sec-WebSocket-Protocol: chat\r\n\r\n"))
	f.Add([]byte(good + "Sec-WebSocket-Protocol: other\r\n\r\n"))
	f.Add([]byte(good + "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10\r\n\r\n"))
	f.Add([]byte("HTTP/1.1 403 Forbidden\r\nContent-Length: 3\r\n\r\nno!"))
	f.Add([]byte("HTTP/1.0 101 Switching Protocols\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		req := &http.Request{Method: http.MethodGet}
		resp, err := http.ReadResponse(bufio.NewReader(bytes.NewReader(data)), req)
		if err != nil {
			return
		}
		proto, err := checkResponse(resp, sampleKey, []string{"chat"})
		if err != nil {
			var he *HandshakeError
			if !errors.As(err, &he) || he.Status != resp.StatusCode {
				t.Fatalf("error %v does not carry status %d", err, resp.StatusCode)
			}
			return
		}
		if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(sampleKey) {
			t.Fatalf("accepted %q", data)
		}
		if (proto != "" && proto != "chat") || len(resp.Header.Values("Sec-WebSocket-Extensions")) > 0 && strings.Trim(strings.Join(resp.Header.Values("Sec-WebSocket-Extensions"), ""), " \t,") != "" {
			t.Fatalf("accepted subprotocol %q or extensions in %q", proto, data)
		}
	})
}
