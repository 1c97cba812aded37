//go:build amd64 && !purego

package cpuid

// cpuid executes CPUID for the given leaf and sub-leaf.
//
//go:noescape
func cpuid(leaf, subleaf uint32) (eax, ebx, ecx, edx uint32)

// xgetbv reads extended control register XCR0. Call it only when CPUID
// reports OSXSAVE, or it faults.
//
//go:noescape
func xgetbv() (eax, edx uint32)

// Bits of the registers that CPUID and XGETBV return, from the Intel SDM
// vol. 2A (CPUID) and vol. 1 §13.3 (XCR0).
const (
	leaf1ECXSSSE3   = 1 << 9
	leaf1ECXSSE41   = 1 << 19
	leaf1ECXOSXSAVE = 1 << 27
	leaf1ECXAVX     = 1 << 28
	leaf7EBXAVX2    = 1 << 5
	xcr0SSEState    = 1 << 1
	xcr0AVXState    = 1 << 2
)

func init() {
	maxLeaf, _, _, _ := cpuid(0, 0)
	if maxLeaf < 1 {
		return
	}
	_, _, ecx1, _ := cpuid(1, 0)
	HasSSSE3 = ecx1&leaf1ECXSSSE3 != 0
	HasSSE41 = ecx1&leaf1ECXSSE41 != 0

	// YMM registers are usable only if the OS enabled both XMM and YMM
	// state saving (OSXSAVE, then XCR0 bits 1 and 2).
	if ecx1&leaf1ECXOSXSAVE == 0 || ecx1&leaf1ECXAVX == 0 || maxLeaf < 7 {
		return
	}
	xcr0, _ := xgetbv()
	if xcr0&(xcr0SSEState|xcr0AVXState) != xcr0SSEState|xcr0AVXState {
		return
	}
	_, ebx7, _, _ := cpuid(7, 0)
	HasAVX2 = ebx7&leaf7EBXAVX2 != 0
}
