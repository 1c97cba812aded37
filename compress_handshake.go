package websocket

import (
	"fmt"
	"net/http"
)

// Negotiation of permessage-deflate in the opening handshakes (RFC 7692
// §5), over HTTP/1.1 and HTTP/2 alike: the header fields in, the
// connection's settings out. compress.go holds the rules themselves.

// extParams converts the parameters of a parsed Sec-WebSocket-Extensions
// element to the engine's form.
func extParams(params []extensionParam) []extParam {
	out := make([]extParam, len(params))
	for i, p := range params {
		out[i] = extParam(p)
	}
	return out
}

// negotiateCompression answers the permessage-deflate offers of a request
// with header h. It returns the answer's Sec-WebSocket-Extensions value and
// the settings of the connection, or "" and nil when compression is off or
// no offer can be accepted. RFC 7692 §5.1: the server accepts the first
// offer it can honour and declines the rest; an invalid offer, or a header
// that does not parse, is declined, not refused.
func (u *Upgrader) negotiateCompression(h http.Header) (string, *deflateConfig, error) {
	if err := u.Compression.check(); err != nil {
		return "", nil, fmt.Errorf("Upgrader.Compression: %w", err)
	}
	if u.Compression.Mode == CompressionDisabled {
		return "", nil, nil
	}
	exts, err := parseExtensions(h.Values(headerExtensions))
	if err != nil {
		return "", nil, nil
	}
	var offers [][]extParam
	for _, e := range exts {
		if isDeflateExtension(e.name) {
			offers = append(offers, extParams(e.params))
		}
	}
	answer, cfg, ok := negotiateDeflateServer(&u.Compression, offers)
	if !ok {
		return "", nil, nil
	}
	return answer, &cfg, nil
}

// compressionOffer returns the Sec-WebSocket-Extensions value of the
// Dialer's requests, or "" when compression is off.
func (d *Dialer) compressionOffer() (string, error) {
	if err := d.Compression.check(); err != nil {
		return "", fmt.Errorf("Dialer.Compression: %w", err)
	}
	return deflateClientOffer(&d.Compression), nil
}

// acceptExtensions checks the extensions of the server's answer against
// what the Dialer offered, and returns the connection's compression
// settings, or nil when the server accepted none. RFC 6455 §4.1 and RFC
// 7692 §5.2: an extension that was not offered, or a permessage-deflate
// answer that no offer allowed, fails the connection.
func (d *Dialer) acceptExtensions(resp *http.Response) (*deflateConfig, error) {
	fail := func(format string, args ...any) (*deflateConfig, error) {
		return nil, &HandshakeError{Status: resp.StatusCode, Reason: fmt.Sprintf(format, args...)}
	}
	exts, err := parseExtensions(resp.Header.Values(headerExtensions))
	if err != nil {
		return fail("%v", err)
	}
	if len(exts) == 0 {
		return nil, nil
	}
	for i, e := range exts {
		if !isDeflateExtension(e.name) || d.Compression.Mode == CompressionDisabled {
			return fail("the server accepted extension %q, which was not offered", e.name)
		}
		if i > 0 {
			return fail("the server accepted permessage-deflate twice")
		}
	}
	cfg, err := acceptDeflateResponse(&d.Compression, extParams(exts[0].params))
	if err != nil {
		return fail("answer %q: %v", resp.Header.Values(headerExtensions), err)
	}
	return &cfg, nil
}

// withExtensions completes a successful handshake with the checks of
// acceptExtensions; when they fail it closes the connection.
func (d *Dialer) withExtensions(cfg connConfig, resp *http.Response, err error) (connConfig, *http.Response, error) {
	if err != nil {
		return cfg, resp, err
	}
	if cfg.deflate, err = d.acceptExtensions(resp); err != nil {
		cfg.netConn.Close()
		return connConfig{}, resp, err
	}
	return cfg, resp, nil
}
