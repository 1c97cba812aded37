package websocket

// MessageType is the type of a message or control frame. Its values are the
// opcodes of RFC 6455 §5.2, so the names read as in gorilla/websocket.
type MessageType int

// Message types.
const (
	TextMessage   MessageType = MessageType(opText)
	BinaryMessage MessageType = MessageType(opBinary)
	CloseMessage  MessageType = MessageType(opClose)
	PingMessage   MessageType = MessageType(opPing)
	PongMessage   MessageType = MessageType(opPong)
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
	return "MessageType(" + opcode(t).String() + ")"
}
