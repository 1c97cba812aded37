package websocket

import (
	"testing"
	"time"
)

// TestCloseEchoesReason: the answer to the peer's close carries its code
// and its reason, as Node's ws and python-websockets answer, on both sides.
func TestCloseEchoesReason(t *testing.T) {
	for _, side := range []string{"server", "client"} {
		t.Run(side, func(t *testing.T) {
			c, peer := sideWithRawPeer(t, side, nil)
			peer.writeFrame(true, opClose, closePayload(4001, "bye ✓"))
			if _, _, err := c.ReadMessage(); CloseStatus(err) != 4001 {
				t.Fatalf("read: %v, want close 4001", err)
			}
			if got := peer.expectClose(4001); got != "bye ✓" {
				t.Fatalf("answer's reason %q, want %q", got, "bye ✓")
			}
		})
	}
}

// TestCloseHandlerAnswersDifferently: a close handler that sends its own
// close frame replaces the echo, as SetCloseHandler documents.
func TestCloseHandlerAnswersDifferently(t *testing.T) {
	c, peer := serverWithRawClient(t, nil)
	c.SetCloseHandler(func(code StatusCode, text string) error {
		return c.WriteControl(CloseMessage, FormatCloseMessage(StatusNormalClosure, "see you"), time.Now().Add(testTimeout))
	})
	peer.writeFrame(true, opClose, closePayload(4001, "bye"))
	if _, _, err := c.ReadMessage(); CloseStatus(err) != 4001 {
		t.Fatalf("read: %v, want close 4001", err)
	}
	if got := peer.expectClose(StatusNormalClosure); got != "see you" {
		t.Fatalf("answer's reason %q, want %q", got, "see you")
	}
	peer.expectEOF()
}
