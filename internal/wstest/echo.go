package wstest

import (
	"errors"
	"fmt"
	"io"
)

// EchoConn is what Echo needs of a WebSocket connection; T is its message
// type. The websocket package's *Conn has these methods, and this package
// does not import it, so that package's own tests can use Echo too.
type EchoConn[T any] interface {
	ReadMessage() (T, []byte, error)
	WriteMessage(typ T, data []byte) error
	NextReader() (T, io.Reader, error)
	NextWriter(typ T) (io.WriteCloser, error)
	Close() error
}

// ErrEchoLimit is returned by Echo after it has echoed its maximum number of
// messages.
var ErrEchoLimit = errors.New("wstest: echo loop reached its message limit")

// Echo is the application a peer under test talks to: it sends back every
// message it reads from c, with its type, until a read or a write fails, and
// returns that error. stream picks the API: NextReader and NextWriter, which
// copy a message through as it arrives, or ReadMessage and WriteMessage. It
// returns ErrEchoLimit after max messages, so that a peer that never stops
// cannot keep it running. It closes c on the way out.
func Echo[T any](c EchoConn[T], stream bool, max int) error {
	defer c.Close()
	for range max {
		if err := echoOne(c, stream); err != nil {
			return err
		}
	}
	return fmt.Errorf("%w (%d)", ErrEchoLimit, max)
}

func echoOne[T any](c EchoConn[T], stream bool) error {
	if !stream {
		typ, msg, err := c.ReadMessage()
		if err != nil {
			return err
		}
		return c.WriteMessage(typ, msg)
	}
	typ, r, err := c.NextReader()
	if err != nil {
		return err
	}
	w, err := c.NextWriter(typ)
	if err != nil {
		return err
	}
	if _, err := io.Copy(w, r); err != nil {
		return err
	}
	return w.Close()
}
