//go:build !amd64 || purego

package websocket

// Without assembly, maskBytes is the pure-Go word loop.
func maskBytes(key uint32, pos int, b []byte) int { return maskGeneric(key, pos, b) }

// Without assembly, maskCopy is the pure-Go word loop.
func maskCopy(key uint32, pos int, dst, src []byte) int {
	return maskCopyGeneric(key, pos, dst, src)
}
