package websocket

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"strconv"
	"time"
	"unicode/utf8"
)

// StatusCode is a close status code of RFC 6455 §7.4.
type StatusCode uint16

// Close status codes registered in RFC 6455 §7.4.1 and the IANA registry.
const (
	StatusNormalClosure           StatusCode = 1000
	StatusGoingAway               StatusCode = 1001
	StatusProtocolError           StatusCode = 1002
	StatusUnsupportedData         StatusCode = 1003
	StatusNoStatusReceived        StatusCode = 1005 // never sent on the wire
	StatusAbnormalClosure         StatusCode = 1006 // never sent on the wire
	StatusInvalidFramePayloadData StatusCode = 1007
	StatusPolicyViolation         StatusCode = 1008
	StatusMessageTooBig           StatusCode = 1009
	StatusMandatoryExtension      StatusCode = 1010
	StatusInternalError           StatusCode = 1011
	StatusServiceRestart          StatusCode = 1012
	StatusTryAgainLater           StatusCode = 1013
	StatusBadGateway              StatusCode = 1014
	StatusTLSHandshake            StatusCode = 1015 // never sent on the wire
)

// String returns the code's registered name, or its number.
func (c StatusCode) String() string {
	switch c {
	case StatusNormalClosure:
		return "NormalClosure"
	case StatusGoingAway:
		return "GoingAway"
	case StatusProtocolError:
		return "ProtocolError"
	case StatusUnsupportedData:
		return "UnsupportedData"
	case StatusNoStatusReceived:
		return "NoStatusReceived"
	case StatusAbnormalClosure:
		return "AbnormalClosure"
	case StatusInvalidFramePayloadData:
		return "InvalidFramePayloadData"
	case StatusPolicyViolation:
		return "PolicyViolation"
	case StatusMessageTooBig:
		return "MessageTooBig"
	case StatusMandatoryExtension:
		return "MandatoryExtension"
	case StatusInternalError:
		return "InternalError"
	case StatusServiceRestart:
		return "ServiceRestart"
	case StatusTryAgainLater:
		return "TryAgainLater"
	case StatusBadGateway:
		return "BadGateway"
	case StatusTLSHandshake:
		return "TLSHandshake"
	}
	return "StatusCode(" + strconv.Itoa(int(c)) + ")"
}

// maxCloseReason is the longest close reason: a control payload holds 125
// bytes, two of which are the code (RFC 6455 §5.5.1).
const maxCloseReason = maxControlPayload - 2

// Close payload errors.
var (
	errCloseOneByte    = &protocolError{StatusProtocolError, "close frame payload of one byte"}
	errCloseCode       = &protocolError{StatusProtocolError, "close frame with an invalid status code"}
	errCloseReasonUTF8 = &protocolError{StatusInvalidFramePayloadData, "close reason is not valid UTF-8"}
	errCloseArgs       = errors.New("websocket: close code not sendable or reason longer than 123 bytes or not UTF-8")
)

// CloseError is the close frame the peer sent: reads return it after the
// close handshake. Code is StatusNoStatusReceived when the frame had no
// payload.
type CloseError struct {
	Code   StatusCode
	Reason string
}

// Error returns "websocket: close <code> (<name>)" and the reason, if any.
func (e *CloseError) Error() string {
	s := "websocket: close " + strconv.Itoa(int(e.Code)) + " (" + e.Code.String() + ")"
	if e.Reason != "" {
		s += ": " + e.Reason
	}
	return s
}

// CloseStatus returns the code of the *CloseError in err's chain (found with
// errors.As, so wrapped errors work), or 0, which is never a valid code,
// when there is none.
func CloseStatus(err error) StatusCode {
	var ce *CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return 0
}

// FormatCloseMessage returns the payload of a close frame with code and
// text, for WriteControl. StatusNoStatusReceived gives the empty payload,
// which is how a close without a code is sent (RFC 6455 §7.1.5).
func FormatCloseMessage(code StatusCode, text string) []byte {
	if code == StatusNoStatusReceived {
		return []byte{}
	}
	b := make([]byte, 2+len(text))
	binary.BigEndian.PutUint16(b, uint16(code))
	copy(b[2:], text)
	return b
}

// validWireCode reports whether code may appear in a close frame: the codes
// RFC 6455 §7.4.1 and the IANA registry define for use (1000–1003,
// 1007–1014), and those for libraries and applications (3000–4999). 1004 is
// reserved; 1005, 1006 and 1015 stand for conditions and are never sent.
func validWireCode(code StatusCode) bool {
	switch {
	case code >= 1000 && code <= 1003:
		return true
	case code >= 1007 && code <= 1014:
		return true
	case code >= 3000 && code <= 4999:
		return true
	}
	return false
}

// parseClosePayload decodes a close frame's payload. An empty payload means
// no code (StatusNoStatusReceived).
func parseClosePayload(p []byte) (StatusCode, string, error) {
	switch len(p) {
	case 0:
		return StatusNoStatusReceived, "", nil
	case 1:
		return 0, "", errCloseOneByte
	}
	code := StatusCode(binary.BigEndian.Uint16(p))
	if !validWireCode(code) {
		return 0, "", errCloseCode
	}
	if !utf8.Valid(p[2:]) {
		return 0, "", errCloseReasonUTF8
	}
	return code, string(p[2:]), nil
}

// putClosePayload writes code and reason into b (at least 125 bytes) and
// returns the length; code 0 or StatusNoStatusReceived writes nothing.
func putClosePayload(b []byte, code StatusCode, reason string) int {
	if code == 0 || code == StatusNoStatusReceived {
		return 0
	}
	binary.BigEndian.PutUint16(b, uint16(code))
	return 2 + copy(b[2:maxControlPayload], reason)
}

