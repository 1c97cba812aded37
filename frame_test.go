package websocket

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"math"
	"math/rand/v2"
	"net"
	"strings"
	"testing"
	"testing/iotest"
)

// The four rule sets a header can be read under: which side reads it, and
// whether permessage-deflate gave RSV1 a meaning.
var (
	rulesServer        = headerRules{fromClient: true}
	rulesClient        = headerRules{fromClient: false}
	rulesServerDeflate = headerRules{fromClient: true, allowedRSV: rsv1Bit}
	rulesClientDeflate = headerRules{fromClient: false, allowedRSV: rsv1Bit}
	allRules           = []headerRules{rulesServer, rulesClient, rulesServerDeflate, rulesClientDeflate}
)

// testKey is the masking key whose wire bytes are 01 02 03 04.
const testKey = 0x04030201

// wireHeaderCase is one valid header, its exact wire bytes, and the rules
// it is read under.
type wireHeaderCase struct {
	name  string
	wire  string
	rules headerRules
	h     frameHeader
}

// validHeaderCases covers every length form at its boundaries, masked and
// not, every defined opcode, fragments, and RSV1 where deflate allows it.
var validHeaderCases = []wireHeaderCase{
	// 7-bit length.
	{"text/0", "\x81\x00", rulesClient, frameHeader{fin: true, opcode: opText}},
	{"text/0/masked", "\x81\x80\x01\x02\x03\x04", rulesServer, frameHeader{fin: true, opcode: opText, masked: true, key: testKey}},
	{"text/5", "\x81\x05", rulesClient, frameHeader{fin: true, opcode: opText, length: 5}},
	{"text/5/masked", "\x81\x85\x01\x02\x03\x04", rulesServer, frameHeader{fin: true, opcode: opText, masked: true, key: testKey, length: 5}},
	{"binary/125", "\x82\x7d", rulesClient, frameHeader{fin: true, opcode: opBinary, length: 125}},
	{"binary/125/masked", "\x82\xfd\x01\x02\x03\x04", rulesServer, frameHeader{fin: true, opcode: opBinary, masked: true, key: testKey, length: 125}},
	// 16-bit length.
	{"binary/126", "\x82\x7e\x00\x7e", rulesClient, frameHeader{fin: true, opcode: opBinary, length: 126}},
	{"binary/126/masked", "\x82\xfe\x00\x7e\x01\x02\x03\x04", rulesServer, frameHeader{fin: true, opcode: opBinary, masked: true, key: testKey, length: 126}},
	{"binary/65535", "\x82\x7e\xff\xff", rulesClient, frameHeader{fin: true, opcode: opBinary, length: 65535}},
	{"binary/65535/masked", "\x82\xfe\xff\xff\x01\x02\x03\x04", rulesServer, frameHeader{fin: true, opcode: opBinary, masked: true, key: testKey, length: 65535}},
	// 64-bit length.
	{"binary/65536", "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00", rulesClient, frameHeader{fin: true, opcode: opBinary, length: 65536}},
	{"binary/65536/masked", "\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00\x01\x02\x03\x04", rulesServer, frameHeader{fin: true, opcode: opBinary, masked: true, key: testKey, length: 65536}},
	{"binary/max", "\x82\x7f\x7f\xff\xff\xff\xff\xff\xff\xff", rulesClient, frameHeader{fin: true, opcode: opBinary, length: math.MaxInt64}},
	{"binary/max/masked", "\x82\xff\x7f\xff\xff\xff\xff\xff\xff\xff\x01\x02\x03\x04", rulesServer, frameHeader{fin: true, opcode: opBinary, masked: true, key: testKey, length: math.MaxInt64}},
	// Fragments: first, middle, last.
	{"text/first", "\x01\x03", rulesClient, frameHeader{opcode: opText, length: 3}},
	{"binary/first/masked", "\x02\x83\x01\x02\x03\x04", rulesServer, frameHeader{opcode: opBinary, masked: true, key: testKey, length: 3}},
	{"continuation/middle", "\x00\x7e\x01\x00", rulesClient, frameHeader{opcode: opContinuation, length: 256}},
	{"continuation/last/masked", "\x80\x82\x01\x02\x03\x04", rulesServer, frameHeader{fin: true, opcode: opContinuation, masked: true, key: testKey, length: 2}},
	// Control frames, up to 125 bytes.
	{"close/2", "\x88\x02", rulesClient, frameHeader{fin: true, opcode: opClose, length: 2}},
	{"close/125/masked", "\x88\xfd\x01\x02\x03\x04", rulesServer, frameHeader{fin: true, opcode: opClose, masked: true, key: testKey, length: 125}},
	{"ping/0", "\x89\x00", rulesClient, frameHeader{fin: true, opcode: opPing}},
	{"ping/125/masked", "\x89\xfd\xff\xfe\xfd\xfc", rulesServer, frameHeader{fin: true, opcode: opPing, masked: true, key: 0xfcfdfeff, length: 125}},
	{"pong/125", "\x8a\x7d", rulesClient, frameHeader{fin: true, opcode: opPong, length: 125}},
	{"pong/0/masked", "\x8a\x80\x01\x02\x03\x04", rulesServer, frameHeader{fin: true, opcode: opPong, masked: true, key: testKey}},
	// RFC 7692 §6: RSV1 on the first frame of a data message.
	{"text/rsv1", "\xc1\x05", rulesClientDeflate, frameHeader{fin: true, rsv: rsv1Bit, opcode: opText, length: 5}},
	{"binary/rsv1/first/masked", "\x42\xfe\x01\x00\x01\x02\x03\x04", rulesServerDeflate, frameHeader{rsv: rsv1Bit, opcode: opBinary, masked: true, key: testKey, length: 256}},
	{"continuation/deflate", "\x80\x05", rulesClientDeflate, frameHeader{fin: true, opcode: opContinuation, length: 5}},
	{"ping/deflate/masked", "\x89\x80\x01\x02\x03\x04", rulesServerDeflate, frameHeader{fin: true, opcode: opPing, masked: true, key: testKey}},
}

