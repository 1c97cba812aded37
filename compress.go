package websocket

import (
	"errors"
	"strconv"
	"strings"
)

// CompressionMode selects whether a connection negotiates the
// permessage-deflate extension of RFC 7692, and whether each direction keeps
// its compression context from one message to the next.
type CompressionMode int

// Compression modes.
const (
	// CompressionDisabled neither offers nor accepts permessage-deflate.
	CompressionDisabled CompressionMode = iota
	// CompressionNoContextTakeover compresses every message on its own and
	// asks the peer to do the same (server_no_context_takeover and
	// client_no_context_takeover), so that no compression state stays with a
	// connection between messages.
	CompressionNoContextTakeover
	// CompressionContextTakeover lets a message refer back to the messages
	// sent before it in the same direction, which shrinks small similar
	// messages much further, at the cost of keeping up to one LZ77 window
	// (2^WindowBits bytes, 32 KiB at most) of history per direction on each
	// connection between messages.
	CompressionContextTakeover
)

// String returns "disabled", "no-context-takeover" or "context-takeover".
func (m CompressionMode) String() string {
	switch m {
	case CompressionDisabled:
		return "disabled"
	case CompressionNoContextTakeover:
		return "no-context-takeover"
	case CompressionContextTakeover:
		return "context-takeover"
	}
	return "CompressionMode(" + strconv.Itoa(int(m)) + ")"
}

// Compression defaults.
const (
	// DefaultCompressionLevel is the level used when CompressionOptions.Level
	// is 0 or -1 (compress/flate's DefaultCompression): the fastest, which
	// on small messages already compresses about as well as compress/flate
	// at BestSpeed, and with context takeover better.
	DefaultCompressionLevel = 1
	// DefaultCompressionThreshold is the payload size below which messages
	// are sent uncompressed when CompressionOptions.Threshold is 0: under
	// this size the deflate framing costs about as much as it saves.
	DefaultCompressionThreshold = 128
)

// Window sizes allowed by RFC 7692 §7.1.2: an LZ77 window of 2^8 to 2^15
// bytes.
const (
	minWindowBits = 8
	maxWindowBits = 15
)

// CompressionOptions configures permessage-deflate (RFC 7692) for an
// Upgrader or a Dialer. The zero value disables compression.
//
// Memory: the compressor's and decompressor's working state is borrowed
// from pools for one message at a time, so between messages a connection
// holds only its history. Measured per idle connection end (socket and
// Conn included) over 1,000 loopback connections: about 2.6 KB without
// compression; 2.8 KB with CompressionNoContextTakeover; with
// CompressionContextTakeover, 4.8 KB after 1 KiB each way and, once both
// windows are full, 40 KB at level 1 (4 KiB of history kept for sending,
// 32 KiB for receiving) and 64 KB at levels 4 to 9 (28 + 32 KiB). A smaller
// WindowBits caps both histories at 2^WindowBits bytes, as far as the peer
// agrees to the receiving one.
type CompressionOptions struct {
	// Mode turns compression on, with or without context takeover.
	Mode CompressionMode

	// Level trades speed for size, with the levels of compress/flate: 1
	// (fastest) to 9 (smallest), or -2 (flate.HuffmanOnly: entropy coding
	// without back-references, so no history is kept either). 0 and -1 mean
	// DefaultCompressionLevel. To send one message uncompressed, turn
	// compression off for that message on the connection instead.
	Level int

	// Threshold is the payload size in bytes below which a message is sent
	// uncompressed. 0 means DefaultCompressionThreshold; a negative value
	// compresses every message.
	Threshold int

	// WindowBits caps the LZ77 window, 2^WindowBits bytes, from 8 to 15; 0
	// means 15. Our compressor never looks further back, and we ask the peer
	// for the same limit where RFC 7692 §7.1.2 lets us ask (a client always,
	// a server when the client offered client_max_window_bits). With
	// context takeover, the history a connection keeps between messages is
	// at most one window per direction. Peers built on zlib cannot compress
	// with an 8-bit window and use 9 bits instead; we accept that.
	WindowBits int
}

