package websocket

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// tunnels tracks the connections a test proxy relays, so that the test can
// close them and wait for its goroutines.
type tunnels struct {
	wg      sync.WaitGroup
	mu      sync.Mutex
	closed  bool
	conns   []net.Conn
	targets []string // addresses tunnelled to, in order
}

// relay copies between client (read through clientR, which may hold bytes
// already buffered) and target until either side ends.
func (tn *tunnels) relay(client net.Conn, clientR io.Reader, target net.Conn, addr string) {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	if tn.closed {
		client.Close()
		target.Close()
		return
	}
	tn.conns = append(tn.conns, client, target)
	tn.targets = append(tn.targets, addr)
	tn.wg.Add(2)
	go func() {
		defer tn.wg.Done()
		io.Copy(target, clientR)
		target.Close()
		client.Close()
	}()
	go func() {
		defer tn.wg.Done()
		io.Copy(client, target)
		client.Close()
		target.Close()
	}()
}

func (tn *tunnels) track(c net.Conn) bool {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	if tn.closed {
		return false
	}
	tn.conns = append(tn.conns, c)
	return true
}

func (tn *tunnels) used() []string {
	tn.mu.Lock()
	defer tn.mu.Unlock()
	return slices.Clone(tn.targets)
}

func (tn *tunnels) closeAll() {
	tn.mu.Lock()
	tn.closed = true
	for _, c := range tn.conns {
		c.Close()
	}
	tn.mu.Unlock()
	tn.wg.Wait()
}

// connectProxy is an HTTP proxy that only tunnels, with CONNECT, and asks
// for Basic credentials when user is set.
type connectProxy struct {
	tunnels
	user, password string
}

func (p *connectProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodConnect {
		http.Error(w, "CONNECT only", http.StatusMethodNotAllowed)
		return
	}
	if p.user != "" {
		// Proxy-Authorization has the syntax of Authorization.
		creds := &http.Request{Header: http.Header{"Authorization": r.Header.Values("Proxy-Authorization")}}
		user, password, ok := creds.BasicAuth()
		if !ok || user != p.user || password != p.password {
			w.Header().Set("Proxy-Authenticate", `Basic realm="test"`)
			http.Error(w, "who are you?", http.StatusProxyAuthRequired)
			return
		}
	}
	target, err := net.Dial("tcp", r.Host)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	client, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		target.Close()
		return
	}
	if _, err := io.WriteString(client, "HTTP/1.1 200 Connection established\r\n\r\n"); err != nil {
		client.Close()
		target.Close()
		return
	}
	p.relay(client, brw.Reader, target, r.Host)
}

// startConnectProxy runs a CONNECT proxy on loopback, over TLS when useTLS is
// set, and returns its URL, with user:password in it when given.
func startConnectProxy(t *testing.T, useTLS bool, required, given *url.Userinfo) (*connectProxy, *httptest.Server, *url.URL) {
	t.Helper()
	p := &connectProxy{}
	if required != nil {
		p.user = required.Username()
		p.password, _ = required.Password()
	}
	srv := startHTTPServer(useTLS, p)
	t.Cleanup(p.closeAll)
	t.Cleanup(srv.Close)
	u, err := url.Parse(srv.URL)
	require.NoError(t, err)
	u.User = given
	return p, srv, u
}

func wsURL(srv *httptest.Server) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + "/"
}

func TestDialThroughHTTPProxy(t *testing.T) {
	creds := url.UserPassword("alice", "s3cret:with colon")
	tests := []struct {
		name            string
		required, given *url.Userinfo
		wantErr         string
	}{
		{name: "open proxy"},
		{name: "credentials", required: creds, given: creds},
		{name: "user without password", required: url.User("bob"), given: url.User("bob")},
		{name: "wrong credentials", required: creds, given: url.UserPassword("alice", "guess"), wantErr: "407 Proxy Authentication Required"},
		{name: "missing credentials", required: creds, wantErr: "407 Proxy Authentication Required"},
	}
	for _, useTLS := range []bool{false, true} {
		kind := map[bool]string{false: "http", true: "https"}[useTLS]
		for _, tt := range tests {
			t.Run(kind+"/"+tt.name, func(t *testing.T) {
				target, results := startUpgradeHTTPServer(t, false, &Upgrader{})
				p, proxySrv, proxyURL := startConnectProxy(t, useTLS, tt.required, tt.given)
				var seen *http.Request
				d := &Dialer{
					Proxy: func(r *http.Request) (*url.URL, error) {
						seen = r
						return proxyURL, nil
					},
				}
				if useTLS {
					d.ProxyTLSConfig = tlsConfigFor(proxySrv)
				}
				cfg, resp, err := dialCfg(t, d, t.Context(), wsURL(target), nil)
				require.NotNil(t, seen)
				assert.Equal(t, "http", seen.URL.Scheme, "Proxy sees the http form of a ws URL")
				if tt.wantErr != "" {
					require.Error(t, err)
					assert.Contains(t, err.Error(), tt.wantErr)
					assert.Nil(t, resp)
					assert.Empty(t, p.used())
					return
				}
				require.NoError(t, err)
				assert.Equal(t, []string{target.Listener.Addr().String()}, p.used())
				res := <-results
				require.NoError(t, res.err)
				exchange(t, cfg, res.cfg)
			})
		}
	}
}

