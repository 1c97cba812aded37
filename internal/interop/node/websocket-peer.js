'use strict';

// websocket-peer.js: binds a connection of the "websocket" package
// (WebSocket-Node) to the protocol of peer.js. Used by websocket-server.js and
// websocket-client.js.

const peer = require('./peer');

// config holds the limits for both roles: the package's defaults refuse
// messages over 1 MiB, and the tests send 4 MiB.
const config = {
  maxReceivedFrameSize: 64 << 20,
  maxReceivedMessageSize: 64 << 20,
};

// attach runs the echo protocol on conn; path labels its stdout events.
function attach(conn, path) {
  const pendingPings = [];
  const adapter = {
    sendText: (s) => conn.connected && conn.sendUTF(s),
    sendBinary: (b) => conn.connected && conn.sendBytes(b),
    // The package fragments any message longer than its fragmentation
    // threshold, read when the message is sent: set it for this one message.
    sendFragments: (kind, buf, count) => {
      const saved = [conn.config.fragmentOutgoingMessages, conn.config.fragmentationThreshold];
      conn.config.fragmentOutgoingMessages = true;
      conn.config.fragmentationThreshold = Math.max(1, Math.ceil(buf.length / count));
      try {
        if (kind === 'text') conn.sendUTF(buf.toString('utf8'));
        else conn.sendBytes(buf);
      } finally {
        [conn.config.fragmentOutgoingMessages, conn.config.fragmentationThreshold] = saved;
      }
      return true;
    },
    ping: (data, onPong) => {
      pendingPings.push({ data, onPong });
      conn.ping(data);
    },
    close: (code, reason) => conn.close(code, reason),
    info: () => ({ protocol: conn.protocol || '', extensions: '' }),
    stats: () => peer.socketStats(conn.socket),
  };
  conn.on('message', (m) => {
    if (m.type === 'utf8') peer.handleMessage(adapter, Buffer.from(m.utf8Data, 'utf8'), false);
    else peer.handleMessage(adapter, m.binaryData, true);
  });
  // With a listener the package still answers the ping unless cancel() is called.
  conn.on('ping', (cancel, data) => adapter.sendText('ping:' + data.toString()));
  conn.on('pong', (data) => {
    const got = data.toString();
    const i = pendingPings.findIndex((p) => p.data === got);
    if (i >= 0) pendingPings.splice(i, 1)[0].onPong(got);
  });
  conn.on('close', (code, reason) => peer.report({ event: 'close', path, code, reason: reason || '' }));
  conn.on('error', (err) => peer.report({ event: 'error', path, message: err.message }));
}

module.exports = { attach, config };
