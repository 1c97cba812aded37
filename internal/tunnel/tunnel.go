// Package tunnel opens the byte stream a WebSocket client's handshake runs
// over: a TCP connection to the server, or one through a SOCKS5 proxy or an
// HTTP or HTTPS proxy's CONNECT tunnel, with TLS on top. The CONNECT request
// is hand-written because net/http's Transport tunnels only for its own
// requests and never hands back the connection.
package tunnel

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"

	"golang.org/x/net/proxy"
)

// Dialer says how to reach a server. The zero value dials TCP with a
// net.Dialer and uses a default TLS configuration.
type Dialer struct {
	// NetDial opens TCP connections, to the server or to a proxy; nil
	// means a net.Dialer's DialContext.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
	// NetDialTLS, if set, opens the TLS connection to an https server
	// reached without a proxy.
	NetDialTLS func(ctx context.Context, network, addr string) (net.Conn, error)
	// TLSConfig is the base of the TLS configuration to the server, and to
	// an https proxy when ProxyTLSConfig is nil.
	TLSConfig      *tls.Config
	ProxyTLSConfig *tls.Config
	// MaxAnswerBytes bounds the size of a proxy's answer to CONNECT.
	MaxAnswerBytes int64
}

// FirstHop opens the connection to the server, or to the proxy when proxyURL
// is set. A SOCKS5 proxy is traversed here already, so the connection it
// returns then leads to target. The returned conn carries TLS only when
// NetDialTLS opened it (tls reports that).
func (d *Dialer) FirstHop(ctx context.Context, target *url.URL, proxyURL *url.URL) (conn net.Conn, tls bool, err error) {
	addr := HostPort(target)
	if proxyURL == nil {
		if target.Scheme == "https" && d.NetDialTLS != nil {
			conn, err = d.NetDialTLS(ctx, "tcp", addr)
			return conn, true, err
		}
		conn, err = netDial(d.NetDial)(ctx, "tcp", addr)
		return conn, false, err
	}
	switch proxyURL.Scheme {
	case "http", "https":
		conn, err = netDial(d.NetDial)(ctx, "tcp", HostPort(proxyURL))
		return conn, false, err
	case "socks5", "socks5h":
		socks, err := proxy.FromURL(proxyURL, forwardDialer(netDial(d.NetDial)))
		if err != nil {
			return nil, false, err
		}
		conn, err = socks.(proxy.ContextDialer).DialContext(ctx, "tcp", addr)
		if err != nil {
			return nil, false, fmt.Errorf("SOCKS5 proxy %s: %w", proxyURL.Host, err)
		}
		return conn, false, nil
	}
	return nil, false, fmt.Errorf("proxy scheme %q is not http, https, socks5 or socks5h", proxyURL.Scheme)
}

// Through turns the first hop into a connection to target that speaks
// HTTP: TLS to an https proxy and CONNECT through an http or https proxy,
// then TLS to an https target unless hasTLS, offering the application
// protocols nextProtos by ALPN.
func (d *Dialer) Through(ctx context.Context, conn net.Conn, hasTLS bool, target, proxyURL *url.URL, nextProtos []string) (net.Conn, error) {
	if proxyURL != nil && (proxyURL.Scheme == "http" || proxyURL.Scheme == "https") {
		if proxyURL.Scheme == "https" {
			cfg := d.ProxyTLSConfig
			if cfg == nil {
				cfg = d.TLSConfig
			}
			// The CONNECT request to the proxy is HTTP/1.1.
			tc, err := Handshake(ctx, conn, cfg, proxyURL.Hostname(), []string{"http/1.1"})
			if err != nil {
				return nil, fmt.Errorf("TLS to proxy %s: %w", proxyURL.Host, err)
			}
			conn = tc
		}
		if err := d.connect(conn, proxyURL, HostPort(target)); err != nil {
			return nil, err
		}
	}
	if target.Scheme == "https" && !hasTLS {
		tc, err := Handshake(ctx, conn, d.TLSConfig, target.Hostname(), nextProtos)
		if err != nil {
			return nil, err
		}
		conn = tc
	}
	return conn, nil
}