func TestPutFrameHeaderWire(t *testing.T) {
	for _, tc := range validHeaderCases {
		t.Run(tc.name, func(t *testing.T) {
			var buf [maxFrameHeaderSize]byte
			n := putFrameHeader(buf[:], &tc.h)
			if got := string(buf[:n]); got != tc.wire {
				t.Fatalf("putFrameHeader = %q, want %q", got, tc.wire)
			}
			if size := putFrameHeaderSize(&tc.h); size != n {
				t.Fatalf("putFrameHeaderSize = %d, putFrameHeader wrote %d", size, n)
			}
		})
	}
}

func TestParseFrameHeaderWire(t *testing.T) {
	const payload = "payload"
	for _, tc := range validHeaderCases {
		t.Run(tc.name, func(t *testing.T) {
			var h frameHeader
			n, err := parseFrameHeader([]byte(tc.wire+payload), tc.rules, &h)
			if err != nil || n != len(tc.wire) {
				t.Fatalf("parseFrameHeader = %d, %v; want %d, nil", n, err, len(tc.wire))
			}
			if h != tc.h {
				t.Fatalf("parseFrameHeader decoded %+v, want %+v", h, tc.h)
			}
		})
	}
}

func TestReadFrameHeaderWire(t *testing.T) {
	const payload = "payload"
	for _, tc := range validHeaderCases {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tc.wire + payload))
			var h frameHeader
			if err := readFrameHeader(br, tc.rules, &h); err != nil {
				t.Fatalf("readFrameHeader: %v", err)
			}
			if h != tc.h {
				t.Fatalf("readFrameHeader decoded %+v, want %+v", h, tc.h)
			}
			rest, _ := io.ReadAll(br)
			if string(rest) != payload {
				t.Fatalf("after the header the reader holds %q, want %q", rest, payload)
			}
		})
	}
}