// errCompressionOptions reports options outside their documented range.
var errCompressionOptions = errors.New("websocket: invalid compression options")

// check reports options outside their documented range.
func (o *CompressionOptions) check() error {
	switch {
	case o.Mode < CompressionDisabled || o.Mode > CompressionContextTakeover:
		return errCompressionOptions
	case o.Level < -2 || o.Level > 9:
		return errCompressionOptions
	case o.WindowBits != 0 && (o.WindowBits < minWindowBits || o.WindowBits > maxWindowBits):
		return errCompressionOptions
	}
	return nil
}

// level returns the effective compression level: 1–9, or -2 for Huffman-only.
func (o *CompressionOptions) level() int {
	switch {
	case o.Level == 0 || o.Level == -1:
		return DefaultCompressionLevel
	case o.Level < -2 || o.Level > 9:
		return DefaultCompressionLevel
	}
	return o.Level
}

// threshold returns the smallest payload size worth compressing.
func (o *CompressionOptions) threshold() int {
	switch {
	case o.Threshold == 0:
		return DefaultCompressionThreshold
	case o.Threshold < 0:
		return 0
	}
	return o.Threshold
}

// windowBits returns the effective window cap, 8–15.
func (o *CompressionOptions) windowBits() int { return validWindowBits(o.WindowBits) }

// validWindowBits returns bits, or 15 when bits is outside 8–15: a
// direction configured without a window uses the largest.
func validWindowBits(bits int) int {
	if bits < minWindowBits || bits > maxWindowBits {
		return maxWindowBits
	}
	return bits
}

// deflateExtensionName is the extension token of RFC 7692 §7.
const deflateExtensionName = "permessage-deflate"

// isDeflateExtension reports whether an extension token names
// permessage-deflate. Tokens compare without regard to case, as HTTP tokens do.
func isDeflateExtension(name string) bool {
	return strings.EqualFold(name, deflateExtensionName)
}

// Parameter names of RFC 7692 §7.1.
const (
	paramServerNoContextTakeover = "server_no_context_takeover"
	paramClientNoContextTakeover = "client_no_context_takeover"
	paramServerMaxWindowBits     = "server_max_window_bits"
	paramClientMaxWindowBits     = "client_max_window_bits"
)

// extParam is one parameter of a Sec-WebSocket-Extensions element, with its
// value already unquoted. hasValue distinguishes "name" from "name=".
type extParam struct {
	name, value string
	hasValue    bool
}

// deflateParams are the permessage-deflate parameters of one offer or one
// response. A window of 0 means the parameter is absent.
type deflateParams struct {
	serverNoContextTakeover bool
	clientNoContextTakeover bool
	serverMaxWindowBits     int
	clientMaxWindowBits     int
	// clientMaxWindowBitsNoValue is set when client_max_window_bits came
	// without a value, which RFC 7692 §7.1.2.2 allows in offers only: the
	// client says it can limit its window if asked.
	clientMaxWindowBitsNoValue bool
}

// Negotiation errors. A server declines an offer that fails with one of
// these (RFC 7692 §5.1); a client fails the connection on a response that
// does (§5.2).
var (
	errDeflateUnknownParam = errors.New("websocket: permessage-deflate: unknown parameter")
	errDeflateDupParam     = errors.New("websocket: permessage-deflate: duplicate parameter")
	errDeflateFlagValue    = errors.New("websocket: permessage-deflate: value on a parameter that takes none")
	errDeflateWindowBits   = errors.New("websocket: permessage-deflate: window bits not a decimal from 8 to 15")
	errDeflateNotOffered   = errors.New("websocket: permessage-deflate: response does not answer any offer we made")
)

