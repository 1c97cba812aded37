'use strict';

// faye-peer.js: binds a faye-websocket connection (server or client side) to
// the protocol of peer.js. Used by faye-server.js and faye-client.js.

const peer = require('./peer');

// extensionNames lists the extensions the driver activated. faye-websocket has
// no public accessor for them, so this reads its websocket-extensions state.
function extensionNames(ws) {
  const exts = ws._driver && ws._driver._extensions;
  const sessions = (exts && exts._sessions) || [];
  return sessions.map((s) => s[0].name).join(', ');
}

// attach runs the echo protocol on ws; path labels its stdout events.
function attach(ws, path) {
  const open = () => ws.readyState === 1;
  const adapter = {
    sendText: (s) => open() && ws.send(s),
    sendBinary: (b) => open() && ws.send(b),
    // faye-websocket sends every message as one frame; it has no fragment API.
    sendFragments: () => false,
    // faye calls back when a pong carrying the same payload arrives.
    ping: (data, onPong) => ws.ping(data, () => onPong(data)),
    close: (code, reason) => ws.close(code, reason),
    info: () => ({ protocol: ws.protocol, extensions: extensionNames(ws) }),
    stats: () => peer.socketStats(ws._stream),
  };
  ws.on('open', () => {
    peer.report({ event: 'open', path, protocol: ws.protocol, extensions: extensionNames(ws) });
  });
  ws.on('message', (e) => {
    const isBinary = Buffer.isBuffer(e.data);
    peer.handleMessage(adapter, isBinary ? e.data : Buffer.from(e.data, 'utf8'), isBinary);
  });
  // The driver answers pings itself; its event lets us tell the Go side.
  ws._driver.on('ping', (e) => adapter.sendText('ping:' + e.data));
  ws.on('close', (e) => peer.report({ event: 'close', path, code: e.code, reason: e.reason }));
  ws.on('error', (e) => peer.report({ event: 'error', path, message: e.message }));
}

// extensions returns faye's extension list for --deflate.
function extensions(deflate) {
  return deflate ? [require('permessage-deflate')] : [];
}

module.exports = { attach, extensions };
