//go:build !amd64 || purego

package utf8valid

// Prefix is prefixGeneric where no assembly is available.
func Prefix(p []byte) int { return prefixGeneric(p) }
