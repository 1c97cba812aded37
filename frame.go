package websocket

import (
	"encoding/binary"
	"strconv"
)

// opcode is the 4-bit frame type of RFC 6455 §5.2.
type opcode uint8

// Opcodes defined by RFC 6455 §5.2. The others are reserved and rejected.
const (
	opContinuation opcode = 0x0
	opText         opcode = 0x1
	opBinary       opcode = 0x2
	opClose        opcode = 0x8
	opPing         opcode = 0x9
	opPong         opcode = 0xA
)

// String returns the opcode's name, or "reserved(N)".
func (op opcode) String() string {
	switch op {
	case opContinuation:
		return "continuation"
	case opText:
		return "text"
	case opBinary:
		return "binary"
	case opClose:
		return "close"
	case opPing:
		return "ping"
	case opPong:
		return "pong"
	}
	return "reserved(" + strconv.Itoa(int(op)) + ")"
}

// isControl reports whether op is a control opcode (close, ping, pong or a
// reserved control opcode): RFC 6455 §5.5, the high bit of the opcode is set.
func (op opcode) isControl() bool { return op&0x8 != 0 }

// isReserved reports whether RFC 6455 leaves op undefined (3–7, 0xB–0xF).
func (op opcode) isReserved() bool {
	switch op {
	case opContinuation, opText, opBinary, opClose, opPing, opPong:
		return false
	}
	return true
}

// Bits of the first two header bytes.
const (
	finBit  = 0x80
	rsv1Bit = 0x40
	rsv2Bit = 0x20
	rsv3Bit = 0x10
	rsvBits = rsv1Bit | rsv2Bit | rsv3Bit
	maskBit = 0x80
)

const (
	// maxFrameHeaderSize is 2 bytes of flags and length, 8 of extended length
	// and 4 of masking key.
	maxFrameHeaderSize = 14
	// maxControlPayload is the largest control frame payload (RFC 6455 §5.5).
	maxControlPayload = 125
)

// frameHeader is a decoded frame header. key is the masking key loaded
// little-endian from its four wire bytes, the form maskBytes takes.
type frameHeader struct {
	fin    bool
	rsv    byte // the RSV bits as they sit in the first byte (rsvBits mask)
	opcode opcode
	masked bool
	key    uint32
	length int64
}

// headerRules are the per-connection facts a header is checked against.
type headerRules struct {
	// allowedRSV holds the RSV bits an extension negotiated: rsv1Bit for
	// permessage-deflate, which allows it on the first frame of a data
	// message only (RFC 7692 §6).
	allowedRSV byte
	// fromClient is true on the server: frames from a client must be masked
	// and frames from a server must not be (RFC 6455 §5.1).
	fromClient bool
}

// Header errors. Each fails the connection with 1002.
var (
	errReservedBits      = &protocolError{StatusProtocolError, "reserved bits set without a negotiated extension"}
	errRSV1Control       = &protocolError{StatusProtocolError, "RSV1 set on a control frame"}
	errRSV1Continuation  = &protocolError{StatusProtocolError, "RSV1 set on a continuation frame"}
	errReservedOpcode    = &protocolError{StatusProtocolError, "reserved opcode"}
	errFragmentedControl = &protocolError{StatusProtocolError, "fragmented control frame"}
	errControlTooLong    = &protocolError{StatusProtocolError, "control frame payload longer than 125 bytes"}
	errLengthHighBit     = &protocolError{StatusProtocolError, "64-bit payload length has its top bit set"}
	errLengthNotMinimal  = &protocolError{StatusProtocolError, "payload length not in its shortest form"}
	errUnmaskedClient    = &protocolError{StatusProtocolError, "unmasked frame from a client"}
	errMaskedServer      = &protocolError{StatusProtocolError, "masked frame from a server"}
)

// frameHeaderSize returns the size of the header whose second byte is b1.
func frameHeaderSize(b1 byte) int {
	n := 2
	switch b1 & 0x7f {
	case 126:
		n += 2
	case 127:
		n += 8
	}
	if b1&maskBit != 0 {
		n += 4
	}
	return n
}

