package websocket

import (
	"encoding/base64"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestAcceptKeyRFCExample(t *testing.T) {
	// RFC 6455 §1.3 and §4.2.2 (and the SHA-1 of the concatenation, which
	// the RFC prints as 0xb3 0x7a 0x4f 0x2c ... 0xea).
	assert.Equal(t, "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=", acceptKey("dGhlIHNhbXBsZSBub25jZQ=="))
}

func TestNewKey(t *testing.T) {
	seen := make(map[string]bool)
	for range 64 {
		k := newKey()
		require.True(t, validKey(k), "newKey() = %q is not a valid key", k)
		b, err := base64.StdEncoding.DecodeString(k)
		require.NoError(t, err)
		require.Len(t, b, 16)
		require.False(t, seen[k], "newKey repeated %q", k)
		seen[k] = true
	}
}

func TestValidKey(t *testing.T) {
	sixteen := base64.StdEncoding.EncodeToString(make([]byte, 16))
	tests := []struct {
		key  string
		want bool
	}{
		{"dGhlIHNhbXBsZSBub25jZQ==", true},
		{sixteen, true},
		{"", false},
		{"not base64 at all!!!!!!!", false},
		{base64.StdEncoding.EncodeToString(make([]byte, 15)), false},
		{base64.StdEncoding.EncodeToString(make([]byte, 17)), false},
		{"dGhlIHNhbXBsZSBub25jZQ", false},     // unpadded
		{"dGhlIHNhbXBsZSBub25jZQ=", false},    // short padding
		{"dGhlIHNhbXBsZSBub25jZQ==\n", false}, // trailing newline
		{"dGhlIHNhbXBsZSBub25jZ\nQ=", false},  // embedded newline
		{"dGhlIHNhbXBsZSBub25jZ-_", false},    // URL alphabet
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, validKey(tt.key), "validKey(%q)", tt.key)
	}
}

func TestHeaderHasToken(t *testing.T) {
	tests := []struct {
		values []string
		want   bool
	}{
		{[]string{"Upgrade"}, true},
		{[]string{"upgrade"}, true},
		{[]string{"UPGRADE"}, true},
		{[]string{"keep-alive, Upgrade"}, true},
		{[]string{"keep-alive,upgrade "}, true},
		{[]string{"keep-alive", "Upgrade"}, true},
		{[]string{"keep-alive"}, false},
		{[]string{"upgrades"}, false},
		{[]string{"up grade"}, false},
		{nil, false},
	}
	for _, tt := range tests {
		h := http.Header{"Connection": tt.values}
		assert.Equal(t, tt.want, headerHasToken(h, "Connection", "upgrade"), "%q", tt.values)
	}
}

func TestParseTokenList(t *testing.T) {
	tests := []struct {
		values  []string
		want    []string
		wantErr bool
	}{
		{nil, nil, false},
		{[]string{""}, nil, false},
		{[]string{"chat"}, []string{"chat"}, false},
		{[]string{"chat, superchat"}, []string{"chat", "superchat"}, false},
		{[]string{"Chat,\tv2.json ,,"}, []string{"Chat", "v2.json"}, false},
		{[]string{"a", "b, c"}, []string{"a", "b", "c"}, false},
		{[]string{"a b"}, nil, true},
		{[]string{"a;b"}, nil, true},
		{[]string{`"a"`}, nil, true},
		{[]string{"é"}, nil, true},
	}
	for _, tt := range tests {
		got, err := parseTokenList(tt.values)
		if tt.wantErr {
			assert.Error(t, err, "%q", tt.values)
			continue
		}
		require.NoError(t, err, "%q", tt.values)
		assert.Equal(t, tt.want, got, "%q", tt.values)
	}
}

func TestParseExtensions(t *testing.T) {
	pmd := func(params ...extensionParam) extensionOffer {
		return extensionOffer{name: "permessage-deflate", params: params}
	}
	flag := func(name string) extensionParam { return extensionParam{name: name} }
	val := func(name, value string) extensionParam {
		return extensionParam{name: name, value: value, hasValue: true}
	}
	tests := []struct {
		values []string
		want   []extensionOffer
	}{
		{nil, nil},
		{[]string{""}, nil},
		{[]string{" , ,"}, nil},
		{[]string{"permessage-deflate"}, []extensionOffer{pmd()}},
		{
			[]string{"permessage-deflate; client_max_window_bits"},
			[]extensionOffer{pmd(flag("client_max_window_bits"))},
		},
		{
			[]string{"permessage-deflate;client_max_window_bits=10;server_no_context_takeover"},
			[]extensionOffer{pmd(val("client_max_window_bits", "10"), flag("server_no_context_takeover"))},
		},
		{
			[]string{`permessage-deflate ; server_max_window_bits = "10" , permessage-deflate`},
			[]extensionOffer{pmd(val("server_max_window_bits", "10")), pmd()},
		},
		{
			[]string{`foo; a="\b\c"`},
			[]extensionOffer{{name: "foo", params: []extensionParam{val("a", "bc")}}},
		},
		{
			[]string{"foo", "bar; x=1"},
			[]extensionOffer{{name: "foo"}, {name: "bar", params: []extensionParam{val("x", "1")}}},
		},
	}
	for _, tt := range tests {
		got, err := parseExtensions(tt.values)
		require.NoError(t, err, "%q", tt.values)
		assert.Equal(t, tt.want, got, "%q", tt.values)
	}
}

