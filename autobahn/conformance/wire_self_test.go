package conformance

import (
	"bufio"
	"bytes"
	"errors"
	"testing"
)

// The peer must be right before it can judge our side: these tests check
// its codec on its own.

func TestPeerMask(t *testing.T) {
	key := [4]byte{0x12, 0x34, 0x56, 0x78}
	for n := range 40 {
		b := binPayload(n)
		got := bytes.Clone(b)
		mask(key, got)
		for i := range b {
			if got[i] != b[i]^key[i%4] {
				t.Fatalf("length %d: byte %d masked to %#x, want %#x", n, i, got[i], b[i]^key[i%4])
			}
		}
	}
}

func TestPeerFrameRoundTrip(t *testing.T) {
	for _, n := range []int{0, 1, 125, 126, 127, 65535, 65536, 70000} {
		for _, masked := range []bool{false, true} {
			f := bin(binPayload(n)).more()
			enc := encode(nil, f, masked)
			got, err := readFrame(bufio.NewReader(bytes.NewReader(enc)), masked, false)
			if err != nil {
				t.Fatalf("length %d masked %v: %v", n, masked, err)
			}
			if got.fin || got.op != opBinary || !bytes.Equal(got.payload, f.payload) {
				t.Fatalf("length %d masked %v: got fin %v op %#x, payload equal %v", n, masked, got.fin, got.op, bytes.Equal(got.payload, f.payload))
			}
		}
	}
}

// TestPeerRejects checks that the peer refuses the frames our side must
// never send.
func TestPeerRejects(t *testing.T) {
	bad := []struct {
		name               string
		f                  frame
		fromClient, masked bool
	}{
		{"unmasked frame from a client", text("x"), true, false},
		{"masked frame from a server", text("x"), false, true},
		{"reserved opcode", op(3, ""), false, false},
		{"RSV1 without compression", text("x").withRSV(rsv1), false, false},
		{"RSV2", text("x").withRSV(rsv2), false, false},
		{"fragmented ping", ping("x").more(), false, false},
		{"long ping", pingB(binPayload(126)), false, false},
		{"16-bit length form for 5 bytes", text("hello").form(2), false, false},
	}
	for _, c := range bad {
		enc := encode(nil, c.f, c.masked)
		if _, err := readFrame(bufio.NewReader(bytes.NewReader(enc)), c.fromClient, false); !errors.Is(err, errOurFrame) {
			t.Errorf("%s: readFrame error %v, want errOurFrame", c.name, err)
		}
	}
	for _, b := range [][]byte{{0x03}, closePayload(1005, ""), closePayload(999, ""), closePayload(1000, "\xff")} {
		if _, err := parseClose(b); !errors.Is(err, errOurFrame) {
			t.Errorf("close payload %x accepted", b)
		}
	}
}

// TestEchoed checks the expectations the echo rows derive from frames.
func TestEchoed(t *testing.T) {
	got := echoed(text("a").more(), ping("1"), cont("b").more(), pong("x"), ping("2"), cont("c"), bin([]byte{9}), ping("3"))
	want := []event{gotPong("1"), gotPong("2"), msgText("abc"), msgBin([]byte{9}), gotPong("3")}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for i := range want {
		if !same(got[i], want[i]) {
			t.Fatalf("event %d: got %v, want %v", i, got[i], want[i])
		}
	}
}

// TestPMDPeerRoundTrip checks the peer's permessage-deflate against itself:
// what one direction compresses, with or without context takeover and with
// a small window, the other side inflates.
func TestPMDPeerRoundTrip(t *testing.T) {
	for _, answer := range []string{
		"permessage-deflate",
		"permessage-deflate; client_no_context_takeover; server_no_context_takeover",
		"permessage-deflate; client_max_window_bits=9",
		"permessage-deflate; server_max_window_bits=8; client_no_context_takeover",
	} {
		params, err := parsePMD(answer)
		if err != nil {
			t.Fatalf("%q: %v", answer, err)
		}
		for _, client := range []bool{true, false} {
			sender, receiver := newPMDPeer(params, client), newPMDPeer(params, !client)
			for i, f := range compressedMessages(3000) {
				if !f.deflate {
					continue
				}
				c := sender.compress(f)
				if c.rsv != rsv1 {
					t.Fatalf("%q message %d: RSV %#x", answer, i, c.rsv)
				}
				got, err := receiver.decompress(c.payload)
				if err != nil || !bytes.Equal(got, f.payload) {
					t.Fatalf("%q client=%v message %d: inflated %d bytes, %v; want %d bytes", answer, client, i, len(got), err, len(f.payload))
				}
			}
		}
	}
	if got, err := newPMDPeer(pmdParams{}, true).decompress(deflateAlone([]byte("final"), true)); err != nil || string(got) != "final" {
		t.Fatalf("BFINAL message inflated to %q, %v", got, err)
	}
}

func TestParsePMD(t *testing.T) {
	good := map[string]pmdParams{
		"permessage-deflate": {},
		"permessage-deflate; server_no_context_takeover; client_max_window_bits=10": {serverNoContextTakeover: true, clientMaxWindowBits: 10},
		`permessage-deflate;server_max_window_bits="8"`:                             {serverMaxWindowBits: 8},
	}
	for s, want := range good {
		if got, err := parsePMD(s); err != nil || got != want {
			t.Errorf("parsePMD(%q) = %+v, %v; want %+v", s, got, err, want)
		}
	}
	for _, s := range []string{
		"x-webkit-deflate-frame", "permessage-deflate, permessage-deflate", "permessage-deflate; client_max_window_bits",
		"permessage-deflate; server_max_window_bits=7", "permessage-deflate; server_max_window_bits=16",
		"permessage-deflate; server_no_context_takeover; server_no_context_takeover", "permessage-deflate; foo",
		"permessage-deflate; server_no_context_takeover=1", "permessage-deflate; client_max_window_bits=09",
	} {
		if _, err := parsePMD(s); err == nil {
			t.Errorf("parsePMD(%q) accepted an invalid answer", s)
		}
	}
}
