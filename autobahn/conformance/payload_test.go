package conformance

import (
	"strings"
	"sync"
)

// payloads memoises the large payloads: section 9 uses the same megabytes in
// many rows. Callers never modify a payload.
var payloads sync.Map // [2]int{kind, n} → []byte

// textPayload returns n bytes of printable ASCII that do not repeat with a
// short period, so that a misplaced or dropped byte shows.
func textPayload(n int) []byte {
	return payload(0, n, func(i int) byte { return byte(' ' + (i*7+i/95)%95) })
}

// binPayload returns n bytes that run through every byte value.
func binPayload(n int) []byte {
	return payload(1, n, func(i int) byte { return byte(i*31 + i>>8 + 7) })
}

func payload(kind, n int, at func(int) byte) []byte {
	if n >= 4<<10 {
		if b, ok := payloads.Load([2]int{kind, n}); ok {
			return b.([]byte)
		}
	}
	b := make([]byte, n)
	for i := range b {
		b[i] = at(i)
	}
	if n >= 4<<10 {
		payloads.Store([2]int{kind, n}, b)
	}
	return b[:n:n]
}

// fragments splits a message of type op into frames of size bytes (the last
// may be shorter; an empty message is one empty frame).
func fragments(op byte, payload []byte, size int) []frame {
	var fs []frame
	for first := true; first || len(payload) > 0; first = false {
		n := min(size, len(payload))
		f := frame{op: opCont, payload: payload[:n:n]}
		if first {
			f.op = op
		}
		payload = payload[n:]
		if len(payload) > 0 {
			f.notFin = true
		}
		fs = append(fs, f)
	}
	return fs
}

// repeat returns s n times.
func repeat(s string, n int) string { return strings.Repeat(s, n) }

// steps concatenates step lists, so that rows read top to bottom.
func steps(parts ...any) []step {
	var out []step
	for _, p := range parts {
		switch v := p.(type) {
		case step:
			out = append(out, v)
		case []step:
			out = append(out, v...)
		default:
			panic("conformance: steps takes steps")
		}
	}
	return out
}
