package wstest

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	// The HTTP/2 servers of a test binary that uses these helpers must
	// allow extended CONNECT (RFC 8441 §3).
	_ "github.com/rfc6455/websocket/http2xconnect"
	"github.com/rfc6455/websocket/internal/h2stream"
	"golang.org/x/net/http2"
)

// This file opens raw HTTP/2 streams for WebSockets over HTTP/2 (RFC 8441):
// a test peer writes and reads WebSocket frames on them as it would on a
// TCP connection after the HTTP/1.1 handshake.

// H2Server starts an HTTPS server on 127.0.0.1 that speaks HTTP/2, with a
// test certificate, and closes it when the test ends. Its Client trusts the
// certificate. configure, when given, adjusts the http.Server before it
// starts.
func H2Server(tb testing.TB, h http.Handler, configure ...func(*http.Server)) *httptest.Server {
	tb.Helper()
	s := httptest.NewUnstartedServer(h)
	for _, f := range configure {
		f(s.Config)
	}
	s.EnableHTTP2 = true
	s.StartTLS()
	tb.Cleanup(s.Close)
	return s
}

// H2CServer starts an HTTP server on 127.0.0.1 that speaks HTTP/1.1 and
// unencrypted HTTP/2 with prior knowledge (h2c, RFC 9113 §3.3), and closes
// it when the test ends. configure, when given, adjusts the http.Server
// before it starts.
func H2CServer(tb testing.TB, h http.Handler, configure ...func(*http.Server)) *httptest.Server {
	tb.Helper()
	s := httptest.NewUnstartedServer(h)
	for _, f := range configure {
		f(s.Config)
	}
	s.Config.Protocols = new(http.Protocols)
	s.Config.Protocols.SetHTTP1(true)
	s.Config.Protocols.SetUnencryptedHTTP2(true)
	s.Start()
	tb.Cleanup(s.Close)
	return s
}

// TLSConfigFor returns a client TLS configuration that trusts s's test
// certificate.
func TLSConfigFor(s *httptest.Server) *tls.Config {
	return &tls.Config{RootCAs: s.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs}
}

// H2Dial opens an HTTP/2 connection of its own to rawURL (https:// over
// TLS with tlsConfig, http:// as h2c with prior knowledge), sends the
// extended CONNECT of RFC 8441 §5 with header (Sec-WebSocket-Version 13
// unless header sets it) and returns the stream as a net.Conn that carries
// raw bytes, with the response. Closing the net.Conn ends the stream and
// the connection. A response other than 2xx is returned with a nil
// net.Conn and an error; its body is closed.
func H2Dial(ctx context.Context, rawURL string, tlsConfig *tls.Config, header http.Header) (net.Conn, *http.Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, err
	}
	if u.Port() == "" {
		return nil, nil, fmt.Errorf("wstest: %q names no port", rawURL)
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		return nil, nil, err
	}
	if u.Scheme == "https" {
		cfg := tlsConfig.Clone()
		if cfg == nil {
			cfg = new(tls.Config)
		}
		cfg.NextProtos = []string{"h2"}
		if cfg.ServerName == "" {
			cfg.ServerName = u.Hostname()
		}
		tc := tls.Client(conn, cfg)
		if err := tc.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, nil, err
		}
		conn = tc
	}
	// x/net's client: net/http's of Go 1.26 refuses the :protocol field.
	//lint:ignore SA1019 net/http of Go 1.26 cannot send an extended CONNECT.
	cc, err := (&http2.Transport{AllowHTTP: true, DisableCompression: true}).NewClientConn(conn)
	if err != nil {
		conn.Close()
		return nil, nil, err
	}
	h := header.Clone()
	if h == nil {
		h = make(http.Header)
	}
	h.Set(":protocol", "websocket")
	if h.Get("Sec-WebSocket-Version") == "" {
		h.Set("Sec-WebSocket-Version", "13")
	}
	streamCtx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	reqBody := h2stream.NewBody()
	req := &http.Request{Method: http.MethodConnect, URL: u, Host: u.Host, Header: h, Body: reqBody}
	stop := context.AfterFunc(ctx, cancel)
	resp, err := cc.RoundTrip(req.WithContext(streamCtx))
	stop()
	fail := func(err error) (net.Conn, *http.Response, error) {
		cancel()
		reqBody.Abort(err)
		cc.Close()
		return nil, resp, err
	}
	if err != nil {
		return fail(err)
	}
	if resp.StatusCode/100 != 2 {
		resp.Body.Close()
		return fail(fmt.Errorf("wstest: extended CONNECT answered %s", resp.Status))
	}
	body := resp.Body
	resp.Body = http.NoBody
	return h2stream.New(h2stream.Config{
		In: readCloser{body, func() error {
			reqBody.CloseWrite()
			cancel()
			return body.Close()
		}},
		Out: reqBody,
		Abort: func() {
			reqBody.Abort(h2stream.ErrAborted)
			cancel()
		},
		Finish: cc.Close,
		Local:  conn.LocalAddr(),
		Remote: conn.RemoteAddr(),
	}), resp, nil
}

// H2Accept answers the extended CONNECT r with 200 and the fields of
// header, and returns the stream as a net.Conn that carries raw bytes. The
// handler must not return before it is done with the net.Conn; when it
// returns, the net.Conn is closed.
func H2Accept(w http.ResponseWriter, r *http.Request, header http.Header) (net.Conn, error) {
	if r.ProtoMajor != 2 || r.Method != http.MethodConnect || r.Header.Get(":protocol") != "websocket" {
		http.Error(w, "not an extended CONNECT for websocket", http.StatusBadRequest)
		return nil, errors.New("wstest: not an extended CONNECT for websocket")
	}
	maps.Copy(w.Header(), header)
	rc := http.NewResponseController(w)
	w.WriteHeader(http.StatusOK)
	if err := rc.Flush(); err != nil {
		return nil, err
	}
	return h2stream.New(h2stream.Config{
		In:      r.Body,
		Out:     w,
		Flush:   rc.Flush,
		Abort:   func() { rc.SetWriteDeadline(aLongTimeAgo) },
		Context: r.Context(),
	}), nil
}

// aLongTimeAgo is a deadline in the past: on an HTTP/2 server's response
// it resets the stream, which makes a blocked write return.
var aLongTimeAgo = time.Unix(1, 0)

// readCloser is an io.ReadCloser whose Close is close.
type readCloser struct {
	io.Reader
	close func() error
}

func (r readCloser) Close() error { return r.close() }
