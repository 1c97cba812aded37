// Package jsws binds the JavaScript host's WebSocket object (a browser's,
// or the one Node is given) under GOOS=js: opening, events queued for one
// reader, sends that never block the host, closing, and deadlines a
// blocked read or write waits on. It deals in whole messages; the frames
// the WebSocket Conn reads and writes are translated at the module's root
// (transport_js.go). On other ports the package is empty.
package jsws
