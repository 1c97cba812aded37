package websocket

import (
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"golang.org/x/net/http/httpguts"
)

// This file holds the rules both handshakes share (RFC 6455 §4): the key and
// its accept value, the header token lists, the extension list, and the
// handshake error type; then the messages of the HTTP/1.1 handshake: the
// request the client writes, the 101 answer the server writes, and the
// client's checks of that answer. dial.go and upgrade.go drive them.

// acceptGUID is the fixed string of RFC 6455 §1.3 appended to the client's key
// before hashing, so that only a server that speaks WebSocket can answer.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// Header names of the opening handshake, spelled as RFC 6455 §11.3 registers
// them. http.Header canonicalises them on access.
const (
	headerKey        = "Sec-WebSocket-Key"
	headerAccept     = "Sec-WebSocket-Accept"
	headerVersion    = "Sec-WebSocket-Version"
	headerProtocol   = "Sec-WebSocket-Protocol"
	headerExtensions = "Sec-WebSocket-Extensions"
)

// supportedVersion is the only protocol version of RFC 6455 §4.1.
const supportedVersion = "13"

// ErrBadHandshake is wrapped by every *HandshakeError, so a caller can tell a
// refused or malformed opening handshake from a network failure with
// errors.Is(err, ErrBadHandshake).
var ErrBadHandshake = errors.New("websocket: bad handshake")

// HandshakeError reports an opening handshake that failed. On the server
// (Upgrader.Upgrade) Status is the HTTP status that was sent to the client;
// on the client (Dialer.Dial) it is the status the server answered with, which
// is 101 when the server switched protocols but its answer broke a rule.
type HandshakeError struct {
	Status int    // HTTP status sent (server) or received (client)
	Reason string // what was wrong, for logs
}

// Error returns the status and the reason.
func (e *HandshakeError) Error() string {
	return "websocket: bad handshake: " + strconv.Itoa(e.Status) + " " + http.StatusText(e.Status) + ": " + e.Reason
}

// Unwrap returns ErrBadHandshake.
func (e *HandshakeError) Unwrap() error { return ErrBadHandshake }

// newKey returns a fresh Sec-WebSocket-Key.
// RFC 6455 §4.1: a nonce of 16 random bytes, base64-encoded, new for each
// connection.
func newKey() string {
	var b [16]byte
	// crypto/rand.Read never returns an error since Go 1.24: it crashes the
	// program instead if the system's randomness fails.
	_, _ = rand.Read(b[:])
	return base64.StdEncoding.EncodeToString(b[:])
}

// validKey reports whether key is an acceptable Sec-WebSocket-Key.
// RFC 6455 §4.2.1: it must base64-decode to exactly 16 bytes, which always
// takes 24 characters with padding.
func validKey(key string) bool {
	if len(key) != 24 {
		return false
	}
	// DecodeString skips CR and LF; the length test above already rules out
	// any key that would need them to reach 16 bytes, and the decoded length
	// settles the rest.
	b, err := base64.StdEncoding.DecodeString(key)
	return err == nil && len(b) == 16
}

// acceptKey returns the Sec-WebSocket-Accept value that answers key.
// RFC 6455 §4.2.2: base64 of the SHA-1 of the key followed by the GUID.
func acceptKey(key string) string {
	var buf [24 + len(acceptGUID)]byte // a valid key is 24 bytes
	sum := sha1.Sum(append(append(buf[:0], key...), acceptGUID...))
	return base64.StdEncoding.EncodeToString(sum[:])
}

// headerHasToken reports whether any line of the header field name lists
// token, compared ASCII case-insensitively as RFC 7230 §6.1 and §6.7 require
// for Connection and Upgrade.
func headerHasToken(h http.Header, name, token string) bool {
	return httpguts.HeaderValuesContainsToken(h.Values(name), token)
}

// isToken reports whether s is a non-empty RFC 7230 §3.2.6 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !httpguts.IsTokenRune(rune(s[i])) {
			return false
		}
	}
	return true
}

