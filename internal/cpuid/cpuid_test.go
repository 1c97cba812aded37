package cpuid

import (
	"os"
	"runtime"
	"strings"
	"testing"
)

// TestImplications checks the ordering every real x86 CPU follows: AVX2
// parts have SSE4.1, and SSE4.1 parts have SSSE3.
func TestImplications(t *testing.T) {
	if HasAVX2 && !HasSSE41 {
		t.Error("HasAVX2 without HasSSE41")
	}
	if HasSSE41 && !HasSSSE3 {
		t.Error("HasSSE41 without HasSSSE3")
	}
}

// TestMatchesProcCPUInfo compares the detection with the flags the Linux
// kernel reports, which already exclude features the kernel disabled.
func TestMatchesProcCPUInfo(t *testing.T) {
	if runtime.GOOS != "linux" || runtime.GOARCH != "amd64" || purego {
		t.Skip("needs linux/amd64 with assembly")
	}
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		t.Skipf("no /proc/cpuinfo: %v", err)
	}
	var flags map[string]bool
	for line := range strings.SplitSeq(string(data), "\n") {
		name, value, ok := strings.Cut(line, ":")
		if ok && strings.TrimSpace(name) == "flags" {
			flags = make(map[string]bool)
			for _, f := range strings.Fields(value) {
				flags[f] = true
			}
			break
		}
	}
	if flags == nil {
		t.Skip("no flags line in /proc/cpuinfo")
	}
	for _, c := range []struct {
		name string
		got  bool
	}{
		{"ssse3", HasSSSE3},
		{"sse4_1", HasSSE41},
		{"avx2", HasAVX2},
	} {
		if c.got != flags[c.name] {
			t.Errorf("%s: detected %v, /proc/cpuinfo says %v", c.name, c.got, flags[c.name])
		}
	}
}
