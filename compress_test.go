package websocket

import (
	"errors"
	"fmt"
	"strings"
	"testing"
)

// testParams parses "a; b=1; c" into parameters: a test shorthand for what
// the Sec-WebSocket-Extensions parser produces (values already unquoted).
// "b=" gives an empty value.
func testParams(s string) []extParam {
	var ps []extParam
	for f := range strings.SplitSeq(s, ";") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		name, value, has := strings.Cut(f, "=")
		ps = append(ps, extParam{name: name, value: value, hasValue: has})
	}
	return ps
}

// testOffers parses a comma-separated list of offers, each without the
// extension name.
func testOffers(s string) [][]extParam {
	var offers [][]extParam
	for o := range strings.SplitSeq(s, ",") {
		offers = append(offers, testParams(o))
	}
	return offers
}

var (
	takeoverOpts   = CompressionOptions{Mode: CompressionContextTakeover}
	noTakeoverOpts = CompressionOptions{Mode: CompressionNoContextTakeover}
)

func dirs(wt bool, wb int, rt bool, rb int) (deflateDirection, deflateDirection) {
	return deflateDirection{takeover: wt, windowBits: wb}, deflateDirection{takeover: rt, windowBits: rb}
}

func TestNegotiateDeflateServer(t *testing.T) {
	w10 := CompressionOptions{Mode: CompressionContextTakeover, WindowBits: 10}
	type want struct {
		resp        string
		write, read deflateDirection
	}
	accept := func(resp string, wt bool, wb int, rt bool, rb int) *want {
		w, r := dirs(wt, wb, rt, rb)
		return &want{resp: resp, write: w, read: r}
	}
	const pmd = "permessage-deflate"
	tests := []struct {
		name   string
		opts   CompressionOptions
		offers string
		want   *want // nil: declined
	}{
		{"plain", takeoverOpts, "", accept(pmd, true, 15, true, 15)},
		{"plain/no-takeover mode", noTakeoverOpts, "", accept(pmd+"; server_no_context_takeover; client_no_context_takeover", false, 15, false, 15)},
		{"server_no_context_takeover", takeoverOpts, "server_no_context_takeover", accept(pmd+"; server_no_context_takeover", false, 15, true, 15)},
		{"client_no_context_takeover", takeoverOpts, "client_no_context_takeover", accept(pmd+"; client_no_context_takeover", true, 15, false, 15)},
		{"server_max_window_bits=10", takeoverOpts, "server_max_window_bits=10", accept(pmd+"; server_max_window_bits=10", true, 10, true, 15)},
		{"server_max_window_bits=8", takeoverOpts, "server_max_window_bits=8", accept(pmd+"; server_max_window_bits=8", true, 8, true, 15)},
		{"server_max_window_bits=15", takeoverOpts, "server_max_window_bits=15", accept(pmd+"; server_max_window_bits=15", true, 15, true, 15)},
		{"client_max_window_bits", takeoverOpts, "client_max_window_bits", accept(pmd, true, 15, true, 15)},
		{"client_max_window_bits=12", takeoverOpts, "client_max_window_bits=12", accept(pmd+"; client_max_window_bits=12", true, 15, true, 12)},
		{"client_max_window_bits=8", takeoverOpts, "client_max_window_bits=8", accept(pmd+"; client_max_window_bits=8", true, 15, true, 8)},
		{"our window, nothing offered", w10, "", accept(pmd+"; server_max_window_bits=10", true, 10, true, 15)},
		{"our window, client can be limited", w10, "client_max_window_bits", accept(pmd+"; server_max_window_bits=10; client_max_window_bits=10", true, 10, true, 10)},
		{"our window vs smaller offers", w10, "server_max_window_bits=9; client_max_window_bits=9", accept(pmd+"; server_max_window_bits=9; client_max_window_bits=9", true, 9, true, 9)},
		{"our window vs larger offers", w10, "server_max_window_bits=12; client_max_window_bits=12", accept(pmd+"; server_max_window_bits=10; client_max_window_bits=10", true, 10, true, 10)},
		{"all four", takeoverOpts, "server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11",
			accept(pmd+"; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11", false, 9, false, 11)},
		{"all four, any order", takeoverOpts, "client_max_window_bits=11; server_max_window_bits=9; client_no_context_takeover; server_no_context_takeover",
			accept(pmd+"; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=9; client_max_window_bits=11", false, 9, false, 11)},
		{"names ignore case", takeoverOpts, "Server_No_Context_Takeover; CLIENT_MAX_WINDOW_BITS=10", accept(pmd+"; server_no_context_takeover; client_max_window_bits=10", false, 15, true, 10)},
		{"first valid offer wins", takeoverOpts, "x=1, server_max_window_bits=11, server_max_window_bits=12", accept(pmd+"; server_max_window_bits=11", true, 11, true, 15)},
		{"fallback offer of RFC 7692 §7.1.3", takeoverOpts, "client_max_window_bits; server_max_window_bits=10, client_max_window_bits",
			accept(pmd+"; server_max_window_bits=10", true, 10, true, 15)},

		{"disabled", CompressionOptions{}, "", nil},
		{"unknown parameter", takeoverOpts, "server_no_context_takeover; x", nil},
		{"unknown parameter with value", takeoverOpts, "max_window_bits=10", nil},
		{"duplicate flag", takeoverOpts, "server_no_context_takeover; server_no_context_takeover", nil},
		{"duplicate window", takeoverOpts, "server_max_window_bits=10; server_max_window_bits=10", nil},
		{"duplicate client window, one without value", takeoverOpts, "client_max_window_bits; client_max_window_bits=10", nil},
		{"value on server_no_context_takeover", takeoverOpts, "server_no_context_takeover=1", nil},
		{"empty value on client_no_context_takeover", takeoverOpts, "client_no_context_takeover=", nil},
		{"server_max_window_bits without value", takeoverOpts, "server_max_window_bits", nil},
		{"server_max_window_bits empty", takeoverOpts, "server_max_window_bits=", nil},
		{"server_max_window_bits=7", takeoverOpts, "server_max_window_bits=7", nil},
		{"server_max_window_bits=16", takeoverOpts, "server_max_window_bits=16", nil},
		{"server_max_window_bits=0", takeoverOpts, "server_max_window_bits=0", nil},
		{"server_max_window_bits=09", takeoverOpts, "server_max_window_bits=09", nil},
		{"server_max_window_bits=010", takeoverOpts, "server_max_window_bits=010", nil},
		{"server_max_window_bits=+9", takeoverOpts, "server_max_window_bits=+9", nil},
		{"server_max_window_bits=-9", takeoverOpts, "server_max_window_bits=-9", nil},
		{"server_max_window_bits=1a", takeoverOpts, "server_max_window_bits=1a", nil},
		{"server_max_window_bits=9.0", takeoverOpts, "server_max_window_bits=9.0", nil},
		{"server_max_window_bits=100", takeoverOpts, "server_max_window_bits=100", nil},
		{"server_max_window_bits=１０ (fullwidth)", takeoverOpts, "server_max_window_bits=１０", nil},
		{"client_max_window_bits=7", takeoverOpts, "client_max_window_bits=7", nil},
		{"client_max_window_bits=16", takeoverOpts, "client_max_window_bits=16", nil},
		{"client_max_window_bits empty", takeoverOpts, "client_max_window_bits=", nil},
		{"client_max_window_bits=012", takeoverOpts, "client_max_window_bits=012", nil},
		{"every offer invalid", takeoverOpts, "x, server_max_window_bits, client_no_context_takeover=1", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, cfg, ok := negotiateDeflateServer(&tt.opts, testOffers(tt.offers))
			if tt.want == nil {
				if ok {
					t.Fatalf("accepted with %q, want declined", resp)
				}
				if resp != "" {
					t.Fatalf("declined but response %q", resp)
				}
				return
			}
			if !ok {
				t.Fatal("declined, want accepted")
			}
			if resp != tt.want.resp {
				t.Errorf("response %q, want %q", resp, tt.want.resp)
			}
			if cfg.write != tt.want.write || cfg.read != tt.want.read {
				t.Errorf("write %+v read %+v, want write %+v read %+v", cfg.write, cfg.read, tt.want.write, tt.want.read)
			}
		})
	}
}

