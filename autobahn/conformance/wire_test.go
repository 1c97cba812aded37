package conformance

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
)

// Opcodes of RFC 6455 §5.2, spelled out here so that the peer shares no
// code with the library it checks.
const (
	opCont   byte = 0x0
	opText   byte = 0x1
	opBinary byte = 0x2
	opClose  byte = 0x8
	opPing   byte = 0x9
	opPong   byte = 0xA
)

// RSV bits as they sit in the first header byte.
const (
	rsv1 byte = 0x40
	rsv2 byte = 0x20
	rsv3 byte = 0x10
)

// frame is one frame as the raw peer writes it. The zero value of every
// field other than op and payload means "as the RFC says".
type frame struct {
	op       byte
	payload  []byte
	notFin   bool  // clear FIN
	rsv      byte  // RSV bits to set
	flipMask bool  // break RFC 6455 §5.1: an unmasked client frame, a masked server frame
	lenForm  int   // 0: shortest length form; 2 or 8: force the 16- or 64-bit form
	declared int64 // when hasDecl: the length the header announces, whatever payload holds
	hasDecl  bool
	deflate  bool // compress payload with permessage-deflate before sending (RSV1 on first frame)
}

// Frame builders, so that rows read as the frames they send.
func text(s string) frame     { return frame{op: opText, payload: []byte(s)} }
func textB(b []byte) frame    { return frame{op: opText, payload: b} }
func bin(b []byte) frame      { return frame{op: opBinary, payload: b} }
func cont(s string) frame     { return frame{op: opCont, payload: []byte(s)} }
func contB(b []byte) frame    { return frame{op: opCont, payload: b} }
func ping(s string) frame     { return frame{op: opPing, payload: []byte(s)} }
func pingB(b []byte) frame    { return frame{op: opPing, payload: b} }
func pong(s string) frame     { return frame{op: opPong, payload: []byte(s)} }
func closeRaw(b []byte) frame { return frame{op: opClose, payload: b} }
func op(o byte, s string) frame {
	return frame{op: o, payload: []byte(s)}
}

// closeFrame is a close frame carrying code and reason.
func closeFrame(code uint16, reason string) frame {
	return closeRaw(closePayload(code, reason))
}

func closePayload(code uint16, reason string) []byte {
	b := binary.BigEndian.AppendUint16(nil, code)
	return append(b, reason...)
}

func (f frame) more() frame             { f.notFin = true; return f }
func (f frame) withRSV(bits byte) frame { f.rsv = bits; return f }
func (f frame) flipped() frame          { f.flipMask = true; return f }
func (f frame) form(n int) frame        { f.lenForm = n; return f }
func (f frame) announce(n int64) frame  { f.declared, f.hasDecl = n, true; return f }
func (f frame) compressed() frame       { f.deflate = true; return f }

