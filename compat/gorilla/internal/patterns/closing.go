package patterns

import (
	"time"

	"github.com/rfc6455/websocket/compat/gorilla"
)

// CloseCleanly ends a connection with the closing handshake: it sends a
// close frame with code and reason, reads until the peer's close frame
// arrives (dropping any message still on its way) or wait passes, and then
// closes the network connection. It returns the peer's close code, or
// CloseAbnormalClosure when none came.
func CloseCleanly(c *websocket.Conn, code int, reason string, wait time.Duration) int {
	defer c.Close()
	deadline := time.Now().Add(wait)
	msg := websocket.FormatCloseMessage(code, reason)
	if err := c.WriteControl(websocket.CloseMessage, msg, deadline); err != nil {
		return websocket.CloseAbnormalClosure
	}
	c.SetReadDeadline(deadline)
	for {
		if _, _, err := c.ReadMessage(); err != nil {
			if ce, ok := err.(*websocket.CloseError); ok {
				return ce.Code
			}
			return websocket.CloseAbnormalClosure
		}
	}
}
