// Package rawpeer is a minimal WebSocket endpoint written against the wire,
// not against the library: the tests of the Autobahn programs use it to
// check one exchange with a peer that shares no code with what it checks.
// It speaks only well-formed frames; the conformance suite has the peer
// that speaks illegal ones.
package rawpeer

import (
	"bufio"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
)

// Opcodes of RFC 6455 §5.2.
const (
	OpText   = 0x1
	OpBinary = 0x2
	OpClose  = 0x8
	OpPing   = 0x9
	OpPong   = 0xA
)

// Conn is one side of a connection after the opening handshake.
type Conn struct {
	net.Conn
	br     *bufio.Reader
	client bool // we are the client: we mask, the peer must not
}

// acceptKey is Sec-WebSocket-Accept for key (RFC 6455 §4.2.2).
func acceptKey(key string) string {
	h := sha1.Sum([]byte(key + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"))
	return base64.StdEncoding.EncodeToString(h[:])
}

// Dial performs the client handshake of RFC 6455 §4.1 on c for path, with
// an optional Sec-WebSocket-Extensions offer, and checks the answer.
func Dial(c net.Conn, host, path, extensions string) (*Conn, *http.Response, error) {
	var nonce [16]byte
	_, _ = rand.Read(nonce[:])
	key := base64.StdEncoding.EncodeToString(nonce[:])
	req := "GET " + path + " HTTP/1.1\r\nHost: " + host + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n"
	if extensions != "" {
		req += "Sec-WebSocket-Extensions: " + extensions + "\r\n"
	}
	if _, err := io.WriteString(c, req+"\r\n"); err != nil {
		return nil, nil, err
	}
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	if err != nil {
		return nil, nil, err
	}
	if resp.StatusCode != http.StatusSwitchingProtocols || resp.Header.Get("Sec-WebSocket-Accept") != acceptKey(key) {
		return nil, resp, fmt.Errorf("rawpeer: handshake answered %s, accept %q", resp.Status, resp.Header.Get("Sec-WebSocket-Accept"))
	}
	return &Conn{Conn: c, br: br, client: true}, resp, nil
}

// Accept reads a client handshake from c and answers it with 101 (RFC 6455
// §4.2.2), without extensions. It returns the request.
func Accept(c net.Conn) (*Conn, *http.Request, error) {
	br := bufio.NewReader(c)
	req, err := http.ReadRequest(br)
	if err != nil {
		return nil, nil, err
	}
	key := req.Header.Get("Sec-WebSocket-Key")
	if !strings.EqualFold(req.Header.Get("Upgrade"), "websocket") || key == "" {
		return nil, req, errors.New("rawpeer: not a WebSocket handshake")
	}
	resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(key) + "\r\n\r\n"
	if _, err := io.WriteString(c, resp); err != nil {
		return nil, req, err
	}
	return &Conn{Conn: c, br: br}, req, nil
}

// WriteFrame writes one final frame, masked when we are the client.
func (c *Conn) WriteFrame(op byte, payload []byte) error {
	b := []byte{0x80 | op}
	var m byte
	if c.client {
		m = 0x80
	}
	switch n := len(payload); {
	case n < 126:
		b = append(b, m|byte(n))
	case n <= 0xffff:
		b = binary.BigEndian.AppendUint16(append(b, m|126), uint16(n))
	default:
		b = binary.BigEndian.AppendUint64(append(b, m|127), uint64(n))
	}
	start := len(b)
	var key [4]byte
	if c.client {
		_, _ = rand.Read(key[:])
		b = append(b, key[:]...)
		start += 4
	}
	b = append(b, payload...)
	for i := range payload {
		b[start+i] ^= key[i&3]
	}
	_, err := c.Write(b)
	return err
}

// WriteClose writes a close frame with code and reason.
func (c *Conn) WriteClose(code uint16, reason string) error {
	return c.WriteFrame(OpClose, append(binary.BigEndian.AppendUint16(nil, code), reason...))
}

// ReadFrame reads one unfragmented frame and checks its masking and
// reserved bits. For a close frame, payload holds the payload as sent.
func (c *Conn) ReadFrame() (op byte, payload []byte, err error) {
	var h [2]byte
	if _, err := io.ReadFull(c.br, h[:]); err != nil {
		return 0, nil, err
	}
	if h[0]&0x70 != 0 || h[0]&0x80 == 0 {
		return 0, nil, fmt.Errorf("rawpeer: frame byte 0 is %#x: RSV bits or a fragment", h[0])
	}
	if masked := h[1]&0x80 != 0; masked == c.client {
		return 0, nil, fmt.Errorf("rawpeer: masked=%v from the other side", masked)
	}
	n := uint64(h[1] & 0x7f)
	switch n {
	case 126:
		var x [2]byte
		if _, err := io.ReadFull(c.br, x[:]); err != nil {
			return 0, nil, err
		}
		n = uint64(binary.BigEndian.Uint16(x[:]))
	case 127:
		var x [8]byte
		if _, err := io.ReadFull(c.br, x[:]); err != nil {
			return 0, nil, err
		}
		n = binary.BigEndian.Uint64(x[:])
	}
	var key [4]byte
	if !c.client {
		if _, err := io.ReadFull(c.br, key[:]); err != nil {
			return 0, nil, err
		}
	}
	if n > 64<<20 {
		return 0, nil, fmt.Errorf("rawpeer: frame of %d bytes", n)
	}
	payload = make([]byte, n)
	if _, err := io.ReadFull(c.br, payload); err != nil {
		return 0, nil, err
	}
	for i := range payload {
		payload[i] ^= key[i&3]
	}
	return h[0] & 0x0f, payload, nil
}

// CloseCode returns the status code of a close payload, or 1005 when it
// has none.
func CloseCode(payload []byte) int {
	if len(payload) < 2 {
		return 1005
	}
	return int(binary.BigEndian.Uint16(payload))
}
