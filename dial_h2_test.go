//lint:file-ignore SA1019 net/http of Go 1.26 cannot send an extended CONNECT (it refuses the :protocol field): the tests use x/net's HTTP/2 client.

package websocket

import (
	"context"
	"crypto/tls"
	"errors"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
	"golang.org/x/net/http2"
)

// echoOnce sends a message on c and checks that it comes back.
func echoOnce(t *testing.T, c *Conn, msg string) {
	t.Helper()
	if err := c.WriteMessage(TextMessage, []byte(msg)); err != nil {
		t.Fatalf("write: %v", err)
	}
	c.SetReadDeadline(time.Now().Add(testTimeout))
	typ, got, err := c.ReadMessage()
	if err != nil || typ != TextMessage || string(got) != msg {
		t.Fatalf("echo = %v %q %v, want text %q", typ, got, err, msg)
	}
	c.SetReadDeadline(time.Time{})
}

// TestDialHTTP2Modes dials servers of each kind in each mode and checks
// which protocol carried the WebSocket, or that the dial failed.
func TestDialHTTP2Modes(t *testing.T) {
	t.Run("server allows extended CONNECT", func(t *testing.T) {
		for _, tc := range []struct {
			mode      HTTP2Mode
			wantHTTP2 bool
		}{{HTTP2Auto, true}, {HTTP2Never, false}, {HTTP2Always, true}} {
			t.Run(tc.mode.String(), func(t *testing.T) {
				s := startH2Server(t, true, nil, nil)
				d := *s.dialer
				d.HTTP2 = tc.mode
				c, resp := dialWith(t, &d, s.url)
				echoOnce(t, c, "hello")
				seen := s.seen()
				if len(seen) != 1 || seen[0].isWebSocketOverHTTP2() != tc.wantHTTP2 {
					t.Fatalf("server saw %+v, want one request, over HTTP/2: %v", seen, tc.wantHTTP2)
				}
				if got := resp.ProtoMajor == 2; got != tc.wantHTTP2 {
					t.Fatalf("response %s, want HTTP/2: %v", resp.Proto, tc.wantHTTP2)
				}
				wantStatus := http.StatusSwitchingProtocols
				if tc.wantHTTP2 {
					wantStatus = http.StatusOK
				}
				if resp.StatusCode != wantStatus {
					t.Fatalf("status %d, want %d", resp.StatusCode, wantStatus)
				}
			})
		}
	})

	t.Run("server speaks HTTP/1.1 only", func(t *testing.T) {
		for _, mode := range []HTTP2Mode{HTTP2Auto, HTTP2Never, HTTP2Always} {
			t.Run(mode.String(), func(t *testing.T) {
				u, d := echoServer(t, true, &Upgrader{}) // ALPN offers http/1.1 only
				d.HTTP2 = mode
				ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
				defer cancel()
				c, resp, err := d.Dial(ctx, u, nil)
				if mode == HTTP2Always {
					if err == nil || !strings.Contains(err.Error(), "ALPN") {
						t.Fatalf("HTTP2Always to an HTTP/1.1 server: %v, want an error about ALPN", err)
					}
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				defer c.CloseNow()
				if resp.StatusCode != http.StatusSwitchingProtocols {
					t.Fatalf("status %d, want 101", resp.StatusCode)
				}
				echoOnce(t, c, "hello")
			})
		}
	})

	t.Run("server speaks HTTP/2 without extended CONNECT", func(t *testing.T) {
		forgetRefusals(t)
		s := startNoXConnectServer(t)
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()

		_, _, err := s.dialer(HTTP2Always).Dial(ctx, s.url, nil)
		if !errors.Is(err, errNoExtendedConnect) {
			t.Fatalf("HTTP2Always: %v, want errNoExtendedConnect", err)
		}
		if s.http1.Load() != 0 {
			t.Fatal("HTTP2Always fell back to HTTP/1.1")
		}
		if recentlyRefused(mustParse(t, "https"+strings.TrimPrefix(s.url, "wss")), nil) {
			t.Fatal("HTTP2Always remembered the refusal; only HTTP2Auto's fallback should")
		}

		// Auto: h2 by ALPN, SETTINGS without the flag, then HTTP/1.1 on a
		// second connection.
		c, resp, err := s.dialer(HTTP2Auto).Dial(ctx, s.url, nil)
		if err != nil {
			t.Fatalf("HTTP2Auto: %v", err)
		}
		echoOnce(t, c, "fallback")
		c.Close()
		if resp.StatusCode != http.StatusSwitchingProtocols || s.h2.Load() != 2 || s.http1.Load() != 1 {
			t.Fatalf("status %d after %d h2 and %d HTTP/1.1 connections; want 101 after 2 and 1", resp.StatusCode, s.h2.Load(), s.http1.Load())
		}

		// The refusal is remembered: the next dial offers HTTP/1.1 only.
		c, _, err = s.dialer(HTTP2Auto).Dial(ctx, s.url, nil)
		if err != nil {
			t.Fatalf("second HTTP2Auto dial: %v", err)
		}
		echoOnce(t, c, "remembered")
		c.Close()
		if s.h2.Load() != 2 || s.http1.Load() != 2 {
			t.Fatalf("second dial: %d h2 and %d HTTP/1.1 connections in all, want 2 and 2", s.h2.Load(), s.http1.Load())
		}

		c, _, err = s.dialer(HTTP2Never).Dial(ctx, s.url, nil)
		if err != nil {
			t.Fatalf("HTTP2Never: %v", err)
		}
		c.Close()
		if s.h2.Load() != 2 {
			t.Fatal("HTTP2Never offered h2")
		}
	})

	t.Run("h2c", func(t *testing.T) {
		for _, tc := range []struct {
			mode      HTTP2Mode
			wantHTTP2 bool
		}{{HTTP2Auto, false}, {HTTP2Never, false}, {HTTP2Always, true}} {
			t.Run(tc.mode.String(), func(t *testing.T) {
				s := startH2Server(t, false, nil, nil)
				d := *s.dialer
				d.HTTP2 = tc.mode
				c, _ := dialWith(t, &d, s.url)
				echoOnce(t, c, "plain")
				if seen := s.seen(); len(seen) != 1 || seen[0].isWebSocketOverHTTP2() != tc.wantHTTP2 {
					t.Fatalf("server saw %+v, want one request, over HTTP/2: %v", seen, tc.wantHTTP2)
				}
			})
		}
	})
}

func mustParse(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestHTTP2ModeString(t *testing.T) {
	for m, want := range map[HTTP2Mode]string{HTTP2Auto: "HTTP2Auto", HTTP2Never: "HTTP2Never", HTTP2Always: "HTTP2Always", 7: "HTTP2Mode(7)"} {
		if got := m.String(); got != want {
			t.Errorf("%d.String() = %q, want %q", int(m), got, want)
		}
	}
}

// TestDialHTTP2Request checks the extended CONNECT the Dialer sends
// (RFC 8441 §5): the pseudo-headers, the WebSocket fields without
// Sec-WebSocket-Key, and the caller's fields, cookies and credentials.
func TestDialHTTP2Request(t *testing.T) {
	got := make(chan *http.Request, 1)
	srv := wstest.H2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- r
		conn, err := wstest.H2Accept(w, r, http.Header{"Sec-Websocket-Protocol": {"chat"}, "Set-Cookie": {"b=2"}})
		if err != nil {
			return
		}
		defer conn.Close()
		io.Copy(io.Discard, conn) // until the client ends the stream
	}))
	jar, _ := cookiejar.New(nil)
	base := mustParse(t, srv.URL)
	jar.SetCookies(base, []*http.Cookie{{Name: "a", Value: "1"}})
	d := &Dialer{
		HandshakeTimeout: testTimeout,
		TLSClientConfig:  wstest.TLSConfigFor(srv),
		Subprotocols:     []string{"chat", "superchat"},
		Header:           http.Header{"Origin": {srv.URL}},
		Jar:              jar,
		HTTP2:            HTTP2Always,
	}
	u := "wss://user:pw@" + base.Host + "/path/to?q=1"
	c, resp := dialWith(t, d, u)
	r := <-got
	checks := []struct {
		what      string
		got, want string
	}{
		{"method", r.Method, http.MethodConnect},
		{"proto", r.Proto, "HTTP/2.0"},
		{":protocol", r.Header.Get(":protocol"), "websocket"},
		{"request URI", r.RequestURI, "/path/to?q=1"},
		{"host", r.Host, base.Host},
		{"Sec-WebSocket-Version", r.Header.Get("Sec-WebSocket-Version"), "13"},
		{"Sec-WebSocket-Key", r.Header.Get("Sec-WebSocket-Key"), ""},
		{"Sec-WebSocket-Protocol", r.Header.Get("Sec-WebSocket-Protocol"), "chat, superchat"},
		{"Upgrade", r.Header.Get("Upgrade"), ""},
		{"Origin", r.Header.Get("Origin"), srv.URL},
		{"Cookie", r.Header.Get("Cookie"), "a=1"},
		{"Accept-Encoding", r.Header.Get("Accept-Encoding"), ""},
		{"subprotocol", c.Subprotocol(), "chat"},
		{"response proto", resp.Proto, "HTTP/2.0"},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s = %q, want %q", ch.what, ch.got, ch.want)
		}
	}
	if user, pw, ok := r.BasicAuth(); !ok || user != "user" || pw != "pw" {
		t.Errorf("credentials %q %q %v, want user pw", user, pw, ok)
	}
	if cs := jar.Cookies(mustParse(t, srv.URL+"/path/to")); len(cs) != 2 {
		t.Errorf("jar holds %v after the answer, want a=1 and b=2", cs)
	}
	if c.RemoteAddr().String() != base.Host {
		t.Errorf("RemoteAddr = %v, want %v", c.RemoteAddr(), base.Host)
	}
}

