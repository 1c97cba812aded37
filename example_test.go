package websocket_test

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/internal/wstest"
)

// The examples run against servers on 127.0.0.1 (httptest), so that they
// are tests too. wsURL turns such a server's http:// URL into a ws:// one.
func wsURL(srv *httptest.Server) string { return "ws" + strings.TrimPrefix(srv.URL, "http") }

// echo is the handler of ExampleUpgrader_Upgrade, shared by the examples
// that need a server to talk to: it sends every message back.
func echo(w http.ResponseWriter, r *http.Request) {
	var upgrader websocket.Upgrader
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return
	}
	wstest.Echo(conn, false, 1000) // closes conn
}

// A server upgrades requests with an Upgrader and then reads and writes
// messages. This one sends every message back.
func ExampleUpgrader_Upgrade() {
	upgrader := &websocket.Upgrader{
		ReadLimit: 1 << 20, // refuse messages over 1 MiB with close code 1009
	}
	handler := func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return // Upgrade has answered with an HTTP error
		}
		defer conn.Close()
		for {
			typ, data, err := conn.ReadMessage()
			if err != nil {
				return // the client closed, or the connection failed
			}
			if err := conn.WriteMessage(typ, data); err != nil {
				return
			}
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(handler))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, wsURL(srv), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	conn.WriteMessage(websocket.TextMessage, []byte("hello"))
	_, reply, err := conn.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(reply))
	// Output: hello
}

// A client dials a ws:// or wss:// URL; the context bounds the connection
// and the handshake only.
func ExampleDial() {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, resp, err := websocket.Dial(ctx, wsURL(srv), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(resp.StatusCode)

	if err := conn.WriteMessage(websocket.TextMessage, []byte("hi")); err != nil {
		log.Fatal(err)
	}
	typ, data, err := conn.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(typ, string(data))
	// Output:
	// 101
	// text hi
}

// A Dialer carries the options: subprotocols, header fields, limits,
// timeouts, proxies, TLS. A refused handshake is a *HandshakeError that
// tells the HTTP status.
func ExampleDialer_Dial() {
	srv := httptest.NewServer(http.NotFoundHandler())
	defer srv.Close()

	d := &websocket.Dialer{
		HandshakeTimeout: 10 * time.Second,
		Subprotocols:     []string{"chat.v2", "chat.v1"},
		Header:           http.Header{"Authorization": {"Bearer token"}},
	}
	_, _, err := d.Dial(context.Background(), wsURL(srv), nil)
	var he *websocket.HandshakeError
	if errors.As(err, &he) {
		fmt.Println("refused with", he.Status)
	}
	// Output: refused with 404
}

// NextWriter streams a message of unknown length: each time its buffer
// fills it sends a fragment, and Close sends the last. NextReader reads a
// message as a stream.
func ExampleConn_NextWriter() {
	srv := httptest.NewServer(http.HandlerFunc(echo))
	defer srv.Close()
	conn, _, err := websocket.Dial(context.Background(), wsURL(srv), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()

	w, err := conn.NextWriter(websocket.TextMessage)
	if err != nil {
		log.Fatal(err)
	}
	for i := range 3 {
		fmt.Fprintf(w, "part %d; ", i)
	}
	if err := w.Close(); err != nil { // sends the final fragment
		log.Fatal(err)
	}

	_, r, err := conn.NextReader()
	if err != nil {
		log.Fatal(err)
	}
	data, err := io.ReadAll(r)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(data))
	// Output: part 0; part 1; part 2;
}

// CloseWithStatus performs the closing handshake with a code and a reason.
// The peer's reads then return a *CloseError; CloseStatus extracts its code
// from a (possibly wrapped) error.
func ExampleCloseStatus() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var upgrader websocket.Upgrader
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		conn.CloseWithStatus(4000, "done for today")
	}))
	defer srv.Close()
	conn, _, err := websocket.Dial(context.Background(), wsURL(srv), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.CloseNow()

	_, _, err = conn.ReadMessage()
	fmt.Println(int(websocket.CloseStatus(err)))
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		fmt.Println(ce.Reason)
	}
	// Output:
	// 4000
	// done for today
}

// JSON values travel one per text message. The server's read loop tells
// the closes it counts on from the others with IsUnexpectedCloseError.
func ExampleConn_ReadJSON() {
	type move struct {
		Player string `json:"player"`
		X, Y   int
	}
	ended := make(chan error, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var upgrader websocket.Upgrader
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			var m move
			if err := conn.ReadJSON(&m); err != nil {
				if websocket.IsUnexpectedCloseError(err, websocket.StatusNormalClosure, websocket.StatusGoingAway) {
					ended <- err
					return
				}
				ended <- nil // the client said goodbye
				return
			}
			m.X, m.Y = m.Y, m.X
			if err := conn.WriteJSON(m); err != nil {
				ended <- err
				return
			}
		}
	}))
	defer srv.Close()
	conn, _, err := websocket.Dial(context.Background(), wsURL(srv), nil)
	if err != nil {
		log.Fatal(err)
	}
	if err := conn.WriteJSON(move{Player: "ana", X: 1, Y: 2}); err != nil {
		log.Fatal(err)
	}
	var reply move
	if err := conn.ReadJSON(&reply); err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", reply)
	conn.Close()
	fmt.Println(<-ended)
	// Output:
	// {Player:ana X:2 Y:1}
	// <nil>
}