// sendClose sends a close frame with code and reason, waiting at most until
// deadline, unless a close frame was sent already. It is the one path that
// sends close frames.
func (c *Conn) sendClose(code StatusCode, reason string, deadline time.Time) error {
	var p [maxControlPayload]byte
	n := putClosePayload(p[:], code, reason)
	return c.writeClose(p[:n], deadline)
}

// writeClose sends a close frame with payload, once: after the first, it
// returns ErrClosed. From then on no other frame is sent (RFC 6455 §5.5.1).
func (c *Conn) writeClose(payload []byte, deadline time.Time) error {
	if !c.closeSent.CompareAndSwap(false, true) {
		return ErrClosed
	}
	if err := c.acquireUntil(c.frameSem, deadline); err != nil {
		return err
	}
	defer c.releaseFrame()
	restore := c.borrowWriteDeadline(deadline)
	defer restore()
	err := c.writeFrameLocked(context.Background(), true, OpClose, payload)
	if err == nil {
		c.closeWritten.Store(true)
	}
	return err
}

// receivedClose acts on the peer's close frame: it checks the payload,
// answers with the same code (RFC 6455 §5.5.1) unless our close went out
// first, and closes the transport. The server closes it at once; the client
// first gives the server a moment to close it, as RFC 6455 §7.1.1 asks.
func (c *Conn) receivedClose(payload []byte) error {
	code, reason, err := parseClosePayload(payload)
	if err != nil {
		return c.failRead(err)
	}
	c.closeRecv.Store(true)
	var result error = &CloseError{Code: code, Reason: reason}
	c.mu.Lock()
	h := c.closeHandler
	c.mu.Unlock()
	if h != nil {
		if herr := h(code, reason); herr != nil {
			result = herr
		}
	}
	c.sendClose(code, "", time.Now().Add(c.closeTimeout))
	if c.client {
		c.awaitServerClose(time.Now().Add(min(c.closeTimeout, clientCloseLinger)))
	}
	c.reader.err = result
	c.setEndErr(result)
	c.reader.releaseBuffer()
	c.reader.releaseZbuf()
	c.closeTransport()
	return result
}

// awaitServerClose reads, discarding, until the server closes the
// connection or deadline passes.
func (c *Conn) awaitServerClose(deadline time.Time) {
	c.dlMu.Lock()
	c.netConn.SetReadDeadline(deadline)
	c.dlMu.Unlock()
	var scratch [64]byte
	for range maxEmptyReads {
		if _, err := c.netConn.Read(scratch[:]); err != nil {
			return
		}
	}
}

// Close performs the closing handshake with code 1000 (normal closure): it
// sends a close frame, waits for the peer's, and closes the transport. It
// waits at most the close timeout (the Upgrader's or Dialer's
// CloseTimeout, DefaultCloseTimeout when unset), then closes the transport
// anyway. When no goroutine is reading, Close reads (and drops) incoming
// messages itself until the peer's close arrives; when one is, that reader
// sees the peer's close and returns its *CloseError.
//
// Close returns nil when the handshake completed, whichever side began it
// (so a deferred Close after the peer closed returns nil), and otherwise the
// error that ended the connection. It may be called at any time, from any
// goroutine, any number of times; later calls wait for nothing.
func (c *Conn) Close() error {
	return c.closeHandshake(StatusNormalClosure, "")
}

// CloseWithStatus is Close with the given code and reason. The code must be
// one a close frame may carry (1000–1003, 1007–1014, 3000–4999), and the
// reason valid UTF-8 of at most 123 bytes; otherwise it returns an error
// and does nothing.
func (c *Conn) CloseWithStatus(code StatusCode, reason string) error {
	if !validWireCode(code) || len(reason) > maxCloseReason || !utf8.ValidString(reason) {
		return errCloseArgs
	}
	return c.closeHandshake(code, reason)
}

// CloseNow closes the transport at once, without a closing handshake.
// Blocked reads and writes return. It is safe to call at any time.
func (c *Conn) CloseNow() error {
	if c.isClosed() {
		return ErrClosed
	}
	c.closeTransport()
	return nil
}

// closeHandshake is Close with code and reason.
func (c *Conn) closeHandshake(code StatusCode, reason string) error {
	if !c.isClosed() {
		deadline := time.Now().Add(c.closeTimeout)
		c.sendClose(code, reason, deadline)
		timer := time.NewTimer(time.Until(deadline))
		select {
		case <-c.closed:
		case c.readSem <- struct{}{}:
			c.drainUntilClose(deadline)
			c.unlockRead()
		case <-timer.C:
		}
		timer.Stop()
		if !c.isClosed() {
			c.setEndErr(fmt.Errorf("websocket: no close frame from the peer within %v: %w", c.closeTimeout, os.ErrDeadlineExceeded))
			c.closeTransport()
		}
	}
	if c.closeRecv.Load() && c.closeWritten.Load() {
		return nil
	}
	return c.endError()
}

// drainUntilClose reads and drops messages until the peer's close frame
// arrives (receivedClose then closes the transport), the connection fails,
// or deadline passes. The caller holds the read lock.
func (c *Conn) drainUntilClose(deadline time.Time) {
	if c.reader.err != nil {
		return
	}
	c.dlMu.Lock()
	c.readDeadline = deadline
	if !c.readInterrupted {
		c.netConn.SetReadDeadline(deadline)
	}
	c.dlMu.Unlock()
	for c.nextMessage() == nil {
	}
}
