'use strict';

// faye-client.js: a faye-websocket client that connects to --url and runs the
// echo protocol of peer.js until the connection closes.
// Usage: node faye-client.js --url ws://127.0.0.1:PORT/path [--protocols a,b] [--deflate]

const WebSocket = require('faye-websocket');
const peer = require('./peer');
const faye = require('./faye-peer');

const args = peer.parseArgs(process.argv.slice(2));
const ws = new WebSocket.Client(args.url, args.protocols, {
  extensions: faye.extensions(args.deflate),
  maxLength: 64 << 20,
});
faye.attach(ws, new URL(args.url).pathname);