// Keepalive: with PingInterval set, the connection pings the peer and fails
// with ErrKeepAliveTimeout (close code 1011) when no pong, nor anything
// else, arrives within PongTimeout. Pongs are seen by reads, so some
// goroutine must be reading. Ping sends one ping and waits for its pong.
func ExampleConn_Ping() {
	upgrader := &websocket.Upgrader{
		PingInterval: 30 * time.Second,
		PongTimeout:  10 * time.Second,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for { // reading answers pings, and sees pongs
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	d := &websocket.Dialer{PingInterval: 30 * time.Second}
	conn, _, err := d.Dial(context.Background(), wsURL(srv), nil)
	if err != nil {
		log.Fatal(err)
	}
	read := make(chan error, 1)
	go func() {
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				read <- err
				return
			}
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := conn.Ping(ctx, []byte("are you there?")); err != nil {
		log.Fatal(err)
	}
	fmt.Println("pong")
	conn.Close()
	fmt.Println(websocket.CloseStatus(<-read))
	// Output:
	// pong
	// NormalClosure
}

// NetConn turns a connection into a net.Conn, for code that speaks a byte
// stream: here a line protocol over bufio.
func ExampleNetConn() {
	upgrader := &websocket.Upgrader{}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		stream := websocket.NetConn(r.Context(), conn, websocket.BinaryMessage)
		defer stream.Close()
		io.Copy(stream, stream) // echo bytes until the client closes
	}))
	defer srv.Close()

	conn, _, err := websocket.Dial(context.Background(), wsURL(srv), nil)
	if err != nil {
		log.Fatal(err)
	}
	stream := websocket.NetConn(context.Background(), conn, websocket.BinaryMessage)
	defer stream.Close()
	fmt.Fprintf(stream, "first line\nsecond line\n")
	lines := bufio.NewScanner(stream)
	for range 2 {
		lines.Scan()
		fmt.Println(lines.Text())
	}
	// Output:
	// first line
	// second line
}

// A broadcast prepares its message once: the frame, and the compressed form
// for each set of compression parameters among the connections, are built
// once however many connections it goes to.
func ExampleConn_WritePreparedMessage() {
	var (
		mu    sync.Mutex
		conns []*websocket.Conn // the server's side of each client
	)
	joined := make(chan struct{})
	upgrader := &websocket.Upgrader{
		Compression: websocket.CompressionOptions{Mode: websocket.CompressionNoContextTakeover},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		mu.Lock()
		conns = append(conns, conn)
		mu.Unlock()
		joined <- struct{}{}
		for { // reading sees the client's close
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	var clients []*websocket.Conn
	for range 3 {
		c, _, err := websocket.Dial(context.Background(), wsURL(srv), nil)
		if err != nil {
			log.Fatal(err)
		}
		defer c.Close()
		clients = append(clients, c)
		<-joined
	}

	pm, err := websocket.NewPreparedMessage(websocket.TextMessage, []byte("news for everyone"))
	if err != nil {
		log.Fatal(err)
	}
	mu.Lock()
	for _, c := range conns {
		if err := c.WritePreparedMessage(pm); err != nil {
			log.Println(err) // a failed client does not stop the broadcast
		}
	}
	mu.Unlock()

	for i, c := range clients {
		_, data, err := c.ReadMessage()
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println(i, string(data))
	}
	// Output:
	// 0 news for everyone
	// 1 news for everyone
	// 2 news for everyone
}

// Compression is negotiated when both sides enable it. Context takeover
// compresses a stream of similar messages best, for up to one window
// (2^WindowBits bytes) of history per direction per connection; without it
// nothing is kept between messages. Messages under Threshold bytes go out
// as they are.
func ExampleCompressionOptions() {
	upgrader := &websocket.Upgrader{
		Compression: websocket.CompressionOptions{
			Mode:       websocket.CompressionContextTakeover,
			Level:      1,   // fastest
			Threshold:  256, // smaller messages are not worth it
			WindowBits: 12,  // 4 KiB of history per direction
		},
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := upgrader.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer conn.Close()
		for {
			typ, data, err := conn.ReadMessage()
			if err != nil {
				return
			}
			if err := conn.WriteMessage(typ, data); err != nil {
				return
			}
		}
	}))
	defer srv.Close()

	d := &websocket.Dialer{
		Compression: websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover},
	}
	conn, resp, err := d.Dial(context.Background(), wsURL(srv), nil)
	if err != nil {
		log.Fatal(err)
	}
	defer conn.Close()
	fmt.Println(resp.Header.Get("Sec-WebSocket-Extensions"))

	message := strings.Repeat(`{"event":"tick","value":42}`, 40)
	if err := conn.WriteMessage(websocket.TextMessage, []byte(message)); err != nil {
		log.Fatal(err)
	}
	_, reply, err := conn.ReadMessage()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(string(reply) == message)
	// Output:
	// permessage-deflate; server_max_window_bits=12; client_max_window_bits=12
	// true
}