func TestDeflateClientOffer(t *testing.T) {
	tests := []struct {
		opts CompressionOptions
		want string
	}{
		{CompressionOptions{}, ""},
		{takeoverOpts, "permessage-deflate; client_max_window_bits"},
		{noTakeoverOpts, "permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits"},
		{CompressionOptions{Mode: CompressionContextTakeover, WindowBits: 10},
			"permessage-deflate; server_max_window_bits=10; client_max_window_bits=10, permessage-deflate; client_max_window_bits=10"},
		{CompressionOptions{Mode: CompressionNoContextTakeover, WindowBits: 8},
			"permessage-deflate; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=8; client_max_window_bits=8, " +
				"permessage-deflate; server_no_context_takeover; client_no_context_takeover; client_max_window_bits=8"},
	}
	for _, tt := range tests {
		if got := deflateClientOffer(&tt.opts); got != tt.want {
			t.Errorf("%+v: offer %q, want %q", tt.opts, got, tt.want)
		}
	}
}

func TestAcceptDeflateResponse(t *testing.T) {
	w10 := CompressionOptions{Mode: CompressionContextTakeover, WindowBits: 10}
	ok := func(wt bool, wb int, rt bool, rb int) *deflateConfig {
		w, r := dirs(wt, wb, rt, rb)
		return &deflateConfig{write: w, read: r}
	}
	tests := []struct {
		name string
		opts CompressionOptions
		resp string
		want *deflateConfig // nil: the client fails the connection
	}{
		{"plain", takeoverOpts, "", ok(true, 15, true, 15)},
		{"server_no_context_takeover unasked", takeoverOpts, "server_no_context_takeover", ok(true, 15, false, 15)},
		{"client_no_context_takeover unasked", takeoverOpts, "client_no_context_takeover", ok(false, 15, true, 15)},
		{"server_max_window_bits unasked", takeoverOpts, "server_max_window_bits=10", ok(true, 15, true, 10)},
		{"client_max_window_bits=9", takeoverOpts, "client_max_window_bits=9", ok(true, 9, true, 15)},
		{"client_max_window_bits=8", takeoverOpts, "client_max_window_bits=8", ok(true, 8, true, 15)},
		{"all four", takeoverOpts, "server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=13", ok(false, 13, false, 12)},
		{"no takeover, echoed", noTakeoverOpts, "server_no_context_takeover; client_no_context_takeover", ok(false, 15, false, 15)},
		{"no takeover, client flag not echoed", noTakeoverOpts, "server_no_context_takeover", ok(false, 15, false, 15)},
		{"window cap, accepted", w10, "server_max_window_bits=10", ok(true, 10, true, 10)},
		{"window cap, smaller", w10, "server_max_window_bits=9; client_max_window_bits=9", ok(true, 9, true, 9)},
		{"window cap, fallback accepted", w10, "", ok(true, 10, true, 15)},
		{"window cap, fallback with server window", w10, "server_max_window_bits=12", ok(true, 10, true, 12)},

		{"client_max_window_bits without value", takeoverOpts, "client_max_window_bits", nil},
		{"unknown parameter", takeoverOpts, "x", nil},
		{"duplicate", takeoverOpts, "client_no_context_takeover; client_no_context_takeover", nil},
		{"value on a flag", takeoverOpts, "server_no_context_takeover=yes", nil},
		{"server window out of range", takeoverOpts, "server_max_window_bits=16", nil},
		{"server window leading zero", takeoverOpts, "server_max_window_bits=09", nil},
		{"server window without value", takeoverOpts, "server_max_window_bits", nil},
		{"no takeover dropped", noTakeoverOpts, "client_no_context_takeover", nil},
		{"no takeover dropped entirely", noTakeoverOpts, "", nil},
		{"client window above our cap", w10, "client_max_window_bits=11", nil},
		{"client window out of range", takeoverOpts, "client_max_window_bits=16", nil},
		{"compression disabled", CompressionOptions{}, "", nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := acceptDeflateResponse(&tt.opts, testParams(tt.resp))
			if tt.want == nil {
				if err == nil {
					t.Fatalf("accepted %q: %+v", tt.resp, cfg)
				}
				return
			}
			if err != nil {
				t.Fatalf("rejected: %v", err)
			}
			if cfg.write != tt.want.write || cfg.read != tt.want.read {
				t.Errorf("write %+v read %+v, want write %+v read %+v", cfg.write, cfg.read, tt.want.write, tt.want.read)
			}
		})
	}
}

