//go:build !amd64 || purego

package cpuid

// Without assembly there is no way to ask the CPU, so every extension is
// reported absent and callers take their portable paths.
