package conformance

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/internal/wstest"
)

// side is the endpoint of ours a row runs against.
type side int

const (
	serverMessage side = iota // our server, echoing with ReadMessage/WriteMessage
	serverStream              // our server, echoing with NextReader/NextWriter
	clientMessage             // our client, echoing with ReadMessage/WriteMessage
	// The same three through the gorilla-compatible API (compat/gorilla),
	// as autobahn/compatserver and autobahn/compatclient use it.
	compatServerMessage
	compatServerStream
	compatClientMessage
)

var allSides = []side{serverMessage, serverStream, clientMessage, compatServerMessage, compatServerStream, compatClientMessage}

func (s side) String() string {
	name := "client"
	switch s.native() {
	case serverMessage:
		name = "server"
	case serverStream:
		name = "server-stream"
	}
	if s.compat() {
		return "compat-" + name
	}
	return name
}

// compat reports whether s runs through the gorilla-compatible API.
func (s side) compat() bool { return s >= compatServerMessage }

// native returns the side of the native API that s mirrors: a row runs on
// a compat side wherever it runs on its native twin.
func (s side) native() side {
	if s.compat() {
		return s - compatServerMessage
	}
	return s
}

// ourLimit is our endpoints' read limit unless a row sets its own: section 9
// sends messages of 16 MiB.
const ourLimit = 64 << 20

// ourMaxMessages bounds our side's echo loop: more messages than any row
// sends (9.7 and 9.8 send 1000).
const ourMaxMessages = 1 << 20

// echoLoop is the application on our side: it sends back every message it
// reads, with its type, until a read or a write fails, and returns that
// error.
func echoLoop(c *websocket.Conn, stream bool) error {
	return wstest.Echo(c, stream, ourMaxMessages)
}

// connect starts our side of row r on side s and returns the peer,
// connected and past the handshake, and the channel on which our side
// reports how its echo loop ended.
func connect(t testing.TB, r row, s side, deadline time.Time) (*peer, <-chan error, error) {
	limit := r.limit
	if limit == 0 {
		limit = ourLimit
	}
	result := make(chan error, 1)
	if s.native() == clientMessage {
		ln, err := net.ListenTCP("tcp", &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1)})
		if err != nil {
			return nil, nil, err
		}
		t.Cleanup(func() { ln.Close() })
		ctx, cancel := context.WithDeadline(context.Background(), deadline)
		t.Cleanup(cancel)
		d := &websocket.Dialer{ReadLimit: limit}
		configureClientCompression(d, r)
		go func() {
			url := "ws://" + ln.Addr().String() + "/"
			if s.compat() {
				result <- compatDialEcho(ctx, url, r, limit)
				return
			}
			c, _, err := d.Dial(ctx, url, nil)
			if err != nil {
				result <- fmt.Errorf("our Dial: %w", err)
				return
			}
			result <- echoLoop(c, false)
		}()
		var answer string
		conn, br, _, err := rawServer(ln, deadline, func(offer string) (string, error) {
			a, err := r.answer(offer)
			answer = a
			return a, err
		})
		if err != nil {
			return nil, nil, err
		}
		p := newPeer(conn, br, false)
		if answer != "" {
			params, err := parsePMD(answer)
			if err != nil {
				conn.Close()
				return nil, nil, fmt.Errorf("the row's answer: %w", err)
			}
			p.pmd = newPMDPeer(params, false)
		}
		return p, result, nil
	}

	up := &websocket.Upgrader{ReadLimit: limit}
	configureServerCompression(up, r)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if s.compat() {
			result <- compatUpgradeEcho(w, req, r, limit, s == compatServerStream)
			return
		}
		c, err := up.Upgrade(w, req, nil)
		if err != nil {
			result <- fmt.Errorf("our Upgrade: %w", err)
			return
		}
		result <- echoLoop(c, s == serverStream)
	}))
	t.Cleanup(srv.Close)
	offer := ""
	if r.pmd != nil {
		offer = r.pmd.offer
	}
	conn, br, answer, err := rawClient(srv.Listener.Addr().String(), "/", offer, deadline)
	if err != nil {
		return nil, nil, err
	}
	p := newPeer(conn, br, true)
	switch {
	case r.pmd != nil && r.pmd.declined:
		if answer != "" {
			conn.Close()
			return nil, nil, fmt.Errorf("our server, compression off, accepted %q with %q", offer, answer)
		}
	case r.pmd != nil:
		params, err := parsePMD(answer)
		if err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("our server's answer to %q: %w", offer, err)
		}
		if err := r.pmd.check(params); err != nil {
			conn.Close()
			return nil, nil, fmt.Errorf("our server's answer to %q: %w", offer, err)
		}
		p.pmd = newPMDPeer(params, true)
	}
	return p, result, nil
}

// ourResult is how our side's echo loop must end: the error its read
// returned.
type ourResult struct {
	kind     resultKind
	code     int
	sentinel error // resFailed: overrides the code's usual sentinel
}

type resultKind int

const (
	resUnchecked resultKind = iota
	resClosed               // the peer closed with code: a *CloseError carrying it
	resFailed               // our side failed with code: the matching sentinel
	resAbnormal             // the TCP connection ended without a close frame
)

func peerClosed(code int) ourResult { return ourResult{kind: resClosed, code: code} }
func failedWith(code int) ourResult { return ourResult{kind: resFailed, code: code} }
func abnormal() ourResult           { return ourResult{kind: resAbnormal, code: 1006} }

// closeCodeOf returns the code of the *websocket.CloseError in err's
// chain, or of the compat package's, or -1.
func closeCodeOf(err error) int {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return int(ce.Code)
	}
	return compatCloseCodeOf(err)
}

// check compares the error our side's read returned with the expectation.
func (w ourResult) check(err error) error {
	switch w.kind {
	case resClosed:
		if got := closeCodeOf(err); got != w.code {
			return fmt.Errorf("our read returned %v (close code %d), want the peer's close %d", err, got, w.code)
		}
	case resAbnormal:
		if got := closeCodeOf(err); got != 1006 {
			return fmt.Errorf("our read returned %v (close code %d), want an abnormal closure (1006)", err, got)
		}
	case resFailed:
		sentinel := w.sentinel
		switch {
		case sentinel != nil:
		case w.code == 1002:
			sentinel = websocket.ErrProtocol
		case w.code == 1007:
			sentinel = websocket.ErrInvalidUTF8
		case w.code == 1009:
			sentinel = websocket.ErrReadLimit
		default:
			return nil
		}
		if !errors.Is(err, sentinel) {
			return fmt.Errorf("our read returned %v, want an error wrapping %v", err, sentinel)
		}
		// Corrupt compressed data is invalid payload, not invalid text.
		if sentinel == websocket.ErrInvalidPayload && errors.Is(err, websocket.ErrInvalidUTF8) {
			return fmt.Errorf("our read returned %v, a UTF-8 error for data that does not inflate", err)
		}
	}
	return nil
}