// encode appends f to b as it goes on the wire. masked says whether this
// side masks (the client does); flipMask inverts it.
func encode(b []byte, f frame, masked bool) []byte {
	b0 := f.rsv | f.op&0x0f
	if !f.notFin {
		b0 |= 0x80
	}
	if f.flipMask {
		masked = !masked
	}
	var b1 byte
	if masked {
		b1 = 0x80
	}
	n := int64(len(f.payload))
	if f.hasDecl {
		n = f.declared
	}
	form := f.lenForm
	if form == 0 {
		switch {
		case n < 126:
		case n <= 0xffff:
			form = 2
		default:
			form = 8
		}
	}
	b = append(b, b0)
	switch form {
	case 2:
		b = append(b, b1|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	case 8:
		b = append(b, b1|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	default:
		b = append(b, b1|byte(n))
	}
	if !masked {
		return append(b, f.payload...)
	}
	var key [4]byte
	binary.LittleEndian.PutUint32(key[:], rand.Uint32())
	b = append(b, key[:]...)
	start := len(b)
	b = append(b, f.payload...)
	mask(key, b[start:])
	return b
}

// mask XORs b with the masking key, the key's first byte on b's first byte
// (RFC 6455 §5.3). It works a word at a time: section 9 masks megabytes,
// and the race detector makes every byte access costly.
func mask(key [4]byte, b []byte) {
	k := uint64(binary.LittleEndian.Uint32(key[:]))
	k |= k << 32
	i := 0
	for ; i+8 <= len(b); i += 8 {
		binary.LittleEndian.PutUint64(b[i:], binary.LittleEndian.Uint64(b[i:])^k)
	}
	for ; i < len(b); i++ {
		b[i] ^= key[i&3]
	}
}

// wireFrame is one frame as the peer read it from our side.
type wireFrame struct {
	fin     bool
	rsv     byte
	op      byte
	payload []byte
}

// maxReadPayload bounds what the peer buffers for one frame, so that a
// broken length from our side fails the row instead of exhausting memory.
const maxReadPayload = 64 << 20

// errOurFrame marks a frame from our side that breaks RFC 6455 §5: the row
// fails, whatever it expected.
var errOurFrame = errors.New("our side sent an invalid frame")

// readFrame reads one frame from our side and checks that it is one we may
// send. fromClient says our side is the client, whose frames RFC 6455 §5.1
// requires masked; a server's must not be. allowRSV1 is set when
// permessage-deflate was negotiated.
func readFrame(br *bufio.Reader, fromClient, allowRSV1 bool) (wireFrame, error) {
	var h [2]byte
	if _, err := io.ReadFull(br, h[:]); err != nil {
		return wireFrame{}, err
	}
	f := wireFrame{fin: h[0]&0x80 != 0, rsv: h[0] & 0x70, op: h[0] & 0x0f}
	masked := h[1]&0x80 != 0
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var x [2]byte
		if _, err := io.ReadFull(br, x[:]); err != nil {
			return wireFrame{}, unexpected(err)
		}
		n = uint64(binary.BigEndian.Uint16(x[:]))
		if n < 126 {
			return wireFrame{}, fmt.Errorf("%w: length %d in the 16-bit form (RFC 6455 §5.2: shortest form)", errOurFrame, n)
		}
	case 127:
		var x [8]byte
		if _, err := io.ReadFull(br, x[:]); err != nil {
			return wireFrame{}, unexpected(err)
		}
		n = binary.BigEndian.Uint64(x[:])
		if n <= 0xffff || n>>63 != 0 {
			return wireFrame{}, fmt.Errorf("%w: length %d in the 64-bit form (RFC 6455 §5.2)", errOurFrame, n)
		}
	}
	if masked != fromClient {
		return wireFrame{}, fmt.Errorf("%w: masked=%v from the %s (RFC 6455 §5.1)", errOurFrame, masked, sideName(fromClient))
	}
	switch f.op {
	case opCont, opText, opBinary, opClose, opPing, opPong:
	default:
		return wireFrame{}, fmt.Errorf("%w: reserved opcode %#x (RFC 6455 §5.2)", errOurFrame, f.op)
	}
	control := f.op&0x08 != 0
	if f.rsv&^rsv1 != 0 || f.rsv != 0 && (!allowRSV1 || control || f.op == opCont) {
		return wireFrame{}, fmt.Errorf("%w: RSV bits %#x on opcode %#x (RFC 6455 §5.2, RFC 7692 §6)", errOurFrame, f.rsv, f.op)
	}
	if control && (!f.fin || n > 125) {
		return wireFrame{}, fmt.Errorf("%w: control frame fin=%v length %d (RFC 6455 §5.5)", errOurFrame, f.fin, n)
	}
	if n > maxReadPayload {
		return wireFrame{}, fmt.Errorf("%w: length %d is more than the peer accepts", errOurFrame, n)
	}
	var key [4]byte
	if masked {
		if _, err := io.ReadFull(br, key[:]); err != nil {
			return wireFrame{}, unexpected(err)
		}
	}
	f.payload = make([]byte, n)
	if _, err := io.ReadFull(br, f.payload); err != nil {
		return wireFrame{}, unexpected(err)
	}
	if masked {
		mask(key, f.payload)
	}
	return f, nil
}

// unexpected reports a stream that ended inside a frame.
func unexpected(err error) error {
	if err == io.EOF {
		return fmt.Errorf("%w: the connection ended inside a frame", errOurFrame)
	}
	return err
}

func sideName(client bool) string {
	if client {
		return "client"
	}
	return "server"
}