// TestDialHTTP2BadAnswers checks the client's checks of the server's
// answer over HTTP/2.
func TestDialHTTP2BadAnswers(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		header http.Header
		want   string
	}{
		{"refused", http.StatusForbidden, nil, "refused the extended CONNECT"},
		{"subprotocol not offered", http.StatusOK, http.Header{"Sec-Websocket-Protocol": {"other"}}, "not offered"},
		{"extension not offered", http.StatusOK, http.Header{"Sec-Websocket-Extensions": {"permessage-deflate"}}, "not offered"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := wstest.H2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				maps.Copy(w.Header(), tc.header)
				w.WriteHeader(tc.status)
				io.WriteString(w, "why not")
			}))
			d := &Dialer{HandshakeTimeout: testTimeout, TLSClientConfig: wstest.TLSConfigFor(srv), HTTP2: HTTP2Always, Subprotocols: []string{"chat"}}
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			c, resp, err := d.Dial(ctx, "wss"+strings.TrimPrefix(srv.URL, "https"), nil)
			if c != nil {
				c.CloseNow()
				t.Fatal("Dial succeeded")
			}
			var he *HandshakeError
			if !errors.As(err, &he) || he.Status != tc.status || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Dial: %v, want a HandshakeError with status %d mentioning %q", err, tc.status, tc.want)
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("response %v, want status %d", resp, tc.status)
			}
			if body, _ := io.ReadAll(resp.Body); tc.status != http.StatusOK && string(body) != "why not" {
				t.Fatalf("body %q, want the server's", body)
			}
		})
	}
}

