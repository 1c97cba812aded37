package main

import (
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/internal/leakcheck"
)

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		runAsMain() // exits
	}
	leakcheck.Main(m)
}

// waitTimeout bounds every wait of these tests.
const waitTimeout = 10 * time.Second

// output collects what wscat writes to stdout or stderr, and lets a test
// wait for a piece of it.
type output struct {
	mu      sync.Mutex
	buf     strings.Builder
	changed chan struct{}
}

func newOutput() *output { return &output{changed: make(chan struct{}, 1)} }

func (o *output) Write(p []byte) (int, error) {
	o.mu.Lock()
	o.buf.Write(p)
	o.mu.Unlock()
	select {
	case o.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (o *output) String() string {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.buf.String()
}

// waitFor waits until the output contains s and returns it all.
func (o *output) waitFor(t *testing.T, s string) string {
	t.Helper()
	timer := time.NewTimer(waitTimeout)
	defer timer.Stop()
	for {
		if out := o.String(); strings.Contains(out, s) {
			return out
		}
		select {
		case <-o.changed:
		case <-timer.C:
			t.Fatalf("output never contained %q; it is:\n%s", s, o.String())
		}
	}
}

// peerServer is a loopback WebSocket server that greets each client with
// what its handshake carried, then answers each message with its type and
// payload ("text:hello", in a message of the same type), until the client sends "bye", which it answers
// with close code 4001.
func peerServer(t *testing.T, onConn func(*websocket.Conn)) string {
	t.Helper()
	up := &websocket.Upgrader{
		Subprotocols: []string{"chat.v1"},
		Compression:  websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover},
	}
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		if onConn != nil {
			onConn(conn)
		}
		greeting := "hello X-Test=" + r.Header.Get("X-Test") + " subprotocol=" + conn.Subprotocol()
		if conn.WriteMessage(websocket.TextMessage, []byte(greeting)) != nil {
			return
		}
		for {
			typ, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if string(data) == "bye" {
				conn.CloseWithStatus(4001, "bye to you")
				return
			}
			if conn.WriteMessage(typ, []byte(typ.String()+":"+string(data))) != nil {
				return
			}
		}
	}))
	t.Cleanup(ts.Close)
	return "ws" + strings.TrimPrefix(ts.URL, "http") + "/ws"
}

// runWscat runs wscat with args and stdin and returns what it printed and
// returned.
func runWscat(t *testing.T, args []string, stdin io.Reader) (stdout, stderr string, err error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var out, errOut strings.Builder
	err = run(ctx, args, stdin, &out, &errOut, false)
	return out.String(), errOut.String(), err
}

func TestClientSendsLinesPrintsMessages(t *testing.T) {
	url := peerServer(t, nil)
	stdout, stderr, err := runWscat(t,
		[]string{"-H", "X-Test: yes", "-subprotocol", "chat.v1", url},
		strings.NewReader("one\ntwo, ça va\r\n\nlast without newline"))
	require.NoError(t, err, stderr)
	assert.Equal(t, "hello X-Test=yes subprotocol=chat.v1\ntext:one\ntext:two, ça va\ntext:\ntext:last without newline\n", stdout)
	assert.Contains(t, stderr, "connected to "+url+" (subprotocol chat.v1)\n")
	assert.Contains(t, stderr, "closed: 1000\n", "the end of stdin closes with 1000")
}

func TestClientCompress(t *testing.T) {
	url := peerServer(t, nil)
	long := strings.Repeat("a line long enough to be compressed; ", 20)
	stdout, stderr, err := runWscat(t, []string{"-compress", "-wait", "0", url}, strings.NewReader(long+"\n"+long+"\n"))
	require.NoError(t, err, stderr)
	assert.Equal(t, "hello X-Test= subprotocol=\ntext:"+long+"\ntext:"+long+"\n", stdout)
	assert.Contains(t, stderr, "(extensions permessage-deflate")

	// Without -compress, nothing is offered.
	_, stderr, err = runWscat(t, []string{"-wait", "0", url}, strings.NewReader(""))
	require.NoError(t, err, stderr)
	assert.NotContains(t, stderr, "permessage-deflate")
}

func TestClientBinary(t *testing.T) {
	url := peerServer(t, nil)
	stdout, stderr, err := runWscat(t, []string{"-binary", "-wait", "0", url}, strings.NewReader("one\n\xff\xfe\n"))
	require.NoError(t, err, stderr)
	assert.Equal(t, "hello X-Test= subprotocol=\nbinary:one\nbinary:\xff\xfe\n", stdout)
}

func TestClientSkipsInvalidUTF8Text(t *testing.T) {
	url := peerServer(t, nil)
	stdout, stderr, err := runWscat(t, []string{"-wait", "0", url}, strings.NewReader("\xff\nok\n"))
	require.NoError(t, err, stderr)
	assert.Equal(t, "hello X-Test= subprotocol=\ntext:ok\n", stdout)
	assert.Contains(t, stderr, "not valid UTF-8 (use -binary)")
}

