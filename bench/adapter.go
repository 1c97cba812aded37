package bench

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
)

// MsgType is the type of a data message, whatever the library calls it.
type MsgType uint8

// The two data message types of RFC 6455 §5.6.
const (
	Text MsgType = iota + 1
	Binary
)

// String returns "text" or "binary".
func (t MsgType) String() string {
	if t == Text {
		return "text"
	}
	return "binary"
}

// Compression selects permessage-deflate (RFC 7692) for a connection.
type Compression uint8

// The compression settings a workload may ask for.
const (
	CompressionOff Compression = iota
	CompressionNoContext
	CompressionContext
)

// String returns the name used in benchmark names.
func (c Compression) String() string {
	switch c {
	case CompressionNoContext:
		return "nocontext"
	case CompressionContext:
		return "context"
	}
	return "off"
}

// ErrUnsupported is returned by an adapter asked for something its library
// does not offer; the workload then skips that library.
var ErrUnsupported = errors.New("bench: not supported by this library")

// Options configure one connection, on either side.
type Options struct {
	Compression Compression
	// NetDial, on the client side, opens the transport; nil means a
	// net.Dialer. Workloads use it to run over memory or to keep the TCP
	// connection for a fast close.
	NetDial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Library is one WebSocket implementation, or the plain TCP floor.
type Library interface {
	// Name is the column name in the tables: ours, gorilla, coder, gobwas, tcp.
	Name() string
	// Upgrade answers the handshake of r and returns the server side.
	Upgrade(w http.ResponseWriter, r *http.Request, o Options) (Conn, error)
	// Dial connects to url (ws://host/path) and returns the client side.
	Dial(ctx context.Context, url string, o Options) (Conn, error)
	// Supports reports whether the library can negotiate c.
	Supports(c Compression) bool
	// Appends reports whether its Conn has AppendMessage, a whole-message
	// read that reuses the caller's buffer.
	Appends() bool
	// Prepare encodes a server-to-client message once for WritePrepared, with
	// the library's own means (a prepared message, a pre-encoded frame) or,
	// when it has none, by keeping the payload for WriteMessage.
	Prepare(typ MsgType, p []byte) (Prepared, error)
}

// Prepared is a message encoded once to be written to many connections.
type Prepared any

// plainPrepared is the Prepared of a library without prepared messages:
// the payload, written with WriteMessage to each connection.
type plainPrepared struct {
	typ MsgType
	p   []byte
}

// Conn is what the workloads need of a connection. Reads are called from
// one goroutine, writes from one other goroutine at a time.
type Conn interface {
	// ReadMessage reads the next message with the library's idiomatic
	// whole-message call, the one its examples use, which returns a new
	// slice each time: ReadMessage for ours and gorilla, Read for coder,
	// wsutil.ReadClientData or ReadServerData for gobwas; tcp makes one
	// slice of the message's size.
	ReadMessage() (MsgType, []byte, error)
	// AppendMessage reads the next message into dst's spare capacity with
	// the library's reusing call, growing it if needed, or returns
	// ErrUnsupported when the library has none (only ours and tcp have
	// one).
	AppendMessage(dst []byte) (MsgType, []byte, error)
	// WriteMessage writes p as one message with the library's whole-message
	// call.
	WriteMessage(typ MsgType, p []byte) error
	// NextReader returns a reader of the next message: the streaming API.
	NextReader() (MsgType, io.Reader, error)
	// NextWriter returns a writer of one message: the streaming API. Close
	// ends the message.
	NextWriter(typ MsgType) (io.WriteCloser, error)
	// WritePrepared writes a message made by the library's Prepare.
	WritePrepared(p Prepared) error
	// Close drops the connection at once, without a closing handshake.
	Close() error
}

// Libraries returns every adapter, ours first and tcp last.
func Libraries() []Library {
	return []Library{ours{}, gorillaLib{}, coderLib{}, gobwasLib{}, tcpLib{}}
}

// LibraryByName returns the adapter called name, or nil.
func LibraryByName(name string) Library {
	for _, l := range Libraries() {
		if l.Name() == name {
			return l
		}
	}
	return nil
}

// readLimit is the message size limit every adapter sets, above the largest
// message of any workload (1 MiB).
const readLimit = 64 << 20
