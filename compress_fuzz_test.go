package websocket

import (
	"errors"
	"net/http"
	"strings"
	"testing"
)

// fuzzParams splits a fuzz string into offers (separated by ',') of
// parameters (separated by ';'); "name=value" has a value, "name" has none.
// Names and values are arbitrary bytes, as a lenient parser might pass on.
func fuzzParams(s string) [][]extParam {
	var offers [][]extParam
	for o := range strings.SplitSeq(s, ",") {
		var ps []extParam
		for f := range strings.SplitSeq(o, ";") {
			if f == "" {
				continue
			}
			name, value, has := strings.Cut(f, "=")
			ps = append(ps, extParam{name: name, value: value, hasValue: has})
		}
		offers = append(offers, ps)
	}
	return offers
}

// FuzzDeflateParams negotiates arbitrary parameter lists on both sides. It
// never panics; whatever our server accepts is a valid response to the offer
// it answers, which the client side validates and agrees with; whatever the
// client accepts gives windows of 8 to 15 bits.
func FuzzDeflateParams(f *testing.F) {
	for _, s := range []string{
		"",
		"server_no_context_takeover;client_no_context_takeover",
		"server_max_window_bits=10;client_max_window_bits",
		"client_max_window_bits=8,server_max_window_bits=15",
		"x,server_max_window_bits=09,client_max_window_bits=12",
		"server_no_context_takeover=;client_max_window_bits=16",
		"SERVER_MAX_WINDOW_BITS=9;Client_No_Context_Takeover",
	} {
		for mode := range 3 {
			f.Add(s, uint8(mode), uint8(0))
			f.Add(s, uint8(mode), uint8(10))
		}
	}
	f.Fuzz(func(t *testing.T, s string, mode, bits uint8) {
		opts := CompressionOptions{Mode: CompressionMode(mode % 3), WindowBits: int(bits % 17)}
		if opts.check() != nil {
			opts.WindowBits = 0
		}
		offers := fuzzParams(s)

		resp, scfg, ok := negotiateDeflateServer(&opts, offers)
		if ok {
			rp, err := parseDeflateParams(fuzzParams(strings.TrimPrefix(strings.ReplaceAll(resp, "; ", ";"), deflateExtensionName))[0], true)
			if err != nil {
				t.Fatalf("our response %q does not parse: %v", resp, err)
			}
			// The offer answered is the first that parses.
			var offer deflateParams
			for _, o := range offers {
				if p, err := parseDeflateParams(o, false); err == nil {
					offer = p
					break
				}
			}
			if !answers(offer, rp) {
				t.Fatalf("response %q does not answer offer %q", resp, offer)
			}
			ccfg := clientDeflateConfig(&CompressionOptions{Mode: CompressionContextTakeover}, offer, rp)
			checkAgree(t, "client→server", ccfg.write, scfg.read)
			checkAgree(t, "server→client", scfg.write, ccfg.read)
		} else if resp != "" {
			t.Fatalf("declined with response %q", resp)
		}

		for _, params := range offers {
			cfg, err := acceptDeflateResponse(&opts, params)
			if err != nil {
				continue
			}
			for _, d := range []deflateDirection{cfg.write, cfg.read} {
				if d.windowBits < minWindowBits || d.windowBits > maxWindowBits {
					t.Fatalf("accepted %v with window %d", params, d.windowBits)
				}
			}
		}
	})
}

// FuzzDeflateHeader feeds arbitrary Sec-WebSocket-Extensions text to both
// handshakes' negotiation: the server's answer to it as an offer, and the
// client's check of it as an answer. Neither panics; the server answers
// with one permessage-deflate element that parses as a valid response, or
// declines; the client accepts only permessage-deflate with windows of 8 to
// 15 bits, and only when it offered it.
func FuzzDeflateHeader(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_no_context_takeover; client_no_context_takeover",
		`permessage-deflate; server_max_window_bits="10", permessage-deflate`,
		"x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=8",
		"permessage-deflate;;",
		"permessage-deflate; foo=\"a\\\"b\"",
		"permessage-deflate, permessage-deflate",
	} {
		f.Add(s, uint8(2), uint8(0))
		f.Add(s, uint8(1), uint8(9))
	}
	f.Fuzz(func(t *testing.T, header string, mode, bits uint8) {
		opts := CompressionOptions{Mode: CompressionMode(mode % 3), WindowBits: int(bits % 16)}
		if opts.check() != nil {
			opts.WindowBits = 0
		}
		h := http.Header{}
		for line := range strings.SplitSeq(header, "\n") {
			h.Add(headerExtensions, line)
		}

		answer, cfg, err := (&Upgrader{Compression: opts}).negotiateCompression(h)
		if err != nil {
			t.Fatalf("valid options refused: %v", err)
		}
		if (answer == "") != (cfg == nil) {
			t.Fatalf("answer %q with config %v", answer, cfg)
		}
		if answer != "" {
			exts, err := parseExtensions([]string{answer})
			if err != nil || len(exts) != 1 || exts[0].name != deflateExtensionName {
				t.Fatalf("answer %q: %v", answer, err)
			}
			if _, err := parseDeflateParams(extParams(exts[0].params), true); err != nil {
				t.Fatalf("answer %q: %v", answer, err)
			}
		}

		resp := &http.Response{StatusCode: http.StatusSwitchingProtocols, Header: h}
		ccfg, err := (&Dialer{Compression: opts}).acceptExtensions(resp)
		switch {
		case err != nil:
			var he *HandshakeError
			if !errors.As(err, &he) {
				t.Fatalf("error %v is not a HandshakeError", err)
			}
		case ccfg != nil:
			if opts.Mode == CompressionDisabled {
				t.Fatalf("accepted %q without offering", header)
			}
			for _, d := range []deflateDirection{ccfg.write, ccfg.read} {
				if d.windowBits < minWindowBits || d.windowBits > maxWindowBits {
					t.Fatalf("accepted %q with window %d", header, d.windowBits)
				}
			}
		}
	})
}
