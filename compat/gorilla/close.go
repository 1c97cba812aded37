package websocket

import (
	"errors"
	"fmt"
	"slices"

	ws "github.com/rfc6455/websocket"
)

// Close status codes of RFC 6455 §7.4.1, as untyped constants so that they
// mix with the int codes of CloseError and FormatCloseMessage.
const (
	CloseNormalClosure           = 1000
	CloseGoingAway               = 1001
	CloseProtocolError           = 1002
	CloseUnsupportedData         = 1003
	CloseNoStatusReceived        = 1005
	CloseAbnormalClosure         = 1006
	CloseInvalidFramePayloadData = 1007
	ClosePolicyViolation         = 1008
	CloseMessageTooBig           = 1009
	CloseMandatoryExtension      = 1010
	CloseInternalServerErr       = 1011
	CloseServiceRestart          = 1012
	CloseTryAgainLater           = 1013
	CloseTLSHandshake            = 1015
)

// ErrCloseSent is returned by writes of data after a close frame was sent,
// by this side or, answering the peer's close, by the Conn itself.
var ErrCloseSent = errors.New("websocket: close sent")

// CloseError is the close frame the peer sent, returned by reads once it has
// arrived. Code is CloseNoStatusReceived when the frame carried no code, and
// CloseAbnormalClosure when the connection ended without a close frame.
type CloseError struct {
	// Code is the status code, one of the Close… constants or an
	// application's own (3000–4999).
	Code int
	// Text is the reason the peer gave, possibly empty.
	Text string
}

// Error returns the code and the reason.
func (e *CloseError) Error() string {
	s := fmt.Sprintf("websocket: close %d (%v)", e.Code, ws.StatusCode(e.Code))
	if e.Text != "" {
		s += ": " + e.Text
	}
	return s
}

// closeCode returns the code of the close error in err's chain, this
// package's or the parent's, and whether there is one.
func closeCode(err error) (int, bool) {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code, true
	}
	var pe *ws.CloseError
	if errors.As(err, &pe) {
		return int(pe.Code), true
	}
	return 0, false
}

// IsCloseError reports whether err's chain holds a *CloseError with one of
// codes. Unlike gorilla's, it looks through wrapped errors.
func IsCloseError(err error, codes ...int) bool {
	code, ok := closeCode(err)
	if !ok {
		return false
	}
	return slices.Contains(codes, code)
}

// IsUnexpectedCloseError reports whether err's chain holds a *CloseError
// whose code is none of expectedCodes: a read loop's test for a close worth
// logging.
func IsUnexpectedCloseError(err error, expectedCodes ...int) bool {
	code, ok := closeCode(err)
	if !ok {
		return false
	}
	return !slices.Contains(expectedCodes, code)
}

// FormatCloseMessage returns the payload of a close frame carrying closeCode
// and text, for WriteControl or WriteMessage with CloseMessage.
// CloseNoStatusReceived gives the empty payload: a close without a code
// (RFC 6455 §7.1.5).
func FormatCloseMessage(closeCode int, text string) []byte {
	if closeCode == CloseNoStatusReceived {
		return []byte{}
	}
	return ws.FormatCloseMessage(ws.StatusCode(closeCode), text)
}
