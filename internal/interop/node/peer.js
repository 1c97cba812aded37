'use strict';

// peer.js: the small protocol that every echo peer of this fixture speaks,
// whatever WebSocket library carries it, so the Go tests drive ws,
// faye-websocket and websocket the same way.
//
// In band (over the WebSocket):
//   - any message that is not a command is echoed with its type kept;
//   - "cmd:close:<code>:<reason>"  the peer closes with that code and reason;
//   - "cmd:ping:<data>"            the peer pings; on the pong it sends "pong:<data>";
//   - "cmd:frag:<text|binary>:<size>:<count>"
//                                  the peer sends one message of <size> bytes of
//                                  the pattern below in <count> fragments, or the
//                                  text "unsupported" when its API cannot;
//   - "cmd:info"                   the peer answers a JSON text
//                                  {"protocol": ..., "extensions": ...};
//   - "cmd:stats"                  the peer answers a JSON text
//                                  {"bytesRead": ..., "bytesWritten": ...} counted
//                                  on its TCP socket (shows compression at work);
//   - a ping from the Go side makes the peer send the text "ping:<data>" (the
//     library answers the pong itself).
//
// Out of band (stdout, one JSON object a line): a server prints its port as the
// first line; then {"event":"open"|"close"|"error", "path": ..., ...}.

const PATTERN_TEXT = 'abcdefghijklmnopqrstuvwxyz';

// pattern returns size bytes of the test pattern: letters for text, i mod 251
// for binary (a prime, so the bytes do not line up with any power of two).
function pattern(kind, size) {
  const b = Buffer.alloc(size);
  for (let i = 0; i < size; i++) {
    b[i] = kind === 'text' ? PATTERN_TEXT.charCodeAt(i % 26) : i % 251;
  }
  return b;
}

// report prints one event line for the Go test.
function report(obj) {
  process.stdout.write(JSON.stringify(obj) + '\n');
}

// parseArgs reads "--name value" and "--flag" arguments.
function parseArgs(argv) {
  const out = { protocols: [], deflate: false, url: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--deflate') out.deflate = true;
    else if (a === '--protocols') out.protocols = argv[++i].split(',').filter(Boolean);
    else if (a === '--url') out.url = argv[++i];
    else throw new Error('unknown argument ' + a);
  }
  return out;
}

// listen starts an HTTP server on a loopback port chosen by the kernel and
// prints the port as the first stdout line.
function listen(server) {
  server.listen(0, '127.0.0.1', () => {
    process.stdout.write(server.address().port + '\n');
  });
}

// pickProtocol returns the first of the server's protocols that the client
// offered (server preference), or false.
function pickProtocol(serverList, offered) {
  for (const p of serverList) {
    if (offered.includes(p)) return p;
  }
  return false;
}

// handleMessage runs the protocol above for one received message. adapter
// hides the library: sendText(string), sendBinary(Buffer), sendFragments(kind,
// Buffer, count) returning false when unsupported, ping(string, onPong),
// close(code, reason), info() and stats().
function handleMessage(adapter, data, isBinary) {
  if (isBinary) {
    adapter.sendBinary(data);
    return;
  }
  const text = data.toString('utf8');
  if (!text.startsWith('cmd:')) {
    adapter.sendText(text);
    return;
  }
  const parts = text.split(':');
  switch (parts[1]) {
    case 'close':
      adapter.close(Number(parts[2]), parts.slice(3).join(':'));
      return;
    case 'ping': {
      const payload = parts.slice(2).join(':');
      adapter.ping(payload, (got) => adapter.sendText('pong:' + got));
      return;
    }
    case 'frag': {
      const kind = parts[2];
      const buf = pattern(kind, Number(parts[3]));
      if (!adapter.sendFragments(kind, buf, Number(parts[4]))) adapter.sendText('unsupported');
      return;
    }
    case 'info':
      adapter.sendText(JSON.stringify(adapter.info()));
      return;
    case 'stats':
      adapter.sendText(JSON.stringify(adapter.stats()));
      return;
    default:
      adapter.sendText('unknown command ' + text);
  }
}

// socketStats counts the bytes a TCP socket moved.
function socketStats(socket) {
  return { bytesRead: socket.bytesRead, bytesWritten: socket.bytesWritten };
}

module.exports = { pattern, report, parseArgs, listen, pickProtocol, handleMessage, socketStats };