func TestClientServerCloses(t *testing.T) {
	url := peerServer(t, nil)
	stdin, stdinW := io.Pipe()
	defer stdinW.Close()
	go io.WriteString(stdinW, "bye\n") // stdin stays open: the server ends it
	stdout, stderr, err := runWscat(t, []string{url}, stdin)
	assert.Equal(t, websocket.StatusCode(4001), websocket.CloseStatus(err), "%v", err)
	assert.Equal(t, "hello X-Test= subprotocol=\n", stdout)
	assert.Contains(t, stderr, "closed: 4001 bye to you\n")
}

func TestClientInterrupted(t *testing.T) {
	closed := make(chan websocket.StatusCode, 1)
	url := peerServer(t, func(c *websocket.Conn) {
		c.SetCloseHandler(func(code websocket.StatusCode, _ string) error {
			closed <- code
			return nil
		})
	})
	stdin, stdinW := io.Pipe()
	defer stdinW.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout, stderr := newOutput(), newOutput()
	ran := make(chan error, 1)
	go func() { ran <- run(ctx, []string{url}, stdin, stdout, stderr, false) }()
	stdout.waitFor(t, "hello")
	cancel() // as SIGINT does
	select {
	case err := <-ran:
		assert.NoError(t, err)
	case <-time.After(waitTimeout):
		t.Fatal("run did not return")
	}
	assert.Equal(t, websocket.StatusGoingAway, <-closed)
}

func TestClientPings(t *testing.T) {
	pinged := make(chan struct{}, 1)
	url := peerServer(t, func(c *websocket.Conn) {
		c.SetPingHandler(func(data string) error {
			select {
			case pinged <- struct{}{}:
			default:
			}
			return c.WriteControl(websocket.PongMessage, []byte(data), time.Now().Add(waitTimeout))
		})
	})
	stdin, stdinW := io.Pipe()
	ran := make(chan error, 1)
	go func() {
		_, _, err := runWscat(t, []string{"-ping", "200ms", "-wait", "0", url}, stdin)
		ran <- err
	}()
	select {
	case <-pinged:
	case <-time.After(waitTimeout):
		t.Fatal("no ping arrived")
	}
	stdinW.Close()
	assert.NoError(t, <-ran)
}

func TestClientHandshakeRefused(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	defer ts.Close()
	_, _, err := runWscat(t, []string{"ws" + strings.TrimPrefix(ts.URL, "http")}, strings.NewReader(""))
	var he *websocket.HandshakeError
	require.True(t, errors.As(err, &he), "%v", err)
	assert.Equal(t, http.StatusNotFound, he.Status)
}

func TestListen(t *testing.T) {
	stdin, stdinW := io.Pipe()
	defer stdinW.Close()
	stdout, stderr := newOutput(), newOutput()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	ran := make(chan error, 1)
	go func() {
		ran <- run(ctx, []string{"-listen", "127.0.0.1:0", "-subprotocol", "chat.v1", "-compress"}, stdin, stdout, stderr, false)
	}()
	status := stderr.waitFor(t, "/\n")
	url := strings.TrimSpace(strings.TrimPrefix(status, "listening on "))
	require.True(t, strings.HasPrefix(url, "ws://127.0.0.1:"), status)

	d := &websocket.Dialer{
		Subprotocols: []string{"chat.v1"},
		Compression:  websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover},
	}
	conn, resp, err := d.Dial(ctx, url, nil)
	require.NoError(t, err)
	defer conn.CloseNow()
	assert.Equal(t, "chat.v1", conn.Subprotocol())
	assert.Contains(t, resp.Header.Get("Sec-WebSocket-Extensions"), "permessage-deflate", "-compress on the server")
	stderr.waitFor(t, " connected (subprotocol chat.v1)\n")

	_, err = io.WriteString(stdinW, "to the client\n")
	require.NoError(t, err)
	_, data, err := conn.ReadMessageContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "to the client", string(data))

	require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte("to the server")))
	stdout.waitFor(t, "to the server\n")

	// The end of stdin closes every client with 1000 and ends wscat.
	stdinW.Close()
	_, _, err = conn.ReadMessageContext(ctx)
	assert.Equal(t, websocket.StatusNormalClosure, websocket.CloseStatus(err), "%v", err)
	assert.NoError(t, <-ran)
	assert.Equal(t, "to the server\n", stdout.String())
}

func TestListenInterrupted(t *testing.T) {
	stdin, stdinW := io.Pipe()
	defer stdinW.Close()
	stderr := newOutput()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ran := make(chan error, 1)
	go func() { ran <- run(ctx, []string{"-listen", "127.0.0.1:0"}, stdin, io.Discard, stderr, false) }()
	url := strings.TrimSpace(strings.TrimPrefix(stderr.waitFor(t, "/\n"), "listening on "))

	dctx, dcancel := context.WithTimeout(context.Background(), waitTimeout)
	defer dcancel()
	var conns []*websocket.Conn
	for range 2 {
		conn, _, err := websocket.Dial(dctx, url, nil)
		require.NoError(t, err)
		defer conn.CloseNow()
		conns = append(conns, conn)
	}
	for range 2 {
		stderr.waitFor(t, " connected\n")
	}
	cancel()
	for _, conn := range conns {
		_, _, err := conn.ReadMessageContext(dctx)
		assert.Equal(t, &websocket.CloseError{Code: websocket.StatusGoingAway, Reason: "going away"}, errorsAsClose(err), "%v", err)
	}
	assert.NoError(t, <-ran)
}

