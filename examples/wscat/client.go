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

	read := make(chan error, 1)
	go func() { read <- copyMessages(conn, stdout) }()
	for {
		select {
		case line, ok := <-lines.lines:
			if !ok {
				if lines.err != nil {
					stderr.printf("reading standard input: %v\n", lines.err)
				}
				return clientEnded(closeHandshake(conn, websocket.StatusNormalClosure, "", read), true, stderr)
			}
			if err := sendLine(conn, line, o.binary); err != nil {
				if errors.Is(err, errNotUTF8) {
					stderr.printf("%v\n", err)
					continue
				}
				conn.CloseNow()
				return clientEnded(<-read, false, stderr)
			}
		case err := <-read:
			return clientEnded(err, false, stderr)
		case <-ctx.Done():
			return clientEnded(closeHandshake(conn, websocket.StatusGoingAway, "going away", read), true, stderr)
		}
	}
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
// returns why it ended.
func copyMessages(conn *websocket.Conn, out *printer) error {
	for {
		_, data, err := conn.ReadMessage()
		if err != nil {
			return err
		}
		if err := out.print(data); err != nil {
			return fmt.Errorf("writing standard output: %w", err)
		}
	}
}

// clientEnded reports how the connection ended, and returns an error unless
// it ended with a closing handshake that we began or that the server began
// with 1000 (normal closure) or 1001 (going away).
func clientEnded(err error, weClosed bool, stderr *printer) error {
	stderr.printf("%s\n", describeEnd(err))
	var ce *websocket.CloseError
	if !errors.As(err, &ce) {
		return fmt.Errorf("connection failed: %w", err)
	}
	switch {
	case weClosed, ce.Code == websocket.StatusNormalClosure, ce.Code == websocket.StatusGoingAway:
		return nil
	}
	return ce
}

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
