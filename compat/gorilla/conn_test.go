package websocket

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	ws "github.com/rfc6455/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestConstantsMatchTheWire(t *testing.T) {
	codes := map[int]ws.StatusCode{
		CloseNormalClosure: ws.StatusNormalClosure, CloseGoingAway: ws.StatusGoingAway,
		CloseProtocolError: ws.StatusProtocolError, CloseUnsupportedData: ws.StatusUnsupportedData,
		CloseNoStatusReceived: ws.StatusNoStatusReceived, CloseAbnormalClosure: ws.StatusAbnormalClosure,
		CloseInvalidFramePayloadData: ws.StatusInvalidFramePayloadData, ClosePolicyViolation: ws.StatusPolicyViolation,
		CloseMessageTooBig: ws.StatusMessageTooBig, CloseMandatoryExtension: ws.StatusMandatoryExtension,
		CloseInternalServerErr: ws.StatusInternalError, CloseServiceRestart: ws.StatusServiceRestart,
		CloseTryAgainLater: ws.StatusTryAgainLater, CloseTLSHandshake: ws.StatusTLSHandshake,
	}
	assert.Len(t, codes, 14)
	for c, s := range codes {
		assert.Equal(t, int(s), c)
	}
	types := map[int]ws.MessageType{TextMessage: ws.TextMessage, BinaryMessage: ws.BinaryMessage,
		CloseMessage: ws.CloseMessage, PingMessage: ws.PingMessage, PongMessage: ws.PongMessage}
	assert.Len(t, types, 5)
	for c, m := range types {
		assert.Equal(t, int(m), c)
	}
}

func TestReadMessageAndWriteMessage(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	require.NoError(t, peer.WriteMessage(ws.TextMessage, []byte("héllo")))
	require.NoError(t, peer.WriteMessage(ws.BinaryMessage, []byte{0, 1, 2}))
	typ, p, err := s.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, TextMessage, typ)
	assert.Equal(t, "héllo", string(p))
	typ, p, err = s.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, BinaryMessage, typ)
	assert.Equal(t, []byte{0, 1, 2}, p)

	require.NoError(t, s.WriteMessage(BinaryMessage, []byte("back")))
	pt, pp, err := peerRead(t, peer)
	require.NoError(t, err)
	assert.Equal(t, ws.BinaryMessage, pt)
	assert.Equal(t, "back", string(pp))
}

// Unlike gorilla, invalid UTF-8 in a text message fails the connection
// with 1007 (RFC 6455 §8.1).
func TestInvalidUTF8Fails1007(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	require.NoError(t, peer.WriteMessage(ws.TextMessage, []byte("ok \xff")))
	typ, _, err := s.ReadMessage()
	assert.Equal(t, -1, typ)
	assert.ErrorIs(t, err, ws.ErrInvalidUTF8)
	_, _, err = peerRead(t, peer)
	assert.Equal(t, ws.StatusInvalidFramePayloadData, ws.CloseStatus(err))
	assert.Equal(t, ErrCloseSent, s.WriteMessage(TextMessage, []byte("late")))
}

