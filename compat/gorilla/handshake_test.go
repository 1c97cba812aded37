package websocket

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	ws "github.com/rfc6455/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// echoOnce reads one message on c and sends it back.
func echoOnce(t *testing.T, c *Conn) {
	t.Helper()
	typ, p, err := c.ReadMessage()
	require.NoError(t, err)
	require.NoError(t, c.WriteMessage(typ, p))
}

// roundTrip sends msg on c and checks that the echo comes back.
func roundTrip(t *testing.T, c *Conn, server *Conn, msg string) {
	t.Helper()
	require.NoError(t, c.WriteMessage(TextMessage, []byte(msg)))
	echoOnce(t, server)
	_, p, err := c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, msg, string(p))
}

func TestDialAndDialContext(t *testing.T) {
	url, ch := serve(t, &Upgrader{})
	c, _, err := (&Dialer{}).DialContext(context.Background(), url, nil)
	require.NoError(t, err)
	defer c.Close()
	roundTrip(t, c, accepted(t, ch).c, "dial context")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, _, err = (&Dialer{}).DialContext(ctx, url, nil)
	assert.ErrorIs(t, err, context.Canceled)

	var nilDialer *Dialer
	c2, _, err := nilDialer.Dial(url, nil)
	require.NoError(t, err, "a nil *Dialer dials with the defaults")
	defer c2.Close()
	roundTrip(t, c2, accepted(t, ch).c, "nil dialer")
}

func TestDefaultDialer(t *testing.T) {
	assert.NotNil(t, DefaultDialer.Proxy)
	assert.Equal(t, 45*time.Second, DefaultDialer.HandshakeTimeout)
	url, ch := serve(t, &Upgrader{})
	c, _, err := DefaultDialer.Dial(url, nil)
	require.NoError(t, err)
	defer c.Close()
	roundTrip(t, c, accepted(t, ch).c, "default")
}

func TestErrBadHandshake(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "go away", http.StatusForbidden)
	}))
	defer srv.Close()
	_, resp, err := (&Dialer{}).Dial("ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	assert.True(t, err == ErrBadHandshake, "Dial returned %v, want ErrBadHandshake itself", err)
	require.NotNil(t, resp)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	assert.Contains(t, string(body), "go away")
}

func TestDialerNetDialFunctions(t *testing.T) {
	url, ch := serve(t, &Upgrader{})
	var plain, withCtx atomic.Int32
	d := &Dialer{NetDial: func(network, addr string) (net.Conn, error) {
		plain.Add(1)
		return net.Dial(network, addr)
	}}
	c, _, err := d.Dial(url, nil)
	require.NoError(t, err)
	c.Close()
	accepted(t, ch)
	assert.Equal(t, int32(1), plain.Load())

	d.NetDialContext = func(ctx context.Context, network, addr string) (net.Conn, error) {
		withCtx.Add(1)
		var nd net.Dialer
		return nd.DialContext(ctx, network, addr)
	}
	c, _, err = d.Dial(url, nil)
	require.NoError(t, err)
	c.Close()
	accepted(t, ch)
	assert.Equal(t, int32(1), withCtx.Load(), "NetDialContext is preferred")
	assert.Equal(t, int32(1), plain.Load())
}

func TestDialerTLS(t *testing.T) {
	ch := make(chan *Conn, 2)
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&Upgrader{}).Upgrade(w, r, nil)
		if err == nil {
			t.Cleanup(func() { c.Close() })
			ch <- c
		}
	}))
	defer srv.Close()
	url := "wss" + strings.TrimPrefix(srv.URL, "https")
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	c, _, err := (&Dialer{TLSClientConfig: &tls.Config{RootCAs: pool}}).Dial(url, nil)
	require.NoError(t, err)
	defer c.Close()
	_, isTLS := c.UnderlyingConn().(*tls.Conn)
	assert.True(t, isTLS)
	roundTrip(t, c, wait(t, ch), "over TLS")

	_, _, err = (&Dialer{}).Dial(url, nil)
	assert.Error(t, err, "the test certificate is not trusted without TLSClientConfig")

	var called atomic.Int32
	d := &Dialer{NetDialTLSContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		called.Add(1)
		td := tls.Dialer{Config: &tls.Config{RootCAs: pool}}
		return td.DialContext(ctx, network, addr)
	}}
	c2, _, err := d.Dial(url, nil)
	require.NoError(t, err)
	defer c2.Close()
	assert.Equal(t, int32(1), called.Load())
	roundTrip(t, c2, wait(t, ch), "own TLS dial")
}