// TestAcceptDeflateResponseNotOffered checks the client-side error for an
// answer to an offer we never made.
func TestAcceptDeflateResponseNotOffered(t *testing.T) {
	_, err := acceptDeflateResponse(&noTakeoverOpts, nil)
	if !errors.Is(err, errDeflateNotOffered) {
		t.Fatalf("got %v, want errDeflateNotOffered", err)
	}
}

// TestDeflateAnswers covers the answers our own client never provokes: a
// client window in the response when the offer had none (RFC 7692
// §7.1.2.2: MUST NOT), and one above the offered value.
func TestDeflateAnswers(t *testing.T) {
	tests := []struct {
		offer, resp deflateParams
		want        bool
	}{
		{deflateParams{}, deflateParams{clientMaxWindowBits: 10}, false},
		{deflateParams{clientMaxWindowBits: 10}, deflateParams{clientMaxWindowBits: 11}, false},
		{deflateParams{clientMaxWindowBits: 10}, deflateParams{clientMaxWindowBits: 10}, true},
		{deflateParams{clientMaxWindowBitsNoValue: true}, deflateParams{clientMaxWindowBits: 15}, true},
		{deflateParams{serverMaxWindowBits: 10}, deflateParams{}, false},
		{deflateParams{serverMaxWindowBits: 10}, deflateParams{serverMaxWindowBits: 11}, false},
		{deflateParams{serverMaxWindowBits: 10}, deflateParams{serverMaxWindowBits: 8}, true},
		{deflateParams{serverNoContextTakeover: true}, deflateParams{}, false},
		{deflateParams{}, deflateParams{serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 9}, true},
	}
	for _, tt := range tests {
		if got := answers(tt.offer, tt.resp); got != tt.want {
			t.Errorf("answers(%q, %q) = %v", tt.offer, tt.resp, got)
		}
	}
}

