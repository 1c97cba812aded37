package websocket

import (
	"errors"
	"fmt"
)

// Error categories. Every protocol violation the connection detects wraps one
// of these, so callers can test for it with errors.Is; the close code sent to
// the peer is the one that goes with the category.
var (
	// ErrProtocol is wrapped by violations of RFC 6455 framing rules (close code 1002).
	ErrProtocol = errors.New("websocket: protocol error")
	// ErrInvalidPayload is wrapped when a message's data is not consistent
	// with its type (close code 1007, RFC 6455 §7.4.1): text that is not
	// UTF-8, or a compressed message that is not a valid DEFLATE stream.
	ErrInvalidPayload = errors.New("websocket: invalid payload data")
	// ErrInvalidUTF8 is wrapped when a text message or close reason is not
	// valid UTF-8 (close code 1007). It wraps ErrInvalidPayload.
	ErrInvalidUTF8 = newCategory("websocket: invalid UTF-8", ErrInvalidPayload)
	// ErrReadLimit is wrapped when a message is larger than the read limit,
	// before or after decompression (close code 1009).
	ErrReadLimit = errors.New("websocket: read limit exceeded")
)

// categoryError is a sentinel that belongs to a broader category.
type categoryError struct {
	msg    string
	parent error
}

// newCategory returns a sentinel with the text msg that is also parent.
func newCategory(msg string, parent error) error { return &categoryError{msg, parent} }

func (e *categoryError) Error() string { return e.msg }
func (e *categoryError) Unwrap() error { return e.parent }

// protocolError is a violation by the peer. It carries the close code the
// connection sends before it fails, and unwraps to its category sentinel.
type protocolError struct {
	code StatusCode
	msg  string
}

func (e *protocolError) Error() string { return "websocket: " + e.msg }

// Unwrap returns the category sentinel that matches the close code. Corrupt
// compressed data is the one 1007 error that is not about UTF-8.
func (e *protocolError) Unwrap() error {
	switch {
	case e == errInflateCorrupt:
		return ErrInvalidPayload
	case e.code == StatusInvalidFramePayloadData:
		return ErrInvalidUTF8
	case e.code == StatusMessageTooBig:
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

// abnormalClosure wraps err, a transport's failure (EOF, a reset, a broken
// pipe, the transport closed under us), as the *CloseError with code 1006
// that stands for a connection that ended without a close frame (RFC 6455
// §7.1.5), so that errors.As finds the code and errors.Is the cause
// (syscall.ECONNRESET, io.ErrUnexpectedEOF, net.ErrClosed).
func abnormalClosure(err error) error {
	return fmt.Errorf("%w: %w", &CloseError{Code: StatusAbnormalClosure}, err)
}
