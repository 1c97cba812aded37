package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"regexp"
	"slices"
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
		os.Args = append([]string{"server"}, os.Args[slices.Index(os.Args, "--")+1:]...)
		main()
		os.Exit(0)
	}
	leakcheck.Main(m)
}

// asMainEnv, set to 1 in the environment of this test binary, makes it run
// the server's main with the arguments after "--" instead of the tests, so
// that a test sees what a user of the command sees.
const asMainEnv = "ECHO_SERVER_TEST_AS_MAIN"

// startMain starts the server as a command with args; it is killed when the
// test ends. It returns the command, its output (standard output and
// error), and a channel closed once it has exited.
func startMain(t *testing.T, args ...string) (*exec.Cmd, *syncBuffer, <-chan struct{}) {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"--"}, args...)...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	out := &syncBuffer{changed: make(chan struct{}, 1)}
	cmd.Stdout, cmd.Stderr = out, out
	require.NoError(t, cmd.Start())
	exited := make(chan struct{})
	go func() {
		cmd.Wait()
		close(exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	return cmd, out, exited
}

// TestMainListensBeforeLogging starts the server on a port of the system's
// choosing and checks that the address it logs is the one bound: the echo
// answers there.
func TestMainListensBeforeLogging(t *testing.T) {
	_, out, _ := startMain(t, "-addr", "127.0.0.1:0")
	line := out.waitFor(t, regexp.MustCompile(`listening on (ws://\S+)`))
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, line[1], nil)
	require.NoError(t, err, "the logged address %s", line[1])
	defer conn.CloseNow()
	require.NoError(t, conn.WriteMessage(websocket.TextMessage, []byte("hi")))
	_, data, err := conn.ReadMessageContext(ctx)
	require.NoError(t, err)
	assert.Equal(t, "hi", string(data))
}

// TestMainBindFailureLogsNoListening starts the server on a port already
// taken: it must fail, and must not claim to be listening.
func TestMainBindFailureLogsNoListening(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer taken.Close()
	cmd, out, exited := startMain(t, "-addr", taken.Addr().String())
	select {
	case <-exited:
	case <-time.After(10 * time.Second):
		t.Fatalf("the server still runs on a taken port; its output:\n%s", out)
	}
	assert.False(t, cmd.ProcessState.Success(), "exit status")
	assert.Contains(t, out.String(), "address already in use")
	assert.NotContains(t, out.String(), "listening")
}

// TestDefaultAddrs checks that following the README in order works: the
// echo server does not default to the chat's address, and the echo client
// defaults to the echo server's.
func TestDefaultAddrs(t *testing.T) {
	chat, err := os.ReadFile("../../chat/main.go")
	require.NoError(t, err)
	chatAddr := regexp.MustCompile(`flags.String\("addr", "([^"]+)"`).FindSubmatch(chat)
	require.NotNil(t, chatAddr, "the chat's -addr default")
	assert.NotEqual(t, string(chatAddr[1]), defaultAddr, "the chat and the echo server default to the same address")
	client, err := os.ReadFile("../client/main.go")
	require.NoError(t, err)
	assert.Contains(t, string(client), `"ws://`+defaultAddr+`/ws"`, "the client's default -url")
}

// TestServerBoundsHeaderTime checks that the server cuts off a client that
// never finishes its request (RFC 6455 leaves this to the HTTP server).
func TestServerBoundsHeaderTime(t *testing.T) {
	srv := newServer()
	assert.Positive(t, srv.ReadHeaderTimeout)
	assert.LessOrEqual(t, srv.ReadHeaderTimeout, time.Minute)
}

// syncBuffer is the output of a command, read while it runs.
type syncBuffer struct {
	mu      sync.Mutex
	buf     bytes.Buffer
	changed chan struct{}
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	b.buf.Write(p)
	b.mu.Unlock()
	select {
	case b.changed <- struct{}{}:
	default:
	}
	return len(p), nil
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// waitFor waits for re to match the output and returns the match.
func (b *syncBuffer) waitFor(t *testing.T, re *regexp.Regexp) []string {
	t.Helper()
	timer := time.NewTimer(10 * time.Second)
	defer timer.Stop()
	for {
		if m := re.FindStringSubmatch(b.String()); m != nil {
			return m
		}
		select {
		case <-b.changed:
		case <-timer.C:
			t.Fatalf("the output never matched %s:\n%s", re, b.String())
		}
	}
}

func TestEchoServer(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(echo))
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(ts.URL, "http"), nil)
	require.NoError(t, err)
	defer conn.CloseNow()

	messages := []struct {
		typ  websocket.MessageType
		data []byte
	}{
		{websocket.TextMessage, []byte("hello")},
		{websocket.BinaryMessage, []byte{0, 1, 2, 0xff}},
		{websocket.TextMessage, []byte{}},
		{websocket.TextMessage, []byte(strings.Repeat("é", 40000))}, // longer than the buffers
	}
	for _, m := range messages {
		require.NoError(t, conn.WriteMessage(m.typ, m.data))
		typ, data, err := conn.ReadMessageContext(ctx)
		require.NoError(t, err)
		assert.Equal(t, m.typ, typ)
		assert.Equal(t, string(m.data), string(data))
	}
	assert.NoError(t, conn.Close(), "the server answers the closing handshake")
}

func TestEchoServerRefusesPlainHTTP(t *testing.T) {
	ts := httptest.NewServer(http.HandlerFunc(echo))
	defer ts.Close()
	resp, err := http.Get(ts.URL)
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
}
