package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/internal/leakcheck"
)

// TestMain fails the run when a test leaves goroutines behind.
func TestMain(m *testing.M) { leakcheck.Main(m) }

// ioTimeout bounds every wait of these tests, so that a broken server fails
// a test instead of hanging it.
const ioTimeout = 10 * time.Second

// startServer serves a chat on a loopback httptest server and returns it
// with its ws:// URL. Sessions are shut down when the test ends.
func startServer(t *testing.T, queueLen int, ping time.Duration) (*server, string) {
	t.Helper()
	s := newServer(queueLen, ping, t.Logf)
	ts := httptest.NewServer(s.routes())
	t.Cleanup(func() {
		s.hub.shutdown(websocket.StatusGoingAway, reasonGoingAway)
		ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
		defer cancel()
		assert.NoError(t, s.hub.wait(ctx), "sessions still running")
		ts.Close()
	})
	return s, "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
}

// chatter is a test's chat client, speaking the page's protocol.
type chatter struct {
	t    *testing.T
	nick string
	conn *websocket.Conn
}

// dialChat connects as nick and checks the welcome.
func dialChat(t *testing.T, wsURL, nick string, d *websocket.Dialer) *chatter {
	t.Helper()
	c := dialRaw(t, wsURL, nick, d)
	require.Equal(t, event{Type: kindWelcome, Nick: nick}, c.next())
	return c
}

// dialRaw connects as nick and reads nothing.
func dialRaw(t *testing.T, wsURL, nick string, d *websocket.Dialer) *chatter {
	t.Helper()
	if d == nil {
		d = &websocket.Dialer{}
	}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	conn, _, err := d.Dial(ctx, wsURL+"?nick="+nick, nil)
	require.NoError(t, err)
	t.Cleanup(func() { conn.CloseNow() })
	return &chatter{t: t, nick: nick, conn: conn}
}

func (c *chatter) send(req request) {
	c.t.Helper()
	data, err := json.Marshal(req)
	require.NoError(c.t, err)
	require.NoError(c.t, c.conn.WriteMessage(websocket.TextMessage, data))
}

// read returns the next message's payload, or the error that ended the
// connection.
func (c *chatter) read() ([]byte, error) {
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	_, data, err := c.conn.ReadMessageContext(ctx)
	return data, err
}

func (c *chatter) next() event {
	c.t.Helper()
	data, err := c.read()
	require.NoError(c.t, err, "%s: reading an event", c.nick)
	var ev event
	require.NoError(c.t, json.Unmarshal(data, &ev))
	return ev
}

// nextOf skips events until one of type kind arrives.
func (c *chatter) nextOf(kind string) event {
	c.t.Helper()
	for range 100 {
		if ev := c.next(); ev.Type == kind {
			return ev
		}
	}
	c.t.Fatalf("%s: no %q event among the next 100", c.nick, kind)
	return event{}
}

// closeError reads, dropping events, until the connection ends, and
// returns the peer's close.
func (c *chatter) closeError(maxEvents int) *websocket.CloseError {
	c.t.Helper()
	for range maxEvents {
		_, err := c.read()
		if err == nil {
			continue
		}
		var ce *websocket.CloseError
		require.ErrorAs(c.t, err, &ce, "%s: the connection ended without a close frame: %v", c.nick, err)
		return ce
	}
	c.t.Fatalf("%s: still open after %d events", c.nick, maxEvents)
	return nil
}

// join joins room and reads up to the member list that includes c.
func (c *chatter) join(room string) {
	c.t.Helper()
	c.send(request{Type: kindJoin, Room: room})
	require.Equal(c.t, event{Type: kindJoined, Room: room}, c.next())
	require.Contains(c.t, c.nextOf(kindMembers).Members, c.nick)
}

func TestChatTwoClientsInARoom(t *testing.T) {
	_, wsURL := startServer(t, 64, 0)
	ann := dialChat(t, wsURL, "ann", nil)
	bo := dialChat(t, wsURL, "bo", nil)
	cy := dialChat(t, wsURL, "cy", nil)

	ann.join("go")
	bo.join("go")
	assert.Equal(t, event{Type: kindMembers, Room: "go", Members: []string{"ann", "bo"}}, ann.next())
	cy.join("rust")

	ann.send(request{Type: kindSay, Room: "go", Text: "hello bo"})
	assert.Equal(t, event{Type: kindMessage, Room: "go", From: "ann", Text: "hello bo"}, bo.next())
	assert.Equal(t, event{Type: kindMessage, Room: "go", From: "ann", Text: "hello bo"}, ann.next())
	bo.send(request{Type: kindSay, Room: "go", Text: "hi ann, ça va?"})
	assert.Equal(t, event{Type: kindMessage, Room: "go", From: "bo", Text: "hi ann, ça va?"}, ann.next())
	assert.Equal(t, event{Type: kindMessage, Room: "go", From: "bo", Text: "hi ann, ça va?"}, bo.next())

	// cy is in another room: the hub queues events in one order for
	// everyone, so if "go" leaked to cy it would arrive before cy's own.
	cy.send(request{Type: kindSay, Room: "rust", Text: "anyone?"})
	assert.Equal(t, event{Type: kindMessage, Room: "rust", From: "cy", Text: "anyone?"}, cy.next())

	// bo leaves by closing: ann sees the member list shrink.
	require.NoError(t, bo.conn.Close())
	assert.Equal(t, event{Type: kindMembers, Room: "go", Members: []string{"ann"}}, ann.next())
}

