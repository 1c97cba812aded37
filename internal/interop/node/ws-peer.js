'use strict';

// ws-peer.js: binds a connection of the "ws" package to the protocol of peer.js.
// Used by ws-server.js and ws-client.js.

const peer = require('./peer');

// attach runs the echo protocol on ws; path labels its stdout events.
function attach(ws, path) {
  const pendingPings = [];
  const open = () => ws.readyState === ws.OPEN;
  const adapter = {
    sendText: (s) => open() && ws.send(s),
    sendBinary: (b) => open() && ws.send(b, { binary: true }),
    // ws sends a fragment per send() call while fin is false.
    sendFragments: (kind, buf, count) => {
      const step = Math.ceil(buf.length / count) || 1;
      for (let off = 0, i = 0; i < count; i++, off += step) {
        const chunk = buf.subarray(Math.min(off, buf.length), Math.min(off + step, buf.length));
        ws.send(chunk, { binary: kind === 'binary', fin: i === count - 1 });
      }
      return true;
    },
    ping: (data, onPong) => {
      pendingPings.push({ data, onPong });
      ws.ping(data);
    },
    close: (code, reason) => ws.close(code, reason),
    info: () => ({ protocol: ws.protocol, extensions: ws.extensions }),
    stats: () => peer.socketStats(ws._socket),
  };
  ws.on('message', (data, isBinary) => peer.handleMessage(adapter, data, isBinary));
  ws.on('ping', (data) => adapter.sendText('ping:' + data.toString()));
  ws.on('pong', (data) => {
    const got = data.toString();
    const i = pendingPings.findIndex((p) => p.data === got);
    if (i >= 0) pendingPings.splice(i, 1)[0].onPong(got);
  });
  ws.on('close', (code, reason) => peer.report({ event: 'close', path, code, reason: reason.toString() }));
  ws.on('error', (err) => peer.report({ event: 'error', path, message: err.message }));
}

module.exports = { attach };