// TestDialHTTP2ContextEndsHandshake checks that the dial's context bounds
// the wait for the answer, and only that: the stream outlives it.
func TestDialHTTP2ContextEndsHandshake(t *testing.T) {
	release := make(chan struct{})
	srv := wstest.H2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/slow" {
			select {
			case <-release:
			case <-r.Context().Done():
			}
			return
		}
		c, err := (&Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		echoMessages(c)
	}))
	defer close(release)
	d := &Dialer{TLSClientConfig: wstest.TLSConfigFor(srv), HTTP2: HTTP2Always}
	u := "wss" + strings.TrimPrefix(srv.URL, "https")

	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, _, err := d.Dial(ctx, u+"/slow", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Dial past its context: %v, want context.DeadlineExceeded", err)
	}
	if time.Since(start) > testTimeout/2 {
		t.Fatalf("Dial took %v to notice its context", time.Since(start))
	}

	ctx2, cancel2 := context.WithCancel(context.Background())
	c, _, err := d.Dial(ctx2, u+"/echo", nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	cancel2()
	echoOnce(t, c, "after the dial's context ended")
}

// TestDialHTTP2CloseEndsConnection checks that a WebSocket with an HTTP/2
// connection of its own closes that connection when it closes.
func TestDialHTTP2CloseEndsConnection(t *testing.T) {
	states := make(chan http.ConnState, 16)
	s := startH2Server(t, true, nil, nil, func(srv *http.Server) {
		srv.ConnState = func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew || st == http.StateClosed {
				states <- st
			}
		}
	})
	c, _ := s.dial(t, "/")
	echoOnce(t, c, "x")
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	for _, want := range []http.ConnState{http.StateNew, http.StateClosed} {
		select {
		case st := <-states:
			if st != want {
				t.Fatalf("connection state %v, want %v", st, want)
			}
		case <-time.After(testTimeout):
			t.Fatalf("no %v connection state", want)
		}
	}
}