// TestFrameHeaderRFCExamples decodes the frames of RFC 6455 §5.7 and
// rebuilds them byte for byte, payload masking included.
func TestFrameHeaderRFCExamples(t *testing.T) {
	hello := []byte("Hello")
	tests := []struct {
		name    string
		wire    string
		rules   headerRules
		payload []byte
	}{
		{"unmasked text", "\x81\x05\x48\x65\x6c\x6c\x6f", rulesClient, hello},
		{"masked text", "\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", rulesServer, hello},
		{"first fragment", "\x01\x03\x48\x65\x6c", rulesClient, []byte("Hel")},
		{"last fragment", "\x80\x02\x6c\x6f", rulesClient, []byte("lo")},
		{"unmasked ping", "\x89\x05\x48\x65\x6c\x6c\x6f", rulesClient, hello},
		{"masked pong", "\x8a\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58", rulesServer, hello},
		{"256 bytes binary", "\x82\x7e\x01\x00" + strings.Repeat("\xaa", 256), rulesClient, bytes.Repeat([]byte{0xaa}, 256)},
		{"64KiB binary", "\x82\x7f\x00\x00\x00\x00\x00\x01\x00\x00" + strings.Repeat("\x55", 65536), rulesClient, bytes.Repeat([]byte{0x55}, 65536)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReader(strings.NewReader(tc.wire))
			h, payload, err := readTestFrame(br, tc.rules)
			if err != nil {
				t.Fatalf("readTestFrame: %v", err)
			}
			if !bytes.Equal(payload, tc.payload) {
				t.Fatalf("payload = %q, want %q", payload, tc.payload)
			}
			if got := string(appendTestFrame(nil, h, payload)); got != tc.wire {
				t.Fatalf("appendTestFrame = %q, want %q", got, tc.wire)
			}
		})
	}
}

// appendTestFrame appends a whole frame to dst: h's header, then payload,
// masked with h.key when h.masked is set. h.length is taken from payload. It
// builds arbitrary frames, invalid ones included, for tests that speak raw
// bytes to a peer.
func appendTestFrame(dst []byte, h frameHeader, payload []byte) []byte {
	h.length = int64(len(payload))
	var hdr [maxFrameHeaderSize]byte
	dst = append(dst, hdr[:putFrameHeader(hdr[:], &h)]...)
	start := len(dst)
	dst = append(dst, payload...)
	if h.masked {
		maskBytes(h.key, 0, dst[start:])
	}
	return dst
}

// readTestFrame reads one whole frame from br under rules and returns its
// header and unmasked payload. Frames longer than 1 MiB are refused, so a
// test reading a misbehaving peer cannot be made to allocate without bound.
func readTestFrame(br *bufio.Reader, rules headerRules) (frameHeader, []byte, error) {
	const maxTestPayload = 1 << 20
	var h frameHeader
	if err := readFrameHeader(br, rules, &h); err != nil {
		return h, nil, err
	}
	if h.length > maxTestPayload {
		return h, nil, errors.New("test frame payload larger than 1 MiB")
	}
	payload := make([]byte, h.length)
	if _, err := io.ReadFull(br, payload); err != nil {
		if err == io.EOF {
			err = io.ErrUnexpectedEOF // the header promised a payload
		}
		return h, nil, err
	}
	if h.masked {
		maskBytes(h.key, 0, payload)
	}
	return h, payload, nil
}

// rejectCase is a header that must fail the connection with err.
type rejectCase struct {
	name  string
	wire  string
	rules headerRules
	err   error
}

