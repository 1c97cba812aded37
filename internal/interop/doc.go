// Package interop tests the websocket package against independent peers:
// the Node libraries ws, faye-websocket and websocket as servers and clients,
// the realtime frameworks engine.io, socket.io, sockjs and primus as servers,
// and Debian's Chromium as a browser client.
//
// The peers are not Go code: the Node fixture lives in node/ (install it with
// "cd internal/interop/node && npm ci") and the browser is /usr/bin/chromium
// ("apt-get install chromium"). Without them the tests skip and say so, unless
// the environment sets WEBSOCKET_INTEROP_REQUIRED=1, as .ci/run does: then a
// missing peer fails the test.
//
// The package has no code of its own; everything is in its tests.
package interop
