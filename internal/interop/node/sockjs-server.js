'use strict';

// sockjs-server.js: a SockJS echo service under /echo on a loopback port. Its
// raw endpoint /echo/websocket is plain WebSocket; its framed endpoint
// /echo/<server>/<session>/websocket speaks the SockJS framing ("o", "a[...]",
// "c[...]"). The heartbeat is fast (200 ms): over WebSocket SockJS sends a ping
// and closes with 3000 when no pong comes back.
// Usage: node sockjs-server.js

const http = require('http');
const sockjs = require('sockjs');
const peer = require('./peer');

const server = http.createServer((req, res) => {
  res.writeHead(404);
  res.end();
});
const echo = sockjs.createServer({ prefix: '/echo', heartbeat_delay: 200, log: () => {} });
echo.on('connection', (conn) => {
  peer.report({ event: 'open', path: conn.url, protocol: conn.protocol });
  conn.on('data', (msg) => {
    if (msg.startsWith('cmd:close:')) {
      const parts = msg.split(':');
      conn.close(Number(parts[2]), parts.slice(3).join(':'));
      return;
    }
    conn.write(msg);
  });
  conn.on('close', () => peer.report({ event: 'close', path: conn.url }));
});
echo.installHandlers(server);
peer.listen(server);
