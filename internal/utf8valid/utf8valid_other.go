//go:build !amd64 || purego

package utf8valid

// Prefix returns the length of a prefix of p made of complete, valid UTF-8
// sequences, stopping only at a sequence that is invalid or may run past
// the end of p, or within the last three bytes of p. p must start on a
// sequence boundary. Without assembly, the pure-Go path does it all.
func Prefix(p []byte) int { return prefixGeneric(p) }
