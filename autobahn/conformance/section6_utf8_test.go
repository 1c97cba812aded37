package conformance

import (
	"fmt"
	"testing"
	"unicode/utf8"
)

// kosme is "κόσμε", the Greek word of the UTF-8 test texts.
const kosme = "\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"

// validTexts are valid UTF-8 (RFC 3629): every sequence length and the
// boundaries of each, noncharacters (valid, RFC 3629 does not exclude them)
// and mixed texts.
var validTexts = []struct{ name, s string }{
	{"empty", ""},
	{"mixed Latin-1", "Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"},
	{"kosme", kosme},
	{"U+0000", "\x00"},
	{"U+007F", "\x7f"},
	{"U+0080", "\xc2\x80"},
	{"U+07FF", "\xdf\xbf"},
	{"U+0800", "\xe0\xa0\x80"},
	{"U+D7FF", "\xed\x9f\xbf"},
	{"U+E000", "\xee\x80\x80"},
	{"U+FDD0", "\xef\xb7\x90"},
	{"U+FFFD", "\xef\xbf\xbd"},
	{"U+FFFE", "\xef\xbf\xbe"},
	{"U+FFFF", "\xef\xbf\xbf"},
	{"U+10000", "\xf0\x90\x80\x80"},
	{"U+1D11E", "\xf0\x9d\x84\x9e"},
	{"U+10FFFF", "\xf4\x8f\xbf\xbf"},
	{"every length in a row", "a\xc2\x80\xe0\xa0\x80\xf0\x90\x80\x80z"},
	{"emoji between ASCII", "hi \xf0\x9f\x98\x80 there"},
}

// invalidTexts are not UTF-8: lone continuation bytes, overlong forms,
// surrogates, code points above U+10FFFF, bytes never used, sequences cut
// short inside and at the end.
var invalidTexts = []struct{ name, s string }{
	{"lone continuation 0x80", "\x80"},
	{"lone continuation 0xBF", "\xbf"},
	{"two continuations", "\x80\xbf"},
	{"continuation after ASCII", "abc\x80def"},
	{"overlong NUL, 2 bytes", "\xc0\x80"},
	{"overlong slash, 2 bytes", "\xc0\xaf"},
	{"overlong U+007F, 2 bytes", "\xc1\xbf"},
	{"overlong NUL, 3 bytes", "\xe0\x80\x80"},
	{"overlong U+07FF, 3 bytes", "\xe0\x9f\xbf"},
	{"overlong slash, 4 bytes", "\xf0\x80\x80\xaf"},
	{"overlong U+FFFF, 4 bytes", "\xf0\x8f\xbf\xbf"},
	{"5-byte sequence", "\xf8\x88\x80\x80\xaf"},
	{"6-byte sequence", "\xfc\x84\x80\x80\x80\xaf"},
	{"surrogate U+D800", "\xed\xa0\x80"},
	{"surrogate U+DFFF", "\xed\xbf\xbf"},
	{"surrogate pair", "\xed\xa0\x80\xed\xb0\x80"},
	{"U+110000", "\xf4\x90\x80\x80"},
	{"lead byte 0xF5", "\xf5\x80\x80\x80"},
	{"byte 0xFE", "\xfe"},
	{"byte 0xFF", "\xff"},
	{"0xFE 0xFE 0xFF 0xFF", "\xfe\xfe\xff\xff"},
	{"2-byte lead then ASCII", "\xc2\x41"},
	{"3-byte sequence cut by ASCII", "\xe1\x80\x41"},
	{"kosme, surrogate, edited (6.3)", kosme + "\xed\xa0\x80edited"},
	{"kosme, U+110000, edited (6.4.1)", kosme + "\xf4\x90\x80\x80edited"},
	{"2-byte sequence cut at the end", "\xc2"},
	{"3-byte sequence cut at the end", "\xe0\xa0"},
	{"4-byte sequence cut at the end", "\xf0\x90\x80"},
	{"ASCII, then a cut sequence", "Hello\xf4\x8f\xbf"},
}