// parseFrameHeader decodes the header at the start of b into h and checks it
// against rules and RFC 6455 §5.2. It returns the header's size, or 0 and a
// nil error when b holds only a prefix of a header. h is written only on
// success, so a caller never sees a half-decoded header.
func parseFrameHeader(b []byte, rules headerRules, h *frameHeader) (int, error) {
	if len(b) < 2 {
		return 0, nil
	}
	n := frameHeaderSize(b[1])
	if len(b) < n {
		return 0, nil
	}
	b0, b1 := b[0], b[1]
	f := frameHeader{
		fin:    b0&finBit != 0,
		rsv:    b0 & rsvBits,
		opcode: opcode(b0 & 0x0f),
		masked: b1&maskBit != 0,
	}

	// RFC 6455 §5.2: a nonzero RSV bit that no negotiated extension defines
	// fails the connection.
	if f.rsv&^rules.allowedRSV != 0 {
		return 0, errReservedBits
	}
	if f.opcode.isReserved() {
		return 0, errReservedOpcode
	}
	// RFC 7692 §6: RSV1 marks a compressed message, so it may only be set on
	// the first frame of a data message.
	if f.rsv&rsv1Bit != 0 {
		if f.opcode.isControl() {
			return 0, errRSV1Control
		}
		if f.opcode == opContinuation {
			return 0, errRSV1Continuation
		}
	}
	// RFC 6455 §5.1: a server fails on an unmasked frame, a client on a
	// masked one.
	if f.masked != rules.fromClient {
		if rules.fromClient {
			return 0, errUnmaskedClient
		}
		return 0, errMaskedServer
	}

	// RFC 6455 §5.2: the payload length uses the fewest bytes possible, and
	// the 64-bit form has its most significant bit clear.
	p := 2
	switch l := b1 & 0x7f; l {
	case 126:
		f.length = int64(binary.BigEndian.Uint16(b[2:4]))
		p = 4
		if f.length < 126 {
			return 0, errLengthNotMinimal
		}
	case 127:
		u := binary.BigEndian.Uint64(b[2:10])
		p = 10
		if u>>63 != 0 {
			return 0, errLengthHighBit
		}
		if u <= 0xffff {
			return 0, errLengthNotMinimal
		}
		f.length = int64(u)
	default:
		f.length = int64(l)
	}
	// RFC 6455 §5.5: control frames are not fragmented and carry at most
	// 125 bytes.
	if f.opcode.isControl() {
		if !f.fin {
			return 0, errFragmentedControl
		}
		if f.length > maxControlPayload {
			return 0, errControlTooLong
		}
	}
	if f.masked {
		f.key = binary.LittleEndian.Uint32(b[p : p+4])
	}
	// Stored field by field: copying f whole, just built by narrow
	// stores, would be one wide load that waits for them to retire.
	h.fin, h.rsv, h.opcode, h.masked = f.fin, f.rsv, f.opcode, f.masked
	h.key, h.length = f.key, f.length
	return n, nil
}

// putFrameHeader writes h into b, which must hold maxFrameHeaderSize bytes,
// and returns the number of bytes written. The length is written in its
// shortest form, as RFC 6455 §5.2 requires, and must not be negative; the
// key is written only when h.masked is set. It does not check the rules
// parseFrameHeader enforces: the caller builds only frames it may send.
func putFrameHeader(b []byte, h *frameHeader) int {
	_ = b[maxFrameHeaderSize-1]
	b0 := h.rsv&rsvBits | byte(h.opcode&0x0f)
	if h.fin {
		b0 |= finBit
	}
	var b1 byte
	if h.masked {
		b1 = maskBit
	}
	b[0] = b0
	n := 2
	switch {
	case h.length < 126:
		b[1] = b1 | byte(h.length)
	case h.length <= 0xffff:
		b[1] = b1 | 126
		binary.BigEndian.PutUint16(b[2:4], uint16(h.length))
		n = 4
	default:
		b[1] = b1 | 127
		binary.BigEndian.PutUint64(b[2:10], uint64(h.length))
		n = 10
	}
	if h.masked {
		binary.LittleEndian.PutUint32(b[n:n+4], h.key)
		n += 4
	}
	return n
}

// putFrameHeaderSize returns how many bytes putFrameHeader writes for h,
// for a caller that puts the header in place in front of its payload.
func putFrameHeaderSize(h *frameHeader) int {
	n := 2
	switch {
	case h.length > 0xffff:
		n = 10
	case h.length >= 126:
		n = 4
	}
	if h.masked {
		n += 4
	}
	return n
}

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
