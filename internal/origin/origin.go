// Package origin is the default check of a WebSocket request's Origin
// (RFC 6455 §10.2): same host and port as the request. Hand-written, as
// no package parses the serialised origin of RFC 6454 §6.2 strictly.
package origin

import (
	"net/http"
	"net/netip"
	"strings"
)

// SameHost reports whether r may open a WebSocket by the default origin
// check (Upgrader.CheckOrigin). It accepts an Origin only in the form browsers send (RFC 6454 §6.2): the
// scheme "http" or "https", "://", the host in ASCII (punycode for an
// internationalised name, brackets around an IPv6 address) and an optional
// port, with no userinfo, path, query or fragment. Host and port must then
// equal the request's Host; hosts compare ASCII-case-insensitively, since
// Unicode case folding would equate names that DNS tells apart (U+212A
// KELVIN SIGN folds to "k").
func SameHost(r *http.Request) bool {
	origins := r.Header.Values("Origin")
	if len(origins) == 0 {
		return true // not a browser: Origin only protects browser users
	}
	if len(origins) > 1 {
		return false
	}
	scheme, host, port, ok := parseOrigin(origins[0])
	if !ok {
		return false // includes the opaque origin "null"
	}
	reqHost, reqPort, _ := splitHostPort(r.Host)
	if !asciiEqualFold(host, reqHost) {
		return false
	}
	if port == "" {
		port = defaultPort(scheme)
	}
	// The request does not say which scheme the client used (a proxy may
	// have terminated TLS), so a Host without a port matches an origin on
	// the default port of the origin's own scheme.
	if reqPort != "" {
		return port == reqPort
	}
	return port == defaultPort(scheme)
}

// parseOrigin splits an Origin into its scheme, in lower case, its host
// (an IPv6 literal with its brackets) and its port, "" when it names none.
// It reports false for anything but "http" or "https" "://" host [":"
// port], with host and port as validOriginHost and validPort define them.
func parseOrigin(origin string) (scheme, host, port string, ok bool) {
	scheme, rest, found := strings.Cut(origin, "://")
	if !found {
		return "", "", "", false
	}
	scheme = strings.ToLower(scheme)
	if scheme != "http" && scheme != "https" {
		return "", "", "", false
	}
	host, port, hasPort := splitHostPort(rest)
	if !validOriginHost(host) || hasPort && !validPort(port) {
		return "", "", "", false
	}
	return scheme, host, port, true
}

// splitHostPort splits host[:port]; an IPv6 literal keeps its brackets.
// hasPort reports a colon after the host, even with nothing after it.
func splitHostPort(hostport string) (host, port string, hasPort bool) {
	start := 0
	if strings.HasPrefix(hostport, "[") {
		start = strings.IndexByte(hostport, ']') + 1 // 0 without one: the host is then refused
	}
	i := strings.LastIndexByte(hostport[start:], ':')
	if i < 0 {
		return hostport, "", false
	}
	return hostport[:start+i], hostport[start+i+1:], true
}

// validOriginHost reports whether host is a host as browsers serialise it
// in an Origin: a name of ASCII letters, digits, '-', '.' and '_', or an
// IPv6 address in brackets, without a zone. Everything else (userinfo,
// a path, a query, a fragment, percent-encoding, non-ASCII) is refused.
func validOriginHost(host string) bool {
	if host == "" {
		return false
	}
	if host[0] == '[' {
		if len(host) < 3 || host[len(host)-1] != ']' {
			return false
		}
		addr, err := netip.ParseAddr(host[1 : len(host)-1])
		return err == nil && addr.Is6() && addr.Zone() == ""
	}
	for i := 0; i < len(host); i++ {
		switch c := host[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case c == '-', c == '.', c == '_':
		default:
			return false
		}
	}
	return true
}

// validPort reports whether port is 1 to 5 ASCII digits.
func validPort(port string) bool {
	if port == "" || len(port) > 5 {
		return false
	}
	for i := 0; i < len(port); i++ {
		if port[i] < '0' || port[i] > '9' {
			return false
		}
	}
	return true
}

// asciiEqualFold reports whether a and b are equal once ASCII letters are
// lower-cased; other bytes must be equal as they are. Not strings.EqualFold,
// which also folds Unicode (U+212A KELVIN SIGN equals "k"): HTTP folds ASCII only.
func asciiEqualFold(a, b string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := 0; i < len(a); i++ {
		if lowerASCII(a[i]) != lowerASCII(b[i]) {
			return false
		}
	}
	return true
}

func lowerASCII(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// defaultPort returns the port an origin of scheme ("http" or "https")
// uses when it names none.
func defaultPort(scheme string) string {
	if scheme == "https" {
		return "443"
	}
	return "80"
}
