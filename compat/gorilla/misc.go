package websocket

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"

	ws "github.com/rfc6455/websocket"
)

// BufferPool is a pool of buffers, as sync.Pool is one. This package accepts
// it in Upgrader and Dialer but never uses it: the parent package borrows
// read and write buffers from pools of its own, only while a message is in
// flight, so an idle connection holds none whatever the settings.
type BufferPool interface {
	// Get returns a buffer from the pool, or nil when it is empty.
	Get() any
	// Put returns a buffer to the pool.
	Put(any)
}

// PreparedMessage is a data message encoded once, for sending to many
// connections with WritePreparedMessage. It is safe for concurrent use.
type PreparedMessage struct {
	pm *ws.PreparedMessage
}

// NewPreparedMessage returns a message of messageType (TextMessage or
// BinaryMessage) holding a copy of data.
func NewPreparedMessage(messageType int, data []byte) (*PreparedMessage, error) {
	pm, err := ws.NewPreparedMessage(ws.MessageType(messageType), data)
	if err != nil {
		return nil, err
	}
	return &PreparedMessage{pm: pm}, nil
}

// WriteJSON writes v as JSON, followed by a newline as json.Encoder writes
// it, in one text message. When v cannot be encoded nothing is written.
func (c *Conn) WriteJSON(v any) error {
	var b bytes.Buffer
	if err := json.NewEncoder(&b).Encode(v); err != nil {
		return err
	}
	return c.WriteMessage(TextMessage, b.Bytes())
}

// ReadJSON reads the next data message, text or binary, and decodes the
// first JSON value in it into v. An empty message gives io.ErrUnexpectedEOF.
func (c *Conn) ReadJSON(v any) error {
	_, r, err := c.NextReader()
	if err != nil {
		return err
	}
	err = json.NewDecoder(r).Decode(v)
	if err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}

// WriteJSON is c.WriteJSON(v).
//
// Deprecated: use Conn.WriteJSON.
func WriteJSON(c *Conn, v any) error { return c.WriteJSON(v) }

// ReadJSON is c.ReadJSON(v).
//
// Deprecated: use Conn.ReadJSON.
func ReadJSON(c *Conn, v any) error { return c.ReadJSON(v) }

// JoinMessages returns a reader of the payloads of c's successive data
// messages as one stream, with term after each message. Its Read returns
// the error of the read that ended the stream, such as the peer's
// *CloseError. Read it from one goroutine, with no other read of c.
func JoinMessages(c *Conn, term string) io.Reader {
	return &joinReader{c: c, term: term}
}

// joinReader reads messages one after another, each followed by term.
type joinReader struct {
	c    *Conn
	term string
	r    io.Reader // the current message and its term; nil between messages
}

func (j *joinReader) Read(p []byte) (int, error) {
	for {
		if j.r == nil {
			_, r, err := j.c.NextReader()
			if err != nil {
				return 0, err
			}
			j.r = io.MultiReader(r, strings.NewReader(j.term))
		}
		n, err := j.r.Read(p)
		if err == io.EOF {
			j.r = nil
			err = nil
		}
		if n > 0 || err != nil || len(p) == 0 {
			return n, err
		}
	}
}