// connect asks the HTTP proxy at the other end of conn for a tunnel to addr
// (RFC 9110 §9.3.6), authenticating with the proxy URL's user:password.
func (d *Dialer) connect(conn net.Conn, proxyURL *url.URL, addr string) error {
	req := "CONNECT " + addr + " HTTP/1.1\r\nHost: " + addr + "\r\n"
	if u := proxyURL.User; u != nil {
		password, _ := u.Password()
		req += "Proxy-Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u.Username()+":"+password)) + "\r\n"
	}
	req += "\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		return fmt.Errorf("proxy %s: %w", proxyURL.Host, err)
	}
	br := bufio.NewReader(&boundedReader{r: conn, n: d.MaxAnswerBytes})
	resp, err := http.ReadResponse(br, &http.Request{Method: http.MethodConnect})
	if err != nil {
		return fmt.Errorf("proxy %s: reading the CONNECT answer: %w", proxyURL.Host, err)
	}
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("proxy %s refused CONNECT: %s", proxyURL.Host, resp.Status)
	}
	// Neither a TLS server nor a WebSocket server speaks first, so anything
	// buffered here came from the proxy and would be lost.
	if br.Buffered() > 0 {
		return fmt.Errorf("proxy %s sent data after its CONNECT answer", proxyURL.Host)
	}
	return nil
}

// boundedReader fails once more than n bytes have been read through it, so
// that a proxy's answer cannot grow without end.
type boundedReader struct {
	r io.Reader
	n int64
}

func (b *boundedReader) Read(p []byte) (int, error) {
	if b.n <= 0 {
		return 0, errors.New("CONNECT answer too large")
	}
	if int64(len(p)) > b.n {
		p = p[:b.n]
	}
	n, err := b.r.Read(p)
	b.n -= int64(n)
	return n, err
}

// Handshake runs a TLS client handshake over conn with a copy of base,
// offering nextProtos by ALPN.
func Handshake(ctx context.Context, conn net.Conn, base *tls.Config, serverName string, nextProtos []string) (*tls.Conn, error) {
	var cfg *tls.Config
	if base != nil {
		cfg = base.Clone()
	} else {
		cfg = new(tls.Config)
	}
	if cfg.ServerName == "" {
		cfg.ServerName = serverName
	}
	// The WebSocket upgrade exists only in HTTP/1.1, so a server that
	// picked h2 by ALPN could not answer it: the caller offers h2 only
	// when it can use it (RFC 8441).
	cfg.NextProtos = nextProtos
	tc := tls.Client(conn, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, err
	}
	return tc, nil
}

// netDial returns f, or a net.Dialer's DialContext when f is nil. It is
// not a method, so that a Dialer can stay on its caller's stack.
func netDial(f func(ctx context.Context, network, addr string) (net.Conn, error)) func(ctx context.Context, network, addr string) (net.Conn, error) {
	if f != nil {
		return f
	}
	return new(net.Dialer).DialContext
}

// forwardDialer lets golang.org/x/net/proxy reach a SOCKS5 proxy through
// NetDial.
type forwardDialer func(ctx context.Context, network, addr string) (net.Conn, error)

func (f forwardDialer) Dial(network, addr string) (net.Conn, error) {
	return f(context.Background(), network, addr)
}

func (f forwardDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	return f(ctx, network, addr)
}

// HostPort returns u's host and port for dialing, with the default port of
// its scheme when it names none. IPv6 literals come back in brackets.
func HostPort(u *url.URL) string {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "http":
			port = "80"
		case "https":
			port = "443"
		case "socks5", "socks5h":
			port = "1080"
		}
	}
	return net.JoinHostPort(u.Hostname(), port)
}
