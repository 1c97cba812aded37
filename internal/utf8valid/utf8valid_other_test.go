//go:build !amd64 || purego

package utf8valid

// prefixPaths returns the paths Prefix can take here: only the pure-Go one.
func prefixPaths() []namedPrefix {
	return []namedPrefix{{"generic", prefixGeneric}}
}
