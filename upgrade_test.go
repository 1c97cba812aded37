package websocket

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sampleKey is the sample key of RFC 6455 §1.3.
const sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

// recordingConn is a net.Conn that keeps what is written to it and the
// deadlines set on it, and reads nothing: enough for Upgrade to hijack without
// a socket or a goroutine.
type recordingConn struct {
	out       bytes.Buffer
	deadlines []time.Time // every deadline set, read and write alike
	closed    bool
}

func (c *recordingConn) Read([]byte) (int, error)    { return 0, io.EOF }
func (c *recordingConn) Write(p []byte) (int, error) { return c.out.Write(p) }
func (c *recordingConn) Close() error                { c.closed = true; return nil }
func (c *recordingConn) LocalAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 80}
}
func (c *recordingConn) RemoteAddr() net.Addr {
	return &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 50000}
}
func (c *recordingConn) SetDeadline(t time.Time) error {
	c.deadlines = append(c.deadlines, t)
	return nil
}
func (c *recordingConn) SetReadDeadline(t time.Time) error {
	c.deadlines = append(c.deadlines, t)
	return nil
}
func (c *recordingConn) SetWriteDeadline(t time.Time) error {
	c.deadlines = append(c.deadlines, t)
	return nil
}

// hijackRecorder is an httptest.ResponseRecorder that can be hijacked, as
// net/http's own ResponseWriter can: the hijacked reader is the one the
// request was read from, so it holds whatever followed the request.
type hijackRecorder struct {
	*httptest.ResponseRecorder
	conn     *recordingConn
	br       *bufio.Reader
	hijacked bool
}

func newHijackRecorder(br *bufio.Reader) *hijackRecorder {
	return &hijackRecorder{ResponseRecorder: httptest.NewRecorder(), conn: new(recordingConn), br: br}
}

func (h *hijackRecorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	h.hijacked = true
	return h.conn, bufio.NewReadWriter(h.br, bufio.NewWriter(h.conn)), nil
}

// rawRequest returns a valid handshake request for host, with the header
// lines of extra added; an extra line "-Name" removes the field Name instead.
func rawRequest(host string, extra ...string) string {
	fields := []string{
		"Host: " + host,
		"Upgrade: websocket",
		"Connection: Upgrade",
		"Sec-WebSocket-Key: " + sampleKey,
		"Sec-WebSocket-Version: 13",
	}
	for _, e := range extra {
		if name, ok := strings.CutPrefix(e, "-"); ok {
			kept := fields[:0]
			for _, f := range fields {
				if !strings.HasPrefix(strings.ToLower(f), strings.ToLower(name)+":") {
					kept = append(kept, f)
				}
			}
			fields = kept
			continue
		}
		fields = append(fields, e)
	}
	return "GET /chat HTTP/1.1\r\n" + strings.Join(fields, "\r\n") + "\r\n\r\n"
}

// upgradeRecorded runs u.upgrade on a raw request read as net/http would,
// without a network.
func upgradeRecorded(t *testing.T, u *Upgrader, raw string, responseHeader http.Header) (*hijackRecorder, connConfig, error) {
	t.Helper()
	br := bufio.NewReader(strings.NewReader(raw))
	req, err := http.ReadRequest(br)
	require.NoError(t, err)
	rec := newHijackRecorder(br)
	cfg, err := u.upgrade(rec, req, responseHeader)
	return rec, cfg, err
}

type upgradeResult struct {
	cfg connConfig
	err error
}

// startUpgradeServer serves u.upgrade on 127.0.0.1 and reports every outcome.
// The test owns the connections handed over and closes them at cleanup.
func startUpgradeServer(t *testing.T, u *Upgrader) (addr string, results <-chan upgradeResult) {
	t.Helper()
	ch := make(chan upgradeResult, 16)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		cfg, err := u.upgrade(w, r, nil)
		if cfg.netConn != nil {
			t.Cleanup(func() { cfg.netConn.Close() })
		}
		ch <- upgradeResult{cfg, err}
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String(), ch
}

// sendRaw writes raw to addr and returns the parsed answer and the connection.
func sendRaw(t *testing.T, addr, raw string) (*http.Response, net.Conn, *bufio.Reader) {
	t.Helper()
	conn, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	t.Cleanup(func() { conn.Close() })
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	_, err = io.WriteString(conn, raw)
	require.NoError(t, err)
	br := bufio.NewReader(conn)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	return resp, conn, br
}

