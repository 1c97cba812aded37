package websocket

import (
	"bytes"
	"testing"
)

// FuzzInflate decompresses arbitrary bytes as a compressed message under a
// limit: no panic, never more output than the limit, only the errors of
// 1007 and 1009, and the inflater stays usable for the next message.
func FuzzInflate(f *testing.F) {
	d := newDeflater(deflateDirection{windowBits: 15}, 6, 0)
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, uint16(100), false)
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, uint16(3), true)
	f.Add(d.compress(nil, []byte(`{"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","b":[1,2,3,1,2,3,1,2,3]}`)), uint16(1000), true)
	f.Add(d.compress(nil, make([]byte, 5000)), uint16(4000), false)
	f.Add([]byte{0x06}, uint16(10), false)
	f.Fuzz(func(t *testing.T, payload []byte, limit uint16, takeover bool) {
		inf := newInflater(deflateDirection{takeover: takeover, windowBits: 15})
		got, err := inflateMessage(inf, bytes.NewReader(payload), int64(limit), 1000)
		if len(got) > int(limit) {
			t.Fatalf("%d bytes out, limit %d", len(got), limit)
		}
		if err != nil {
			if code, ok := closeCode(err); !ok || (code != StatusInvalidFramePayloadData && code != StatusMessageTooBig) {
				t.Fatalf("unexpected error %v", err)
			}
		}
		if inf.work != nil {
			t.Fatal("pooled state kept after the message ended")
		}
		if len(inf.hist) > inf.histSize {
			t.Fatalf("history %d bytes, more than %d", len(inf.hist), inf.histSize)
		}
		msg := []byte("next message")
		if err == nil || !takeover {
			// The history is intact (or unused): a fresh message decodes.
			p := newDeflater(deflateDirection{windowBits: 15}, 1, 0).compress(nil, msg)
			if got, err := inflateMessage(inf, bytes.NewReader(p), 100, 7); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("next message: %q, %v", got, err)
			}
		}
	})
}
