package websocket

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
)

// This file watches the first frame an HTTP/2 server sends, its SETTINGS
// (RFC 9113 §3.4), for SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3), so
// that the Dialer learns whether the server takes WebSockets over HTTP/2
// before it sends a request.

// HTTP/2 framing constants (RFC 9113 §4.1, §6.5, §6.5.2; RFC 8441 §3).
const (
	h2FrameHeaderLen       = 9
	h2FrameSettings        = 0x4
	h2FlagAck              = 0x1
	h2SettingLen           = 6
	h2SettingEnableConnect = 0x8
	h2DefaultMaxFrameSize  = 1 << 14 // the largest frame a peer may send before SETTINGS say otherwise
)

// settingsSniffer is a net.Conn that passes everything through and looks
// at the first frame the server sends. The HTTP/2 client reads through it
// from one goroutine; others learn the result from done.
type settingsSniffer struct {
	net.Conn
	buf     []byte        // the first frame, as far as it has come
	done    chan struct{} // closed once the first frame was seen, or reading failed first
	allowed bool          // the first SETTINGS enable extended CONNECT; valid once done is closed
	err     error         // why no SETTINGS could be seen; valid once done is closed
}

func newSettingsSniffer(c net.Conn) *settingsSniffer {
	return &settingsSniffer{Conn: c, done: make(chan struct{})}
}

// Read reads from the connection and looks at what it returns until the
// first frame is complete.
func (s *settingsSniffer) Read(p []byte) (int, error) {
	n, err := s.Conn.Read(p)
	if !isDone(s.done) {
		s.observe(p[:n], err)
	}
	return n, err
}

// observe adds b, just read, to the first frame; err is the read's error.
func (s *settingsSniffer) observe(b []byte, err error) {
	s.buf = append(s.buf, b...)
	if len(s.buf) >= h2FrameHeaderLen {
		length := int(s.buf[0])<<16 | int(s.buf[1])<<8 | int(s.buf[2])
		typ, flags := s.buf[3], s.buf[4]
		switch {
		case typ != h2FrameSettings || flags&h2FlagAck != 0:
			s.finish(false, fmt.Errorf("the server's first HTTP/2 frame is of type %#x, not SETTINGS", typ))
			return
		case length > h2DefaultMaxFrameSize || length%h2SettingLen != 0:
			s.finish(false, fmt.Errorf("the server's first SETTINGS frame has a bad length %d", length))
			return
		case len(s.buf) >= h2FrameHeaderLen+length:
			s.finish(enablesConnect(s.buf[h2FrameHeaderLen:h2FrameHeaderLen+length]), nil)
			return
		}
	}
	if err != nil {
		s.finish(false, fmt.Errorf("before the server's SETTINGS arrived: %w", err))
	}
}

// finish publishes the result and drops the buffer.
func (s *settingsSniffer) finish(allowed bool, err error) {
	s.allowed, s.err = allowed, err
	s.buf = nil
	close(s.done)
}

// enablesConnect reports whether the SETTINGS payload p sets
// SETTINGS_ENABLE_CONNECT_PROTOCOL to 1; the last value of a setting wins
// (RFC 9113 §6.5.3 processes them in order).
func enablesConnect(p []byte) bool {
	on := false
	for ; len(p) >= h2SettingLen; p = p[h2SettingLen:] {
		if binary.BigEndian.Uint16(p) == h2SettingEnableConnect {
			on = binary.BigEndian.Uint32(p[2:]) == 1
		}
	}
	return on
}

// errNoExtendedConnect reports a server that speaks HTTP/2 but did not
// enable extended CONNECT in its SETTINGS, so it cannot carry a WebSocket
// over HTTP/2.
var errNoExtendedConnect = errors.New("the server does not allow WebSockets over HTTP/2: its SETTINGS lack SETTINGS_ENABLE_CONNECT_PROTOCOL (RFC 8441 §3)")

func isDone(c chan struct{}) bool {
	select {
	case <-c:
		return true
	default:
		return false
	}
}
