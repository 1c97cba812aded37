// Package websocket offers the API of github.com/gorilla/websocket v1.5.3 on
// top of github.com/rfc6455/websocket, so that a program written for gorilla
// moves over by changing its import line and nothing else:
//
//	import "github.com/rfc6455/websocket/compat/gorilla"
//
// The package name stays websocket, so every identifier keeps its spelling.
// Every type, function, method, constant, variable and struct field of
// gorilla v1.5.3 is here with the same signature; a test compares the two
// surfaces. Nothing here speaks the protocol: each call is a thin adapter
// over the parent package's [websocket.Conn], [websocket.Upgrader] and
// [websocket.Dialer], which do the work. New code should use the parent
// package directly; MIGRATING.md at the module's root maps every name.
//
// # Where the behaviour differs from gorilla's
//
// Behaviour follows gorilla's documentation, except where gorilla's is a
// defect; then the parent package's applies:
//
//   - Writes are safe from many goroutines at once (messages never
//     interleave), where gorilla allows one writer and may panic.
//   - Incoming text is checked as UTF-8: invalid text fails the connection
//     with close code 1007 (RFC 6455 §8.1), where gorilla passes it on.
//   - A read that reaches its read deadline leaves the Conn usable: the next
//     read resumes the same message. gorilla's Conn is broken after any
//     read error.
//   - EnableCompression negotiates permessage-deflate with context takeover
//     (RFC 7692), where gorilla offers only no context takeover.
//   - Reads accept messages up to the parent's DefaultReadLimit (16 MiB)
//     unless SetReadLimit says otherwise; gorilla has no default limit. A
//     limit of 0 or less removes it, as in gorilla.
//   - The Conn answers the peer's close frame itself (RFC 6455 §5.5.1),
//     after the close handler returns, so a handler set with SetCloseHandler
//     need not send one; the default handler does nothing.
//   - Read and write buffers are borrowed from pools inside the parent
//     package while a message is in flight, so ReadBufferSize and
//     WriteBufferSize size them but a WriteBufferPool is never used: see
//     [BufferPool].
//   - Upgrader.HandshakeTimeout bounds the writing of the 101 answer, as in
//     gorilla; reading the request is bounded by the http.Server's
//     ReadHeaderTimeout.
//   - Errors wrap the parent's: a protocol violation wraps
//     websocket.ErrProtocol (1002), invalid payload ErrInvalidPayload (1007),
//     so errors.Is works on both packages' values. IsCloseError and
//     IsUnexpectedCloseError look through wrapped errors.
//
// Close closes the network connection at once, as gorilla's does. To close
// cleanly, send a close frame (WriteControl with CloseMessage) and read
// until the peer's close arrives, as gorilla's documentation says. Once a
// read has returned the peer's close, or an error for which the Conn sent a
// close frame, Close lets the closing handshake finish (at most the parent's
// DefaultCloseTimeout) rather than reset the connection under the last
// messages still on their way.
package websocket
