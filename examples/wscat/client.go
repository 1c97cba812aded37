package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/rfc6455/websocket"
)

// writeTimeout bounds the sending of one line, so that a peer that stops
// reading cannot block wscat for ever.
const writeTimeout = 30 * time.Second

// dial connects to o.url and runs the session: standard input to the
// server, the server's messages to stdout.
func dial(ctx context.Context, o options, lines *lineReader, stdout, stderr *printer) error {
	d := &websocket.Dialer{
		Proxy:            http.ProxyFromEnvironment,
		HandshakeTimeout: 30 * time.Second,
		Subprotocols:     o.subprotocols,
		ReadLimit:        o.readLimit,
		PingInterval:     o.ping,
	}
	if o.compress {
		d.Compression = compression
	}
	conn, resp, err := d.Dial(ctx, o.url, o.header)
	if err != nil {
		return fmt.Errorf("connecting to %s: %w", o.url, err)
	}
	defer conn.CloseNow()
	note := describeConn(conn)
	if ext := resp.Header.Get("Sec-WebSocket-Extensions"); ext != "" {
		note += " (extensions " + ext + ")"
	}
	stderr.printf("connected to %s%s\n", o.url, note)

	screen := stdout.screen
	defer screen.hide()
	screen.show() // before the first message can be printed
	read := make(chan error, 1)
	arrived := make(chan struct{}, 1) // a message was printed
	go func() { read <- copyMessages(conn, stdout, arrived) }()
	for {
		select {
		case line, ok := <-lines.lines:
			if !ok {
				screen.hide()
				if lines.err != nil {
					stderr.printf("reading standard input: %v\n", lines.err)
				}
				return finish(ctx, conn, o.wait, read, arrived, stderr)
			}
			screen.taken()
			if err := sendLine(conn, line, o.binary); err != nil {
				if errors.Is(err, errNotUTF8) {
					stderr.printf("%v\n", err)
					screen.show()
					continue
				}
				conn.CloseNow()
				return clientEnded(<-read, false, stderr)
			}
			screen.show()
		case err := <-read:
			screen.hide()
			return clientEnded(err, false, stderr)
		case <-ctx.Done():
			screen.hide()
			return clientEnded(closeHandshake(conn, websocket.StatusGoingAway, "going away", read), true, stderr)
		}
	}
}

// finish ends a session whose standard input has ended. Replies to the last
// lines may still be on their way (a server answers after it has read them,
// and many stop sending once they see a close frame), so it keeps printing
// messages until the server has been quiet for wait, then closes with 1000.
// The server may close first; a signal closes with 1001.
func finish(ctx context.Context, conn *websocket.Conn, wait time.Duration, read <-chan error, arrived <-chan struct{}, stderr *printer) error {
	if wait > 0 {
		quiet := time.NewTimer(wait)
		defer quiet.Stop()
	waiting:
		for {
			select {
			case <-arrived:
				quiet.Reset(wait)
			case <-quiet.C:
				break waiting
			case err := <-read:
				return clientEnded(err, false, stderr)
			case <-ctx.Done():
				return clientEnded(closeHandshake(conn, websocket.StatusGoingAway, "going away", read), true, stderr)
			}
		}
	}
	return clientEnded(closeHandshake(conn, websocket.StatusNormalClosure, "", read), true, stderr)
}

// closeWait bounds the closing handshake: how long wscat waits for the
// peer's close frame after sending its own.
const closeWait = 5 * time.Second

// closeHandshake sends a close frame with code and reason and waits, at
// most closeWait, for the reader of conn to see the peer's answer; it
// returns what the reader returned. RFC 6455 §7.1.2: after our close frame
// the peer may still send messages before its own, and the reader prints
// them. (conn.Close would work too, but between two reads it may take the
// read side and drop those messages.)
func closeHandshake(conn *websocket.Conn, code websocket.StatusCode, reason string, read <-chan error) error {
	conn.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(code, reason), time.Now().Add(closeWait))
	timer := time.NewTimer(closeWait)
	defer timer.Stop()
	select {
	case err := <-read:
		return err
	case <-timer.C:
		conn.CloseNow()
		return <-read
	}
}

// errNotUTF8 refuses a line that cannot be a text message: RFC 6455 §8.1
// makes the peer fail a connection that sends invalid UTF-8 as text.
var errNotUTF8 = errors.New("line not sent: it is not valid UTF-8 (use -binary)")

// sendLine sends line as one text or binary message.
func sendLine(conn *websocket.Conn, line []byte, binary bool) error {
	typ := websocket.TextMessage
	if binary {
		typ = websocket.BinaryMessage
	} else if !utf8.Valid(line) {
		return errNotUTF8
	}
	ctx, cancel := context.WithTimeout(context.Background(), writeTimeout)
	defer cancel()
	return conn.WriteMessageContext(ctx, typ, line)
}

// copyMessages prints every message conn receives until it ends, and
// returns why it ended. After each message it signals arrived, if it can
// without blocking (nil: never).
func copyMessages(conn *websocket.Conn, out *printer, arrived chan<- struct{}) error {
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		if err := out.print(data); err != nil {
			return fmt.Errorf("writing standard output: %w", err)
		}
		select {
		case arrived <- struct{}{}:
		default:
		}
	}
}

// clientEnded reports how the connection ended, and returns an error unless
// it ended with a closing handshake whose code says all went well: 1000
// (normal closure) or 1001 (going away), whoever began it. A close frame
// with no code (1005) is accepted only as the answer to ours (weClosed):
// RFC 6455 §5.5.1 lets the answer leave the code out. Any other code, even
// one that crossed our own close frame, means the server refused something
// (a 1008 for a bad request, say), which a script must be able to see.
func clientEnded(err error, weClosed bool, stderr *printer) error {
	stderr.printf("%s\n", describeEnd(err))
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return reported{err}
	}
	switch ce.Code {
	case websocket.StatusNormalClosure, websocket.StatusGoingAway:
		return nil
	case websocket.StatusNoStatusReceived:
		if weClosed {
			return nil
		}
	}
	return reported{ce}
}

// reported is an error that has been described on standard error already:
// it sets the exit status without being printed twice.
type reported struct{ error }

func (r reported) Unwrap() error { return r.error }

// describeEnd says how a connection ended, from the error its reads
// returned.
func describeEnd(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		if ce.Reason != "" {
			return fmt.Sprintf("closed: %d %s", ce.Code, ce.Reason)
		}
		return fmt.Sprintf("closed: %d", ce.Code)
	}
	return fmt.Sprintf("disconnected: %v", err)
}

// describeConn names what was negotiated, for the "connected" line.
func describeConn(conn *websocket.Conn) string {
	if p := conn.Subprotocol(); p != "" {
		return " (subprotocol " + p + ")"
	}
	return ""
}