// parseDeflateParams reads the parameters of one permessage-deflate element.
// response is true for a server's answer, where client_max_window_bits must
// carry a value (RFC 7692 §7.1.2.2). Unknown or repeated parameters, a value
// on a flag and a malformed window are errors (§7: "MUST decline" / "MUST
// _Fail the WebSocket Connection_").
func parseDeflateParams(params []extParam, response bool) (deflateParams, error) {
	var p deflateParams
	var seen [4]bool
	for _, x := range params {
		var i int
		switch {
		case strings.EqualFold(x.name, paramServerNoContextTakeover):
			i = 0
		case strings.EqualFold(x.name, paramClientNoContextTakeover):
			i = 1
		case strings.EqualFold(x.name, paramServerMaxWindowBits):
			i = 2
		case strings.EqualFold(x.name, paramClientMaxWindowBits):
			i = 3
		default:
			return deflateParams{}, errDeflateUnknownParam
		}
		if seen[i] {
			return deflateParams{}, errDeflateDupParam
		}
		seen[i] = true
		switch i {
		case 0, 1:
			// RFC 7692 §7.1.1: the context takeover parameters have no value.
			if x.hasValue {
				return deflateParams{}, errDeflateFlagValue
			}
			if i == 0 {
				p.serverNoContextTakeover = true
			} else {
				p.clientNoContextTakeover = true
			}
		case 2:
			// RFC 7692 §7.1.2.1: server_max_window_bits always has a value.
			bits, ok := parseWindowBits(x)
			if !ok {
				return deflateParams{}, errDeflateWindowBits
			}
			p.serverMaxWindowBits = bits
		case 3:
			// RFC 7692 §7.1.2.2: no value in an offer means "you may choose".
			if !x.hasValue && !response {
				p.clientMaxWindowBitsNoValue = true
				continue
			}
			bits, ok := parseWindowBits(x)
			if !ok {
				return deflateParams{}, errDeflateWindowBits
			}
			p.clientMaxWindowBits = bits
		}
	}
	return p, nil
}

// parseWindowBits parses a window size as RFC 7692 §7.1.2 writes it: a
// decimal from 8 to 15 without leading zeros.
func parseWindowBits(x extParam) (int, bool) {
	v := x.value
	if !x.hasValue {
		return 0, false
	}
	switch len(v) {
	case 1:
		if v[0] == '8' || v[0] == '9' {
			return int(v[0] - '0'), true
		}
	case 2:
		if v[0] == '1' && v[1] >= '0' && v[1] <= '5' {
			return 10 + int(v[1]-'0'), true
		}
	}
	return 0, false
}

// String writes p as one Sec-WebSocket-Extensions element, starting with the
// extension name, in a fixed parameter order.
func (p deflateParams) String() string {
	var b strings.Builder
	b.WriteString(deflateExtensionName)
	if p.serverNoContextTakeover {
		b.WriteString("; " + paramServerNoContextTakeover)
	}
	if p.clientNoContextTakeover {
		b.WriteString("; " + paramClientNoContextTakeover)
	}
	if p.serverMaxWindowBits != 0 {
		b.WriteString("; " + paramServerMaxWindowBits + "=" + strconv.Itoa(p.serverMaxWindowBits))
	}
	if p.clientMaxWindowBits != 0 {
		b.WriteString("; " + paramClientMaxWindowBits + "=" + strconv.Itoa(p.clientMaxWindowBits))
	} else if p.clientMaxWindowBitsNoValue {
		b.WriteString("; " + paramClientMaxWindowBits)
	}
	return b.String()
}

// deflateDirection is what one direction of a connection agreed on.
type deflateDirection struct {
	// takeover is true when the compressor of this direction may refer to
	// earlier messages, so the decompressor must keep their history.
	takeover bool
	// windowBits is the largest window the compressor may use (8–15).
	windowBits int
}

