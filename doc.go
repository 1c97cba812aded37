// Package websocket implements the WebSocket protocol of RFC 6455, with the
// permessage-deflate extension of RFC 7692.
//
// # Overview
//
// A server upgrades an HTTP request with an Upgrader; a client connects with
// a Dialer. Both return a *Conn that reads and writes messages.
//
// The wire layer validates every rule of RFC 6455 §5 on every frame: reserved
// bits and opcodes, masking direction, control frame sizes, the shortest
// length encoding, and UTF-8 in text messages, checked incrementally as the
// fragments arrive so that invalid text fails at the first impossible byte.
// Violations fail the connection with close code 1002 (protocol error), 1007
// (invalid payload) or 1009 (message too big); the returned error wraps
// ErrProtocol, ErrInvalidUTF8 or ErrReadLimit.
//
// Masking runs in assembly on amd64; build with the purego tag to use the
// portable Go implementation everywhere.
package websocket