func TestDialerProxy(t *testing.T) {
	addr, ch := serve(t, &Upgrader{})
	refused := errors.New("no proxy for you")
	var asked atomic.Int32
	d := &Dialer{Proxy: func(r *http.Request) (*url.URL, error) {
		asked.Add(1)
		return nil, refused
	}}
	_, _, err := d.Dial(addr, nil)
	assert.ErrorIs(t, err, refused)
	d.Proxy = func(*http.Request) (*url.URL, error) { asked.Add(1); return nil, nil }
	c, _, err := d.Dial(addr, nil)
	require.NoError(t, err, "a nil proxy URL dials directly")
	c.Close()
	accepted(t, ch)
	assert.Equal(t, int32(2), asked.Load())
}

func TestDialerHandshakeTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		// Accept and never answer.
		c, err := ln.Accept()
		if err == nil {
			defer c.Close()
			io.Copy(io.Discard, c)
		}
	}()
	start := time.Now()
	_, _, err = (&Dialer{HandshakeTimeout: 100 * time.Millisecond}).Dial("ws://"+ln.Addr().String()+"/", nil)
	assert.Error(t, err)
	assert.Less(t, time.Since(start), testTimeout)
}

// BufferPool is accepted and, as documented, never used.
type countingPool struct{ gets, puts atomic.Int32 }

func (p *countingPool) Get() any  { p.gets.Add(1); return nil }
func (p *countingPool) Put(x any) { p.puts.Add(1) }

func TestBufferSizesAndPools(t *testing.T) {
	var pool countingPool
	var bp BufferPool = &pool
	s, c := pair(t,
		&Upgrader{ReadBufferSize: 128, WriteBufferSize: 256, WriteBufferPool: bp},
		&Dialer{ReadBufferSize: 64, WriteBufferSize: 128, WriteBufferPool: bp})
	big := strings.Repeat("x", 10000)
	roundTrip(t, c, s, big)
	w, err := s.NextWriter(BinaryMessage)
	require.NoError(t, err)
	io.WriteString(w, big)
	require.NoError(t, w.Close())
	_, p, err := c.ReadMessage()
	require.NoError(t, err)
	assert.Len(t, p, len(big))
	assert.Zero(t, pool.gets.Load()+pool.puts.Load(), "the pool is not used")
}

func TestSubprotocols(t *testing.T) {
	url, ch := serve(t, &Upgrader{Subprotocols: []string{"v2", "v1"}})
	c, resp, err := (&Dialer{Subprotocols: []string{"v1", "v2"}}).Dial(url, nil)
	require.NoError(t, err)
	defer c.Close()
	up := accepted(t, ch)
	assert.Equal(t, []string{"v1", "v2"}, Subprotocols(up.r))
	assert.Equal(t, "v2", up.c.Subprotocol(), "the server's order decides, as in gorilla")
	assert.Equal(t, "v2", c.Subprotocol())
	assert.Equal(t, "v2", resp.Header.Get("Sec-WebSocket-Protocol"))

	c2, _, err := (&Dialer{Subprotocols: []string{"v3"}}).Dial(url, nil)
	require.NoError(t, err)
	defer c2.Close()
	assert.Equal(t, "", accepted(t, ch).c.Subprotocol())
	assert.Equal(t, "", c2.Subprotocol())

	r := httptest.NewRequest("GET", "/", nil)
	assert.Nil(t, Subprotocols(r))
	r.Header.Add("Sec-WebSocket-Protocol", " a , b")
	r.Header.Add("Sec-WebSocket-Protocol", "c")
	assert.Equal(t, []string{"a", "b", "c"}, Subprotocols(r))
}

