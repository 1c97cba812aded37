package websocket

import "errors"

// Error categories. Every protocol violation the connection detects wraps one
// of these, so callers can test for it with errors.Is; the close code sent to
// the peer is the one that goes with the category.
var (
	// ErrProtocol is wrapped by violations of RFC 6455 framing rules (close code 1002).
	ErrProtocol = errors.New("websocket: protocol error")
	// ErrInvalidUTF8 is wrapped when a text message or close reason is not valid UTF-8 (close code 1007).
	ErrInvalidUTF8 = errors.New("websocket: invalid UTF-8")
	// ErrReadLimit is wrapped when a message is larger than the read limit (close code 1009).
	ErrReadLimit = errors.New("websocket: read limit exceeded")
)

// protocolError is a violation by the peer. It carries the close code the
// connection sends before it fails, and unwraps to its category sentinel.
type protocolError struct {
	code StatusCode
	msg  string
}

func (e *protocolError) Error() string { return "websocket: " + e.msg }

// Unwrap returns the category sentinel that matches the close code.
func (e *protocolError) Unwrap() error {
	switch e.code {
	case StatusInvalidFramePayloadData:
		return ErrInvalidUTF8
	case StatusMessageTooBig:
		return ErrReadLimit
	default:
		return ErrProtocol
	}
}

// closeCode returns the close code that goes with err when err is (or wraps)
// a protocolError, and false otherwise.
func closeCode(err error) (StatusCode, bool) {
	var pe *protocolError
	if errors.As(err, &pe) {
		return pe.code, true
	}
	return 0, false
}
