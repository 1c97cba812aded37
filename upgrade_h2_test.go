//lint:file-ignore SA1019 net/http of Go 1.26 cannot send an extended CONNECT (it refuses the :protocol field), and TestUpgradeHTTP2XNetServer tests x/net's server: x/net's HTTP/2 is the point here.

package websocket

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/rfc6455/websocket/internal/wstest"
	"golang.org/x/net/http2"
)

func TestExtendedConnectEnabled(t *testing.T) {
	// This test binary imports the http2xconnect package.
	if !ExtendedConnectEnabled() {
		t.Fatalf("ExtendedConnectEnabled is false with GODEBUG=%q", os.Getenv("GODEBUG"))
	}
	if !strings.Contains(os.Getenv("GODEBUG"), "http2xconnect=1") {
		t.Fatalf("GODEBUG=%q lacks http2xconnect=1", os.Getenv("GODEBUG"))
	}
}

// TestUpgradeHTTP2 runs the server side over HTTP/2 with TLS and with h2c:
// the handshake's answer, the addresses, and an exchange.
func TestUpgradeHTTP2(t *testing.T) {
	for _, useTLS := range []bool{true, false} {
		name := "h2c"
		if useTLS {
			name = "tls"
		}
		t.Run(name, func(t *testing.T) {
			type sides struct{ local, remote net.Addr }
			addrs := make(chan sides, 1)
			up := &Upgrader{Subprotocols: []string{"v2", "v1"}}
			s := startH2Server(t, useTLS, up, func(c *Conn) {
				addrs <- sides{c.LocalAddr(), c.RemoteAddr()}
				echoMessages(c)
			})
			d := *s.dialer
			d.Subprotocols = []string{"v1", "v2"}
			c, resp := dialWith(t, &d, s.url+"/chat?room=1")
			if resp.StatusCode != http.StatusOK || resp.ProtoMajor != 2 {
				t.Fatalf("answer %s %s, want 200 over HTTP/2", resp.Proto, resp.Status)
			}
			for _, name := range []string{"Sec-Websocket-Accept", "Upgrade", "Connection"} {
				if v := resp.Header.Values(name); len(v) > 0 {
					t.Errorf("answer has %s: %q; RFC 8441 §5 has no such field", name, v)
				}
			}
			if c.Subprotocol() != "v1" {
				t.Errorf("subprotocol %q, want v1 (the client's preference)", c.Subprotocol())
			}
			echoOnce(t, c, "over HTTP/2")
			a := <-addrs
			if a.local.String() != s.Listener.Addr().String() {
				t.Errorf("server LocalAddr %v, want the listener's %v", a.local, s.Listener.Addr())
			}
			if a.remote.String() != c.LocalAddr().String() {
				t.Errorf("server RemoteAddr %v, want the client's %v", a.remote, c.LocalAddr())
			}
			if seen := s.seen(); len(seen) != 1 || !seen[0].isWebSocketOverHTTP2() {
				t.Fatalf("server saw %+v, want one extended CONNECT over HTTP/2", seen)
			}
			if err := c.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}
		})
	}
}

// TestUpgradeHTTP2Refusals sends HTTP/2 requests that are not valid
// WebSocket handshakes and checks the answer and Upgrade's error.
func TestUpgradeHTTP2Refusals(t *testing.T) {
	for _, tc := range []struct {
		name       string
		method     string
		protocol   string // :protocol, "" for none
		header     http.Header
		up         Upgrader
		status     int
		wantHeader [2]string
	}{
		{name: "GET", method: http.MethodGet, status: http.StatusMethodNotAllowed, wantHeader: [2]string{"Allow", "CONNECT"}},
		{name: "plain CONNECT", method: http.MethodConnect, status: http.StatusBadRequest},
		{name: "other protocol", method: http.MethodConnect, protocol: "webtransport", status: http.StatusBadRequest},
		{name: "no version", method: http.MethodConnect, protocol: "websocket", header: http.Header{"Sec-Websocket-Version": {"8"}},
			status: http.StatusUpgradeRequired, wantHeader: [2]string{"Sec-Websocket-Version", "13"}},
		{name: "cross origin", method: http.MethodConnect, protocol: "websocket", header: http.Header{"Origin": {"https://evil.example"}},
			status: http.StatusForbidden},
		{name: "bad subprotocol list", method: http.MethodConnect, protocol: "websocket", header: http.Header{"Sec-Websocket-Protocol": {"a b"}},
			status: http.StatusBadRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			up := tc.up
			s := startH2Server(t, true, &up, nil)
			resp := sendH2(t, s, tc.method, tc.protocol, tc.header)
			if resp.StatusCode != tc.status {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.status)
			}
			if k := tc.wantHeader[0]; k != "" && resp.Header.Get(k) != tc.wantHeader[1] {
				t.Fatalf("%s: %q, want %q", k, resp.Header.Get(k), tc.wantHeader[1])
			}
			errs := s.upgradeErrors()
			var he *HandshakeError
			if len(errs) != 1 || !errors.As(errs[0], &he) || he.Status != tc.status {
				t.Fatalf("Upgrade returned %v, want one HandshakeError with status %d", errs, tc.status)
			}
		})
	}
}