func TestDialerJar(t *testing.T) {
	jar, err := cookiejar.New(nil)
	require.NoError(t, err)
	cookies := make(chan string, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cookies <- r.Header.Get("Cookie")
		c, err := (&Upgrader{}).Upgrade(w, r, http.Header{"Set-Cookie": {"session=abc"}})
		if err == nil {
			c.Close()
		}
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	d := &Dialer{Jar: jar}
	for _, want := range []string{"", "session=abc"} {
		c, _, err := d.Dial(url, nil)
		require.NoError(t, err)
		c.Close()
		assert.Equal(t, want, wait(t, cookies))
	}
}

func TestNewClient(t *testing.T) {
	url, ch := serve(t, &Upgrader{})
	u, err := neturl(url)
	require.NoError(t, err)
	nc, err := net.Dial("tcp", u.Host)
	require.NoError(t, err)
	c, resp, err := NewClient(nc, u, http.Header{"X-Test": {"1"}}, 1024, 1024)
	require.NoError(t, err)
	defer c.Close()
	assert.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	up := accepted(t, ch)
	assert.Equal(t, "1", up.r.Header.Get("X-Test"))
	assert.Same(t, nc, c.UnderlyingConn())
	roundTrip(t, c, up.c, "over a given connection")
}

func neturl(s string) (*url.URL, error) { return url.Parse(s) }

func TestUpgraderCheckOriginAndError(t *testing.T) {
	url, ch := serve(t, &Upgrader{})
	_, resp, err := (&Dialer{}).Dial(url, http.Header{"Origin": {"http://evil.example"}})
	assert.Equal(t, ErrBadHandshake, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode, "the default check refuses another origin")
	var he HandshakeError
	require.ErrorAs(t, accepted(t, ch).err, &he)
	assert.Contains(t, he.Error(), "websocket: ")

	reasons := make(chan error, 1)
	u := &Upgrader{
		CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "http://friend.example" },
		Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
			reasons <- reason
			w.WriteHeader(status)
			io.WriteString(w, "custom refusal")
		},
	}
	url, ch = serve(t, u)
	c, _, err := (&Dialer{}).Dial(url, http.Header{"Origin": {"http://friend.example"}})
	require.NoError(t, err)
	c.Close()
	accepted(t, ch)
	_, resp, err = (&Dialer{}).Dial(url, http.Header{"Origin": {"http://evil.example"}})
	assert.Equal(t, ErrBadHandshake, err)
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	body, _ := io.ReadAll(resp.Body)
	assert.Equal(t, "custom refusal", string(body))
	reason := wait(t, reasons)
	assert.IsType(t, HandshakeError{}, reason)
	assert.IsType(t, HandshakeError{}, accepted(t, ch).err)
}

func TestUpgraderHandshakeTimeout(t *testing.T) {
	// A minute is plenty: the connection works, and the deadline set for
	// the 101 answer is gone afterwards.
	s, c := pair(t, &Upgrader{HandshakeTimeout: time.Minute}, &Dialer{})
	roundTrip(t, c, s, "in time")
	// A nanosecond has passed before the answer is written.
	url, ch := serve(t, &Upgrader{HandshakeTimeout: time.Nanosecond})
	_, _, err := (&Dialer{HandshakeTimeout: testTimeout}).Dial(url, nil)
	assert.Error(t, err)
	up := accepted(t, ch)
	assert.Nil(t, up.c)
	assert.ErrorIs(t, up.err, os.ErrDeadlineExceeded)
}

func TestUpgradeFunction(t *testing.T) {
	results := make(chan error, 2)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := Upgrade(w, r, nil, 1024, 1024)
		results <- err
		if err != nil {
			http.Error(w, "my own answer", http.StatusTeapot)
			return
		}
		c.Close()
	}))
	defer srv.Close()
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	c, _, err := (&Dialer{}).Dial(url, http.Header{"Origin": {"http://anyone.example"}})
	require.NoError(t, err, "Upgrade checks no origin")
	c.Close()
	assert.NoError(t, wait(t, results))

	resp, err := http.Get(srv.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusTeapot, resp.StatusCode, "a refused Upgrade leaves the answer to the caller")
	assert.IsType(t, HandshakeError{}, wait(t, results))
}

func TestIsWebSocketUpgrade(t *testing.T) {
	url, ch := serve(t, &Upgrader{})
	c, _, err := (&Dialer{}).Dial(url, nil)
	require.NoError(t, err)
	c.Close()
	assert.True(t, IsWebSocketUpgrade(accepted(t, ch).r))
	assert.False(t, IsWebSocketUpgrade(httptest.NewRequest("GET", "/", nil)))
}

// The parent package's errors stay visible through this one's.
func TestErrorsWrapTheParents(t *testing.T) {
	assert.Equal(t, ws.ErrReadLimit, ErrReadLimit)
	assert.Equal(t, ws.ErrBadHandshake, ErrBadHandshake)
	assert.NotErrorIs(t, ErrCloseSent, ws.ErrClosed)
}