func TestUpgradeRefuses(t *testing.T) {
	key := func(n int) string {
		return "Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(make([]byte, n))
	}
	tests := []struct {
		name   string
		raw    func(host string) string
		status int
		header [2]string // a header field the answer must carry
	}{
		{"missing key", func(h string) string { return rawRequest(h, "-Sec-WebSocket-Key") }, 400, [2]string{}},
		{"key not base64", func(h string) string {
			return rawRequest(h, "-Sec-WebSocket-Key", "Sec-WebSocket-Key: !!!!!!!!!!!!!!!!!!!!!!==")
		}, 400, [2]string{}},
		{"key of 15 bytes", func(h string) string { return rawRequest(h, "-Sec-WebSocket-Key", key(15)) }, 400, [2]string{}},
		{"key of 17 bytes", func(h string) string { return rawRequest(h, "-Sec-WebSocket-Key", key(17)) }, 400, [2]string{}},
		{"two keys", func(h string) string { return rawRequest(h, "Sec-WebSocket-Key: "+sampleKey) }, 400, [2]string{}},
		{"version 8", func(h string) string {
			return rawRequest(h, "-Sec-WebSocket-Version", "Sec-WebSocket-Version: 8")
		}, 426, [2]string{"Sec-WebSocket-Version", "13"}},
		{"no version", func(h string) string { return rawRequest(h, "-Sec-WebSocket-Version") }, 426, [2]string{"Sec-WebSocket-Version", "13"}},
		{"POST", func(h string) string { return "POST" + strings.TrimPrefix(rawRequest(h), "GET") }, 405, [2]string{"Allow", "GET"}},
		{"HTTP/1.0", func(h string) string { return strings.Replace(rawRequest(h), "HTTP/1.1", "HTTP/1.0", 1) }, 400, [2]string{}},
		{"no Connection", func(h string) string { return rawRequest(h, "-Connection") }, 400, [2]string{}},
		{"Connection without upgrade", func(h string) string {
			return rawRequest(h, "-Connection", "Connection: keep-alive")
		}, 400, [2]string{}},
		{"no Upgrade", func(h string) string { return rawRequest(h, "-Upgrade") }, 400, [2]string{}},
		{"Upgrade h2c", func(h string) string { return rawRequest(h, "-Upgrade", "Upgrade: h2c") }, 400, [2]string{}},
		{"cross origin", func(h string) string { return rawRequest(h, "Origin: http://evil.example") }, 403, [2]string{}},
		{"origin on another port", func(h string) string {
			host, _, _ := net.SplitHostPort(h)
			return rawRequest(h, "Origin: http://"+host+":1")
		}, 403, [2]string{}},
		{"opaque origin", func(h string) string { return rawRequest(h, "Origin: null") }, 403, [2]string{}},
		{"unparsable origin", func(h string) string { return rawRequest(h, "Origin: http://[::1") }, 403, [2]string{}},
		{"bad subprotocol list", func(h string) string { return rawRequest(h, "Sec-WebSocket-Protocol: a b") }, 400, [2]string{}},
	}
	addr, results := startUpgradeServer(t, &Upgrader{})
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _, _ := sendRaw(t, addr, tt.raw(addr))
			assert.Equal(t, tt.status, resp.StatusCode)
			if tt.header[0] != "" {
				assert.Equal(t, tt.header[1], resp.Header.Get(tt.header[0]))
			}
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Contains(t, string(body), http.StatusText(tt.status))

			res := <-results
			assert.Nil(t, res.cfg.netConn, "no connection may be handed over")
			var he *HandshakeError
			require.ErrorAs(t, res.err, &he)
			assert.Equal(t, tt.status, he.Status)
			assert.ErrorIs(t, res.err, ErrBadHandshake)
		})
	}
}

