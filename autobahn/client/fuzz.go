package main

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/rfc6455/websocket"
	"github.com/rfc6455/websocket/autobahn/internal/fuzzclient"
)

// newPeer returns the fuzzing server's connections through this
// program's Dialer.
func newPeer(compress bool) fuzzclient.Peer {
	d := newDialer(compress)
	return fuzzclient.Peer{
		CaseCount:     func(ctx context.Context, u string) (int, error) { return caseCount(ctx, d, u) },
		RunCase:       func(ctx context.Context, u string, timeout time.Duration) error { return runCase(ctx, d, u, timeout) },
		UpdateReports: func(ctx context.Context, u string) error { return updateReports(ctx, d, u) },
		DescribeEnd:   describeEnd,
	}
}

// newDialer returns our client's Dialer: it offers permessage-deflate with
// context takeover when compress is set (the fuzzing server's sections 12
// and 13 need it), nothing otherwise.
func newDialer(compress bool) *websocket.Dialer {
	d := &websocket.Dialer{ReadLimit: fuzzclient.ReadLimit, HandshakeTimeout: 30 * time.Second}
	if compress {
		d.Compression = websocket.CompressionOptions{Mode: websocket.CompressionContextTakeover}
	}
	return d
}

// caseCount reads the single text message /getCaseCount sends.
func caseCount(ctx context.Context, d *websocket.Dialer, u string) (int, error) {
	c, _, err := d.Dial(ctx, u, nil)
	if err != nil {
		return 0, err
	}
	defer c.Close()
	typ, msg, err := c.ReadMessageContext(ctx)
	if err != nil {
		return 0, err
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(msg)))
	if typ != websocket.TextMessage || err != nil || n < 0 {
		return 0, fmt.Errorf("case count message %q is not a number", msg)
	}
	return n, nil
}

// runCase echoes every message of one case until the connection ends, and
// returns why it ended.
func runCase(ctx context.Context, d *websocket.Dialer, u string, timeout time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	c, _, err := d.Dial(ctx, u, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		typ, msg, err := c.ReadMessageContext(ctx)
		if err != nil {
			return err
		}
		if err := c.WriteMessageContext(ctx, typ, msg); err != nil {
			return err
		}
	}
}

// updateReports asks the server to write the reports and waits for it to
// close the connection, which it does once they are written.
func updateReports(ctx context.Context, d *websocket.Dialer, u string) error {
	c, _, err := d.Dial(ctx, u, nil)
	if err != nil {
		return err
	}
	defer c.Close()
	for {
		if _, _, err := c.ReadMessageContext(ctx); err != nil {
			if websocket.CloseStatus(err) != 0 {
				return nil
			}
			return err
		}
	}
}

// describeEnd says how a case's connection ended.
func describeEnd(err error) string {
	if code := websocket.CloseStatus(err); code != 0 {
		return "closed by the server with " + strconv.Itoa(int(code))
	}
	switch {
	case errors.Is(err, websocket.ErrProtocol), errors.Is(err, websocket.ErrInvalidPayload), errors.Is(err, websocket.ErrReadLimit):
		return "failed by us: " + err.Error()
	}
	return "ended: " + err.Error()
}
