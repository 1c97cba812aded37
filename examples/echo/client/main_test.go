package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/internal/leakcheck"
	"github.com/rfc6455/websocket/internal/wstest"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// echoServer is a loopback echo server for the client to talk to.
func echoServer(t *testing.T) string {
	var u websocket.Upgrader
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := u.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		wstest.Echo(conn, false, 1000) // closes conn
	}))
	t.Cleanup(ts.Close)
	return "ws" + strings.TrimPrefix(ts.URL, "http")
}

func TestEchoClient(t *testing.T) {
	url := echoServer(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var out strings.Builder
	require.NoError(t, echoAll(ctx, url, []string{"hello", "wörld", ""}, &out))
	assert.Equal(t, "hello\nwörld\n\n", out.String())
}

func TestEchoClientReportsRefusal(t *testing.T) {
	ts := httptest.NewServer(http.NotFoundHandler())
	defer ts.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := echoAll(ctx, "ws"+strings.TrimPrefix(ts.URL, "http"), []string{"x"}, &strings.Builder{})
	var he *websocket.HandshakeError
	require.True(t, errors.As(err, &he), "%v", err)
	assert.Equal(t, http.StatusNotFound, he.Status)
}
