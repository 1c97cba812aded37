'use strict';

// ws-client.js: a "ws" client that connects to --url and runs the echo
// protocol of peer.js until the connection closes.
// Usage: node ws-client.js --url ws://127.0.0.1:PORT/path [--protocols a,b] [--deflate]

const WebSocket = require('ws');
const peer = require('./peer');
const { attach } = require('./ws-peer');

const args = peer.parseArgs(process.argv.slice(2));
const path = new URL(args.url).pathname;
const ws = new WebSocket(args.url, args.protocols, {
  maxPayload: 64 << 20,
  // The ws client offers permessage-deflate unless told not to.
  perMessageDeflate: args.deflate ? { threshold: 0 } : false,
});
ws.on('open', () => peer.report({ event: 'open', path, protocol: ws.protocol, extensions: ws.extensions }));
ws.on('unexpected-response', (req, res) => {
  peer.report({ event: 'error', path, message: 'unexpected response ' + res.statusCode });
  process.exit(1);
});
attach(ws, path);