// isOWS reports whether b is optional white space (RFC 7230 §3.2.3).
func isOWS(b byte) bool { return b == ' ' || b == '\t' }

// parseTokenList returns the tokens of a comma-separated list spread over one
// or more header lines, in order, as Sec-WebSocket-Protocol carries them
// (RFC 6455 §4.1: 1#token). The tokens keep their case: subprotocol names are
// compared exactly. RFC 7230 §7: empty list elements are skipped; anything else
// that is not a token is an error.
func parseTokenList(values []string) ([]string, error) {
	var tokens []string
	for _, v := range values {
		for elem := range strings.SplitSeq(v, ",") {
			elem = strings.Trim(elem, " \t")
			if elem == "" {
				continue
			}
			if !isToken(elem) {
				return nil, fmt.Errorf("%q is not a token", elem)
			}
			tokens = append(tokens, elem)
		}
	}
	return tokens, nil
}

// extensionOffer is one element of a Sec-WebSocket-Extensions list: an
// extension name and its parameters, in the order they were written.
type extensionOffer struct {
	name   string
	params []extensionParam
}

// extensionParam is one parameter of an extension offer. A parameter may come
// without a value (hasValue false), as RFC 7692's "server_no_context_takeover"
// does.
type extensionParam struct {
	name     string
	value    string // unquoted
	hasValue bool
}

// parseExtensions parses the Sec-WebSocket-Extensions lines of a handshake
// into a list of offers, in order; several lines combine as one list.
//
// RFC 6455 §9.1:
//
//	extension-list  = 1#extension
//	extension       = extension-token *( ";" extension-param )
//	extension-param = token [ "=" (token | quoted-string) ]
//
// with optional white space around the separators, and a quoted value that
// must still be a token once unescaped. Empty list elements are skipped
// (RFC 7230 §7); any other deviation is an error. Hand-written: net/http and
// x/net/http/httpguts check tokens, but none parses parameter lists.
func parseExtensions(values []string) ([]extensionOffer, error) {
	var offers []extensionOffer
	for _, v := range values {
		s := extensionScanner{s: v}
		for {
			s.skipOWS()
			if s.done() {
				break
			}
			if s.peek() == ',' {
				s.i++
				continue
			}
			offer, err := s.extension()
			if err != nil {
				return nil, err
			}
			offers = append(offers, offer)
			s.skipOWS()
			if s.done() {
				break
			}
			if s.peek() != ',' {
				return nil, s.errorf("expected ',' or ';'")
			}
			s.i++
		}
	}
	return offers, nil
}

// extensionScanner walks one Sec-WebSocket-Extensions line.
type extensionScanner struct {
	s string
	i int
}

func (s *extensionScanner) done() bool { return s.i >= len(s.s) }
func (s *extensionScanner) peek() byte { return s.s[s.i] }

func (s *extensionScanner) skipOWS() {
	for !s.done() && isOWS(s.peek()) {
		s.i++
	}
}

// token consumes the longest run of token characters, which may be empty.
func (s *extensionScanner) token() string {
	start := s.i
	for !s.done() && httpguts.IsTokenRune(rune(s.peek())) {
		s.i++
	}
	return s.s[start:s.i]
}

func (s *extensionScanner) errorf(format string, args ...any) error {
	return fmt.Errorf("Sec-WebSocket-Extensions %q at offset %d: %s", s.s, s.i, fmt.Sprintf(format, args...))
}

// extension consumes one extension name and its parameters.
func (s *extensionScanner) extension() (extensionOffer, error) {
	var offer extensionOffer
	offer.name = s.token()
	if offer.name == "" {
		return offer, s.errorf("expected an extension name")
	}
	for {
		s.skipOWS()
		if s.done() || s.peek() != ';' {
			return offer, nil
		}
		s.i++
		s.skipOWS()
		var p extensionParam
		p.name = s.token()
		if p.name == "" {
			return offer, s.errorf("expected a parameter name")
		}
		s.skipOWS()
		if !s.done() && s.peek() == '=' {
			s.i++
			s.skipOWS()
			p.hasValue = true
			if !s.done() && s.peek() == '"' {
				v, err := s.quoted()
				if err != nil {
					return offer, err
				}
				// RFC 6455 §9.1: a quoted value must conform to the
				// token rule after unescaping.
				if !isToken(v) {
					return offer, s.errorf("quoted value %q is not a token", v)
				}
				p.value = v
			} else {
				p.value = s.token()
				if p.value == "" {
					return offer, s.errorf("expected a parameter value")
				}
			}
		}
		offer.params = append(offer.params, p)
	}
}

