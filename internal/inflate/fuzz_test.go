package inflate

import (
	"bytes"
	"testing"

	"github.com/rfc6455/websocket/internal/wstest"
)

// FuzzInflate decompresses arbitrary bytes as a compressed message under a
// limit: no panic, never more output than the limit, only ErrCorrupt and
// ErrTooBig, and the Reader stays usable for the next message.
func FuzzInflate(f *testing.F) {
	d := newCompressor(15, false)
	f.Add([]byte{0xf2, 0x48, 0xcd, 0xc9, 0xc9, 0x07, 0x00}, uint16(100), false)
	f.Add([]byte{0x00, 0x05, 0x00, 0xfa, 0xff, 0x48, 0x65, 0x6c, 0x6c, 0x6f, 0x00}, uint16(3), true)
	f.Add(d.compress([]byte(`{"a":"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa","b":[1,2,3,1,2,3,1,2,3]}`)), uint16(1000), true)
	f.Add(d.compress(make([]byte, 5000)), uint16(4000), false)
	f.Add([]byte{0x06}, uint16(10), false)
	f.Fuzz(func(t *testing.T, payload []byte, limit uint16, takeover bool) {
		inf := New(takeover, 1<<15)
		got, err := wstest.InflateInPieces(inf, bytes.NewReader(payload), int64(limit), 1000)
		if len(got) > int(limit) {
			t.Fatalf("%d bytes out, limit %d", len(got), limit)
		}
		if err != nil && err != ErrCorrupt && err != ErrTooBig {
			t.Fatalf("unexpected error %v", err)
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
			p := newCompressor(15, false).compress(msg)
			if got, err := wstest.InflateInPieces(inf, bytes.NewReader(p), 100, 7); err != nil || !bytes.Equal(got, msg) {
				t.Fatalf("next message: %q, %v", got, err)
			}
		}
	})
}