// sendH2 sends one request over a new HTTP/2 connection to s with the
// given method and :protocol, and returns the answer, its body read.
func sendH2(t *testing.T, s *h2TestServer, method, protocol string, header http.Header) *http.Response {
	t.Helper()
	t2 := &http2.Transport{TLSClientConfig: s.dialer.TLSClientConfig}
	defer t2.CloseIdleConnections()
	u := mustParse(t, s.URL+"/ws")
	h := header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	if h.Get("Sec-Websocket-Version") == "" {
		h.Set("Sec-Websocket-Version", "13")
	}
	req := &http.Request{Method: method, URL: u, Host: u.Host, Header: h}
	if method == http.MethodConnect && protocol == "" {
		// A plain CONNECT names only an authority (RFC 9113 §8.5).
		req.URL = &url.URL{Scheme: "https", Host: u.Host}
	}
	if protocol != "" {
		h.Set(":protocol", protocol)
		pr, pw := io.Pipe()
		defer pw.Close()
		req.Body = pr
	}
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	resp, err := t2.RoundTrip(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s: %v", method, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp
}

func TestUpgradeHTTP2ResponseHeader(t *testing.T) {
	got := make(chan error, 1)
	srv := wstest.H2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&Upgrader{}).Upgrade(w, r, http.Header{
			"Set-Cookie":             {"id=1"},
			"Connection":             {"close"},
			"Sec-Websocket-Protocol": {"b"},
		})
		got <- err
		if err != nil {
			return
		}
		defer c.CloseNow()
		echoMessages(c)
	}))
	d := &Dialer{HandshakeTimeout: testTimeout, TLSClientConfig: wstest.TLSConfigFor(srv), HTTP2: HTTP2Always, Subprotocols: []string{"a", "b"}}
	c, resp := dialWith(t, d, "wss"+strings.TrimPrefix(srv.URL, "https"))
	if err := <-got; err != nil {
		t.Fatal(err)
	}
	if c.Subprotocol() != "b" || resp.Header.Get("Set-Cookie") != "id=1" || resp.Header.Get("Connection") != "" {
		t.Fatalf("subprotocol %q, answer %v; want b, Set-Cookie and no Connection", c.Subprotocol(), resp.Header)
	}
}

// TestUpgradeHTTP2OutlivesServerTimeouts checks that the server's
// ReadTimeout and WriteTimeout, which net/http applies to each HTTP/2
// stream, do not end the WebSocket: as over HTTP/1.1, the connection has no
// deadlines after the handshake.
//
// The timeouts also bound the handshake (the TLS handshake, then the
// stream until Upgrade clears them), which a loaded machine can stretch
// past a short timeout. Such an attempt says nothing about the WebSocket,
// so it is retried with timeouts twice as long; an attempt counts only when
// Upgrade returned within the timeouts.
func TestUpgradeHTTP2OutlivesServerTimeouts(t *testing.T) {
	for timeout := 100 * time.Millisecond; timeout <= testTimeout/2; timeout *= 2 {
		if outlivesServerTimeouts(t, timeout) {
			return
		}
	}
	t.Fatalf("no handshake finished within the server's timeouts, up to %v", testTimeout/2)
}

