package bench

import (
	"encoding/binary"
	"errors"
)

// AppendFrame appends one RFC 6455 frame (§5.2) with FIN set, masked with
// key when masked, to b. It is the encoder of the in-process workloads and
// of the tests, independent of every library measured.
func AppendFrame(b []byte, typ MsgType, payload []byte, masked bool, key [4]byte) []byte {
	op := byte(0x1)
	if typ == Binary {
		op = 0x2
	}
	b = append(b, 0x80|op)
	var m byte
	if masked {
		m = 0x80
	}
	n := len(payload)
	switch {
	case n < 126:
		b = append(b, m|byte(n))
	case n <= 0xffff:
		b = append(b, m|126, byte(n>>8), byte(n))
	default:
		b = append(b, m|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	if !masked {
		return append(b, payload...)
	}
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, payload...)
	for i := range payload {
		b[start+i] ^= key[i&3]
	}
	return b
}

// Frame is one decoded frame.
type Frame struct {
	Fin     bool
	Opcode  byte
	Masked  bool
	Payload []byte // unmasked
}

var errShortFrame = errors.New("bench: truncated frame")

// ParseFrames decodes the frames in b, unmasking payloads. It is for tests:
// it checks only what it needs to find the frame boundaries.
func ParseFrames(b []byte) ([]Frame, error) {
	var out []Frame
	for len(b) > 0 {
		if len(b) < 2 {
			return out, errShortFrame
		}
		f := Frame{Fin: b[0]&0x80 != 0, Opcode: b[0] & 0xf, Masked: b[1]&0x80 != 0}
		n := uint64(b[1] & 0x7f)
		b = b[2:]
		switch n {
		case 126:
			if len(b) < 2 {
				return out, errShortFrame
			}
			n, b = uint64(binary.BigEndian.Uint16(b)), b[2:]
		case 127:
			if len(b) < 8 {
				return out, errShortFrame
			}
			n, b = binary.BigEndian.Uint64(b), b[8:]
		}
		var key [4]byte
		if f.Masked {
			if len(b) < 4 {
				return out, errShortFrame
			}
			copy(key[:], b)
			b = b[4:]
		}
		if uint64(len(b)) < n {
			return out, errShortFrame
		}
		f.Payload = append([]byte(nil), b[:n]...)
		if f.Masked {
			for i := range f.Payload {
				f.Payload[i] ^= key[i&3]
			}
		}
		b = b[n:]
		out = append(out, f)
	}
	return out, nil
}