// quoted consumes an RFC 7230 §3.2.6 quoted-string and returns it unescaped.
func (s *extensionScanner) quoted() (string, error) {
	s.i++ // opening quote
	var b strings.Builder
	for !s.done() {
		c := s.peek()
		s.i++
		switch {
		case c == '"':
			return b.String(), nil
		case c == '\\':
			if s.done() {
				return "", s.errorf("unterminated quoted-string")
			}
			c = s.peek()
			s.i++
			// quoted-pair = "\" ( HTAB / SP / VCHAR / obs-text )
			if c != '\t' && (c < 0x20 || c == 0x7f) {
				return "", s.errorf("invalid escaped byte %#x", c)
			}
			b.WriteByte(c)
		case c == '\t' || (c >= 0x20 && c != 0x7f):
			// qdtext, with the backslash and quote handled above.
			b.WriteByte(c)
		default:
			return "", s.errorf("invalid byte %#x in quoted-string", c)
		}
	}
	return "", s.errorf("unterminated quoted-string")
}

// The messages of the handshake.

// IsWebSocketUpgrade reports whether r asks for a WebSocket: over HTTP/1.1
// its Connection header contains "upgrade" and its Upgrade header
// "websocket"; over HTTP/2 it is an extended CONNECT with the :protocol
// "websocket" (RFC 8441 §5). It does not validate the rest of the
// handshake; Upgrade does.
func IsWebSocketUpgrade(r *http.Request) bool {
	if r.ProtoMajor == 2 {
		return isExtendedConnect(r)
	}
	return headerHasToken(r.Header, "Connection", "upgrade") &&
		headerHasToken(r.Header, "Upgrade", "websocket")
}