// TestDialHTTP2TransportFallback checks HTTP2Auto with HTTP2Transport on a
// server that speaks HTTP/2 without extended CONNECT: HTTP2Always returns
// the transport's error, which HTTP2Auto answers by falling back to
// HTTP/1.1, without looking at the error's text.
func TestDialHTTP2TransportFallback(t *testing.T) {
	forgetRefusals(t)
	s := startNoXConnectServer(t)
	t2 := newCountingTransport(s.tls)
	defer t2.CloseIdleConnections()
	d := s.dialer(HTTP2Always)
	d.HTTP2Transport = t2.Transport
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, resp, err := d.Dial(ctx, s.url, nil); err == nil || resp != nil || s.served.Load() != 0 {
		t.Fatalf("HTTP2Always through the transport: %v, %v, %d HTTP/1.1 upgrades; want an error, no answer, none", err, resp, s.served.Load())
	}
	d.HTTP2 = HTTP2Auto
	c, resp, err := d.Dial(ctx, s.url, nil)
	if err != nil {
		t.Fatalf("HTTP2Auto through the transport: %v", err)
	}
	defer c.CloseNow()
	echoOnce(t, c, "fell back")
	if resp.StatusCode != http.StatusSwitchingProtocols || s.served.Load() != 1 {
		t.Fatalf("status %d, %d HTTP/1.1 upgrades; want 101 and 1", resp.StatusCode, s.served.Load())
	}
}

// TestDialHTTP2NeverWithH2Conn checks that HTTP2Never refuses a TLS
// connection from NetDialTLSContext that chose h2 by ALPN, which cannot
// carry the HTTP/1.1 upgrade.
func TestDialHTTP2NeverWithH2Conn(t *testing.T) {
	s := startH2Server(t, true, nil, nil)
	d := *s.dialer
	d.HTTP2 = HTTP2Never
	d.NetDialTLSContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		cfg := s.dialer.TLSClientConfig.Clone()
		cfg.NextProtos = []string{"h2"}
		return (&tls.Dialer{Config: cfg}).DialContext(ctx, network, addr)
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, _, err := d.Dial(ctx, s.url, nil); err == nil || !strings.Contains(err.Error(), "HTTP2Never") {
		t.Fatalf("Dial: %v, want an error naming HTTP2Never", err)
	}
	// HTTP2Auto takes what the connection chose.
	d.HTTP2 = HTTP2Auto
	c, _ := dialWith(t, &d, s.url)
	echoOnce(t, c, "h2 from NetDialTLSContext")
	if seen := s.seen(); len(seen) != 1 || !seen[0].isWebSocketOverHTTP2() {
		t.Fatalf("server saw %+v, want one WebSocket over HTTP/2", seen)
	}
}

