package websocket

// MessageType is the type of a message or control frame. Its values are the
// opcodes of RFC 6455 §5.2, so the names read as in gorilla/websocket.
type MessageType int

// Message types.
const (
	TextMessage   MessageType = MessageType(OpText)
	BinaryMessage MessageType = MessageType(OpBinary)
	CloseMessage  MessageType = MessageType(OpClose)
	PingMessage   MessageType = MessageType(OpPing)
	PongMessage   MessageType = MessageType(OpPong)
)

// String returns "text", "binary", "close", "ping" or "pong".
func (t MessageType) String() string {
	switch t {
	case TextMessage:
		return "text"
	case BinaryMessage:
		return "binary"
	case CloseMessage:
		return "close"
	case PingMessage:
		return "ping"
	case PongMessage:
		return "pong"
	}
	return "MessageType(" + Opcode(t).String() + ")"
}
