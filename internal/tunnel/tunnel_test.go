package tunnel

import (
	"bufio"
	"context"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestHostPort(t *testing.T) {
	tests := []struct{ url, want string }{
		{"http://example.com", "example.com:80"},
		{"https://example.com", "example.com:443"},
		{"http://example.com:8080", "example.com:8080"},
		{"https://[::1]", "[::1]:443"},
		{"http://[::1]:9", "[::1]:9"},
		{"socks5://proxy", "proxy:1080"},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.url)
		require.NoError(t, err)
		assert.Equal(t, tt.want, HostPort(u), tt.url)
	}
}

// TestConnect runs the CONNECT exchange against a proxy that answers with
// a canned response, over an in-memory pipe.
func TestConnect(t *testing.T) {
	tests := []struct {
		name   string
		user   *url.Userinfo
		answer string
		want   string // in the error; "" for success
	}{
		{"ok", nil, "HTTP/1.1 200 Connection established\r\n\r\n", ""},
		{"credentials", url.UserPassword("ann", "s3cret"), "HTTP/1.1 200 OK\r\n\r\n", ""},
		{"refused", nil, "HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n", "refused CONNECT: 407"},
		{"talks first", nil, "HTTP/1.1 200 OK\r\n\r\nsurprise", "after its CONNECT answer"},
		{"answer too large", nil, "HTTP/1.1 200 OK\r\nX-Pad: " + strings.Repeat("a", 4096) + "\r\n\r\n", "too large"},
		{"not HTTP", nil, "SSH-2.0-OpenSSH\r\n\r\n", "reading the CONNECT answer"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			client, proxy := net.Pipe()
			requests := make(chan *http.Request, 1)
			go func() {
				defer proxy.Close()
				r, err := http.ReadRequest(bufio.NewReader(proxy))
				if err != nil {
					close(requests)
					return
				}
				requests <- r
				proxy.Write([]byte(tt.answer)) // fails once the client gives up
			}()
			d := &Dialer{MaxAnswerBytes: 1024}
			proxyURL := &url.URL{Scheme: "http", Host: "proxy.test:3128", User: tt.user}
			err := d.connect(client, proxyURL, "server.test:443")
			client.Close()
			r := <-requests
			require.NotNil(t, r)
			assert.Equal(t, http.MethodConnect, r.Method)
			assert.Equal(t, "server.test:443", r.Host)
			assert.Equal(t, "server.test:443", r.RequestURI)
			want := ""
			if tt.user != nil {
				want = "Basic YW5uOnMzY3JldA==" // ann:s3cret
			}
			assert.Equal(t, want, r.Header.Get("Proxy-Authorization"))
			assert.Empty(t, r.Header.Get("Authorization"))
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Contains(t, err.Error(), tt.want)
		})
	}
}

func TestFirstHopUnknownScheme(t *testing.T) {
	target := &url.URL{Scheme: "http", Host: "server.test"}
	_, _, err := (&Dialer{}).FirstHop(context.Background(), target, &url.URL{Scheme: "ftp", Host: "proxy.test"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `proxy scheme "ftp"`)
}

// TestFirstHopNetDial checks that every hop goes through NetDial: to the
// server, and to an HTTP proxy instead when there is one.
func TestFirstHopNetDial(t *testing.T) {
	var dialed []string
	d := &Dialer{NetDial: func(ctx context.Context, network, addr string) (net.Conn, error) {
		dialed = append(dialed, network+" "+addr)
		c, _ := net.Pipe()
		return c, nil
	}}
	target := &url.URL{Scheme: "https", Host: "server.test"}
	for _, proxyURL := range []*url.URL{nil, {Scheme: "http", Host: "proxy.test:3128"}} {
		conn, hasTLS, err := d.FirstHop(context.Background(), target, proxyURL)
		require.NoError(t, err)
		assert.False(t, hasTLS)
		conn.Close()
	}
	assert.Equal(t, []string{"tcp server.test:443", "tcp proxy.test:3128"}, dialed)
}
