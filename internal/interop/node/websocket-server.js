'use strict';

// websocket-server.js: the "websocket" package's server on a loopback port,
// running the echo protocol of peer.js on every connection.
// Usage: node websocket-server.js [--protocols a,b]

const http = require('http');
const WebSocketServer = require('websocket').server;
const peer = require('./peer');
const wsnode = require('./websocket-peer');

const args = peer.parseArgs(process.argv.slice(2));
const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const wss = new WebSocketServer({
  httpServer: server,
  autoAcceptConnections: false,
  keepalive: false,
  ...wsnode.config,
});
wss.on('request', (req) => {
  // The package lower-cases the offered protocols.
  const protocol = peer.pickProtocol(args.protocols, req.requestedProtocols) || null;
  const conn = req.accept(protocol, req.origin);
  peer.report({ event: 'open', path: req.resource, protocol: conn.protocol || '', extensions: '' });
  wsnode.attach(conn, req.resource);
});
peer.listen(server);
