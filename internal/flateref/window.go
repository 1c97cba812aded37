package flateref

// Window decodes permessage-deflate messages with Inflate, keeping
// exactly 2^bits bytes of history, as a peer that negotiated that window
// would. A back-reference further back than the window, or than the bytes
// seen so far, is an error, never a silent read of stale memory: it checks
// that a compressor honours the negotiated window. It decodes one message at a time, appending the four
// octets RFC 7692 §7.2.2 restores, and keeps the history between messages
// only with context takeover.
type Window struct {
	window   int
	takeover bool
	hist     []byte // the last window bytes of earlier messages, with takeover

	MaxDist int // longest distance seen in any message
}

// NewWindow returns a decoder for a window of 2^bits bytes, keeping the
// history between messages when takeover is set.
func NewWindow(bits int, takeover bool) *Window {
	return &Window{window: 1 << bits, takeover: takeover}
}

// Skip records msg as decoded without decoding it, so that later messages
// that refer back to it can still be checked.
func (d *Window) Skip(msg []byte) {
	if d.takeover {
		d.remember(msg)
	}
}

// remember keeps the last window bytes of hist followed by msg.
func (d *Window) remember(msg []byte) {
	if len(msg) >= d.window {
		d.hist = append(d.hist[:0], msg[len(msg)-d.window:]...)
		return
	}
	d.hist = append(d.hist, msg...)
	if extra := len(d.hist) - d.window; extra > 0 {
		d.hist = append(d.hist[:0], d.hist[extra:]...)
	}
}

// Message decodes one compressed message payload. Our compressor ends
// every message with a sync flush (never BFINAL) and builds complete codes,
// so the decoder insists on both.
func (d *Window) Message(payload []byte) ([]byte, error) {
	if !d.takeover {
		d.hist = d.hist[:0]
	}
	in := append(append(make([]byte, 0, len(payload)+4), payload...), 0, 0, 0xff, 0xff)
	out, st, err := Inflate(in, d.hist, Options{Window: d.window, CompleteCodes: true, NoFinal: true})
	if err != nil {
		return nil, err
	}
	d.MaxDist = max(d.MaxDist, st.MaxDist)
	if d.takeover {
		d.remember(out)
	}
	return out, nil
}