// TestChatCompression checks that the server negotiates permessage-deflate
// without context takeover, and that long messages, which are compressed,
// reach the room intact.
func TestChatCompression(t *testing.T) {
	_, wsURL := startServer(t, 64, 0)
	d := &websocket.Dialer{Compression: websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover}}
	ctx, cancel := context.WithTimeout(context.Background(), ioTimeout)
	defer cancel()
	conn, resp, err := d.Dial(ctx, wsURL+"?nick=ann", nil)
	require.NoError(t, err)
	t.Cleanup(func() { conn.CloseNow() })
	ext := resp.Header.Get("Sec-WebSocket-Extensions")
	assert.Contains(t, ext, "permessage-deflate")
	assert.Contains(t, ext, "server_no_context_takeover")
	ann := &chatter{t: t, nick: "ann", conn: conn}
	require.Equal(t, kindWelcome, ann.next().Type)
	bo := dialChat(t, wsURL, "bo", d)
	ann.join("go")
	bo.join("go")
	ann.nextOf(kindMembers)

	long := strings.Repeat("compress me, ", maxTextRunes/13)
	for range 3 {
		ann.send(request{Type: kindSay, Room: "go", Text: long})
		assert.Equal(t, event{Type: kindMessage, Room: "go", From: "ann", Text: long}, bo.next())
		assert.Equal(t, long, ann.next().Text)
	}
}

func TestChatRefusesBadClients(t *testing.T) {
	_, wsURL := startServer(t, 64, 0)
	dialChat(t, wsURL, "ann", nil)

	taken := dialRaw(t, wsURL, "ann", nil)
	ce := taken.closeError(1)
	assert.Equal(t, &websocket.CloseError{Code: websocket.StatusPolicyViolation, Reason: errNickTaken.Error()}, ce)

	bad := dialRaw(t, wsURL, "a%20b", nil)
	ce = bad.closeError(1)
	assert.Equal(t, &websocket.CloseError{Code: websocket.StatusPolicyViolation, Reason: errBadNick.Error()}, ce)

	bin := dialChat(t, wsURL, "bin", nil)
	require.NoError(t, bin.conn.WriteMessage(websocket.BinaryMessage, []byte(`{"type":"join","room":"go"}`)))
	assert.Equal(t, websocket.StatusUnsupportedData, bin.closeError(10).Code)

	junk := dialChat(t, wsURL, "junk", nil)
	require.NoError(t, junk.conn.WriteMessage(websocket.TextMessage, []byte(`{"type":"shout"}`)))
	assert.Equal(t, &websocket.CloseError{Code: websocket.StatusPolicyViolation, Reason: "malformed request"}, junk.closeError(10))

	// The oversized message goes out in one write: the server fails the
	// connection after its header, and a client still writing would see
	// the reset of a socket closed with unread data instead of the close.
	big := dialChat(t, wsURL, "big", &websocket.Dialer{WriteBufferSize: 2 * maxRequestBytes})
	require.NoError(t, big.conn.WriteMessage(websocket.TextMessage, make([]byte, maxRequestBytes+1)))
	assert.Equal(t, websocket.StatusMessageTooBig, big.closeError(10).Code)
}