func TestDialWSSThroughHTTPSProxy(t *testing.T) {
	// TLS to the proxy, CONNECT, then TLS to the server inside the tunnel.
	target, results := startUpgradeHTTPServer(t, true, &Upgrader{Subprotocols: []string{"chat"}})
	p, _, proxyURL := startConnectProxy(t, true, nil, nil)
	d := &Dialer{
		Proxy:           http.ProxyURL(proxyURL),
		TLSClientConfig: tlsConfigFor(target), // serves for the proxy too: ProxyTLSConfig is nil
		Subprotocols:    []string{"chat"},
	}
	cfg, _, err := dialCfg(t, d, t.Context(), "wss://"+target.Listener.Addr().String()+"/", nil)
	require.NoError(t, err)
	assert.Equal(t, "chat", cfg.subprotocol)
	assert.Equal(t, []string{target.Listener.Addr().String()}, p.used())
	_, ok := cfg.netConn.(*tls.Conn)
	assert.True(t, ok)
	res := <-results
	require.NoError(t, res.err)
	exchange(t, cfg, res.cfg)
}

func TestDialUntrustedHTTPSProxy(t *testing.T) {
	target, _ := startUpgradeHTTPServer(t, false, &Upgrader{})
	p, _, proxyURL := startConnectProxy(t, true, nil, nil)
	_, _, err := dialCfg(t, &Dialer{Proxy: http.ProxyURL(proxyURL)}, t.Context(), wsURL(target), nil)
	require.Error(t, err)
	var certErr *tls.CertificateVerificationError
	assert.ErrorAs(t, err, &certErr)
	assert.Contains(t, err.Error(), "proxy")
	assert.Empty(t, p.used())
}

// socks5Server is a SOCKS5 proxy (RFC 1928) that only connects, and asks for
// a username and password (RFC 1929) when user is set.
type socks5Server struct {
	tunnels
	ln             net.Listener
	user, password string
	failures       chan string // why a client was turned away
}

func startSOCKS5(t *testing.T, user, password string) *socks5Server {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	s := &socks5Server{ln: ln, user: user, password: password, failures: make(chan string, 16)}
	s.wg.Go(func() {
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			if !s.track(conn) {
				conn.Close()
				return
			}
			s.wg.Go(func() {
				if reason := s.serve(conn); reason != "" {
					s.failures <- reason
					conn.Close()
				}
			})
		}
	})
	t.Cleanup(func() {
		ln.Close()
		s.closeAll()
	})
	return s
}

// serve negotiates with one client and starts relaying; it returns why it
// refused the client, or "".
func (s *socks5Server) serve(conn net.Conn) string {
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	br := bufio.NewReader(conn)
	read := func(n int) []byte {
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil
		}
		return b
	}
	hello := read(2)
	if hello == nil || hello[0] != 5 {
		return "bad greeting"
	}
	methods := read(int(hello[1]))
	method := byte(0x00) // no authentication
	if s.user != "" {
		method = 0x02 // username/password
	}
	if !slices.Contains(methods, method) {
		conn.Write([]byte{5, 0xff})
		return "no acceptable method"
	}
	conn.Write([]byte{5, method})
	if method == 0x02 {
		ver := read(2)
		if ver == nil || ver[0] != 1 {
			return "bad auth version"
		}
		user := read(int(ver[1]))
		plen := read(1)
		if user == nil || plen == nil {
			return "short auth"
		}
		password := read(int(plen[0]))
		if string(user) != s.user || string(password) != s.password {
			conn.Write([]byte{1, 1})
			return "wrong credentials"
		}
		conn.Write([]byte{1, 0})
	}
	req := read(4)
	if req == nil || req[0] != 5 || req[1] != 1 {
		conn.Write([]byte{5, 7, 0, 1, 0, 0, 0, 0, 0, 0})
		return "not CONNECT"
	}
	var host string
	switch req[3] {
	case 1:
		host = net.IP(read(4)).String()
	case 3:
		n := read(1)
		if n == nil {
			return "short name"
		}
		host = string(read(int(n[0])))
	case 4:
		host = net.IP(read(16)).String()
	}
	port := read(2)
	if port == nil {
		return "short port"
	}
	addr := net.JoinHostPort(host, strconv.Itoa(int(binary.BigEndian.Uint16(port))))
	target, err := net.Dial("tcp", addr)
	if err != nil {
		conn.Write([]byte{5, 5, 0, 1, 0, 0, 0, 0, 0, 0})
		return "target refused"
	}
	conn.Write([]byte{5, 0, 0, 1, 0, 0, 0, 0, 0, 0})
	conn.SetDeadline(time.Time{})
	s.relay(conn, br, target, addr)
	return ""
}

