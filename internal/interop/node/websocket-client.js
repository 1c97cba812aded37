'use strict';

// websocket-client.js: the "websocket" package's client; connects to --url and
// runs the echo protocol of peer.js until the connection closes.
// Usage: node websocket-client.js --url ws://127.0.0.1:PORT/path [--protocols a,b]

const WebSocketClient = require('websocket').client;
const peer = require('./peer');
const wsnode = require('./websocket-peer');

const args = peer.parseArgs(process.argv.slice(2));
const path = new URL(args.url).pathname;
const client = new WebSocketClient(wsnode.config);
client.on('connect', (conn) => {
  peer.report({ event: 'open', path, protocol: conn.protocol || '', extensions: '' });
  wsnode.attach(conn, path);
});
client.on('connectFailed', (err) => {
  peer.report({ event: 'error', path, message: String(err) });
  process.exitCode = 1;
});
client.connect(args.url, args.protocols.length > 0 ? args.protocols : null);