func TestParseExtensionsErrors(t *testing.T) {
	for _, v := range []string{
		";",
		"foo;",
		"foo; ;",
		"foo bar",
		"foo; a=",
		"foo; a=;",
		"foo; =1",
		`foo; a="unterminated`,
		`foo; a="x y"`, // not a token once unquoted
		`foo; a=""`,
		`foo; a="b\`,
		`foo; a="b\"c"`, // the escape is undone, but '"' is not a token character
		"foo; a=1 2",
		"foo; a=\"\x01\"",
		"foo, =",
		"fo\x00o",
		"é",
	} {
		_, err := parseExtensions([]string{v})
		assert.Error(t, err, "%q", v)
	}
}

func TestFormatExtensions(t *testing.T) {
	offers := []extensionOffer{
		{name: "permessage-deflate", params: []extensionParam{
			{name: "client_max_window_bits"},
			{name: "server_max_window_bits", value: "10", hasValue: true},
		}},
		{name: "x-other"},
	}
	s := formatExtensions(offers)
	assert.Equal(t, "permessage-deflate; client_max_window_bits; server_max_window_bits=10, x-other", s)
	back, err := parseExtensions([]string{s})
	require.NoError(t, err)
	assert.Equal(t, offers, back)
	assert.Equal(t, "", formatExtensions(nil))
}

func TestHandshakeError(t *testing.T) {
	var err error = &HandshakeError{Status: 426, Reason: "wrong version"}
	assert.ErrorIs(t, err, ErrBadHandshake)
	assert.Equal(t, "websocket: bad handshake: 426 Upgrade Required: wrong version", err.Error())
	var he *HandshakeError
	require.True(t, errors.As(errors.Join(errors.New("x"), err), &he))
	assert.Equal(t, 426, he.Status)
}

// FuzzExtensionHeader checks that parsing never panics, that whatever parses
// is made of tokens, and that formatting it parses back to the same offers.
func FuzzExtensionHeader(f *testing.F) {
	for _, s := range []string{
		"permessage-deflate",
		"permessage-deflate; client_max_window_bits",
		`permessage-deflate; server_max_window_bits="10", permessage-deflate`,
		"foo;a=1;b, bar ,, baz; c",
		`foo; a="b\c"`,
		`foo; a="`,
		"",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		offers, err := parseExtensions([]string{s})
		if err != nil {
			return
		}
		for _, o := range offers {
			if !isToken(o.name) {
				t.Fatalf("name %q is not a token", o.name)
			}
			for _, p := range o.params {
				if !isToken(p.name) || (p.hasValue && !isToken(p.value)) || (!p.hasValue && p.value != "") {
					t.Fatalf("bad parameter %+v", p)
				}
			}
		}
		back, err := parseExtensions([]string{formatExtensions(offers)})
		if err != nil {
			t.Fatalf("formatted %q does not parse: %v", formatExtensions(offers), err)
		}
		if len(offers) == 0 {
			offers = nil
		}
		assert.Equal(t, offers, back)
	})
}

// FuzzTokenList checks that parseTokenList never panics, returns only tokens,
// and that joining them parses back to the same list.
func FuzzTokenList(f *testing.F) {
	for _, s := range []string{"chat", "chat, superchat", " a,,b ,", "a b", `"q"`, ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		tokens, err := parseTokenList([]string{s})
		if err != nil {
			return
		}
		for _, tok := range tokens {
			if !isToken(tok) {
				t.Fatalf("%q is not a token", tok)
			}
		}
		back, err := parseTokenList([]string{strings.Join(tokens, ", ")})
		if err != nil {
			t.Fatal(err)
		}
		assert.Equal(t, tokens, back)
	})
}

func BenchmarkAcceptKey(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		acceptKey(sampleKey)
	}
}

func BenchmarkParseExtensions(b *testing.B) {
	v := []string{"permessage-deflate; client_max_window_bits; server_max_window_bits=10, permessage-deflate"}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := parseExtensions(v); err != nil {
			b.Fatal(err)
		}
	}
}