// deflateConfig is the outcome of a successful negotiation, everything a
// connection needs to build its compressor and decompressor.
type deflateConfig struct {
	write     deflateDirection // our compressor: what we send
	read      deflateDirection // the peer's compressor: what we receive
	level     int              // our compression level (1–9 or -2)
	threshold int              // smallest payload we compress
}

// negotiateDeflateServer answers a client's permessage-deflate offers, given
// as the parameter lists of the offers in the order the client sent them
// (the caller keeps only the elements isDeflateExtension accepts). It accepts
// the first valid offer and returns the response element; ok is false when
// compression is disabled or no offer is valid, and then the response omits
// the extension. RFC 7692 §5.1: invalid offers are declined, never fatal.
func negotiateDeflateServer(opts *CompressionOptions, offers [][]extParam) (response string, cfg deflateConfig, ok bool) {
	if opts.Mode == CompressionDisabled {
		return "", deflateConfig{}, false
	}
	for _, params := range offers {
		offer, err := parseDeflateParams(params, false)
		if err != nil {
			continue // RFC 7692 §5.1: decline this offer, consider the next.
		}
		resp, cfg := answerDeflateOffer(opts, offer)
		return resp.String(), cfg, true
	}
	return "", deflateConfig{}, false
}

// answerDeflateOffer builds the server's response to a valid offer. Every
// valid offer can be honoured: our compressor can use any window from 8 to
// 15 bits, with or without context takeover.
func answerDeflateOffer(opts *CompressionOptions, offer deflateParams) (deflateParams, deflateConfig) {
	noTakeover := opts.Mode == CompressionNoContextTakeover
	limit := opts.windowBits()
	var resp deflateParams

	// RFC 7692 §7.1.1.1: an offered server_no_context_takeover must be
	// echoed; a server may also add it on its own.
	resp.serverNoContextTakeover = offer.serverNoContextTakeover || noTakeover
	// RFC 7692 §7.1.1.2: a server may add client_no_context_takeover whether
	// or not it was offered; echoing an offered one tells the client we know
	// we need no history for it.
	resp.clientNoContextTakeover = offer.clientNoContextTakeover || noTakeover

	// RFC 7692 §7.1.2.1: accept server_max_window_bits with the same or a
	// smaller value; a server may also limit its window unasked.
	serverBits := maxWindowBits
	if offer.serverMaxWindowBits != 0 {
		serverBits = offer.serverMaxWindowBits
	}
	serverBits = min(serverBits, limit)
	if offer.serverMaxWindowBits != 0 || serverBits < maxWindowBits {
		resp.serverMaxWindowBits = serverBits
	}

	// RFC 7692 §7.1.2.2: client_max_window_bits may appear in the response
	// only when offered, with a value no larger than an offered one. An
	// offered value binds the client even if we do not echo it.
	clientBits := maxWindowBits
	if offer.clientMaxWindowBits != 0 {
		clientBits = offer.clientMaxWindowBits
	}
	if offer.clientMaxWindowBits != 0 || offer.clientMaxWindowBitsNoValue {
		clientBits = min(clientBits, limit)
		if clientBits < maxWindowBits {
			resp.clientMaxWindowBits = clientBits
		}
	}

	cfg := deflateConfig{
		write:     deflateDirection{takeover: !resp.serverNoContextTakeover, windowBits: serverBits},
		read:      deflateDirection{takeover: !resp.clientNoContextTakeover, windowBits: clientBits},
		level:     opts.level(),
		threshold: opts.threshold(),
	}
	return resp, cfg
}

