//go:build amd64 && !purego

package websocket

// Until the assembly lands, amd64 uses the pure-Go path too.
func maskBytes(key uint32, pos int, b []byte) int { return maskGeneric(key, pos, b) }
