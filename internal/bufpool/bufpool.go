// Package bufpool lends byte buffers by power-of-two size class, from
// 256 B to 16 MiB, so that the read and write buffers of idle connections
// are shared rather than held (a sync.Pool per class).
package bufpool

import (
	"math/bits"
	"sync"
)

// Buffers are pooled by size class: powers of two from 2^minPoolShift to
// 2^maxPoolShift bytes. Read and write buffers are borrowed while a message
// is in flight and returned when it ends, so idle connections share them.
const (
	minPoolShift = 8  // 256 B
	maxPoolShift = 24 // 16 MiB
)

var bufferPools [maxPoolShift - minPoolShift + 1]sync.Pool

// poolClass returns the index of the smallest class holding n bytes, or -1
// when n is larger than any class.
func poolClass(n int) int {
	if n <= 1<<minPoolShift {
		return 0
	}
	shift := bits.Len(uint(n - 1))
	if shift > maxPoolShift {
		return -1
	}
	return shift - minPoolShift
}

// Get returns a buffer of exactly n bytes, borrowed from the pool of
// its class when there is one. Return it with Put.
func Get(n int) *[]byte {
	class := poolClass(n)
	if class < 0 {
		b := make([]byte, n)
		return &b
	}
	if p, ok := bufferPools[class].Get().(*[]byte); ok {
		*p = (*p)[:n]
		return p
	}
	b := make([]byte, n, 1<<(class+minPoolShift))
	return &b
}

// Put gives b back to the pool of its class. b must not be used after.
func Put(b *[]byte) {
	c := cap(*b)
	class := poolClass(c)
	if class < 0 || 1<<(class+minPoolShift) != c {
		return
	}
	bufferPools[class].Put(b)
}
