//go:build !purego

package utf8valid

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestAVX512TailAtPageEnd places p at the end of a page followed by one
// that cannot be read: the masked load of validateAVX512's tail must not
// touch the bytes past p, for every tail length, with valid text and with
// an error or an open sequence at the end.
func TestAVX512TailAtPageEnd(t *testing.T) {
	var path simdPath
	for _, path = range simdPaths() {
		if path.level == pathAVX512 {
			break
		}
	}
	skipMissing(t, path)
	page := unix.Getpagesize()
	mem, err := unix.Mmap(-1, 0, 2*page, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_ANON|unix.MAP_PRIVATE)
	if err != nil {
		t.Skipf("mmap: %v", err)
	}
	defer unix.Munmap(mem)
	if err := unix.Mprotect(mem[page:], unix.PROT_NONE); err != nil {
		t.Fatalf("mprotect: %v", err)
	}
	text := []byte("aé日 The quick brown fox jumps over the lazy dog, 😀 ü語€ etc. ")
	for _, end := range []string{"", "\xc3", "\xe6\x97", "\xff", "\xc3x"} {
		for n := len(end); n <= 3*64; n++ {
			p := mem[page-n : page]
			for i := range p[:n-len(end)] {
				p[i] = text[i%len(text)] & 0x7f // ASCII: any cut is a boundary
			}
			if n-len(end) >= 3+len(text) {
				copy(p[3:], text) // some multibyte text in the first blocks
			}
			copy(p[n-len(end):], end)
			if got, want := validateAVX512(p), wantChecked(p, path); got != want {
				t.Fatalf("%q: checked %d bytes, want %d", p, got, want)
			}
			checkContract(t, "Prefix", p, Prefix(p))
		}
	}
}