// outlivesServerTimeouts is one attempt of
// TestUpgradeHTTP2OutlivesServerTimeouts with timeouts of timeout; it
// returns false when the handshake took too long for the attempt to tell.
func outlivesServerTimeouts(t *testing.T, timeout time.Duration) bool {
	upgraded := make(chan time.Time, 1)
	s := startH2Server(t, true, nil, func(c *Conn) {
		upgraded <- time.Now() // Upgrade has cleared the stream's deadlines
		echoMessages(c)
	}, func(srv *http.Server) {
		srv.ReadTimeout = timeout
		srv.WriteTimeout = timeout
	})
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	start := time.Now() // before the connection, so before the stream's timers
	c, _, err := s.dialer.Dial(ctx, s.url+"/", nil)
	if err != nil {
		if took := time.Since(start); took >= timeout {
			t.Logf("timeouts of %v: the dial failed after %v (%v); retrying", timeout, took, err)
			return false
		}
		t.Fatalf("Dial within the server's timeouts: %v", err)
	}
	defer c.CloseNow()
	var cleared time.Time
	select {
	case cleared = <-upgraded:
	case <-time.After(testTimeout):
		t.Fatal("the handler did not get the Conn")
	}
	if took := cleared.Sub(start); took >= timeout {
		t.Logf("timeouts of %v: Upgrade returned after %v; retrying", timeout, took)
		return false
	}
	echoOnce(t, c, "before")
	// The stream's timers started before Upgrade returned; let them pass
	// with a margin. This waits for time itself, not for an event.
	time.Sleep(time.Until(cleared.Add(timeout + timeout/2)))
	echoOnce(t, c, "after the server's timeouts")
	return true
}

// TestUpgradeHTTP2HandlerReturnEndsConnection checks what happens when a
// handler returns while its Conn is open: the stream ends, the server's
// Conn fails cleanly instead of panicking in net/http, and the client sees
// an abnormal closure.
func TestUpgradeHTTP2HandlerReturnEndsConnection(t *testing.T) {
	conns := make(chan *Conn, 1)
	srv := wstest.H2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		conns <- c // and return, leaving c open
	}))
	d := &Dialer{HandshakeTimeout: testTimeout, TLSClientConfig: wstest.TLSConfigFor(srv), HTTP2: HTTP2Always}
	c, _ := dialWith(t, d, "wss"+strings.TrimPrefix(srv.URL, "https"))
	sc := <-conns
	defer sc.CloseNow()
	c.SetReadDeadline(time.Now().Add(testTimeout))
	if _, _, err := c.ReadMessage(); CloseStatus(err) != StatusAbnormalClosure {
		t.Fatalf("client read after the handler returned: %v, want an abnormal closure", err)
	}
	sc.SetReadDeadline(time.Now().Add(testTimeout))
	if _, _, err := sc.ReadMessage(); err == nil || isTimeout(err) {
		t.Fatalf("server read after its handler returned: %v, want the connection's end", err)
	}
	if err := sc.WriteMessage(TextMessage, []byte("late")); err == nil {
		t.Fatal("server write after its handler returned succeeded")
	}
}

func TestIsWebSocketUpgradeHTTP2(t *testing.T) {
	got := make(chan bool, 2)
	srv := wstest.H2Server(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got <- IsWebSocketUpgrade(r)
		if r.Method == http.MethodConnect {
			if c, err := (&Upgrader{}).Upgrade(w, r, nil); err == nil {
				c.CloseNow()
			}
		}
	}))
	d := &Dialer{HandshakeTimeout: testTimeout, TLSClientConfig: wstest.TLSConfigFor(srv), HTTP2: HTTP2Always}
	dialWith(t, d, "wss"+strings.TrimPrefix(srv.URL, "https"))
	if !<-got {
		t.Error("IsWebSocketUpgrade is false for an extended CONNECT")
	}
	t2 := &http2.Transport{TLSClientConfig: d.TLSClientConfig}
	defer t2.CloseIdleConnections()
	resp, err := (&http.Client{Transport: t2}).Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if <-got {
		t.Error("IsWebSocketUpgrade is true for a GET over HTTP/2")
	}
}

// TestUpgradeHTTP2XNetServer runs the server side on golang.org/x/net's
// HTTP/2 server (http2.ConfigureServer) instead of net/http's bundled one.
func TestUpgradeHTTP2XNetServer(t *testing.T) {
	served := make(chan h2Request, 1)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		served <- h2Request{r.Method, r.ProtoMajor, r.Header.Get(":protocol")}
		c, err := (&Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.CloseNow()
		echoMessages(c)
	}))
	if err := http2.ConfigureServer(srv.Config, &http2.Server{}); err != nil {
		t.Fatal(err)
	}
	srv.TLS = srv.Config.TLSConfig
	srv.StartTLS()
	t.Cleanup(srv.Close)
	d := &Dialer{HandshakeTimeout: testTimeout, TLSClientConfig: wstest.TLSConfigFor(srv), HTTP2: HTTP2Always}
	c, _ := dialWith(t, d, "wss"+strings.TrimPrefix(srv.URL, "https"))
	echoOnce(t, c, "x/net server")
	if r := <-served; !r.isWebSocketOverHTTP2() {
		t.Fatalf("server saw %+v, want an extended CONNECT over HTTP/2", r)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
}
