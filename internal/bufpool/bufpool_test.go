package bufpool

import "testing"

func TestGetSizes(t *testing.T) {
	for _, n := range []int{0, 1, 256, 257, 4096, 5000, 1 << 24, 1<<24 + 1} {
		b := Get(n)
		if len(*b) != n {
			t.Fatalf("Get(%d): len %d", n, len(*b))
		}
		if c := cap(*b); n <= 1<<24 && (c < n || c&(c-1) != 0) {
			t.Fatalf("Get(%d): cap %d, want a power of two at least n", n, c)
		}
		Put(b)
	}
}

func TestPutKeepsOnlyClassSizes(t *testing.T) {
	odd := make([]byte, 300) // not a class's size: dropped, never lent
	Put(&odd)
	for range 100 {
		b := Get(300)
		if cap(*b) != 512 {
			t.Fatalf("Get(300) lent a buffer of cap %d, want 512", cap(*b))
		}
		Put(b)
	}
}

func TestPoolClass(t *testing.T) {
	for _, tc := range []struct{ n, class int }{
		{0, 0}, {256, 0}, {257, 1}, {512, 1}, {1 << 24, 16}, {1<<24 + 1, -1},
	} {
		if got := poolClass(tc.n); got != tc.class {
			t.Errorf("poolClass(%d) = %d, want %d", tc.n, got, tc.class)
		}
	}
}
