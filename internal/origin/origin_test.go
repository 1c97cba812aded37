package origin

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestSameHost(t *testing.T) {
	tests := []struct {
		host   string
		origin []string
		want   bool
	}{
		{"example.com", nil, true},
		{"example.com", []string{"http://example.com"}, true},
		{"example.com", []string{"https://example.com"}, true},
		{"Example.COM", []string{"http://example.com"}, true},
		{"example.com", []string{"HTTPS://EXAMPLE.com"}, true},
		{"example.com:80", []string{"http://example.com"}, true},
		{"example.com", []string{"http://example.com:80"}, true},
		{"example.com:443", []string{"https://example.com"}, true},
		{"example.com:8080", []string{"http://example.com:8080"}, true},
		{"[::1]:8080", []string{"http://[::1]:8080"}, true},
		{"example.com:80", []string{"https://example.com"}, false},
		{"example.com", []string{"http://example.com:8080"}, false},
		{"example.com:8080", []string{"http://example.com"}, false},
		{"example.com", []string{"http://evil.com"}, false},
		{"example.com", []string{"http://example.com.evil.com"}, false},
		{"example.com", []string{"null"}, false},
		{"example.com", []string{""}, false},
		{"example.com", []string{"example.com"}, false},
		{"example.com", []string{"http://"}, false},
		{"example.com", []string{"http://example.com", "http://example.com"}, false},
		{"example.com", []string{"http://ex%ample.com"}, false},
	}
	for _, tt := range tests {
		r := &http.Request{Host: tt.host, Header: http.Header{}}
		if tt.origin != nil {
			r.Header["Origin"] = tt.origin
		}
		assert.Equal(t, tt.want, SameHost(r), "Host %q Origin %q", tt.host, tt.origin)
	}
}

