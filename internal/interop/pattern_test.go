package interop

import (
	"strconv"

	"github.com/rfc6455/websocket"
)

// pattern returns n bytes of the test pattern node/peer.js also produces:
// lower-case letters for text, i mod 251 for binary.
func pattern(typ websocket.MessageType, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		if typ == websocket.TextMessage {
			b[i] = 'a' + byte(i%26)
		} else {
			b[i] = byte(i % 251)
		}
	}
	return b
}

// kind names typ as node/peer.js does.
func kind(typ websocket.MessageType) string {
	if typ == websocket.TextMessage {
		return "text"
	}
	return "binary"
}

func itoa(n int) string { return strconv.Itoa(n) }