func TestUpgradeAccepts(t *testing.T) {
	tests := []struct {
		name string
		raw  func(host string) string
	}{
		{"plain", func(h string) string { return rawRequest(h) }},
		{"Connection list", func(h string) string { return rawRequest(h, "-Connection", "Connection: keep-alive, Upgrade") }},
		{"Connection on two lines", func(h string) string {
			return rawRequest(h, "-Connection", "Connection: keep-alive", "Connection: upgrade")
		}},
		{"Upgrade in another case", func(h string) string { return rawRequest(h, "-Upgrade", "Upgrade: WebSocket") }},
		{"same origin", func(h string) string { return rawRequest(h, "Origin: http://"+h) }},
		{"same origin, other case", func(h string) string {
			return strings.Replace(rawRequest(h, "Origin: http://LOCALHOST:"+portOf(h)), "Host: "+h, "Host: localhost:"+portOf(h), 1)
		}},
		{"extension offer ignored", func(h string) string {
			return rawRequest(h, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits")
		}},
	}
	u := &Upgrader{ReadLimit: 1234, ReadBufferSize: 10, WriteBufferSize: 20, PingInterval: time.Second, PongTimeout: 2 * time.Second, CloseTimeout: 3 * time.Second}
	addr, results := startUpgradeServer(t, u)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, _, _ := sendRaw(t, addr, tt.raw(addr))
			require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
			assert.Equal(t, "websocket", resp.Header.Get("Upgrade"))
			assert.Equal(t, "Upgrade", resp.Header.Get("Connection"))
			assert.Equal(t, acceptKey(sampleKey), resp.Header.Get("Sec-WebSocket-Accept"))
			assert.Empty(t, resp.Header.Values("Sec-WebSocket-Protocol"))
			assert.Empty(t, resp.Header.Values("Sec-WebSocket-Extensions"))

			res := <-results
			require.NoError(t, res.err)
			cfg := res.cfg
			assert.NotNil(t, cfg.netConn)
			assert.NotNil(t, cfg.br)
			assert.False(t, cfg.client)
			assert.Equal(t, "", cfg.subprotocol)
			assert.Equal(t, int64(1234), cfg.readLimit)
			assert.Equal(t, 10, cfg.readBufferSize)
			assert.Equal(t, 20, cfg.writeBufferSize)
			assert.Equal(t, time.Second, cfg.pingInterval)
			assert.Equal(t, 2*time.Second, cfg.pongTimeout)
			assert.Equal(t, 3*time.Second, cfg.closeTimeout)
		})
	}
}

func portOf(hostport string) string {
	_, port, _ := net.SplitHostPort(hostport)
	return port
}

func TestUpgradeKeepsBytesAfterRequest(t *testing.T) {
	frame := "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58" // RFC 6455 §5.7 masked "Hello"

	t.Run("recorded", func(t *testing.T) {
		rec, cfg, err := upgradeRecorded(t, &Upgrader{}, rawRequest("example.com")+frame, nil)
		require.NoError(t, err)
		require.Equal(t, len(frame), cfg.br.Buffered())
		got, err := cfg.br.Peek(len(frame))
		require.NoError(t, err)
		assert.Equal(t, frame, string(got))
		assert.True(t, rec.hijacked)
	})

	t.Run("tcp", func(t *testing.T) {
		addr, results := startUpgradeServer(t, &Upgrader{})
		resp, _, _ := sendRaw(t, addr, rawRequest(addr)+frame)
		require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
		res := <-results
		require.NoError(t, res.err)
		require.NoError(t, res.cfg.netConn.SetReadDeadline(time.Now().Add(10*time.Second)))
		got := make([]byte, len(frame))
		_, err := io.ReadFull(res.cfg.br, got)
		require.NoError(t, err)
		assert.Equal(t, frame, string(got))
	})
}

func TestUpgradeAnswer(t *testing.T) {
	rec, cfg, err := upgradeRecorded(t, &Upgrader{Subprotocols: []string{"chat"}},
		rawRequest("example.com", "Sec-WebSocket-Protocol: chat"), http.Header{
			"Set-Cookie":           {"a=b"},
			"Upgrade":              {"h2c"},
			"Connection":           {"close"},
			"Sec-WebSocket-Accept": {"forged"},
		})
	require.NoError(t, err)
	assert.Equal(t, "chat", cfg.subprotocol)
	written := rec.conn.out.String()
	assert.True(t, strings.HasPrefix(written, "HTTP/1.1 101 Switching Protocols\r\n"+
		"Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"+
		"Sec-WebSocket-Protocol: chat\r\n"), "%q", written)
	assert.True(t, strings.HasSuffix(written, "\r\n\r\n"), "%q", written)
	assert.Contains(t, written, "\r\nSet-Cookie: a=b\r\n")
	assert.NotContains(t, written, "h2c")
	assert.NotContains(t, written, "close")
	assert.NotContains(t, written, "forged")
	// Nothing went through the ResponseWriter itself.
	assert.Equal(t, 0, rec.Body.Len())
	// RFC 6455 §4.2.2 via net/http: the answer is a valid HTTP response.
	resp, err := http.ReadResponse(bufio.NewReader(strings.NewReader(written)), nil)
	require.NoError(t, err)
	assert.Equal(t, 101, resp.StatusCode)
}

