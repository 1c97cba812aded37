package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rfc6455/websocket/autobahn/internal/fuzzclient"
	"github.com/rfc6455/websocket/compat/gorilla"
)

// newPeer returns the fuzzing server's connections through this
// program's Dialer.
func newPeer(compress bool) fuzzclient.Peer {
	d := &websocket.Dialer{EnableCompression: compress, HandshakeTimeout: 30 * time.Second}
	return fuzzclient.Peer{
		CaseCount:     func(ctx context.Context, u string) (int, error) { return caseCount(ctx, d, u) },
		RunCase:       func(ctx context.Context, u string, timeout time.Duration) error { return runCase(ctx, d, u, timeout) },
		UpdateReports: func(ctx context.Context, u string) error { return updateReports(ctx, d, u) },
		DescribeEnd:   describeEnd,
	}
}

// dial opens a connection to u whose reads and writes end when ctx does,
// with the suite's read limit.
func dial(ctx context.Context, d *websocket.Dialer, u string) (*websocket.Conn, func(), error) {
	c, _, err := d.DialContext(ctx, u, nil)
	if err != nil {
		return nil, nil, err
	}
	c.SetReadLimit(fuzzclient.ReadLimit)
	// The gorilla API has no context on reads: a deadline stands for ctx's,
	// and Close for its cancellation.
	if dl, ok := ctx.Deadline(); ok {
		c.SetReadDeadline(dl)
		c.SetWriteDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { c.Close() })
	return c, func() { stop(); c.Close() }, nil
}

// caseCount reads the single text message /getCaseCount sends.
func caseCount(ctx context.Context, d *websocket.Dialer, u string) (int, error) {
	c, done, err := dial(ctx, d, u)
	if err != nil {
		return 0, err
	}
	defer done()
	typ, msg, err := c.ReadMessage()
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(msg)))
	if typ != websocket.TextMessage || err != nil || n < 0 {
		return 0, fmt.Errorf("case count message %q is not a number", msg)
	}
	// Then the server closes; reading on answers its close (Close would
	// drop the connection without the closing handshake).
	return n, readToClose(c)
}

// readToClose reads and drops messages until the peer's close frame, which
// the Conn answers. Another end of the connection is an error.
func readToClose(c *websocket.Conn) error {
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			var ce *websocket.CloseError
			if errors.As(err, &ce) && ce.Code != websocket.CloseAbnormalClosure {
				return nil
			}
			return err
		}
	}
}

// runCase echoes every message of one case until the connection ends, and
// returns why it ended.
func runCase(ctx context.Context, d *websocket.Dialer, u string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, done, err := dial(ctx, d, u)
	if err != nil {
		return err
	}
	defer done()
	for {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			return err
		}
		if err := c.WriteMessage(typ, msg); err != nil {
			return err
		}
	}
}

// updateReports asks the server to write the reports and waits for it to
// close the connection, which it does once they are written.
func updateReports(ctx context.Context, d *websocket.Dialer, u string) error {
	c, done, err := dial(ctx, d, u)
	if err != nil {
		return err
	}
	defer done()
	return readToClose(c)
}

// describeEnd says how a case's connection ended.
func describeEnd(err error) string {
	var ce *websocket.CloseError
	if errors.As(err, &ce) {
		return "closed by the server with " + strconv.Itoa(ce.Code)
	}
	return "ended: " + err.Error()
}
