package websocket

import (
	"bytes"
	"fmt"
	"testing"
)

// TestSteadyStateEchoAllocs checks that echoing messages, reading with
// AppendMessage into a reused buffer and writing with WriteMessage,
// allocates nothing on either side once buffers are warm. AllocsPerRun
// counts the whole process, so the echoing side is measured too.
func TestSteadyStateEchoAllocs(t *testing.T) {
	if raceEnabled {
		t.Skip("sync.Pool drops items at random under -race")
	}
	for _, transport := range []string{"tcp", "pipe"} {
		for _, size := range []int{16, 1000, 64 << 10} {
			t.Run(fmt.Sprintf("%s/%d", transport, size), func(t *testing.T) {
				pair := connPair
				if transport == "pipe" {
					pair = pipePair
				}
				client, server := pair(t, nil)
				go func() {
					buf := make([]byte, 0, size)
					for {
						typ, b, err := server.AppendMessage(buf[:0])
						if err != nil {
							return
						}
						if err := server.WriteMessage(typ, b); err != nil {
							return
						}
						buf = b
					}
				}()
				msg := pattern(size, size)
				buf := make([]byte, 0, size)
				var got []byte
				echo := func() {
					if err := client.WriteMessage(BinaryMessage, msg); err != nil {
						t.Fatal(err)
					}
					var err error
					if _, got, err = client.AppendMessage(buf[:0]); err != nil {
						t.Fatal(err)
					}
				}
				echo() // warm the pools
				allocs := testing.AllocsPerRun(200, echo)
				if !bytes.Equal(got, msg) {
					t.Fatal("echo damaged")
				}
				t.Logf("%s %d B: %.2f allocs per echo", transport, size, allocs)
				if allocs != 0 {
					t.Errorf("%.2f allocations per echo, want 0", allocs)
				}
				if err := client.Close(); err != nil {
					t.Fatal(err)
				}
			})
		}
	}
}