func TestDialThroughSOCKS5(t *testing.T) {
	tests := []struct {
		name           string
		user, password string // required by the server
		given          *url.Userinfo
		scheme         string
		wantErr        string
	}{
		{name: "open", scheme: "socks5"},
		{name: "socks5h", scheme: "socks5h"},
		{name: "credentials", user: "alice", password: "s3cret", given: url.UserPassword("alice", "s3cret"), scheme: "socks5"},
		{name: "wrong credentials", user: "alice", password: "s3cret", given: url.UserPassword("alice", "guess"), scheme: "socks5", wantErr: "authentication failed"},
		{name: "missing credentials", user: "alice", password: "s3cret", scheme: "socks5", wantErr: "no acceptable authentication methods"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			target, results := startUpgradeHTTPServer(t, false, &Upgrader{})
			s := startSOCKS5(t, tt.user, tt.password)
			proxyURL := &url.URL{Scheme: tt.scheme, Host: s.ln.Addr().String(), User: tt.given}
			dialed := 0
			d := &Dialer{
				Proxy: http.ProxyURL(proxyURL),
				NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					dialed++
					var nd net.Dialer
					return nd.DialContext(ctx, network, addr)
				},
			}
			cfg, resp, err := dialCfg(t, d, t.Context(), wsURL(target), nil)
			assert.Equal(t, 1, dialed, "the proxy is reached through NetDialContext")
			if tt.wantErr != "" {
				require.Error(t, err)
				assert.Contains(t, err.Error(), tt.wantErr)
				assert.Contains(t, err.Error(), "SOCKS5")
				assert.Nil(t, resp)
				assert.NotEmpty(t, <-s.failures)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, []string{target.Listener.Addr().String()}, s.used())
			res := <-results
			require.NoError(t, res.err)
			exchange(t, cfg, res.cfg)
		})
	}
}

func TestDialProxyErrors(t *testing.T) {
	target, _ := startUpgradeHTTPServer(t, false, &Upgrader{})
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	closedAddr := closed.Addr().String()
	closed.Close()
	tests := []struct {
		name  string
		proxy func(*http.Request) (*url.URL, error)
		want  string
	}{
		{"unknown scheme", http.ProxyURL(&url.URL{Scheme: "ftp", Host: "127.0.0.1:21"}), "proxy scheme"},
		{"proxy function fails", func(*http.Request) (*url.URL, error) { return nil, errors.New("no proxy today") }, "no proxy today"},
		{"proxy unreachable", http.ProxyURL(&url.URL{Scheme: "http", Host: closedAddr}), closedAddr},
		{"socks5 unreachable", http.ProxyURL(&url.URL{Scheme: "socks5", Host: closedAddr}), closedAddr},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := dialCfg(t, &Dialer{Proxy: tt.proxy}, t.Context(), wsURL(target), nil)
			require.Error(t, err)
			assert.Nil(t, resp)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestDialProxyTalksFirst(t *testing.T) {
	// A proxy that sends bytes after its CONNECT answer would have them
	// lost under TLS; the dial fails instead.
	srv := startCannedServer(t, "tcp", "127.0.0.1:0", false, func(r *http.Request) string {
		return "HTTP/1.1 200 OK\r\n\r\nsurprise"
	})
	proxyURL := &url.URL{Scheme: "http", Host: srv.ln.Addr().String()}
	_, _, err := dialCfg(t, &Dialer{Proxy: http.ProxyURL(proxyURL)}, t.Context(), "ws://127.0.0.1:1/", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "after its CONNECT answer")
	r := <-srv.requests
	assert.Equal(t, http.MethodConnect, r.Method)
	assert.Equal(t, "127.0.0.1:1", r.Host)
}
