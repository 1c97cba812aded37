package websocket

import (
	"encoding/json"
	"errors"
	"testing"

	"github.com/stretchr/testify/require"
)

type jsonEvent struct {
	Room string   `json:"room"`
	Seq  int      `json:"seq"`
	Tags []string `json:"tags,omitempty"`
}

// TestJSONRoundTrip: WriteJSON sends one text message holding the JSON of
// the value (no trailing newline), and ReadJSON decodes it.
func TestJSONRoundTrip(t *testing.T) {
	client, server := connPair(t, nil)
	want := jsonEvent{Room: "café", Seq: 7, Tags: []string{"a", "b"}}
	sent := make(chan error, 1)
	go func() { sent <- client.WriteJSON(want) }()
	typ, data, err := server.ReadMessage()
	require.NoError(t, <-sent)
	require.NoError(t, err)
	require.Equal(t, TextMessage, typ)
	require.JSONEq(t, `{"room":"café","seq":7,"tags":["a","b"]}`, string(data))
	require.NotEqual(t, byte('\n'), data[len(data)-1])

	go func() { sent <- server.WriteMessage(TextMessage, data) }()
	var got jsonEvent
	require.NoError(t, client.ReadJSON(&got))
	require.NoError(t, <-sent)
	require.Equal(t, want, got)
}

// TestReadJSONRefusals: a binary message, invalid JSON, two values in one
// message and an empty message are errors of ReadJSON that drop the message
// and leave the Conn usable: the next ReadJSON decodes the next message.
func TestReadJSONRefusals(t *testing.T) {
	client, server := connPair(t, nil)
	bad := []struct {
		typ  MessageType
		data string
		is   func(error) bool
	}{
		{BinaryMessage, `{"seq":1}`, func(err error) bool { return errors.Is(err, errJSONNotText) }},
		{TextMessage, `{"seq":`, func(err error) bool { var e *json.SyntaxError; return errors.As(err, &e) }},
		{TextMessage, `{"seq":1} {"seq":2}`, func(err error) bool { var e *json.SyntaxError; return errors.As(err, &e) }},
		{TextMessage, ``, func(err error) bool { var e *json.SyntaxError; return errors.As(err, &e) }},
		{TextMessage, `{"seq":"one"}`, func(err error) bool { var e *json.UnmarshalTypeError; return errors.As(err, &e) }},
	}
	done := make(chan error, 1)
	go func() {
		for _, b := range bad {
			if err := client.WriteMessage(b.typ, []byte(b.data)); err != nil {
				done <- err
				return
			}
		}
		done <- client.WriteMessage(TextMessage, []byte(" {\"seq\":42}\n"))
	}()
	for _, b := range bad {
		var v jsonEvent
		err := server.ReadJSON(&v)
		require.Error(t, err, "%q", b.data)
		require.True(t, b.is(err), "%q: %v", b.data, err)
		require.Zero(t, CloseStatus(err), "a refused message does not end the connection")
	}
	var v jsonEvent
	require.NoError(t, server.ReadJSON(&v))
	require.Equal(t, 42, v.Seq)
	require.NoError(t, <-done)
}

// TestWriteJSONUnencodable: a value encoding/json refuses is an error and
// nothing is written: the peer's next message is the one after it.
func TestWriteJSONUnencodable(t *testing.T) {
	client, server := connPair(t, nil)
	var unsupported *json.UnsupportedTypeError
	require.ErrorAs(t, client.WriteJSON(map[string]any{"c": make(chan int)}), &unsupported)
	sent := make(chan error, 1)
	go func() { sent <- client.WriteJSON(jsonEvent{Seq: 2}) }()
	var v jsonEvent
	require.NoError(t, server.ReadJSON(&v))
	require.NoError(t, <-sent)
	require.Equal(t, 2, v.Seq)
}
