'use strict';

// engineio-server.js: an engine.io server at /engine.io/ on a loopback port,
// websocket transport only, that echoes every message (text or binary). Its
// heartbeat is fast (200 ms) so a short test sees several pings and must
// answer them.
// Usage: node engineio-server.js

const http = require('http');
const { Server } = require('engine.io');
const peer = require('./peer');

const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const eio = new Server({ transports: ['websocket'], pingInterval: 200, pingTimeout: 2000 });
eio.attach(server);
eio.on('connection', (socket) => {
  peer.report({ event: 'open', path: '/engine.io/', sid: socket.id });
  let pongs = 0;
  socket.on('heartbeat', () => {
    pongs++;
  });
  // "pongs?" asks how many heartbeats this socket has answered.
  socket.on('message', (data) => socket.send(data === 'pongs?' ? String(pongs) : data));
  socket.on('close', (reason) => peer.report({ event: 'close', path: '/engine.io/', reason }));
});
peer.listen(server);