// TestNegotiateDeflateBothSides runs our client's offers through our
// server for every pair of options, and checks that the client accepts the
// answer and that both ends agree: what one side compresses with fits what
// the other decompresses with.
func TestNegotiateDeflateBothSides(t *testing.T) {
	var all []CompressionOptions
	for _, mode := range []CompressionMode{CompressionNoContextTakeover, CompressionContextTakeover} {
		for _, bits := range []int{0, 8, 9, 12, 15} {
			all = append(all, CompressionOptions{Mode: mode, WindowBits: bits})
		}
	}
	for _, copts := range all {
		for _, sopts := range all {
			name := fmt.Sprintf("client=%v/%d server=%v/%d", copts.Mode, copts.WindowBits, sopts.Mode, sopts.WindowBits)
			var offers [][]extParam
			for _, o := range deflateClientOffers(&copts) {
				offers = append(offers, testParams(strings.TrimPrefix(o.String(), deflateExtensionName)))
			}
			resp, scfg, ok := negotiateDeflateServer(&sopts, offers)
			if !ok {
				t.Fatalf("%s: server declined %q", name, deflateClientOffer(&copts))
			}
			ccfg, err := acceptDeflateResponse(&copts, testParams(strings.TrimPrefix(resp, deflateExtensionName)))
			if err != nil {
				t.Fatalf("%s: client rejected %q: %v", name, resp, err)
			}
			checkAgree(t, name+" client→server", ccfg.write, scfg.read)
			checkAgree(t, name+" server→client", scfg.write, ccfg.read)
			if copts.Mode == CompressionNoContextTakeover || sopts.Mode == CompressionNoContextTakeover {
				if ccfg.write.takeover || ccfg.read.takeover || scfg.write.takeover || scfg.read.takeover {
					t.Errorf("%s: takeover left on: client %+v server %+v", name, ccfg, scfg)
				}
			}
			if bits := sopts.windowBits(); scfg.write.windowBits > bits {
				t.Errorf("%s: server compresses with %d bits above its cap %d", name, scfg.write.windowBits, bits)
			}
			if bits := copts.windowBits(); ccfg.write.windowBits > bits || ccfg.read.windowBits > bits {
				t.Errorf("%s: client windows %+v above its cap %d", name, ccfg, bits)
			}
		}
	}
}

// checkAgree fails when a compressor may do something its peer's
// decompressor is not ready for: refer to history the decompressor drops,
// or use a larger window than the decompressor keeps.
func checkAgree(t *testing.T, name string, comp, decomp deflateDirection) {
	t.Helper()
	if comp.takeover && !decomp.takeover {
		t.Errorf("%s: compressor keeps context, decompressor does not", name)
	}
	if comp.windowBits > decomp.windowBits {
		t.Errorf("%s: compressor window %d above decompressor's %d", name, comp.windowBits, decomp.windowBits)
	}
}

func TestCompressionOptions(t *testing.T) {
	var zero CompressionOptions
	if zero.level() != DefaultCompressionLevel || zero.threshold() != DefaultCompressionThreshold || zero.windowBits() != 15 {
		t.Errorf("zero value: level %d threshold %d window %d", zero.level(), zero.threshold(), zero.windowBits())
	}
	if err := zero.check(); err != nil {
		t.Errorf("zero value: %v", err)
	}
	if o := (CompressionOptions{Level: -1}); o.level() != DefaultCompressionLevel {
		t.Errorf("flate.DefaultCompression maps to %d", o.level())
	}
	if o := (CompressionOptions{Level: -2}); o.level() != -2 {
		t.Errorf("flate.HuffmanOnly maps to %d", o.level())
	}
	if o := (CompressionOptions{Threshold: -1}); o.threshold() != 0 {
		t.Errorf("negative threshold maps to %d", o.threshold())
	}
	for _, bad := range []CompressionOptions{{Mode: 3}, {Mode: -1}, {Level: 10}, {Level: -3}, {WindowBits: 7}, {WindowBits: 16}} {
		if bad.check() == nil {
			t.Errorf("%+v accepted", bad)
		}
	}
	for m, want := range map[CompressionMode]string{
		CompressionDisabled: "disabled", CompressionNoContextTakeover: "no-context-takeover",
		CompressionContextTakeover: "context-takeover", 7: "CompressionMode(7)",
	} {
		if m.String() != want {
			t.Errorf("%d.String() = %q", int(m), m.String())
		}
	}
}