// appendSwitchingProtocols appends the 101 answer of RFC 6455 §4.2.2 to b,
// with accept (acceptKey of the client's key) and what n chose. Fields of
// extra are checked so that no value can split the answer.
func appendSwitchingProtocols(b []byte, accept string, n negotiated, extra http.Header) ([]byte, error) {
	b = append(b, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: "...)
	b = append(b, accept...)
	b = append(b, "\r\n"...)
	if n.subprotocol != "" {
		b = append(b, "Sec-WebSocket-Protocol: "...)
		b = append(b, n.subprotocol...)
		b = append(b, "\r\n"...)
	}
	if n.extensions != "" {
		b = append(b, "Sec-WebSocket-Extensions: "...)
		b = append(b, n.extensions...)
		b = append(b, "\r\n"...)
	}
	for _, name := range slices.Sorted(maps.Keys(extra)) {
		values := extra[name]
		switch http.CanonicalHeaderKey(name) {
		case "Upgrade", "Connection", "Sec-Websocket-Accept", "Sec-Websocket-Protocol":
			continue // set above
		}
		if !httpguts.ValidHeaderFieldName(name) {
			return nil, fmt.Errorf("responseHeader has an invalid field name %q", name)
		}
		for _, v := range values {
			if !httpguts.ValidHeaderFieldValue(v) {
				return nil, fmt.Errorf("responseHeader %s has an invalid value %q", name, v)
			}
			b = append(b, name...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...), nil
}

// handshakeReader bounds the bytes read through it while n >= 0, so that
// neither the handshake answer nor a refusal's body can grow without end;
// n < 0 lifts the bound once the handshake is done.
type handshakeReader struct {
	r io.Reader
	n int64
}

func (h *handshakeReader) Read(p []byte) (int, error) {
	if h.n < 0 {
		return h.r.Read(p)
	}
	if h.n == 0 {
		return 0, errors.New("handshake answer too large")
	}
	if int64(len(p)) > h.n {
		p = p[:h.n]
	}
	n, err := h.r.Read(p)
	h.n -= int64(n)
	return n, err
}

// appendRequest appends the handshake request of RFC 6455 §4.1 to b.
func appendRequest(b []byte, req *http.Request, key string) []byte {
	b = append(b, "GET "...)
	b = append(b, req.URL.RequestURI()...)
	b = append(b, " HTTP/1.1\r\nHost: "...)
	b = append(b, req.Host...)
	b = append(b, "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: "...)
	b = append(b, key...)
	b = append(b, "\r\nSec-WebSocket-Version: 13\r\n"...)
	for _, name := range slices.Sorted(maps.Keys(req.Header)) {
		for _, v := range req.Header[name] {
			b = append(b, name...)
			b = append(b, ": "...)
			b = append(b, v...)
			b = append(b, "\r\n"...)
		}
	}
	return append(b, "\r\n"...)
}

// checkResponse applies the client's checks of RFC 6455 §4.1 to the server's
// answer and returns the chosen subprotocol. key is the Sec-WebSocket-Key
// sent; offered lists the subprotocols offered.
func checkResponse(resp *http.Response, key string, offered []string) (string, error) {
	fail := func(format string, args ...any) (string, error) {
		return "", &HandshakeError{Status: resp.StatusCode, Reason: fmt.Sprintf(format, args...)}
	}
	if resp.StatusCode != http.StatusSwitchingProtocols {
		return fail("the server did not switch protocols")
	}
	// RFC 6455 §4.1: Upgrade must be "websocket", case-insensitively, and
	// Connection must contain the token "Upgrade".
	if up := resp.Header.Values("Upgrade"); len(up) != 1 || !strings.EqualFold(strings.Trim(up[0], " \t"), "websocket") {
		return fail("the Upgrade header is %q, not websocket", up)
	}
	if !headerHasToken(resp.Header, "Connection", "upgrade") {
		return fail(`the Connection header does not contain "upgrade"`)
	}
	if accept := resp.Header.Values(headerAccept); len(accept) != 1 || accept[0] != acceptKey(key) {
		return fail("Sec-WebSocket-Accept %q does not answer the key", accept)
	}
	return checkNegotiated(resp, offered)
}

// checkNegotiated checks what the server chose in its answer, over HTTP/1.1
// or HTTP/2 alike (RFC 8441 §5 keeps the rules of RFC 6455 for these header
// fields), and returns the chosen subprotocol. Of the extensions it checks
// that each was offered; their parameters are checked once the handshake
// is otherwise done, by acceptExtensions (compress_handshake.go).
func checkNegotiated(resp *http.Response, offered []string) (string, error) {
	fail := func(format string, args ...any) (string, error) {
		return "", &HandshakeError{Status: resp.StatusCode, Reason: fmt.Sprintf(format, args...)}
	}
	// RFC 6455 §4.1: an extension the client did not offer fails the
	// connection. The request (resp.Request) holds the offer.
	exts, err := parseExtensions(resp.Header.Values(headerExtensions))
	if err != nil {
		return fail("%v", err)
	}
	var ours []extensionOffer
	if resp.Request != nil {
		ours, _ = parseExtensions(resp.Request.Header.Values(headerExtensions))
	}
	for _, e := range exts {
		if !slices.ContainsFunc(ours, func(o extensionOffer) bool { return strings.EqualFold(o.name, e.name) }) {
			return fail("the server accepted extension %q, which was not offered", e.name)
		}
	}
	// RFC 6455 §4.1: a subprotocol the client did not offer fails the
	// connection; the server names at most one.
	protocols := resp.Header.Values(headerProtocol)
	switch {
	case len(protocols) == 0:
		return "", nil
	case len(protocols) == 1 && slices.Contains(offered, protocols[0]):
		return protocols[0], nil
	}
	return fail("the server chose subprotocol %q, which was not offered", protocols)
}