// rejectHeaderCases lists every header violation parseFrameHeader detects.
func rejectHeaderCases() []rejectCase {
	cases := []rejectCase{
		// RFC 6455 §5.2: reserved bits without an extension, each alone.
		{"rsv1", "\xc1\x00", rulesClient, errReservedBits},
		{"rsv2", "\xa1\x00", rulesClient, errReservedBits},
		{"rsv3", "\x91\x00", rulesClient, errReservedBits},
		{"rsv1/masked", "\xc2\x80\x01\x02\x03\x04", rulesServer, errReservedBits},
		// Deflate defines RSV1 only.
		{"rsv2/deflate", "\xa1\x00", rulesClientDeflate, errReservedBits},
		{"rsv3/deflate", "\x91\x00", rulesClientDeflate, errReservedBits},
		// RFC 7692 §6: RSV1 only on the first frame of a data message.
		{"rsv1/close/deflate", "\xc8\x00", rulesClientDeflate, errRSV1Control},
		{"rsv1/ping/deflate", "\xc9\x80\x01\x02\x03\x04", rulesServerDeflate, errRSV1Control},
		{"rsv1/pong/deflate", "\xca\x00", rulesClientDeflate, errRSV1Control},
		{"rsv1/continuation/deflate", "\x40\x05", rulesClientDeflate, errRSV1Continuation},
		{"rsv1/continuation/last/deflate", "\xc0\x85\x01\x02\x03\x04", rulesServerDeflate, errRSV1Continuation},
		// RFC 6455 §5.5: control frames are whole and short.
		{"close/fragmented", "\x08\x00", rulesClient, errFragmentedControl},
		{"ping/fragmented", "\x09\x80\x01\x02\x03\x04", rulesServer, errFragmentedControl},
		{"pong/fragmented", "\x0a\x00", rulesClient, errFragmentedControl},
		{"close/126", "\x88\x7e\x00\x7e", rulesClient, errControlTooLong},
		{"ping/126/masked", "\x89\xfe\x00\x7e\x01\x02\x03\x04", rulesServer, errControlTooLong},
		{"pong/65536", "\x8a\x7f\x00\x00\x00\x00\x00\x01\x00\x00", rulesClient, errControlTooLong},
		// RFC 6455 §5.2: the 64-bit length has its top bit clear.
		{"length/top bit", "\x82\x7f\x80\x00\x00\x00\x00\x00\x00\x00", rulesClient, errLengthHighBit},
		{"length/all ones", "\x82\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01\x02\x03\x04", rulesServer, errLengthHighBit},
		// RFC 6455 §5.2: the shortest length form.
		{"length16/0", "\x82\x7e\x00\x00", rulesClient, errLengthNotMinimal},
		{"length16/125", "\x82\x7e\x00\x7d", rulesClient, errLengthNotMinimal},
		{"length16/125/masked", "\x82\xfe\x00\x7d\x01\x02\x03\x04", rulesServer, errLengthNotMinimal},
		{"length64/0", "\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x00", rulesClient, errLengthNotMinimal},
		{"length64/125", "\x82\x7f\x00\x00\x00\x00\x00\x00\x00\x7d", rulesClient, errLengthNotMinimal},
		{"length64/65535", "\x82\x7f\x00\x00\x00\x00\x00\x00\xff\xff", rulesClient, errLengthNotMinimal},
		{"length64/5/ping", "\x89\x7f\x00\x00\x00\x00\x00\x00\x00\x05", rulesClient, errLengthNotMinimal},
		// RFC 6455 §5.1: clients mask, servers do not.
		{"unmasked from client", "\x81\x05", rulesServer, errUnmaskedClient},
		{"unmasked close from client", "\x88\x00", rulesServerDeflate, errUnmaskedClient},
		{"masked from server", "\x81\x85\x01\x02\x03\x04", rulesClient, errMaskedServer},
		{"masked ping from server", "\x89\x80\x01\x02\x03\x04", rulesClientDeflate, errMaskedServer},
	}
	// RFC 6455 §5.2: opcodes 3–7 and 0xB–0xF are reserved, with or without
	// FIN, under every rule set.
	for _, op := range []byte{3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf} {
		name := opcode(op).String()
		cases = append(cases,
			rejectCase{name, string([]byte{finBit | op, 0x00}), rulesClient, errReservedOpcode},
			rejectCase{name + "/first", string([]byte{op, 0x05}), rulesClientDeflate, errReservedOpcode},
			rejectCase{name + "/masked", string([]byte{finBit | op, maskBit, 1, 2, 3, 4}), rulesServer, errReservedOpcode},
		)
	}
	return cases
}

