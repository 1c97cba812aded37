package websocket

import (
	"bytes"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"testing"
)

// settingsFrame encodes an HTTP/2 frame of type typ with flags whose
// payload holds the settings given as id, value pairs.
func settingsFrame(typ, flags byte, settings ...uint32) []byte {
	payload := make([]byte, 0, 3*len(settings))
	for i := 0; i+1 < len(settings); i += 2 {
		payload = binary.BigEndian.AppendUint16(payload, uint16(settings[i]))
		payload = binary.BigEndian.AppendUint32(payload, settings[i+1])
	}
	b := []byte{byte(len(payload) >> 16), byte(len(payload) >> 8), byte(len(payload)), typ, flags, 0, 0, 0, 0}
	return append(b, payload...)
}

// sniff feeds input to a settingsSniffer in reads of at most chunk bytes,
// then reports the result.
func sniff(input []byte, chunk int) (allowed bool, err error, done bool) {
	s := newSettingsSniffer(&chunkConn{r: bytes.NewReader(input), chunk: chunk})
	buf := make([]byte, 64)
	for range len(input) + 2 {
		if _, err := s.Read(buf); err != nil {
			break
		}
	}
	if !isDone(s.done) {
		return false, nil, false
	}
	return s.allowed, s.err, true
}

// chunkConn is a net.Conn whose reads return at most chunk bytes of r.
type chunkConn struct {
	net.Conn
	r     io.Reader
	chunk int
}

func (c *chunkConn) Read(p []byte) (int, error) {
	if len(p) > c.chunk {
		p = p[:c.chunk]
	}
	return c.r.Read(p)
}

func TestSettingsSniffer(t *testing.T) {
	const enable, maxStreams = h2SettingEnableConnect, 0x3
	tail := []byte("\x00\x00\x00\x04\x01\x00\x00\x00\x00more frames") // what follows is not looked at
	for _, tc := range []struct {
		name    string
		input   []byte
		allowed bool
		wantErr bool
		cut     bool // the stream ends after input
	}{
		{"enabled", settingsFrame(h2FrameSettings, 0, maxStreams, 100, enable, 1), true, false, false},
		{"not mentioned", settingsFrame(h2FrameSettings, 0, maxStreams, 100), false, false, false},
		{"empty SETTINGS", settingsFrame(h2FrameSettings, 0), false, false, false},
		{"set to 0", settingsFrame(h2FrameSettings, 0, enable, 0), false, false, false},
		{"last value wins", settingsFrame(h2FrameSettings, 0, enable, 1, enable, 0), false, false, false},
		{"last value wins, on", settingsFrame(h2FrameSettings, 0, enable, 0, enable, 1), true, false, false},
		{"value 2 is not 1", settingsFrame(h2FrameSettings, 0, enable, 2), false, false, false},
		{"first frame not SETTINGS", settingsFrame(0x1, 0, enable, 1), false, true, false},
		{"SETTINGS ACK first", settingsFrame(h2FrameSettings, h2FlagAck), false, true, false},
		{"length not a multiple of 6", append([]byte{0, 0, 5, h2FrameSettings, 0, 0, 0, 0, 0}, 1, 2, 3, 4, 5), false, true, false},
		{"length over 16 KiB", []byte{0, 0x40, 0x02, h2FrameSettings, 0, 0, 0, 0, 0}, false, true, false},
		{"cut in the header", settingsFrame(h2FrameSettings, 0, enable, 1)[:5], false, true, true},
		{"cut in the payload", settingsFrame(h2FrameSettings, 0, enable, 1)[:12], false, true, true},
		{"nothing", nil, false, true, true},
	} {
		for _, chunk := range []int{1, 2, 7, 64} {
			input := tc.input
			if !tc.cut {
				input = append(append([]byte(nil), tc.input...), tail...)
			}
			allowed, err, done := sniff(input, chunk)
			if !done {
				t.Errorf("%s, reads of %d: no result", tc.name, chunk)
				continue
			}
			if allowed != tc.allowed || (err != nil) != tc.wantErr {
				t.Errorf("%s, reads of %d: allowed %v, err %v; want %v, error %v", tc.name, chunk, allowed, err, tc.allowed, tc.wantErr)
			}
		}
	}
}

// TestSettingsSnifferPassesBytes checks that the sniffer changes nothing in
// what the HTTP/2 client reads.
func TestSettingsSnifferPassesBytes(t *testing.T) {
	input := append(settingsFrame(h2FrameSettings, 0, h2SettingEnableConnect, 1), "rest of the stream"...)
	s := newSettingsSniffer(&chunkConn{r: bytes.NewReader(input), chunk: 5})
	got, err := io.ReadAll(s)
	if err != nil || !bytes.Equal(got, input) {
		t.Fatalf("read %q, %v; want the input unchanged", got, err)
	}
	if !s.allowed || s.err != nil {
		t.Fatalf("allowed %v, err %v", s.allowed, s.err)
	}
}

// FuzzSettingsSniffer feeds arbitrary bytes in arbitrary reads: the
// sniffer never panics, always decides once the stream ends, and decides
// the same whatever the read sizes.
func FuzzSettingsSniffer(f *testing.F) {
	f.Add(settingsFrame(h2FrameSettings, 0, h2SettingEnableConnect, 1), uint8(1))
	f.Add(settingsFrame(h2FrameSettings, 0, 3, 100, h2SettingEnableConnect, 0), uint8(7))
	f.Add([]byte{0, 0, 6, 4, 0, 0, 0, 0, 0, 0, 8}, uint8(3))
	f.Fuzz(func(t *testing.T, input []byte, chunk uint8) {
		c := max(int(chunk), 1)
		allowed, err, done := sniff(input, c)
		if !done {
			t.Fatal("no decision at the end of the stream")
		}
		whole, wholeErr, _ := sniff(input, len(input)+1)
		if allowed != whole || (err != nil) != (wholeErr != nil) {
			t.Fatalf("reads of %d: %v %v; one read: %v %v", c, allowed, err, whole, wholeErr)
		}
		if allowed && err != nil {
			t.Fatal("allowed with an error")
		}
		if err != nil && errors.Is(err, errNoExtendedConnect) {
			t.Fatal("the sniffer does not decide refusals")
		}
	})
}