func TestUpgradeClearsDeadlines(t *testing.T) {
	rec, _, err := upgradeRecorded(t, &Upgrader{}, rawRequest("example.com"), nil)
	require.NoError(t, err)
	require.NotEmpty(t, rec.conn.deadlines)
	assert.True(t, rec.conn.deadlines[len(rec.conn.deadlines)-1].IsZero(), "the last deadline set must clear net/http's")
	assert.False(t, rec.conn.closed)
}

func TestUpgradeSubprotocol(t *testing.T) {
	tests := []struct {
		name   string
		server []string
		client []string // Sec-WebSocket-Protocol lines
		want   string
	}{
		{"none offered", []string{"chat"}, nil, ""},
		{"server has none", nil, []string{"chat"}, ""},
		{"match", []string{"chat"}, []string{"chat"}, "chat"},
		{"client order wins", []string{"a", "b"}, []string{"b, a"}, "b"},
		{"first common", []string{"b", "c"}, []string{"a, b, c"}, "b"},
		{"over two lines", []string{"a"}, []string{"x", "a"}, "a"},
		{"case-sensitive", []string{"Chat"}, []string{"chat"}, ""},
		{"no common", []string{"a"}, []string{"b, c"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var extra []string
			for _, l := range tt.client {
				extra = append(extra, "Sec-WebSocket-Protocol: "+l)
			}
			rec, cfg, err := upgradeRecorded(t, &Upgrader{Subprotocols: tt.server}, rawRequest("example.com", extra...), nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, cfg.subprotocol)
			resp, err := http.ReadResponse(bufio.NewReader(&rec.conn.out), nil)
			require.NoError(t, err)
			assert.Equal(t, tt.want, resp.Header.Get("Sec-WebSocket-Protocol"))
		})
	}
}

func TestUpgradeResponseHeaderRules(t *testing.T) {
	t.Run("protocol chosen by the caller", func(t *testing.T) {
		_, cfg, err := upgradeRecorded(t, &Upgrader{}, rawRequest("example.com", "Sec-WebSocket-Protocol: a, b"),
			http.Header{"Sec-Websocket-Protocol": {"b"}})
		require.NoError(t, err)
		assert.Equal(t, "b", cfg.subprotocol)
	})
	refused := []struct {
		name     string
		upgrader Upgrader
		header   http.Header
	}{
		{"extensions", Upgrader{}, http.Header{"Sec-Websocket-Extensions": {"permessage-deflate"}}},
		{"protocol not offered", Upgrader{}, http.Header{"Sec-Websocket-Protocol": {"c"}}},
		{"two protocols", Upgrader{}, http.Header{"Sec-Websocket-Protocol": {"a, b"}}},
		{"protocol and Subprotocols", Upgrader{Subprotocols: []string{"a"}}, http.Header{"Sec-Websocket-Protocol": {"a"}}},
		{"header splitting", Upgrader{}, http.Header{"X-Evil": {"a\r\nInjected: 1"}}},
		{"bad field name", Upgrader{}, http.Header{"Bad Name": {"1"}}},
	}
	for _, tt := range refused {
		t.Run(tt.name, func(t *testing.T) {
			rec, cfg, err := upgradeRecorded(t, &tt.upgrader, rawRequest("example.com", "Sec-WebSocket-Protocol: a, b"), tt.header)
			var he *HandshakeError
			require.ErrorAs(t, err, &he)
			assert.Equal(t, http.StatusInternalServerError, he.Status)
			assert.Equal(t, http.StatusInternalServerError, rec.Code)
			assert.False(t, rec.hijacked)
			assert.Nil(t, cfg.netConn)
		})
	}
}

func TestUpgradeErrorHook(t *testing.T) {
	var gotStatus int
	var gotReason error
	u := &Upgrader{Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
		gotStatus, gotReason = status, reason
		w.WriteHeader(status)
		io.WriteString(w, "custom")
	}}
	rec, _, err := upgradeRecorded(t, u, rawRequest("example.com", "-Sec-WebSocket-Version", "Sec-WebSocket-Version: 7"), nil)
	require.Error(t, err)
	assert.Equal(t, http.StatusUpgradeRequired, gotStatus)
	assert.Equal(t, err, gotReason)
	assert.Equal(t, http.StatusUpgradeRequired, rec.Code)
	assert.Equal(t, "13", rec.Header().Get("Sec-WebSocket-Version"))
	assert.Equal(t, "custom", rec.Body.String())
}