// utf8Rows are Autobahn section 6: RFC 6455 §8.1, a text message that is not
// valid UTF-8 fails the connection with 1007, and fails it at the frame that
// makes the text impossible, not at the end of the message ("fail fast").
func utf8Rows() []row {
	var rows []row
	for i, v := range validTexts {
		b := []byte(v.s)
		rows = append(rows,
			row{id: fmt.Sprintf("6.2.%d", i+1), name: "valid, one frame: " + v.name, steps: echo(textB(b))},
			row{id: fmt.Sprintf("6.5.%d", i+1), name: "valid, a fragment per byte: " + v.name, steps: echo(fragments(opText, b, 1)...)},
		)
	}
	for i, v := range invalidTexts {
		b := []byte(v.s)
		rows = append(rows,
			row{id: fmt.Sprintf("6.3.%d", i+1), name: "invalid, one frame: " + v.name, steps: steps(send(textB(b)), fail(1007))},
			row{id: fmt.Sprintf("6.7.%d", i+1), name: "invalid, a fragment per byte, fails fast: " + v.name, steps: failFastPerByte(b)},
		)
	}
	// Every way to cut kosme in two frames, and every prefix of it as a
	// whole message (Autobahn 6.6): a prefix ending inside a sequence is
	// invalid when the message ends.
	for k := 1; k < len(kosme); k++ {
		rows = append(rows, row{
			id: fmt.Sprintf("6.1.%d", k), name: fmt.Sprintf("kosme cut after byte %d into two frames", k),
			steps: echo(text(kosme[:k]).more(), cont(kosme[k:])),
		})
	}
	for k := 1; k <= len(kosme); k++ {
		p := kosme[:k]
		st := echo(text(p))
		if !utf8.ValidString(p) {
			st = steps(send(text(p)), fail(1007))
		}
		rows = append(rows, row{id: fmt.Sprintf("6.6.%d", k), name: fmt.Sprintf("first %d bytes of kosme", k), steps: st})
	}
	// Autobahn 6.4: the frame that makes the text invalid fails the
	// connection before the rest of the message is sent; within a frame,
	// the bytes that make it invalid do, before the frame is complete.
	whole := []byte(kosme + "\xf4\x90\x80\x80edited")
	long := append(textPayload(1000), 0xff)
	long = append(long, textPayload(64<<10)...)
	rows = append(rows,
		row{id: "6.4.1", name: "fragments: valid, then one with U+110000, fails before the third",
			steps: steps(send(text(kosme).more()), barrier(), send(cont("\xf4\x90\x80\x80").more()), fail(1007))},
		row{id: "6.4.2", name: "fragments: valid ending in 0xF4, then 0x90, fails before the third",
			steps: steps(send(text(kosme+"\xf4").more()), barrier(), send(cont("\x90").more()), fail(1007))},
		row{id: "6.4.3", name: "one frame in parts: fails on the part with U+110000, before the rest",
			steps: steps(sendFrameUpTo(textB(whole), len(kosme)), sendFrameUpTo(textB(whole), len(kosme)+4), fail(1007))},
		row{id: "6.4.4", name: "one frame in parts: fails on the byte 0x90, before the rest",
			steps: steps(sendFrameUpTo(textB(whole), len(kosme)+1), sendFrameUpTo(textB(whole), len(kosme)+2), fail(1007))},
		row{id: "6.4.5", name: "a 65 KiB frame with byte 1000 invalid: fails before the rest of the frame",
			steps: steps(sendFrameUpTo(textB(long), 1001), fail(1007))},
		row{id: "6.4.6", name: "fragmented binary is not checked: the same bytes as binary echo",
			steps: echo(bin([]byte(kosme)).more(), contB([]byte("\xf4\x90\x80\x80")).more(), cont("edited"))},
	)
	return rows
}

// failFastPerByte sends b as a text message of one-byte fragments. The
// fragments before the first impossible byte must be accepted (a barrier
// proves it), and the fragment holding it must fail the connection with
// 1007 at once: the rest is never sent. A text cut at the end fails on the
// final, empty fragment.
func failFastPerByte(b []byte) []step {
	at := failAt(b)
	var st []step
	frag := func(i int) frame {
		f := contB(b[i : i+1]).more()
		if i == 0 {
			f.op = opText
		}
		return f
	}
	if at > 0 {
		var fs []frame
		for i := range at {
			fs = append(fs, frag(i))
		}
		st = append(st, send(fs...), barrier())
	}
	if at < len(b) {
		st = append(st, send(frag(at)))
	} else {
		st = append(st, send(cont("")))
	}
	return append(st, fail(1007))
}

// TestUTF8Vectors checks the suite's own data: the valid texts are valid,
// the invalid ones are not, and the reference fail point agrees with
// unicode/utf8 on every prefix.
func TestUTF8Vectors(t *testing.T) {
	for _, v := range validTexts {
		if !utf8.ValidString(v.s) || failAt([]byte(v.s)) != -1 {
			t.Errorf("valid text %q is not valid UTF-8", v.name)
		}
	}
	for _, v := range invalidTexts {
		b := []byte(v.s)
		at := failAt(b)
		if utf8.Valid(b) || at < 0 {
			t.Errorf("invalid text %q is valid UTF-8", v.name)
			continue
		}
		// Before the fail point the text can still be completed; from it on
		// it cannot.
		for i := 0; i < at && i < len(b); i++ {
			if !canComplete(b[:i+1]) {
				t.Errorf("%q: prefix of %d bytes is already impossible, fail point %d", v.name, i+1, at)
			}
		}
	}
	cases := []struct {
		s  string
		at int
	}{
		{"\x80", 0}, {"\xc2", 1}, {"\xc2\x41", 1}, {"\xe0\x80", 1}, {"\xe0\xa0", 2}, {"\xed\xa0\x80", 1},
		{"\xf4\x90", 1}, {"\xf4\x8f\xbf", 3}, {"\xf5", 0}, {"ab\xff", 2}, {kosme + "\xf4\x90\x80\x80", len(kosme) + 1},
	}
	for _, c := range cases {
		if got := failAt([]byte(c.s)); got != c.at {
			t.Errorf("failAt(%q) = %d, want %d", c.s, got, c.at)
		}
	}
}
