//go:build amd64 && !purego

package websocket

// utf8ValidPrefix uses the pure-Go path until the SIMD one lands.
func utf8ValidPrefix(p []byte) int { return utf8ValidPrefixGeneric(p) }
