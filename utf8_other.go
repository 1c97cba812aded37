//go:build !amd64 || purego

package websocket

// utf8ValidPrefix is utf8ValidPrefixGeneric where no assembly is available.
func utf8ValidPrefix(p []byte) int { return utf8ValidPrefixGeneric(p) }
