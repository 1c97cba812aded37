package patterns

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	ws "github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/compat/gorilla"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// These tests run the patterns against the websocket package itself.

const testTimeout = 10 * time.Second

func wsURL(s *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(s.URL, "http") + path
}

func dialCore(t *testing.T, url string) *ws.Conn {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	c, _, err := ws.Dial(ctx, url, nil)
	require.NoError(t, err)
	t.Cleanup(func() { c.CloseNow() })
	return c
}

func readCore(t *testing.T, c *ws.Conn) (ws.MessageType, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	typ, p, err := c.ReadMessageContext(ctx)
	require.NoError(t, err)
	return typ, string(p)
}

func TestEchoHandlerWithCore(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(EchoHandler))
	defer srv.Close()
	c := dialCore(t, wsURL(srv, "/"))
	require.NoError(t, c.WriteMessage(ws.TextMessage, []byte("héllo")))
	require.NoError(t, c.WriteMessage(ws.BinaryMessage, []byte{1, 2, 3}))
	typ, p := readCore(t, c)
	assert.Equal(t, ws.TextMessage, typ)
	assert.Equal(t, "héllo", p)
	typ, p = readCore(t, c)
	assert.Equal(t, ws.BinaryMessage, typ)
	assert.Equal(t, "\x01\x02\x03", p)
	assert.NoError(t, c.Close(), "the closing handshake completes")
}

func TestEchoClientWithCore(t *testing.T) {
	ended := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := (&ws.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			ended <- err
			return
		}
		defer c.CloseNow()
		for {
			typ, p, err := c.ReadMessage()
			if err != nil {
				ended <- err
				return
			}
			c.WriteMessage(typ, append([]byte("echo: "), p...))
		}
	}))
	defer srv.Close()
	got, err := EchoClient(wsURL(srv, "/"), []string{"one", "two", "three"})
	require.NoError(t, err)
	assert.Equal(t, []string{"echo: one", "echo: two", "echo: three"}, got)
	select {
	case err := <-ended:
		assert.Equal(t, ws.StatusNormalClosure, ws.CloseStatus(err), "the client closed cleanly: %v", err)
	case <-time.After(testTimeout):
		t.Fatal("the server did not see the close")
	}
}

func TestChatWithCore(t *testing.T) {
	hub := NewHub()
	go hub.Run()
	srv := httptest.NewServer(http.HandlerFunc(hub.ServeChat))
	defer srv.Close()
	defer hub.Stop()
	names := []string{"ann", "bo", "cy"}
	var conns []*ws.Conn
	for range names {
		conns = append(conns, dialCore(t, wsURL(srv, "/")))
	}
	// Registration is asynchronous (ServeChat registers a client after
	// its upgrade, which the client may see complete first): a client that
	// reads back its own message is in the hub. Only then the checked
	// round.
	for i, c := range conns {
		require.NoError(t, c.WriteMessage(ws.TextMessage, []byte("hello from "+names[i])))
		waitForLine(t, c, "hello from "+names[i])
	}
	require.NoError(t, conns[0].WriteMessage(ws.TextMessage, []byte("  trimmed  ")))
	for _, r := range conns {
		waitForLine(t, r, "trimmed")
	}
}

// waitForLine reads c until a message holds line among its lines: the write
// pump may batch several into one message.
func waitForLine(t *testing.T, c *ws.Conn, line string) {
	t.Helper()
	for range 100 {
		_, p := readCore(t, c)
		for l := range strings.SplitSeq(p, "\n") {
			if l == line {
				return
			}
		}
	}
	t.Fatalf("no line %q in 100 messages", line)
}

// upgradeCompat serves one compat upgrade with u and returns the server's
// Conn and a core client connected to it.
func upgradeCompat(t *testing.T, u *websocket.Upgrader) (*websocket.Conn, *ws.Conn) {
	t.Helper()
	ch := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := u.Upgrade(w, r, nil)
		if err == nil {
			ch <- c
		}
	}))
	t.Cleanup(srv.Close)
	peer := dialCore(t, wsURL(srv, "/"))
	select {
	case c := <-ch:
		t.Cleanup(func() { c.Close() })
		return c, peer
	case <-time.After(testTimeout):
		t.Fatal("no upgrade")
		return nil, nil
	}
}

// The write pump sends the messages already queued as one message, one per
// line, through one NextWriter.
func TestChatWritePumpBatchesWithCore(t *testing.T) {
	conn, peer := upgradeCompat(t, &chatUpgrader)
	hub := NewHub()
	c := &chatClient{hub: hub, conn: conn, send: make(chan []byte, 8)}
	for _, m := range []string{"a", "b", "c"} {
		c.send <- []byte(m)
	}
	done := make(chan struct{})
	go func() { defer close(done); c.writePump() }()
	_, p := readCore(t, peer)
	assert.Equal(t, "a\nb\nc", p, "three queued messages in one")
	c.send <- []byte("d")
	_, p = readCore(t, peer)
	assert.Equal(t, "d", p)
	close(c.send)
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	_, _, err := peer.ReadMessageContext(ctx)
	assert.Equal(t, ws.StatusNoStatusReceived, ws.CloseStatus(err), "a closed queue sends an empty close frame")
	<-done
}

func TestCloseCleanlyWithCore(t *testing.T) {
	conn, peer := upgradeCompat(t, &websocket.Upgrader{})
	peerErr := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		for {
			if _, _, err := peer.ReadMessageContext(ctx); err != nil {
				peerErr <- err
				return
			}
		}
	}()
	require.NoError(t, peer.WriteMessage(ws.TextMessage, []byte("in flight")))
	assert.Equal(t, 4000, CloseCleanly(conn, 4000, "bye", testTimeout), "the core answers with the same code")
	err := <-peerErr
	var ce *ws.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, ws.StatusCode(4000), ce.Code)
	assert.Equal(t, "bye", ce.Reason)
}

func TestKeepaliveWithCore(t *testing.T) {
	pongs := make(chan struct{}, 1)
	ended := make(chan error, 2)
	k := &Keepalive{PingPeriod: 20 * time.Millisecond, PongWait: 200 * time.Millisecond, Pongs: pongs, Ended: ended}
	srv := httptest.NewServer(k)
	defer srv.Close()

	t.Run("a reading peer stays", func(t *testing.T) {
		c := dialCore(t, wsURL(srv, "/"))
		ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
		defer cancel()
		echoes := make(chan string, 1)
		go func() {
			// Reading answers the pings.
			for {
				_, p, err := c.ReadMessageContext(ctx)
				if err != nil {
					return
				}
				echoes <- string(p)
			}
		}()
		// Ten pongs: ten ping periods and more than the pong wait.
		for range 10 {
			select {
			case <-pongs:
			case <-ctx.Done():
				t.Fatal("no pong")
			}
		}
		require.NoError(t, c.WriteMessage(ws.TextMessage, []byte("still here")))
		select {
		case e := <-echoes:
			assert.Equal(t, "still here", e)
		case <-ctx.Done():
			t.Fatal("no echo")
		}
		require.NoError(t, c.Close())
		assert.Equal(t, websocket.CloseNormalClosure, closeCodeOf(<-ended))
	})

	t.Run("a silent peer is dropped", func(t *testing.T) {
		dialCore(t, wsURL(srv, "/")) // never reads, so never answers a ping
		select {
		case err := <-ended:
			assert.ErrorIs(t, err, os.ErrDeadlineExceeded)
		case <-time.After(testTimeout):
			t.Fatal("the silent peer was not dropped")
		}
	})
}

func closeCodeOf(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}