func errorsAsClose(err error) *websocket.CloseError {
	var ce *websocket.CloseError
	errors.As(err, &ce)
	return ce
}

func TestBadCommandLines(t *testing.T) {
	for _, args := range [][]string{
		{},
		{"ws://a", "ws://b"},
		{"-listen", "127.0.0.1:0", "ws://a"},
		{"-H", "no colon", "ws://a"},
		{"-ping", "soon", "ws://a"},
	} {
		_, stderr, err := runWscat(t, args, strings.NewReader(""))
		assert.Error(t, err, "%q", args)
		assert.Contains(t, stderr, "usage: wscat", "%q", args)
	}
	_, _, err := runWscat(t, []string{"-h"}, strings.NewReader(""))
	assert.ErrorIs(t, err, flag.ErrHelp)
}

// TestClientWaitsForLateReplies sends a line whose reply takes a while to
// come, as a server's does when it works before answering, and ends
// standard input at once. Like the chat example, the server sends nothing
// once the client's close frame has arrived: wscat must wait for the reply
// before closing.
func TestClientWaitsForLateReplies(t *testing.T) {
	url := lateReplyServer(t, 100*time.Millisecond)
	stdout, stderr, err := runWscat(t, []string{"-wait", waitTimeout.String(), url}, strings.NewReader("one\n"))
	require.NoError(t, err, stderr)
	assert.Equal(t, "late reply to one\n", stdout, "the reply that came after the end of stdin is printed")
	assert.Contains(t, stderr, "closed: 1000 done\n", "the server closed, not wscat's quiet timer")
}

// TestClientWaitEndsWhenQuiet checks that wscat closes, with 1000, once the
// server has been quiet for -wait after standard input ended, and that
// -wait 0 closes at once.
func TestClientWaitEndsWhenQuiet(t *testing.T) {
	url := peerServer(t, nil)
	for _, wait := range []string{"50ms", "0"} {
		stdout, stderr, err := runWscat(t, []string{"-wait", wait, url}, strings.NewReader(""))
		require.NoError(t, err, stderr)
		assert.Contains(t, stderr, "closed: 1000\n", "-wait %s", wait)
		if wait != "0" {
			assert.Equal(t, "hello X-Test= subprotocol=\n", stdout, "the greeting, sent unasked, is printed")
		}
	}
}

// lateReplyServer answers the first message after delay, with "late reply
// to" and its text, then closes with 1000 "done"; if the client's close
// frame comes first, it drops the reply, as a server whose writer stops
// with its reader does.
func lateReplyServer(t *testing.T, delay time.Duration) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.CloseNow()
		_, data, err := conn.ReadMessage()
		if err != nil {
			return
		}
		next := make(chan error, 1)
		go func() {
			_, _, err := conn.ReadMessage()
			next <- err
		}()
		timer := time.NewTimer(delay) // the work before the answer
		defer timer.Stop()
		select {
		case <-next:
			return // closed before the reply was ready: it is dropped
		case <-timer.C:
		}
		if conn.WriteMessage(websocket.TextMessage, []byte("late reply to "+string(data))) == nil {
			conn.CloseWithStatus(websocket.StatusNormalClosure, "done")
		}
		<-next
	}))
	t.Cleanup(ts.Close)
	return "ws" + strings.TrimPrefix(ts.URL, "http")
}

// TestClientInteractiveMarks runs wscat as on a terminal: a prompt waits
// for each line, and each message received is marked "< " on a line of its
// own, so that typed and received lines stand apart. Piped, the same
// session prints the messages bare (TestClientSendsLinesPrintsMessages).
func TestClientInteractiveMarks(t *testing.T) {
	url := peerServer(t, nil)
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	var out, errOut strings.Builder
	err := run(ctx, []string{"-wait", "0", url}, strings.NewReader("one\n"), &out, &errOut, true)
	require.NoError(t, err, errOut.String())
	stdout := out.String()
	// What the screen shows: each erase-line takes the prompt off before a
	// message is printed.
	shown := strings.ReplaceAll(stdout, "> "+eraseLine, "")
	assert.Contains(t, shown, "< hello X-Test= subprotocol=\n", "%q", stdout)
	assert.Contains(t, shown, "< text:one\n", "%q", stdout)
	assert.True(t, strings.HasPrefix(stdout, "> "), "a prompt first: %q", stdout)
	assert.NotContains(t, shown, eraseLine, "a line erased only where a prompt was: %q", stdout)
	assert.False(t, strings.HasSuffix(stdout, "> "), "no prompt left once input has ended: %q", stdout)
}
