package websocket

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// offerTo sends a handshake request with the Sec-WebSocket-Extensions
// lines offers (none when empty) to a server that upgrades with up, and
// returns the answer's status and Sec-WebSocket-Extensions lines.
func offerTo(t *testing.T, up *Upgrader, offers ...string) (int, []string) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if c, err := up.Upgrade(w, r, nil); err == nil {
			c.CloseNow()
		}
	}))
	defer srv.Close()
	conn, err := net.Dial("tcp", srv.Listener.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	conn.SetDeadline(time.Now().Add(testTimeout))
	var req strings.Builder
	req.WriteString("GET / HTTP/1.1\r\nHost: " + srv.Listener.Addr().String() +
		"\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: " + sampleKey + "\r\n")
	for _, o := range offers {
		req.WriteString("Sec-WebSocket-Extensions: " + o + "\r\n")
	}
	if _, err := conn.Write([]byte(req.String() + "\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Values(headerExtensions)
}

// TestUpgradeNegotiatesDeflate answers offers through Upgrade: each
// parameter alone and in combination, each server mode and window, and
// offers to decline (RFC 7692 §5.1, §7.1): the handshake still succeeds,
// without the extension or with the next acceptable offer.
func TestUpgradeNegotiatesDeflate(t *testing.T) {
	takeover := CompressionOptions{Mode: CompressionContextTakeover}
	noTakeover := CompressionOptions{Mode: CompressionNoContextTakeover}
	window10 := CompressionOptions{Mode: CompressionContextTakeover, WindowBits: 10}
	const pmd = "permessage-deflate"
	for _, tc := range []struct {
		name   string
		opts   CompressionOptions
		offers []string
		want   string // "" when declined
	}{
		{"no offer", takeover, nil, ""},
		{"plain", takeover, []string{pmd}, pmd},
		{"server_no_context_takeover", takeover, []string{pmd + "; server_no_context_takeover"}, pmd + "; server_no_context_takeover"},
		{"client_no_context_takeover", takeover, []string{pmd + "; client_no_context_takeover"}, pmd + "; client_no_context_takeover"},
		{"server_max_window_bits", takeover, []string{pmd + "; server_max_window_bits=10"}, pmd + "; server_max_window_bits=10"},
		{"server_max_window_bits quoted", takeover, []string{pmd + `; server_max_window_bits="8"`}, pmd + "; server_max_window_bits=8"},
		{"client_max_window_bits without value", takeover, []string{pmd + "; client_max_window_bits"}, pmd},
		{"client_max_window_bits", takeover, []string{pmd + "; client_max_window_bits=9"}, pmd + "; client_max_window_bits=9"},
		{"all four", takeover, []string{pmd + "; client_max_window_bits=12; server_max_window_bits=11; client_no_context_takeover; server_no_context_takeover"},
			pmd + "; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=11; client_max_window_bits=12"},
		{"case-insensitive", takeover, []string{"PerMessage-Deflate; Server_No_Context_Takeover"}, pmd + "; server_no_context_takeover"},
		{"Chromium's offer", takeover, []string{pmd + "; client_max_window_bits"}, pmd},
		{"Firefox's offer", takeover, []string{pmd}, pmd},

		{"no takeover: plain", noTakeover, []string{pmd}, pmd + "; server_no_context_takeover; client_no_context_takeover"},
		{"no takeover: windows", noTakeover, []string{pmd + "; server_max_window_bits=12; client_max_window_bits"}, pmd + "; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12"},
		{"window 10: plain", window10, []string{pmd}, pmd + "; server_max_window_bits=10"},
		{"window 10: client may limit", window10, []string{pmd + "; client_max_window_bits"}, pmd + "; server_max_window_bits=10; client_max_window_bits=10"},
		{"window 10: smaller asked", window10, []string{pmd + "; server_max_window_bits=9; client_max_window_bits=8"}, pmd + "; server_max_window_bits=9; client_max_window_bits=8"},
		{"disabled", CompressionOptions{}, []string{pmd}, ""},

		{"decline: server_max_window_bits without value", takeover, []string{pmd + "; server_max_window_bits"}, ""},
		{"decline: window 7", takeover, []string{pmd + "; server_max_window_bits=7"}, ""},
		{"decline: window 16", takeover, []string{pmd + "; client_max_window_bits=16"}, ""},
		{"decline: leading zero", takeover, []string{pmd + "; server_max_window_bits=09"}, ""},
		{"decline: duplicate", takeover, []string{pmd + "; client_no_context_takeover; client_no_context_takeover"}, ""},
		{"decline: unknown parameter", takeover, []string{pmd + "; foo"}, ""},
		{"decline: value on a flag", takeover, []string{pmd + "; server_no_context_takeover=1"}, ""},
		{"decline: malformed header", takeover, []string{pmd + "; =1"}, ""},
		{"decline: other extension", takeover, []string{"x-webkit-deflate-frame"}, ""},
		{"first acceptable offer", takeover, []string{pmd + "; foo, " + pmd + "; server_max_window_bits=12, " + pmd}, pmd + "; server_max_window_bits=12"},
		{"offers over two lines", takeover, []string{"x-webkit-deflate-frame", pmd + "; bar=1", pmd + "; client_no_context_takeover"}, pmd + "; client_no_context_takeover"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, got := offerTo(t, &Upgrader{Compression: tc.opts}, tc.offers...)
			if status != http.StatusSwitchingProtocols {
				t.Fatalf("status %d", status)
			}
			want := []string{tc.want}
			if tc.want == "" {
				want = nil
			}
			if strings.Join(got, "|") != strings.Join(want, "|") {
				t.Fatalf("answer %q, want %q", got, want)
			}
		})
	}
	t.Run("invalid options", func(t *testing.T) {
		status, _ := offerTo(t, &Upgrader{Compression: CompressionOptions{Mode: CompressionContextTakeover, WindowBits: 16}}, pmd)
		if status != http.StatusInternalServerError {
			t.Fatalf("status %d, want 500", status)
		}
	})
}

// answerWith starts a raw server that answers one handshake with the
// Sec-WebSocket-Extensions value answer (none when empty) and reports the
// offer it got. It returns the server's ws:// URL.
func answerWith(t *testing.T, answer string, offer chan<- string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	t.Cleanup(func() {
		ln.Close()
		<-done
	})
	go func() {
		defer close(done)
		conn, err := ln.Accept()
		if err != nil {
			return
		}
		defer conn.Close()
		conn.SetDeadline(time.Now().Add(testTimeout))
		br := bufio.NewReader(conn)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		offer <- strings.Join(req.Header.Values(headerExtensions), ", ")
		resp := "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: " + acceptKey(req.Header.Get(headerKey)) + "\r\n"
		if answer != "" {
			resp += "Sec-WebSocket-Extensions: " + answer + "\r\n"
		}
		conn.Write([]byte(resp + "\r\n"))
		// Wait for the client to go.
		br.ReadByte()
	}()
	return "ws://" + ln.Addr().String() + "/"
}

// TestDialNegotiatesDeflate checks what the Dialer offers for each option
// and what it makes of the server's answer: every parameter alone and in
// combination, and answers it must fail on (RFC 7692 §5.2, §7.1).
func TestDialNegotiatesDeflate(t *testing.T) {
	takeover := CompressionOptions{Mode: CompressionContextTakeover}
	noTakeover := CompressionOptions{Mode: CompressionNoContextTakeover}
	window10 := CompressionOptions{Mode: CompressionContextTakeover, WindowBits: 10}
	const pmd = "permessage-deflate"
	dir := func(takeover bool, bits int) deflateDirection {
		return deflateDirection{takeover: takeover, windowBits: bits}
	}
	type dirs struct{ write, read deflateDirection }
	for _, tc := range []struct {
		name   string
		opts   CompressionOptions
		answer string
		offer  string
		want   *dirs // nil: no compression; see fail
		fail   bool
	}{
		{"no answer", takeover, "", pmd + "; client_max_window_bits", nil, false},
		{"plain", takeover, pmd, pmd + "; client_max_window_bits", &dirs{dir(true, 15), dir(true, 15)}, false},
		{"server_no_context_takeover", takeover, pmd + "; server_no_context_takeover", "", &dirs{dir(true, 15), dir(false, 15)}, false},
		{"client_no_context_takeover", takeover, pmd + "; client_no_context_takeover", "", &dirs{dir(false, 15), dir(true, 15)}, false},
		{"server_max_window_bits", takeover, pmd + "; server_max_window_bits=9", "", &dirs{dir(true, 15), dir(true, 9)}, false},
		{"client_max_window_bits", takeover, pmd + "; client_max_window_bits=8", "", &dirs{dir(true, 8), dir(true, 15)}, false},
		{"all four", takeover, pmd + "; server_no_context_takeover; client_no_context_takeover; server_max_window_bits=12; client_max_window_bits=11", "",
			&dirs{dir(false, 11), dir(false, 12)}, false},
		{"no takeover: both echoed", noTakeover, pmd + "; server_no_context_takeover; client_no_context_takeover",
			pmd + "; server_no_context_takeover; client_no_context_takeover; client_max_window_bits", &dirs{dir(false, 15), dir(false, 15)}, false},
		{"no takeover: client's not echoed", noTakeover, pmd + "; server_no_context_takeover", "", &dirs{dir(false, 15), dir(false, 15)}, false},
		{"window 10: accepted", window10, pmd + "; server_max_window_bits=10; client_max_window_bits=10",
			pmd + "; server_max_window_bits=10; client_max_window_bits=10, " + pmd + "; client_max_window_bits=10", &dirs{dir(true, 10), dir(true, 10)}, false},
		{"window 10: server declined ours", window10, pmd, "", &dirs{dir(true, 10), dir(true, 15)}, false},
		{"window 10: smaller", window10, pmd + "; server_max_window_bits=8; client_max_window_bits=9", "", &dirs{dir(true, 9), dir(true, 8)}, false},
		{"disabled", CompressionOptions{}, "", "", nil, false},

		{"fail: not offered", CompressionOptions{}, pmd, "", nil, true},
		{"fail: other extension", takeover, "x-webkit-deflate-frame", "", nil, true},
		{"fail: twice", takeover, pmd + ", " + pmd, "", nil, true},
		{"fail: client_max_window_bits without value", takeover, pmd + "; client_max_window_bits", "", nil, true},
		{"fail: server_max_window_bits without value", takeover, pmd + "; server_max_window_bits", "", nil, true},
		{"fail: window 16", takeover, pmd + "; server_max_window_bits=16", "", nil, true},
		{"fail: unknown parameter", takeover, pmd + "; foo=bar", "", nil, true},
		{"fail: duplicate", takeover, pmd + "; server_no_context_takeover; server_no_context_takeover", "", nil, true},
		{"fail: value on a flag", takeover, pmd + "; client_no_context_takeover=yes", "", nil, true},
		{"fail: malformed", takeover, pmd + ";;", "", nil, true},
		{"fail: dropped server_no_context_takeover", noTakeover, pmd + "; client_no_context_takeover", "", nil, true},
		{"fail: larger client window", window10, pmd + "; client_max_window_bits=12", "", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			offer := make(chan string, 1)
			url := answerWith(t, tc.answer, offer)
			d := &Dialer{HandshakeTimeout: testTimeout, Compression: tc.opts}
			ctx, cancel := context.WithTimeout(context.Background(), testTimeout)
			defer cancel()
			cfg, _, err := d.dial(ctx, url, nil)
			if got := <-offer; tc.offer != "" && got != tc.offer {
				t.Errorf("offer %q, want %q", got, tc.offer)
			}
			if tc.fail {
				var he *HandshakeError
				if !errors.As(err, &he) || he.Status != http.StatusSwitchingProtocols {
					t.Fatalf("dial: %v, want a HandshakeError with status 101", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("dial: %v", err)
			}
			defer cfg.netConn.Close()
			switch {
			case tc.want == nil && cfg.deflate != nil:
				t.Fatalf("compression %+v, want none", *cfg.deflate)
			case tc.want != nil && cfg.deflate == nil:
				t.Fatal("no compression")
			case tc.want != nil && (cfg.deflate.write != tc.want.write || cfg.deflate.read != tc.want.read):
				t.Fatalf("write %+v read %+v, want %+v %+v", cfg.deflate.write, cfg.deflate.read, tc.want.write, tc.want.read)
			}
		})
	}
	t.Run("invalid options", func(t *testing.T) {
		d := &Dialer{Compression: CompressionOptions{Mode: CompressionContextTakeover, Level: 12}}
		if _, _, err := d.Dial(context.Background(), "ws://127.0.0.1:1/", nil); err == nil || !strings.Contains(err.Error(), "Compression") {
			t.Fatalf("Dial: %v, want an error about the options", err)
		}
	})
}

// TestDeflateOverHTTP2 negotiates permessage-deflate over an extended
// CONNECT (RFC 8441 §5: the extension header fields mean the same) and
// exchanges compressed messages both ways.
func TestDeflateOverHTTP2(t *testing.T) {
	up := &Upgrader{Compression: CompressionOptions{Mode: CompressionContextTakeover}}
	s := startH2Server(t, true, up, nil)
	s.dialer.Compression = CompressionOptions{Mode: CompressionNoContextTakeover}
	c, resp := s.dial(t, "/")
	if got := resp.Header.Get(headerExtensions); got != "permessage-deflate; server_no_context_takeover; client_no_context_takeover" {
		t.Fatalf("answer %q", got)
	}
	msg := bytes.Repeat([]byte("over HTTP/2, compressed "), 400)
	for range 3 {
		if err := c.WriteMessage(TextMessage, msg); err != nil {
			t.Fatal(err)
		}
		if _, got, err := c.ReadMessage(); err != nil || !bytes.Equal(got, msg) {
			t.Fatalf("echo: %v", err)
		}
	}
	c.Close()
}
