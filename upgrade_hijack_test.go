package websocket

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// upgrade is Upgrade up to the construction of the Conn, so that tests can
// inspect what the handshake hands over; net/http's reader is kept.
func (u *Upgrader) upgrade(w http.ResponseWriter, r *http.Request, responseHeader http.Header) (connConfig, error) {
	if r.ProtoMajor == 2 {
		return u.upgradeHTTP2(w, r, responseHeader)
	}
	key, n, err := u.checkHTTP1(w, r, responseHeader)
	if err != nil {
		return connConfig{}, err
	}
	answer, err := u.answerHTTP1(w, r, key, n, responseHeader)
	if err != nil {
		return connConfig{}, err
	}
	netConn, br, err := u.hijack(w, r, answer)
	if err != nil {
		return connConfig{}, err
	}
	return u.connConfig(netConn, br, n), nil
}

// recordingHijacker passes Hijack on to net/http's ResponseWriter and keeps
// what it returned.
type recordingHijacker struct {
	http.ResponseWriter
	brw *bufio.ReadWriter
}

func (h *recordingHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	c, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	h.brw = brw
	return c, brw, err
}

// TestUpgradeDropsNetHTTPBuffers checks that Upgrade lets go of the 4 KiB
// buffers of net/http's reader and writer, which net/http keeps while a
// handler reads its WebSocket in a loop, that they then fail instead of
// panicking, and that a frame the client sent right behind its request
// (so that it sat in net/http's reader) still arrives.
func TestUpgradeDropsNetHTTPBuffers(t *testing.T) {
	type result struct {
		brw  *bufio.ReadWriter
		data string
		err  error
	}
	done := make(chan result, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rh := &recordingHijacker{ResponseWriter: w}
		c, err := (&Upgrader{}).Upgrade(rh, r, nil)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer c.CloseNow()
		_, p, err := c.ReadMessage() // the read loop runs inside the handler
		done <- result{brw: rh.brw, data: string(p), err: err}
	}))
	defer srv.Close()

	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer conn.Close()
	require.NoError(t, conn.SetDeadline(time.Now().Add(10*time.Second)))
	// The request and a masked text frame "hi" in one write.
	req := "GET / HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\nUpgrade: websocket\r\n" +
		"Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n" +
		"\x81\x82\x00\x00\x00\x00hi"
	_, err = conn.Write([]byte(req))
	require.NoError(t, err)

	var res result
	select {
	case res = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("the handler did not read the message")
	}
	require.NoError(t, res.err)
	assert.Equal(t, "hi", res.data)
	require.NotNil(t, res.brw)
	assert.LessOrEqual(t, res.brw.Reader.Size(), 16, "net/http's reader still holds its buffer")
	assert.LessOrEqual(t, res.brw.Writer.Size(), 1, "net/http's writer still holds its buffer")
	_, err = res.brw.Reader.ReadByte()
	assert.True(t, errors.Is(err, errHijackedBuffer), "reading the dropped reader: %v", err)
	_, err = res.brw.Writer.WriteString("x")
	if err == nil {
		err = res.brw.Writer.Flush()
	}
	assert.True(t, errors.Is(err, errHijackedBuffer), "writing the dropped writer: %v", err)
}