// countingTransport wraps an HTTP/2 transport and counts the connections
// it dials.
type countingTransport struct {
	*http2.Transport
	mu    sync.Mutex
	dials int
}

func newCountingTransport(cfg *tls.Config) *countingTransport {
	ct := &countingTransport{}
	ct.Transport = &http2.Transport{
		TLSClientConfig: cfg,
		DialTLSContext: func(ctx context.Context, network, addr string, cfg *tls.Config) (net.Conn, error) {
			ct.mu.Lock()
			ct.dials++
			ct.mu.Unlock()
			return (&tls.Dialer{Config: cfg}).DialContext(ctx, network, addr)
		},
	}
	return ct
}

// dialCount returns how many connections the transport has dialed.
func (ct *countingTransport) dialCount() int {
	ct.mu.Lock()
	defer ct.mu.Unlock()
	return ct.dials
}

// TestDialHTTP2ThroughProxy opens a WebSocket over HTTP/2 through an HTTPS
// CONNECT proxy: TLS to the proxy, CONNECT, then TLS with ALPN h2 to the
// server inside the tunnel.
func TestDialHTTP2ThroughProxy(t *testing.T) {
	s := startH2Server(t, true, nil, nil)
	p, proxySrv, proxyURL := startConnectProxy(t, true, nil, nil)
	d := *s.dialer
	d.HTTP2 = HTTP2Auto
	d.Proxy = http.ProxyURL(proxyURL)
	d.ProxyTLSConfig = tlsConfigFor(proxySrv)
	c, _ := dialWith(t, &d, s.url)
	echoOnce(t, c, "through the proxy")
	if used := p.used(); len(used) != 1 || used[0] != s.Listener.Addr().String() {
		t.Fatalf("proxy tunnels %v, want one to %v", used, s.Listener.Addr())
	}
	if seen := s.seen(); len(seen) != 1 || !seen[0].isWebSocketOverHTTP2() {
		t.Fatalf("server saw %+v, want one WebSocket over HTTP/2", seen)
	}
}

// TestDialHTTP2NetHTTPTransport gives HTTP2Transport a net/http Transport
// speaking HTTP/2, which cannot send an extended CONNECT in Go 1.26: in
// HTTP2Always the dial fails without reaching the server, and HTTP2Auto
// falls back to the HTTP/1.1 upgrade on a connection of the Dialer's own.
func TestDialHTTP2NetHTTPTransport(t *testing.T) {
	s := startH2Server(t, true, nil, nil)
	var protocols http.Protocols
	protocols.SetHTTP2(true)
	tr := &http.Transport{TLSClientConfig: s.dialer.TLSClientConfig, Protocols: &protocols}
	defer tr.CloseIdleConnections()
	d := *s.dialer
	d.HTTP2Transport = tr
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if _, resp, err := d.Dial(ctx, s.url, nil); err == nil || resp != nil || len(s.seen()) != 0 {
		t.Fatalf("HTTP2Always: %v, %v, server saw %+v; want an error, no answer, nothing", err, resp, s.seen())
	}
	d.HTTP2 = HTTP2Auto
	c, _ := dialWith(t, &d, s.url)
	echoOnce(t, c, "over HTTP/1.1")
	if seen := s.seen(); len(seen) != 1 || seen[0].isWebSocketOverHTTP2() {
		t.Fatalf("server saw %+v, want one HTTP/1.1 upgrade", seen)
	}
}