// checkProtocolError fails t unless err is want and carries close code 1002.
func checkProtocolError(t *testing.T, err, want error) {
	t.Helper()
	if err != want {
		t.Fatalf("error = %v, want %v", err, want)
	}
	if !errors.Is(err, ErrProtocol) {
		t.Fatalf("errors.Is(%v, ErrProtocol) = false", err)
	}
	if code, ok := closeCode(err); !ok || code != StatusProtocolError {
		t.Fatalf("closeCode(%v) = %v, %v; want %v, true", err, code, ok, StatusProtocolError)
	}
}

func TestParseFrameHeaderRejects(t *testing.T) {
	for _, tc := range rejectHeaderCases() {
		t.Run(tc.name, func(t *testing.T) {
			sentinel := frameHeader{length: -42}
			h := sentinel
			n, err := parseFrameHeader([]byte(tc.wire), tc.rules, &h)
			if n != 0 {
				t.Errorf("parseFrameHeader returned size %d with an error", n)
			}
			checkProtocolError(t, err, tc.err)
			if h != sentinel {
				t.Errorf("parseFrameHeader wrote %+v on failure", h)
			}
		})
	}
}

func TestReadFrameHeaderRejects(t *testing.T) {
	for _, tc := range rejectHeaderCases() {
		t.Run(tc.name, func(t *testing.T) {
			br := bufio.NewReader(iotest.OneByteReader(strings.NewReader(tc.wire)))
			var h frameHeader
			checkProtocolError(t, readFrameHeader(br, tc.rules, &h), tc.err)
		})
	}
}

// TestParseFrameHeaderRSV1Data checks that deflate's RSV1 is accepted on the
// first frame of text and binary messages, fragmented or not, and that the
// same headers fail without deflate.
func TestParseFrameHeaderRSV1Data(t *testing.T) {
	for _, wire := range []string{"\xc1\x05", "\x41\x05", "\xc2\x7e\x01\x00", "\x42\x00"} {
		var h frameHeader
		n, err := parseFrameHeader([]byte(wire), rulesClientDeflate, &h)
		if err != nil || n != len(wire) {
			t.Fatalf("%q with deflate: parseFrameHeader = %d, %v; want %d, nil", wire, n, err, len(wire))
		}
		if h.rsv != rsv1Bit {
			t.Fatalf("%q with deflate: rsv = %#x, want %#x", wire, h.rsv, rsv1Bit)
		}
		_, err = parseFrameHeader([]byte(wire), rulesClient, &h)
		checkProtocolError(t, err, errReservedBits)
	}
}

// TestParseFrameHeaderPrefix checks that every strict prefix of a header,
// valid or not, asks for more bytes instead of failing or guessing.
func TestParseFrameHeaderPrefix(t *testing.T) {
	wires := make(map[string]headerRules)
	for _, tc := range validHeaderCases {
		wires[tc.wire] = tc.rules
	}
	for _, tc := range rejectHeaderCases() {
		wires[tc.wire] = tc.rules
	}
	for wire, rules := range wires {
		for i := range len(wire) {
			var h frameHeader
			if n, err := parseFrameHeader([]byte(wire[:i]), rules, &h); n != 0 || err != nil {
				t.Fatalf("parseFrameHeader(%q) = %d, %v; want 0, nil", wire[:i], n, err)
			}
			if h != (frameHeader{}) {
				t.Fatalf("parseFrameHeader(%q) wrote %+v", wire[:i], h)
			}
		}
	}
}

// timeoutError is the error a transport returns when its deadline expires.
type timeoutError struct{}

