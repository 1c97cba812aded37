'use strict';

// faye-server.js: faye-websocket on a loopback HTTP server, running the echo
// protocol of peer.js on every upgraded connection.
// Usage: node faye-server.js [--protocols a,b] [--deflate]

const http = require('http');
const WebSocket = require('faye-websocket');
const peer = require('./peer');
const faye = require('./faye-peer');

const args = peer.parseArgs(process.argv.slice(2));
const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
server.on('upgrade', (req, socket, body) => {
  if (!WebSocket.isWebSocket(req)) {
    socket.destroy();
    return;
  }
  const ws = new WebSocket(req, socket, body, args.protocols, {
    extensions: faye.extensions(args.deflate),
    maxLength: 64 << 20,
  });
  faye.attach(ws, req.url);
});
peer.listen(server);
