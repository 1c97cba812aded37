package websocket

import (
	"context"
	"encoding/json"
	"errors"
)

// JSON messages: one JSON value per text message, for applications that
// speak JSON over WebSocket and would otherwise repeat this around
// ReadMessage and WriteMessage.

var errJSONNotText = errors.New("websocket: ReadJSON: binary message, want a text message holding JSON")

// ReadJSON reads the next message and decodes it into v with
// encoding/json. The message must be a text message holding exactly one
// JSON value (whitespace around it allowed); otherwise ReadJSON returns an
// error, the message is dropped and the Conn stays usable (v may be
// partly set, as json.Unmarshal leaves it). Errors of the read itself are
// as for ReadMessage.
func (c *Conn) ReadJSON(v any) error {
	return c.ReadJSONContext(context.Background(), v)
}

// ReadJSONContext is ReadJSON that gives up when ctx ends, as
// ReadMessageContext does.
func (c *Conn) ReadJSONContext(ctx context.Context, v any) error {
	typ, data, err := c.ReadMessageContext(ctx)
	if err != nil {
		return err
	}
	if typ != TextMessage {
		return errJSONNotText
	}
	return json.Unmarshal(data, v)
}

// WriteJSON encodes v with encoding/json and writes it as one text
// message. When v cannot be encoded it returns the encoder's error and
// writes nothing.
func (c *Conn) WriteJSON(v any) error {
	return c.WriteJSONContext(context.Background(), v)
}

// WriteJSONContext is WriteJSON that gives up when ctx ends, as
// WriteMessageContext does.
func (c *Conn) WriteJSONContext(ctx context.Context, v any) error {
	data, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return c.WriteMessageContext(ctx, TextMessage, data)
}
