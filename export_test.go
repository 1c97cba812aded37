package websocket

import (
	"bufio"
	"io"
	"strings"
)

// Helpers only the tests use: the library reads headers through its own
// resumable reader and never writes a Sec-WebSocket-Extensions value from
// parsed offers.

// readFrameHeader reads one header from br into h. It consumes nothing until
// the whole header is buffered, so a read that fails on a deadline can be
// retried and resumes where it stopped. br's buffer must hold at least
// maxFrameHeaderSize bytes. A stream that ends cleanly before the header
// starts returns io.EOF; one that ends inside it returns io.ErrUnexpectedEOF.
func readFrameHeader(br *bufio.Reader, rules headerRules, h *frameHeader) error {
	b, err := br.Peek(2)
	if err != nil {
		return eofInside(len(b), err)
	}
	size := frameHeaderSize(b[1])
	if b, err = br.Peek(size); err != nil {
		return eofInside(len(b), err)
	}
	if _, err := parseFrameHeader(b, rules, h); err != nil {
		return err
	}
	_, err = br.Discard(size)
	return err
}

// eofInside turns io.EOF into io.ErrUnexpectedEOF when n bytes of a header
// had already arrived.
func eofInside(n int, err error) error {
	if err == io.EOF && n > 0 {
		return io.ErrUnexpectedEOF
	}
	return err
}

// formatExtensions writes offers as one Sec-WebSocket-Extensions value, the
// form a handshake answer or offer carries. Every name and value must be a
// token (parseExtensions guarantees it); values are written bare.
func formatExtensions(offers []extensionOffer) string {
	var b strings.Builder
	for i, o := range offers {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(o.name)
		for _, p := range o.params {
			b.WriteString("; ")
			b.WriteString(p.name)
			if p.hasValue {
				b.WriteByte('=')
				b.WriteString(p.value)
			}
		}
	}
	return b.String()
}