func TestChatSlowClientIsClosed(t *testing.T) {
	s, wsURL := startServer(t, 8, 0)
	ann := dialChat(t, wsURL, "ann", nil)
	// slow's socket takes little, so that the server's writer blocks, and
	// its queue fills, after few messages.
	small := &websocket.Dialer{NetDialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
		if err == nil {
			err = c.(*net.TCPConn).SetReadBuffer(4096)
		}
		return c, err
	}}
	slow := dialChat(t, wsURL, "slow", small)
	ann.join("go")
	slow.join("go")
	ann.nextOf(kindMembers)

	// ann talks, and reads her own messages back; slow reads nothing.
	text := strings.Repeat("x", maxTextRunes)
	sent := 0
	for ; sent < 50000 && len(s.hub.members("go")) == 2; sent++ {
		ann.send(request{Type: kindSay, Room: "go", Text: text})
		ann.nextOf(kindMessage)
	}
	require.Equal(t, []string{"ann"}, s.hub.members("go"), "slow still in the room after %d messages", sent)
	t.Logf("slow was dropped after %d messages", sent)
	// The room goes on for ann.
	assert.Equal(t, event{Type: kindMembers, Room: "go", Members: []string{"ann"}}, ann.next())
	ann.send(request{Type: kindSay, Room: "go", Text: "still here"})
	assert.Equal(t, "still here", ann.next().Text)

	// slow, reading at last, finds the close frame after what was sent. A
	// wider window spares it a delayed acknowledgement per few messages.
	require.NoError(t, slow.conn.UnderlyingConn().(*net.TCPConn).SetReadBuffer(1<<20))
	ce := slow.closeError(sent + 10)
	assert.Equal(t, &websocket.CloseError{Code: websocket.StatusPolicyViolation, Reason: reasonTooSlow}, ce)
}

func TestChatKeepalivePings(t *testing.T) {
	_, wsURL := startServer(t, 8, 200*time.Millisecond)
	ann := dialChat(t, wsURL, "ann", nil)
	pinged := make(chan struct{}, 1)
	ann.conn.SetPingHandler(func(data string) error {
		select {
		case pinged <- struct{}{}:
		default:
		}
		return ann.conn.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(ioTimeout))
	})
	// Pings are seen by a reader: read in the background until the test
	// closes the connection.
	readDone := make(chan error, 1)
	go func() {
		for {
			if _, _, err := ann.conn.ReadMessage(); err != nil {
				readDone <- err
				return
			}
		}
	}()
	select {
	case <-pinged:
	case <-time.After(ioTimeout):
		t.Fatal("no ping from the server")
	}
	require.NoError(t, ann.conn.Close())
	<-readDone
}

func TestChatServesPage(t *testing.T) {
	s := newServer(8, 0, t.Logf)
	ts := httptest.NewServer(s.routes())
	defer ts.Close()
	for path, want := range map[string]string{
		"/":         "<title>websocket chat</title>",
		"/chat.js":  `new WebSocket(`,
		"/chat.css": ".messages",
	} {
		resp, err := http.Get(ts.URL + path)
		require.NoError(t, err)
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		require.NoError(t, err)
		assert.Equal(t, http.StatusOK, resp.StatusCode, path)
		assert.Contains(t, string(body), want, path)
	}
	// A plain GET of the endpoint is refused by the handshake.
	resp, err := http.Get(ts.URL + "/ws")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}

// TestChatRunShutdown runs the program as main does, and checks that the
// URL is printed and that a shutdown sends every client 1001 "going away".
func TestChatRunShutdown(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	outR, outW := io.Pipe()
	ran := make(chan error, 1)
	go func() {
		ran <- run(ctx, []string{"-addr", "127.0.0.1:0", "-ping", "1m"}, outW, io.Discard)
		outW.Close()
	}()
	lines := bufio.NewScanner(outR)
	require.True(t, lines.Scan(), "no output")
	url, ok := strings.CutPrefix(lines.Text(), "chat: serving ")
	require.True(t, ok, "first line %q", lines.Text())
	require.True(t, strings.HasPrefix(url, "http://127.0.0.1:"), url)
	wsURL := "ws" + strings.TrimPrefix(strings.TrimSuffix(url, "/"), "http") + "/ws"

	ann := dialChat(t, wsURL, "ann", nil)
	bo := dialChat(t, wsURL, "bo", nil)
	ann.join("go")

	cancel()
	go io.Copy(io.Discard, outR) // the rest of the output
	want := &websocket.CloseError{Code: websocket.StatusGoingAway, Reason: "going away"}
	assert.Equal(t, want, ann.closeError(10))
	assert.Equal(t, want, bo.closeError(10))
	select {
	case err := <-ran:
		assert.NoError(t, err)
	case <-time.After(ioTimeout):
		t.Fatal("run did not return after the shutdown")
	}
}

func TestRunRejectsBadFlags(t *testing.T) {
	var stderr strings.Builder
	err := run(context.Background(), []string{"-nope"}, io.Discard, &stderr)
	assert.Error(t, err)
	assert.Contains(t, stderr.String(), "-addr")
	err = run(context.Background(), []string{"extra"}, io.Discard, io.Discard)
	assert.Error(t, err)
	err = run(context.Background(), []string{"-addr", "256.0.0.1:0"}, io.Discard, io.Discard)
	var opErr *net.OpError
	assert.True(t, errors.As(err, &opErr), "%v", err)
}
