package websocket

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	ws "github.com/rfc6455/websocket"
	"github.com/stretchr/testify/require"
)

// testTimeout bounds every wait of these tests.
const testTimeout = 10 * time.Second

// upgraded is what a test server's handler got from Upgrade.
type upgraded struct {
	c   *Conn
	r   *http.Request
	err error
}

// serve starts an HTTP server on loopback whose handler upgrades with u and
// hands the result over; it returns the server's ws:// URL and the channel
// of upgrades. Connections and server are closed when the test ends.
func serve(t *testing.T, u *Upgrader) (string, <-chan upgraded) {
	t.Helper()
	ch := make(chan upgraded, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r, nil)
		if c != nil {
			t.Cleanup(func() { c.Close() })
		}
		ch <- upgraded{c, r, err}
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http"), ch
}

// accepted waits for the server's side of a connection.
func accepted(t *testing.T, ch <-chan upgraded) upgraded {
	t.Helper()
	select {
	case u := <-ch:
		return u
	case <-time.After(testTimeout):
		t.Fatal("no upgrade on the server")
		return upgraded{}
	}
}

// pair returns a compat server Conn and a compat client Conn connected to
// each other, made by u and d.
func pair(t *testing.T, u *Upgrader, d *Dialer) (server, client *Conn) {
	t.Helper()
	url, ch := serve(t, u)
	client, resp, err := d.Dial(url, nil)
	require.NoError(t, err)
	require.Equal(t, http.StatusSwitchingProtocols, resp.StatusCode)
	t.Cleanup(func() { client.Close() })
	up := accepted(t, ch)
	require.NoError(t, up.err)
	return up.c, client
}

// withPeer returns a compat server Conn made by u and a client Conn of the
// parent package connected to it, made by pd.
func withPeer(t *testing.T, u *Upgrader, pd *ws.Dialer) (server *Conn, peer *ws.Conn) {
	t.Helper()
	url, ch := serve(t, u)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	if pd == nil {
		pd = &ws.Dialer{}
	}
	peer, _, err := pd.Dial(ctx, url, nil)
	require.NoError(t, err)
	t.Cleanup(func() { peer.CloseNow() })
	up := accepted(t, ch)
	require.NoError(t, up.err)
	return up.c, peer
}

// readAsync runs one ReadMessage on c in a goroutine.
func readAsync(c *Conn) <-chan readResult {
	ch := make(chan readResult, 1)
	go func() {
		typ, p, err := c.ReadMessage()
		ch <- readResult{typ, p, err}
	}()
	return ch
}

type readResult struct {
	typ int
	p   []byte
	err error
}

func wait[T any](t *testing.T, ch <-chan T) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(testTimeout):
		t.Fatal("timed out")
		var zero T
		return zero
	}
}

// peerRead reads one message on a parent-package Conn, with a deadline.
func peerRead(t *testing.T, p *ws.Conn) (ws.MessageType, []byte, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	return p.ReadMessageContext(ctx)
}
