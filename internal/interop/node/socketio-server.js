'use strict';

// socketio-server.js: a socket.io server at /socket.io/ on a loopback port,
// websocket transport only. The event "echo" is acknowledged with its
// arguments; on connection the server emits "welcome". Its heartbeat is fast
// (200 ms) so a short test must answer several pings.
// Usage: node socketio-server.js

const http = require('http');
const { Server } = require('socket.io');
const peer = require('./peer');

const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const io = new Server(server, { transports: ['websocket'], pingInterval: 200, pingTimeout: 2000 });
io.on('connection', (socket) => {
  peer.report({ event: 'open', path: '/socket.io/', sid: socket.id });
  let pongs = 0;
  socket.conn.on('heartbeat', () => {
    pongs++;
  });
  socket.emit('welcome', 'hello from socket.io');
  // "pongs" is acknowledged with how many heartbeats were answered.
  socket.on('pongs', (ack) => typeof ack === 'function' && ack(pongs));
  socket.on('echo', (...args) => {
    const ack = typeof args[args.length - 1] === 'function' ? args.pop() : null;
    if (ack) ack(...args);
  });
  socket.on('disconnect', (reason) => peer.report({ event: 'close', path: '/socket.io/', reason }));
});
peer.listen(server);
