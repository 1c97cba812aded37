package websocket

import (
	"context"
	"crypto/tls"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// This file runs Dial against Upgrade through the public API, with real
// connections on loopback: the handshakes, then messages both ways.

// startEchoServer serves an Upgrader that echoes every message with an
// "echo: " prefix until the client closes; the error that ended each
// connection is reported on the returned channel.
func startEchoServer(t *testing.T, useTLS bool, u *Upgrader) (*httptest.Server, <-chan error) {
	t.Helper()
	ended := make(chan error, 4)
	srv := startHTTPServer(useTLS, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r, http.Header{"X-Served-By": {"echo"}})
		if err != nil {
			ended <- err
			return
		}
		defer c.CloseNow()
		for {
			typ, msg, err := c.ReadMessage()
			if err != nil {
				ended <- err
				return
			}
			if err := c.WriteMessage(typ, append([]byte("echo: "), msg...)); err != nil {
				ended <- err
				return
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv, ended
}

// talk sends a message each way through c and closes it cleanly.
func talk(t *testing.T, c *Conn, ended <-chan error) {
	t.Helper()
	require.NoError(t, c.SetDeadline(time.Now().Add(10*time.Second)))
	require.NoError(t, c.WriteMessage(TextMessage, []byte("hello")))
	typ, msg, err := c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, TextMessage, typ)
	assert.Equal(t, "echo: hello", string(msg))

	require.NoError(t, c.WriteMessage(BinaryMessage, []byte{0, 1, 2}))
	typ, msg, err = c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, BinaryMessage, typ)
	assert.Equal(t, "echo: \x00\x01\x02", string(msg))

	assert.NoError(t, c.Close())
	assert.Equal(t, StatusNormalClosure, CloseStatus(<-ended), "the server saw a normal close")
}

func TestEndToEnd(t *testing.T) {
	for _, useTLS := range []bool{false, true} {
		name := map[bool]string{false: "ws", true: "wss"}[useTLS]
		t.Run(name, func(t *testing.T) {
			srv, ended := startEchoServer(t, useTLS, &Upgrader{Subprotocols: []string{"chat.v2", "chat"}})
			d := &Dialer{Subprotocols: []string{"chat", "chat.v2"}, HandshakeTimeout: 10 * time.Second}
			if useTLS {
				d.TLSClientConfig = tlsConfigFor(srv)
			}
			c, resp, err := d.Dial(t.Context(), name+strings.TrimPrefix(strings.TrimPrefix(srv.URL, "https"), "http")+"/echo", nil)
			require.NoError(t, err)
			assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			assert.Equal(t, "echo", resp.Header.Get("X-Served-By"))
			assert.Equal(t, "chat", c.Subprotocol(), "the client's first choice that the server speaks")
			_, isTLS := c.UnderlyingConn().(*tls.Conn)
			assert.Equal(t, useTLS, isTLS)
			talk(t, c, ended)
		})
	}
}

func TestEndToEndThroughProxies(t *testing.T) {
	srv, ended := startEchoServer(t, false, &Upgrader{})
	_, _, httpProxy := startConnectProxy(t, false, nil, nil)
	httpsProxy, httpsProxySrv, httpsProxyURL := startConnectProxy(t, true, url.UserPassword("u", "p"), url.UserPassword("u", "p"))
	socks := startSOCKS5(t, "u", "p")
	tests := []struct {
		name  string
		proxy *url.URL
	}{
		{"http", httpProxy},
		{"https", httpsProxyURL},
		{"socks5", &url.URL{Scheme: "socks5", Host: socks.ln.Addr().String(), User: url.UserPassword("u", "p")}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := &Dialer{Proxy: http.ProxyURL(tt.proxy), ProxyTLSConfig: tlsConfigFor(httpsProxySrv)}
			c, _, err := d.Dial(t.Context(), wsURL(srv), nil)
			require.NoError(t, err)
			talk(t, c, ended)
		})
	}
	assert.Len(t, httpsProxy.used(), 1)
}

func TestPackageDial(t *testing.T) {
	// DefaultDialer takes the proxy from the environment, which never
	// applies to loopback.
	srv, ended := startEchoServer(t, false, &Upgrader{})
	c, _, err := Dial(t.Context(), srv.URL, nil)
	require.NoError(t, err)
	talk(t, c, ended)
}

func TestEndToEndFirstMessageInHandshakePacket(t *testing.T) {
	t.Run("server reads what followed the request", func(t *testing.T) {
		srv, ended := startEchoServer(t, false, &Upgrader{})
		addr := srv.Listener.Addr().String()
		// RFC 6455 §5.7: a masked "Hello", sent with the request in one write.
		resp, conn, br := sendRaw(t, addr, rawRequest(addr)+"\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58")
		require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
		frame := make([]byte, 2+len("echo: Hello"))
		_, err := io.ReadFull(br, frame)
		require.NoError(t, err)
		assert.Equal(t, "\x81\x0becho: Hello", string(frame))
		conn.Close()
		assert.Error(t, <-ended)
	})
	t.Run("client reads what followed the answer", func(t *testing.T) {
		srv := startCannedServer(t, "tcp", "127.0.0.1:0", false, func(r *http.Request) string {
			return switching(r) + "\x81\x05Hello"
		})
		c, _, err := (&Dialer{}).Dial(t.Context(), srv.url(), nil)
		require.NoError(t, err)
		defer c.CloseNow()
		require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
		typ, msg, err := c.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, TextMessage, typ)
		assert.Equal(t, "Hello", string(msg))
	})
}

func TestEndToEndRefusal(t *testing.T) {
	srv, ended := startEchoServer(t, false, &Upgrader{CheckOrigin: func(r *http.Request) bool { return false }})
	c, resp, err := (&Dialer{}).Dial(t.Context(), srv.URL, nil)
	assert.Nil(t, c)
	var he *HandshakeError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusForbidden, he.Status)
	require.NotNil(t, resp)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	assert.Contains(t, string(body), "origin not allowed")
	var serverErr *HandshakeError
	require.ErrorAs(t, <-ended, &serverErr)
	assert.Equal(t, http.StatusForbidden, serverErr.Status)
}

func TestEndToEndContextEndsWithDial(t *testing.T) {
	// The context bounds the handshake only: once Dial returns, canceling it
	// leaves the connection working.
	srv, ended := startEchoServer(t, false, &Upgrader{})
	ctx, cancel := context.WithCancel(t.Context())
	c, _, err := (&Dialer{}).Dial(ctx, srv.URL, nil)
	require.NoError(t, err)
	cancel()
	talk(t, c, ended)
}

// BenchmarkDialUpgrade measures a whole opening handshake over loopback TCP,
// both sides, and the close.
func BenchmarkDialUpgrade(b *testing.B) {
	srv := startHTTPServer(false, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		c.ReadMessage() // until the client's close
		c.CloseNow()
	}))
	defer srv.Close()
	d := &Dialer{}
	b.ReportAllocs()
	for b.Loop() {
		c, _, err := d.Dial(context.Background(), srv.URL, nil)
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}
