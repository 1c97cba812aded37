//go:build !js

package websocket

import (
	"context"
	"net/http"
)

// dialPlatform is Dial's handshake: RFC 6455 over TCP, or RFC 8441 over
// HTTP/2 (dial.go). Under GOOS=js the JavaScript host's WebSocket does it
// instead (dial_js.go).
func (d *Dialer) dialPlatform(ctx context.Context, urlStr string, header http.Header) (connConfig, *http.Response, error) {
	return d.dial(ctx, urlStr, header)
}

// checkControl allows every control frame: only the browser's WebSocket
// (GOOS=js) cannot send pings and pongs.
func (c *Conn) checkControl(opcode) error { return nil }