func (timeoutError) Error() string   { return "test: i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

var _ net.Error = timeoutError{}

// tricklingReader delivers src one byte per Read, but only the first avail
// bytes of it; past them each Read fails with a timeout, as a connection
// whose deadline expired does, until avail grows.
type tricklingReader struct {
	src   string
	pos   int
	avail int
}

func (r *tricklingReader) Read(p []byte) (int, error) {
	if r.pos >= r.avail || r.pos >= len(r.src) {
		if r.pos >= len(r.src) {
			return 0, io.EOF
		}
		return 0, timeoutError{}
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.src[r.pos]
	r.pos++
	return 1, nil
}

// TestReadFrameHeaderResumes reads each header over a connection that
// delivers one more byte between deadline expiries: every read short of the
// full header fails with the timeout and consumes nothing, and the read
// after the last byte arrives decodes the header and leaves the payload.
func TestReadFrameHeaderResumes(t *testing.T) {
	const payload = "xyz"
	for _, tc := range validHeaderCases {
		t.Run(tc.name, func(t *testing.T) {
			src := &tricklingReader{src: tc.wire + payload}
			br := bufio.NewReader(src)
			var h frameHeader
			for src.avail = 0; src.avail < len(tc.wire); src.avail++ {
				err := readFrameHeader(br, tc.rules, &h)
				var ne net.Error
				if !errors.As(err, &ne) || !ne.Timeout() {
					t.Fatalf("with %d of %d header bytes: error = %v, want a timeout", src.avail, len(tc.wire), err)
				}
				if br.Buffered() != src.avail {
					t.Fatalf("with %d header bytes: %d buffered, want all of them kept", src.avail, br.Buffered())
				}
				if h != (frameHeader{}) {
					t.Fatalf("with %d header bytes: header written: %+v", src.avail, h)
				}
			}
			src.avail = len(src.src)
			if err := readFrameHeader(br, tc.rules, &h); err != nil {
				t.Fatalf("after the whole header arrived: %v", err)
			}
			if h != tc.h {
				t.Fatalf("decoded %+v, want %+v", h, tc.h)
			}
			rest, err := io.ReadAll(br)
			if err != nil || string(rest) != payload {
				t.Fatalf("after the header: %q, %v; want %q, nil", rest, err, payload)
			}
		})
	}
}

// TestReadFrameHeaderEOF checks that a stream ending before a header is a
// clean io.EOF and one ending inside a header is io.ErrUnexpectedEOF, whether
// the end comes alone or with the last bytes.
func TestReadFrameHeaderEOF(t *testing.T) {
	readers := map[string]func(string) io.Reader{
		"whole":        func(s string) io.Reader { return strings.NewReader(s) },
		"one byte":     func(s string) io.Reader { return iotest.OneByteReader(strings.NewReader(s)) },
		"data and EOF": func(s string) io.Reader { return iotest.DataErrReader(strings.NewReader(s)) },
	}
	for name, newReader := range readers {
		t.Run(name, func(t *testing.T) {
			var h frameHeader
			if err := readFrameHeader(bufio.NewReader(newReader("")), rulesClient, &h); err != io.EOF {
				t.Fatalf("empty stream: error = %v, want io.EOF", err)
			}
			for _, tc := range validHeaderCases {
				for i := 1; i < len(tc.wire); i++ {
					err := readFrameHeader(bufio.NewReader(newReader(tc.wire[:i])), tc.rules, &h)
					if err != io.ErrUnexpectedEOF {
						t.Fatalf("%s cut after %d bytes: error = %v, want io.ErrUnexpectedEOF", tc.name, i, err)
					}
				}
			}
		})
	}
}

// randomFrameHeader returns a header that is valid under rules, with
// lengths drawn from every form and its boundaries.
func randomFrameHeader(r *rand.Rand, rules headerRules) frameHeader {
	ops := []opcode{opContinuation, opText, opBinary, opClose, opPing, opPong}
	h := frameHeader{
		fin:    r.IntN(2) == 0,
		opcode: ops[r.IntN(len(ops))],
		masked: rules.fromClient,
	}
	if h.masked {
		h.key = r.Uint32()
	}
	if h.opcode.isControl() {
		h.fin = true
		h.length = r.Int64N(maxControlPayload + 1)
		return h
	}
	if rules.allowedRSV&rsv1Bit != 0 && h.opcode != opContinuation && r.IntN(2) == 0 {
		h.rsv = rsv1Bit
	}
	switch r.IntN(6) {
	case 0:
		h.length = r.Int64N(126)
	case 1:
		h.length = 126 + r.Int64N(0x10000-126)
	case 2:
		h.length = 0x10000 + r.Int64N(math.MaxInt64-0x10000) + 1
	default:
		boundaries := []int64{0, 125, 126, 127, 0xfffe, 0xffff, 0x10000, 0x10001, 1<<32 - 1, 1 << 32, math.MaxInt64 - 1, math.MaxInt64}
		h.length = boundaries[r.IntN(len(boundaries))]
	}
	return h
}

// TestFrameHeaderRoundTrip writes random valid headers, reads them back
// with parseFrameHeader and readFrameHeader, and writes them again: the
// header and the bytes must survive unchanged.
func TestFrameHeaderRoundTrip(t *testing.T) {
	r := rand.New(rand.NewPCG(6455, 7692))
	var stream bytes.Buffer
	type written struct {
		h     frameHeader
		rules headerRules
	}
	var all []written
	for range 5000 {
		rules := allRules[r.IntN(len(allRules))]
		h := randomFrameHeader(r, rules)
		var wire, again [maxFrameHeaderSize]byte
		n := putFrameHeader(wire[:], &h)
		var got frameHeader
		m, err := parseFrameHeader(wire[:n], rules, &got)
		if err != nil || m != n || got != h {
			t.Fatalf("%+v: parseFrameHeader(%q) = %d, %v, %+v", h, wire[:n], m, err, got)
		}
		if k := putFrameHeader(again[:], &got); !bytes.Equal(again[:k], wire[:n]) {
			t.Fatalf("%+v: rewritten as %q, first written as %q", h, again[:k], wire[:n])
		}
		stream.Write(wire[:n])
		all = append(all, written{h, rules})
	}
	// The same headers back to back through one bufio.Reader.
	br := bufio.NewReaderSize(&stream, 16)
	for i, w := range all {
		var got frameHeader
		if err := readFrameHeader(br, w.rules, &got); err != nil || got != w.h {
			t.Fatalf("header %d: readFrameHeader = %+v, %v; want %+v", i, got, err, w.h)
		}
	}
	var h frameHeader
	if err := readFrameHeader(br, rulesClient, &h); err != io.EOF {
		t.Fatalf("after the last header: %v, want io.EOF", err)
	}
}

// TestFrameHeaderAllocs checks that the codec allocates nothing: it runs
// once per frame.
func TestFrameHeaderAllocs(t *testing.T) {
	wire := []byte("\x82\xff\x00\x00\x00\x00\x00\x01\x00\x00\x01\x02\x03\x04")
	var h frameHeader
	var buf [maxFrameHeaderSize]byte
	src := bytes.NewReader(wire)
	br := bufio.NewReader(src)

	tests := []struct {
		name string
		fn   func()
	}{
		{"parseFrameHeader", func() {
			if _, err := parseFrameHeader(wire, rulesServer, &h); err != nil {
				t.Fatal(err)
			}
		}},
		{"parseFrameHeader/error", func() {
			if _, err := parseFrameHeader(wire, rulesClient, &h); err == nil {
				t.Fatal("masked header from a server accepted")
			}
		}},
		{"readFrameHeader", func() {
			src.Reset(wire)
			br.Reset(src)
			if err := readFrameHeader(br, rulesServer, &h); err != nil {
				t.Fatal(err)
			}
		}},
		{"putFrameHeader", func() { putFrameHeader(buf[:], &h) }},
	}
	for _, tc := range tests {
		if got := testing.AllocsPerRun(100, tc.fn); got != 0 {
			t.Errorf("%s: %v allocations per run, want 0", tc.name, got)
		}
	}
}

// FuzzFrameHeader feeds arbitrary bytes to parseFrameHeader under each rule
// set. An accepted header must obey RFC 6455 §5 and re-encode to exactly the
// bytes it came from (only shortest length forms are accepted, so the
// encoding is canonical), and readFrameHeader must agree with it.
func FuzzFrameHeader(f *testing.F) {
	for _, tc := range validHeaderCases {
		f.Add([]byte(tc.wire))
	}
	for _, tc := range rejectHeaderCases() {
		f.Add([]byte(tc.wire))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, rules := range allRules {
			var h frameHeader
			n, err := parseFrameHeader(data, rules, &h)
			src := bytes.NewReader(data)
			br := bufio.NewReaderSize(src, 16)
			var rh frameHeader
			rerr := readFrameHeader(br, rules, &rh)
			switch {
			case err != nil:
				if n != 0 {
					t.Fatalf("%+v: size %d with error %v", rules, n, err)
				}
				if code, ok := closeCode(err); !ok || code != StatusProtocolError || !errors.Is(err, ErrProtocol) {
					t.Fatalf("%+v: error %v has close code %v, %v; want 1002", rules, err, code, ok)
				}
				if rerr != err {
					t.Fatalf("%+v: readFrameHeader error %v, parseFrameHeader error %v", rules, rerr, err)
				}
			case n == 0:
				if len(data) >= 2 && len(data) >= frameHeaderSize(data[1]) {
					t.Fatalf("%+v: %d bytes hold a whole header, yet parse asked for more", rules, len(data))
				}
				if rerr != io.EOF && rerr != io.ErrUnexpectedEOF {
					t.Fatalf("%+v: readFrameHeader on a prefix: %v", rules, rerr)
				}
			default:
				checkFrameHeaderInvariants(t, rules, &h)
				var buf [maxFrameHeaderSize]byte
				if m := putFrameHeader(buf[:], &h); !bytes.Equal(buf[:m], data[:n]) {
					t.Fatalf("%+v: %q decoded as %+v re-encodes as %q", rules, data[:n], h, buf[:m])
				}
				if consumed := len(data) - br.Buffered() - src.Len(); rerr != nil || rh != h || consumed != n {
					t.Fatalf("%+v: readFrameHeader = %+v, %v, consumed %d; parseFrameHeader = %+v, %d",
						rules, rh, rerr, consumed, h, n)
				}
			}
		}
	})
}

// checkFrameHeaderInvariants fails t unless h could legally arrive under
// rules.
func checkFrameHeaderInvariants(t *testing.T, rules headerRules, h *frameHeader) {
	t.Helper()
	switch {
	case h.opcode.isReserved():
		t.Fatalf("%+v: accepted reserved opcode in %+v", rules, *h)
	case h.opcode.isControl() && (!h.fin || h.length > maxControlPayload):
		t.Fatalf("%+v: accepted fragmented or long control frame %+v", rules, *h)
	case h.length < 0:
		t.Fatalf("%+v: negative length in %+v", rules, *h)
	case h.masked != rules.fromClient:
		t.Fatalf("%+v: wrong masking in %+v", rules, *h)
	case !h.masked && h.key != 0:
		t.Fatalf("%+v: key without mask in %+v", rules, *h)
	case h.rsv&^rules.allowedRSV != 0:
		t.Fatalf("%+v: accepted reserved bits in %+v", rules, *h)
	case h.rsv != 0 && (h.opcode.isControl() || h.opcode == opContinuation):
		t.Fatalf("%+v: accepted RSV1 on %v in %+v", rules, h.opcode, *h)
	}
}