func TestUpgradeNotHijackable(t *testing.T) {
	req, err := http.ReadRequest(bufio.NewReader(strings.NewReader(rawRequest("example.com"))))
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	_, err = (&Upgrader{}).Upgrade(rec, req, nil)
	var he *HandshakeError
	require.ErrorAs(t, err, &he)
	assert.Equal(t, http.StatusInternalServerError, he.Status)
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
}

func TestUpgradeCustomCheckOrigin(t *testing.T) {
	u := &Upgrader{CheckOrigin: func(r *http.Request) bool { return r.Header.Get("Origin") == "https://app.example" }}
	_, _, err := upgradeRecorded(t, u, rawRequest("api.example", "Origin: https://app.example"), nil)
	assert.NoError(t, err)
	rec, _, err := upgradeRecorded(t, u, rawRequest("api.example"), nil)
	assert.Error(t, err)
	assert.Equal(t, http.StatusForbidden, rec.Code)
}

func TestIsWebSocketUpgrade(t *testing.T) {
	req := func(raw string) *http.Request {
		r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
		require.NoError(t, err)
		return r
	}
	assert.True(t, IsWebSocketUpgrade(req(rawRequest("example.com"))))
	assert.True(t, IsWebSocketUpgrade(req(rawRequest("example.com", "-Connection", "Connection: keep-alive, upgrade"))))
	assert.False(t, IsWebSocketUpgrade(req(rawRequest("example.com", "-Connection"))))
	assert.False(t, IsWebSocketUpgrade(req(rawRequest("example.com", "-Upgrade", "Upgrade: h2c"))))
	assert.False(t, IsWebSocketUpgrade(req("GET / HTTP/1.1\r\nHost: example.com\r\n\r\n")))
}

// FuzzUpgradeRequest feeds raw request bytes through http.ReadRequest to the
// server handshake: it must never panic, a refusal must carry the status it
// wrote and hand over nothing, and an acceptance must write a valid 101 that
// answers the key and keep the bytes that followed the request.
func FuzzUpgradeRequest(f *testing.F) {
	f.Add([]byte(rawRequest("example.com")))
	f.Add([]byte(rawRequest("example.com", "Sec-WebSocket-Protocol: chat, x", "Origin: http://example.com") + "\x81\x80abcd"))
	f.Add([]byte(rawRequest("example.com", "-Sec-WebSocket-Version", "Sec-WebSocket-Version: 8")))
	f.Add([]byte(rawRequest("example.com", "-Connection", "Connection: keep-alive, Upgrade")))
	f.Add([]byte("GET / HTTP/1.0\r\n\r\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		br := bufio.NewReader(bytes.NewReader(data))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		rec := newHijackRecorder(br)
		cfg, err := (&Upgrader{Subprotocols: []string{"chat"}}).upgrade(rec, req, nil)
		if err != nil {
			he, ok := err.(*HandshakeError)
			if !ok {
				t.Fatalf("error %v is not a *HandshakeError", err)
			}
			if he.Status != rec.Code || he.Status < 400 {
				t.Fatalf("status %d reported, %d written", he.Status, rec.Code)
			}
			if rec.hijacked || cfg.netConn != nil {
				t.Fatal("a refused handshake took the connection")
			}
			return
		}
		resp, err := http.ReadResponse(bufio.NewReader(&rec.conn.out), req)
		if err != nil {
			t.Fatalf("the 101 answer does not parse: %v", err)
		}
		if resp.StatusCode != 101 || resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(req.Header.Get("Sec-WebSocket-Key")) {
			t.Fatalf("bad answer %q", rec.conn.out.String())
		}
		if p := resp.Header.Get("Sec-WebSocket-Protocol"); p != cfg.subprotocol || (p != "" && p != "chat") {
			t.Fatalf("subprotocol %q answered, %q chosen", p, cfg.subprotocol)
		}
		if cfg.br != br || cfg.netConn != rec.conn {
			t.Fatal("the hijacked connection was not handed over")
		}
	})
}
