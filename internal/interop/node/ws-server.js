'use strict';

// ws-server.js: a "ws" WebSocketServer on a loopback port, running the echo
// protocol of peer.js on every connection.
// Usage: node ws-server.js [--protocols a,b] [--deflate]

const http = require('http');
const { WebSocketServer } = require('ws');
const peer = require('./peer');
const { attach } = require('./ws-peer');

const args = peer.parseArgs(process.argv.slice(2));
const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const wss = new WebSocketServer({
  server,
  maxPayload: 64 << 20,
  // threshold 0: compress every message, even the empty one.
  perMessageDeflate: args.deflate ? { threshold: 0 } : false,
  handleProtocols: (offered) => peer.pickProtocol(args.protocols, [...offered]),
});
wss.on('connection', (ws, req) => {
  peer.report({ event: 'open', path: req.url, protocol: ws.protocol, extensions: ws.extensions });
  attach(ws, req.url);
});
peer.listen(server);