// deflateClientOffers returns the offers a client makes for opts, most
// preferred first; nil when compression is disabled. With a window cap below
// 15 bits, the first offer asks the server for it and a second one does not,
// since RFC 7692 §7.1.2.1 lets a server decline server_max_window_bits
// (the fallback of §7.1.3's example).
func deflateClientOffers(opts *CompressionOptions) []deflateParams {
	if opts.Mode == CompressionDisabled {
		return nil
	}
	var o deflateParams
	if opts.Mode == CompressionNoContextTakeover {
		o.serverNoContextTakeover = true
		o.clientNoContextTakeover = true
	}
	// We can compress with any window the server asks for.
	o.clientMaxWindowBitsNoValue = true
	bits := opts.windowBits()
	if bits == maxWindowBits {
		return []deflateParams{o}
	}
	o.clientMaxWindowBitsNoValue = false
	o.clientMaxWindowBits = bits
	fallback := o
	o.serverMaxWindowBits = bits
	return []deflateParams{o, fallback}
}

// deflateClientOffer returns the Sec-WebSocket-Extensions value a client
// sends for opts, or "" when compression is disabled.
func deflateClientOffer(opts *CompressionOptions) string {
	var b strings.Builder
	for i, o := range deflateClientOffers(opts) {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(o.String())
	}
	return b.String()
}

// acceptDeflateResponse checks the server's permessage-deflate element
// against the offers deflateClientOffers made for opts and returns what the
// connection uses. RFC 7692 §5.2: an error means the client must fail the
// connection, because the answer is not one it could have asked for.
func acceptDeflateResponse(opts *CompressionOptions, params []extParam) (deflateConfig, error) {
	resp, err := parseDeflateParams(params, true)
	if err != nil {
		return deflateConfig{}, err
	}
	for _, offer := range deflateClientOffers(opts) {
		if answers(offer, resp) {
			return clientDeflateConfig(opts, offer, resp), nil
		}
	}
	return deflateConfig{}, errDeflateNotOffered
}

// answers reports whether resp is a response a server may give to offer.
func answers(offer, resp deflateParams) bool {
	// RFC 7692 §7.1.1.1: an offered server_no_context_takeover must be
	// accepted, not dropped.
	if offer.serverNoContextTakeover && !resp.serverNoContextTakeover {
		return false
	}
	// RFC 7692 §7.1.2.1: an offered server window is accepted with the same
	// or a smaller value; unasked, the server may still send one.
	if offer.serverMaxWindowBits != 0 &&
		(resp.serverMaxWindowBits == 0 || resp.serverMaxWindowBits > offer.serverMaxWindowBits) {
		return false
	}
	// RFC 7692 §7.1.2.2: client_max_window_bits only when offered, never
	// larger than an offered value.
	if resp.clientMaxWindowBits != 0 {
		if offer.clientMaxWindowBits == 0 && !offer.clientMaxWindowBitsNoValue {
			return false
		}
		if offer.clientMaxWindowBits != 0 && resp.clientMaxWindowBits > offer.clientMaxWindowBits {
			return false
		}
	}
	return true
}

// clientDeflateConfig is the client's side of an accepted negotiation.
func clientDeflateConfig(opts *CompressionOptions, offer, resp deflateParams) deflateConfig {
	clientBits := maxWindowBits
	if offer.clientMaxWindowBits != 0 {
		clientBits = offer.clientMaxWindowBits
	}
	if resp.clientMaxWindowBits != 0 {
		clientBits = resp.clientMaxWindowBits
	}
	// Using a smaller window than allowed is always permitted.
	clientBits = min(clientBits, opts.windowBits())
	serverBits := maxWindowBits
	if resp.serverMaxWindowBits != 0 {
		serverBits = resp.serverMaxWindowBits
	}
	// Not taking over our own context is always permitted, so the mode
	// decides even when the server did not echo client_no_context_takeover.
	writeTakeover := opts.Mode == CompressionContextTakeover && !resp.clientNoContextTakeover
	return deflateConfig{
		write:     deflateDirection{takeover: writeTakeover, windowBits: clientBits},
		read:      deflateDirection{takeover: !resp.serverNoContextTakeover, windowBits: serverBits},
		level:     opts.level(),
		threshold: opts.threshold(),
	}
}