// TestSameHostRules has a row per rule of the default check. Browsers
// send the Origin of RFC 6454 §6.2: scheme "://" host [":" port], in ASCII
// (an internationalised name in its punycode form), or "null", and only
// http and https origins can open a WebSocket to an HTTP server. The check
// accepts only that form, compares it with the request's Host and fails
// closed: whatever it cannot match exactly is refused.
func TestSameHostRules(t *testing.T) {
	tests := []struct {
		rule   string
		host   string
		origin string
		want   bool
	}{
		// Scheme: it only names the default port, since the request does
		// not say whether the client used TLS (a proxy may end it).
		{"https on the explicit default port", "example.com:443", "https://example.com", true},
		{"http is not on 443", "example.com:443", "http://example.com", false},
		{"https on a Host without a port", "example.com", "https://example.com", true},
		{"http on the explicit default port", "example.com:80", "http://example.com", true},
		{"ws is not a browser origin", "example.com", "ws://example.com", false},
		{"wss is not a browser origin", "example.com:443", "wss://example.com", false},
		{"a scheme without a known default port", "example.com:21", "ftp://example.com", false},
		{"ftp with a matching port", "example.com:21", "ftp://example.com:21", false},
		{"a scheme with a host and a matching port", "example.com:8080", "gopher://example.com:8080", false},
		{"a scheme and no slashes", "example.com", "http:example.com", false},
		{"a scheme without a host", "example.com", "javascript:alert(1)", false},
		{"a file origin", "example.com", "file:///etc/passwd", false},

		// Host: equal names only, no suffix or prefix games, no DNS.
		{"a subdomain of the host", "example.com", "http://app.example.com", false},
		{"the parent of the host", "app.example.com", "http://example.com", false},
		{"a name ending like the host", "example.com", "http://evilexample.com", false},
		{"the host with a trailing dot", "example.com", "http://example.com.", false},
		{"an IPv4 literal", "127.0.0.1:8080", "http://127.0.0.1:8080", true},
		{"an IP literal for a name", "localhost:8080", "http://127.0.0.1:8080", false},
		{"IPv6 written another way", "[::1]:8080", "http://[0:0:0:0:0:0:0:1]:8080", false},

		// Only host and port: no userinfo, path, query or fragment, and
		// only the characters a serialised host has.
		{"userinfo", "example.com", "http://a@example.com", false},
		{"user and password", "example.com", "http://user:pw@example.com", false},
		{"userinfo naming the host", "evil.example", "http://example.com@evil.example", false},
		{"a slash", "example.com", "http://example.com/", false},
		{"a path", "example.com:8080", "http://example.com:8080/app", false},
		{"a query", "example.com", "http://example.com?x=1", false},
		{"a fragment", "example.com", "http://example.com#top", false},
		{"a backslash", "example.com", `http://example.com\`, false},
		{"percent-encoding", "example.com", "http://ex%61mple.com", false},
		{"a space", "example.com", "http:// example.com", false},
		{"no host", "example.com:80", "http://:80", false},
		{"an underscore in a name", "my_host.local:8080", "http://my_host.local:8080", true},

		// IPv6 literals: in brackets, compared as written.
		{"an IPv6 literal", "[::1]:8080", "http://[::1]:8080", true},
		{"an IPv6 literal on the default port", "[::1]", "https://[::1]", true},
		{"an IPv6 literal on the explicit default port", "[::1]:443", "https://[::1]", true},
		{"IPv6 hex digits in another case", "[FE80::1]:8080", "http://[fe80::1]:8080", true},
		{"an IPv6 literal with a zone", "[fe80::1%25eth0]:8080", "http://[fe80::1%25eth0]:8080", false},
		{"an IPv4 address in brackets", "[127.0.0.1]", "http://[127.0.0.1]", false},
		{"an IPv6 literal without brackets", "example.com", "http://::1", false},
		{"an unclosed bracket", "[::1", "http://[::1", false},

		// Port.
		{"explicit default ports on both sides", "example.com:80", "http://example.com:80", true},
		{"another port", "example.com:8080", "http://example.com:8081", false},
		{"a port with a leading zero", "example.com:80", "http://example.com:080", false},
		{"an empty port", "example.com", "http://example.com:", false},
		{"a port of letters", "example.com:http", "http://example.com:http", false},
		{"two ports", "example.com:80", "http://example.com:80:80", false},
		{"a port of six digits", "example.com:000080", "http://example.com:000080", false},

		// Case: host names and schemes are case-insensitive.
		{"upper-case origin", "example.com", "HTTP://EXAMPLE.COM", true},
		{"mixed case on both sides", "EXAMPLE.com:8080", "http://example.COM:8080", true},
		{"mixed case, https on its default port", "Mixed.Example.COM", "HTTPS://mixed.EXAMPLE.com", true},

		// Case folding is ASCII only: Unicode folding equates names that
		// DNS and browsers tell apart.
		{"a Kelvin sign in the Host", "\u212aey.example", "http://key.example", false},
		{"a long s in the Host", "\u017fite.example", "http://site.example", false},
		{"a Kelvin sign in the Origin", "key.example", "http://\u212aey.example", false},

		// IDNA: names are compared in the ASCII form browsers send.
		{"punycode on both sides", "xn--bcher-kva.example", "http://xn--bcher-kva.example", true},
		{"punycode in another case", "xn--bcher-kva.example", "http://XN--BCHER-KVA.example", true},
		{"a Unicode origin for a punycode host", "xn--bcher-kva.example", "http://bücher.example", false},
		{"a punycode origin for a Unicode host", "bücher.example", "http://xn--bcher-kva.example", false},

		// Opaque and malformed origins.
		{"the opaque origin", "example.com", "null", false},
		{"a list in one field", "example.com", "http://example.com, http://evil.example", false},
		{"no scheme", "example.com", "//example.com", false},
	}
	for _, tt := range tests {
		r := &http.Request{Host: tt.host, Header: http.Header{"Origin": {tt.origin}}}
		if got := SameHost(r); got != tt.want {
			t.Errorf("%s: Host %q, Origin %q: allowed %v, want %v", tt.rule, tt.host, tt.origin, got, tt.want)
		}
	}
}