// Unlike gorilla, writes from many goroutines are safe: every message
// arrives whole.
func TestConcurrentWrites(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	const writers, each = 8, 50
	var wg sync.WaitGroup
	for g := range writers {
		wg.Go(func() {
			msg := strings.Repeat(string(rune('a'+g)), 3000)
			for range each {
				if err := s.WriteMessage(TextMessage, []byte(msg)); err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	counts := map[byte]int{}
	for range writers * each {
		_, p, err := peerRead(t, peer)
		require.NoError(t, err)
		require.Len(t, p, 3000)
		assert.Equal(t, strings.Repeat(string(p[0]), 3000), string(p), "a message mixed with another")
		counts[p[0]]++
	}
	wg.Wait()
	assert.Len(t, counts, writers)
}

// Unlike gorilla, a read deadline leaves the Conn usable.
func TestReadDeadlineLeavesConnUsable(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	require.NoError(t, s.SetReadDeadline(time.Now().Add(-time.Second)))
	_, _, err := s.ReadMessage()
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.NoError(t, s.SetReadDeadline(time.Time{}))
	require.NoError(t, peer.WriteMessage(ws.TextMessage, []byte("after")))
	_, p, err := s.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "after", string(p))
}

func TestSetWriteDeadline(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	require.NoError(t, s.SetWriteDeadline(time.Now().Add(-time.Second)))
	err := s.WriteMessage(TextMessage, []byte("x"))
	require.ErrorIs(t, err, os.ErrDeadlineExceeded)
	require.NoError(t, s.SetWriteDeadline(time.Time{}))
	require.NoError(t, s.WriteMessage(TextMessage, []byte("y")))
	_, p, err := peerRead(t, peer)
	require.NoError(t, err)
	assert.Equal(t, "y", string(p))
}

func TestSetReadLimit(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	s.SetReadLimit(10)
	require.NoError(t, peer.WriteMessage(ws.BinaryMessage, make([]byte, 11)))
	_, _, err := s.ReadMessage()
	assert.True(t, err == ErrReadLimit, "ReadMessage returned %v, want ErrReadLimit itself", err)
	_, _, err = peerRead(t, peer)
	assert.Equal(t, ws.StatusMessageTooBig, ws.CloseStatus(err))
}

func TestAddresses(t *testing.T) {
	s, c := pair(t, &Upgrader{}, &Dialer{})
	assert.Equal(t, s.LocalAddr().String(), c.RemoteAddr().String())
	assert.Equal(t, s.RemoteAddr().String(), c.LocalAddr().String())
	assert.Equal(t, s.LocalAddr(), s.UnderlyingConn().LocalAddr())
	assert.Same(t, s.NetConn(), s.UnderlyingConn())
	_, ok := c.NetConn().(*net.TCPConn)
	assert.True(t, ok, "a ws:// client's NetConn is the TCP connection, got %T", c.NetConn())
}

func TestNextReaderAndNextWriter(t *testing.T) {
	s, c := pair(t, &Upgrader{WriteBufferSize: 512}, &Dialer{ReadBufferSize: 256})
	w, err := s.NextWriter(BinaryMessage)
	require.NoError(t, err)
	big := []byte(strings.Repeat("0123456789", 1000))
	for i := 0; i < len(big); i += 333 {
		_, err := w.Write(big[i:min(i+333, len(big))])
		require.NoError(t, err)
	}
	require.NoError(t, w.Close())
	assert.Error(t, w.Close(), "a second Close")
	_, err = w.Write([]byte("x"))
	assert.Error(t, err, "a Write after Close")

	typ, r, err := c.NextReader()
	require.NoError(t, err)
	assert.Equal(t, BinaryMessage, typ)
	got, err := io.ReadAll(r)
	require.NoError(t, err)
	assert.Equal(t, big, got)
}

// As in gorilla, NextWriter closes the writer left open, ending its message.
func TestNextWriterClosesThePreviousWriter(t *testing.T) {
	s, c := pair(t, &Upgrader{}, &Dialer{})
	w1, err := s.NextWriter(TextMessage)
	require.NoError(t, err)
	io.WriteString(w1, "first")
	w2, err := s.NextWriter(TextMessage)
	require.NoError(t, err)
	io.WriteString(w2, "second")
	require.NoError(t, w2.Close())
	assert.Error(t, w1.Close(), "the first writer was closed by NextWriter")
	for _, want := range []string{"first", "second"} {
		_, p, err := c.ReadMessage()
		require.NoError(t, err)
		assert.Equal(t, want, string(p))
	}
}

func TestNextWriterControl(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	pinged := make(chan string, 1)
	peer.SetPingHandler(func(d string) error { pinged <- d; return nil })
	go peerRead(t, peer)
	w, err := s.NextWriter(PingMessage)
	require.NoError(t, err)
	io.WriteString(w, "are ")
	io.WriteString(w, "you there")
	require.NoError(t, w.Close())
	assert.Equal(t, "are you there", wait(t, pinged))
	s.Close()
}

func TestWriteControlAndFormatCloseMessage(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	require.NoError(t, s.WriteControl(CloseMessage, FormatCloseMessage(CloseGoingAway, "bye"), time.Now().Add(testTimeout)))
	_, _, err := peerRead(t, peer)
	var ce *ws.CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, ws.StatusGoingAway, ce.Code)
	assert.Equal(t, "bye", ce.Reason)
	assert.Equal(t, ErrCloseSent, s.WriteMessage(TextMessage, []byte("late")))
	assert.Equal(t, ErrCloseSent, s.WriteControl(PingMessage, nil, time.Time{}))
	// The peer answered; our read sees its close.
	_, _, err = s.ReadMessage()
	assert.True(t, IsCloseError(err, CloseGoingAway), "%v", err)

	assert.Equal(t, []byte{}, FormatCloseMessage(CloseNoStatusReceived, "ignored"))
	assert.Equal(t, []byte{0x03, 0xe8, 'o', 'k'}, FormatCloseMessage(CloseNormalClosure, "ok"))
}

func TestWriteMessageClose(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	require.NoError(t, s.WriteMessage(CloseMessage, FormatCloseMessage(4001, "app")))
	_, _, err := peerRead(t, peer)
	assert.Equal(t, ws.StatusCode(4001), ws.CloseStatus(err))
	assert.Equal(t, ErrCloseSent, s.WriteMessage(BinaryMessage, nil))
}

func TestCloseErrorFromPeer(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	go peer.CloseWithStatus(4000, "why")
	_, _, err := s.ReadMessage()
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, 4000, ce.Code)
	assert.Equal(t, "why", ce.Text)
	assert.Contains(t, ce.Error(), "4000")
	assert.Contains(t, ce.Error(), "why")
	wrapped := fmt.Errorf("reading: %w", err)
	assert.True(t, IsCloseError(wrapped, CloseNormalClosure, 4000))
	assert.False(t, IsCloseError(wrapped, CloseNormalClosure))
	assert.True(t, IsUnexpectedCloseError(wrapped, CloseNormalClosure, CloseGoingAway))
	assert.False(t, IsUnexpectedCloseError(wrapped, 4000))
	assert.False(t, IsCloseError(io.EOF, 4000))
	assert.False(t, IsUnexpectedCloseError(io.EOF))
	// The Conn answered the close: writes now report it.
	assert.Equal(t, ErrCloseSent, s.WriteMessage(TextMessage, []byte("late")))
}

// Close drops the connection without a close frame, as gorilla's does.
func TestCloseDropsTheConnection(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	require.NoError(t, s.Close())
	_, _, err := peerRead(t, peer)
	assert.Equal(t, ws.StatusAbnormalClosure, ws.CloseStatus(err))
	assert.Error(t, s.Close(), "a second Close")
	_, _, err = s.ReadMessage()
	assert.Error(t, err)
}

func TestAbnormalCloseText(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	peer.CloseNow()
	_, _, err := s.ReadMessage()
	var ce *CloseError
	require.ErrorAs(t, err, &ce)
	assert.Equal(t, CloseAbnormalClosure, ce.Code)
	assert.Equal(t, io.ErrUnexpectedEOF.Error(), ce.Text)
}

func TestCloseHandler(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	def := s.CloseHandler()
	require.NotNil(t, def)
	assert.NoError(t, def(CloseNormalClosure, ""), "the default does nothing")
	type closeSeen struct {
		code int
		text string
	}
	seen := make(chan closeSeen, 1)
	mine := errors.New("handled")
	s.SetCloseHandler(func(code int, text string) error { seen <- closeSeen{code, text}; return mine })
	assert.ErrorIs(t, s.CloseHandler()(0, ""), mine, "CloseHandler returns the one set")
	<-seen
	go peer.CloseWithStatus(CloseGoingAway, "later")
	_, _, err := s.ReadMessage()
	assert.Equal(t, mine, err, "the handler's error is what the read returns")
	assert.Equal(t, closeSeen{CloseGoingAway, "later"}, wait(t, seen))
	s.SetCloseHandler(nil)
	assert.NoError(t, s.CloseHandler()(0, ""))
}

func TestPingHandler(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	go s.ReadMessage()
	ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
	defer cancel()
	pongs := make(chan string, 1)
	peer.SetPongHandler(func(d string) error { pongs <- d; return nil })
	go peer.ReadMessageContext(ctx)
	// The default handler answers.
	require.NoError(t, peer.Ping(ctx, []byte("p1")))
	<-pongs
	// The getter's default sends a pong when called.
	require.NoError(t, s.PingHandler()("direct"))
	assert.Equal(t, "direct", wait(t, pongs))

	pings := make(chan string, 1)
	h := func(d string) error { pings <- d; return nil }
	s.SetPingHandler(h)
	require.NoError(t, peer.WriteControl(ws.PingMessage, []byte("p2"), time.Time{}))
	assert.Equal(t, "p2", wait(t, pings))
	require.NoError(t, s.PingHandler()("via getter"))
	assert.Equal(t, "via getter", wait(t, pings))
	s.Close()
}

func TestPongHandler(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	assert.NoError(t, s.PongHandler()("x"), "the default does nothing")
	pongs := make(chan string, 1)
	s.SetPongHandler(func(d string) error { pongs <- d; return nil })
	require.NoError(t, s.PongHandler()("got"))
	assert.Equal(t, "got", wait(t, pongs))
	reads := readAsync(s)
	require.NoError(t, peer.WriteControl(ws.PongMessage, []byte("unsolicited"), time.Time{}))
	assert.Equal(t, "unsolicited", wait(t, pongs))
	require.NoError(t, peer.WriteMessage(ws.TextMessage, []byte("m")))
	assert.Equal(t, "m", string(wait(t, reads).p))
}

func TestJSON(t *testing.T) {
	s, c := pair(t, &Upgrader{}, &Dialer{})
	type msg struct {
		N int    `json:"n"`
		S string `json:"s"`
	}
	require.NoError(t, s.WriteJSON(msg{1, "one"}))
	require.NoError(t, WriteJSON(s, msg{2, "two"}))
	assert.Error(t, s.WriteJSON(make(chan int)), "an unencodable value")
	require.NoError(t, s.WriteMessage(BinaryMessage, []byte(`{"n":3}`)))
	require.NoError(t, s.WriteMessage(TextMessage, nil))

	_, raw, err := c.ReadMessage()
	require.NoError(t, err)
	assert.Equal(t, "{\"n\":1,\"s\":\"one\"}\n", string(raw), "as json.Encoder writes it")
	var m msg
	require.NoError(t, ReadJSON(c, &m))
	assert.Equal(t, msg{2, "two"}, m)
	require.NoError(t, c.ReadJSON(&m), "the unencodable value sent nothing; binary JSON is read")
	assert.Equal(t, 3, m.N)
	assert.Equal(t, io.ErrUnexpectedEOF, c.ReadJSON(&m), "an empty message")
}

func TestPreparedMessage(t *testing.T) {
	url, ch := serve(t, &Upgrader{EnableCompression: true})
	var pm *PreparedMessage
	pm, err := NewPreparedMessage(TextMessage, []byte(strings.Repeat("broadcast ", 100)))
	require.NoError(t, err)
	_, err = NewPreparedMessage(42, nil)
	assert.Error(t, err)
	for _, compress := range []bool{false, true} {
		c, _, err := (&Dialer{EnableCompression: compress}).Dial(url, nil)
		require.NoError(t, err)
		defer c.Close()
		s := accepted(t, ch).c
		require.NoError(t, s.WritePreparedMessage(pm))
		require.NoError(t, s.WritePreparedMessage(pm))
		for range 2 {
			typ, p, err := c.ReadMessage()
			require.NoError(t, err)
			assert.Equal(t, TextMessage, typ)
			assert.Equal(t, strings.Repeat("broadcast ", 100), string(p))
		}
	}
}

func TestJoinMessages(t *testing.T) {
	s, peer := withPeer(t, &Upgrader{}, nil)
	for _, m := range []string{"one", "", "two"} {
		require.NoError(t, peer.WriteMessage(ws.TextMessage, []byte(m)))
	}
	go peer.CloseWithStatus(ws.StatusNormalClosure, "")
	r := JoinMessages(s, "\n")
	var got []byte
	buf := make([]byte, 2)
	var err error
	for range 100 {
		var n int
		n, err = r.Read(buf)
		got = append(got, buf[:n]...)
		if err != nil {
			break
		}
	}
	assert.Equal(t, "one\n\ntwo\n", string(got))
	assert.True(t, IsCloseError(err, CloseNormalClosure), "%v", err)
}

func TestCompression(t *testing.T) {
	// Count what the client writes to tell compressed from plain.
	var counted countingConn
	d := &Dialer{EnableCompression: true, NetDialContext: counted.dial}
	url, ch := serve(t, &Upgrader{EnableCompression: true})
	c, resp, err := d.Dial(url, nil)
	require.NoError(t, err)
	defer c.Close()
	s := accepted(t, ch).c
	ext := resp.Header.Get("Sec-WebSocket-Extensions")
	assert.Contains(t, ext, "permessage-deflate")
	assert.NotContains(t, ext, "no_context_takeover", "EnableCompression negotiates context takeover")

	msg := []byte(strings.Repeat("compressible text ", 1000))
	send := func() int64 {
		before := counted.n.Load()
		require.NoError(t, c.WriteMessage(TextMessage, msg))
		_, p, err := s.ReadMessage()
		require.NoError(t, err)
		require.Equal(t, msg, p)
		return counted.n.Load() - before
	}
	assert.Less(t, send(), int64(len(msg)/10))
	c.EnableWriteCompression(false)
	assert.Greater(t, send(), int64(len(msg)))
	c.EnableWriteCompression(true)
	require.NoError(t, c.SetCompressionLevel(9))
	assert.Less(t, send(), int64(len(msg)/10))
	assert.Error(t, c.SetCompressionLevel(42))
}

// countingConn counts the bytes written to the connection it dials.
type countingConn struct {
	n atomic.Int64
}

func (cc *countingConn) dial(ctx context.Context, network, addr string) (net.Conn, error) {
	var d net.Dialer
	c, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &counted{c, &cc.n}, nil
}

type counted struct {
	net.Conn
	n *atomic.Int64
}

func (c *counted) Write(p []byte) (int, error) {
	n, err := c.Conn.Write(p)
	c.n.Add(int64(n))
	return n, err
}
