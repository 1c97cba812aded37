'use strict';

// primus-server.js: a Primus server at /primus on a loopback port, with the
// "websockets" transformer (ws underneath) and the JSON parser, that echoes
// every message. Its heartbeat is fast (200 ms): Primus writes
// "primus::ping::<ms>" and ends a spark that has not answered
// "primus::pong::<ms>" by the next beat.
// Usage: node primus-server.js

const http = require('http');
const Primus = require('primus');
const peer = require('./peer');

const server = http.createServer();
const primus = new Primus(server, { transformer: 'websockets', pathname: '/primus', pingInterval: 200 });
primus.on('connection', (spark) => {
  peer.report({ event: 'open', path: '/primus', id: spark.id });
  let pongs = 0;
  spark.on('heartbeat', () => {
    pongs++;
  });
  spark.on('data', (data) => {
    // "pongs?" asks how many heartbeats this spark has answered.
    spark.write(data === 'pongs?' ? { pongs } : data);
  });
  spark.on('end', () => peer.report({ event: 'close', path: '/primus', pongs }));
});
peer.listen(server);
