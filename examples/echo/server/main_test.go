package main

import (
	"context"
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

func TestMain(m *testing.M) { leakcheck.Main(m) }

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
