// Package websocket implements the WebSocket protocol of RFC 6455, with the
// permessage-deflate extension of RFC 7692.
//
// # Overview
//
// A server upgrades an HTTP request with an Upgrader (see
// ExampleUpgrader_Upgrade); a client connects with Dial or a Dialer (see
// ExampleDial). Both return a *Conn that reads and writes messages until one
// side closes it. The programs under examples/ use nothing but this API: a
// chat server with its browser page, the smallest echo server and client,
// and a command-line client and server, wscat.
//
// The wire layer checks every rule of RFC 6455 §5 on every frame: reserved
// bits and opcodes, masking direction, control frame sizes, the shortest
// length encoding, and UTF-8 in text messages, validated incrementally as
// fragments arrive so that invalid text fails at the first impossible byte.
// A violation fails the connection with close code 1002 (protocol error),
// 1007 (invalid payload) or 1009 (message too big), and the read returns an
// error that wraps ErrProtocol, ErrInvalidUTF8 or ErrReadLimit.
//
// # Messages
//
// A message is TextMessage or BinaryMessage. ReadMessage returns the next
// one whole, in a slice the caller owns; AppendMessage appends it to a
// buffer the caller reuses; NextReader returns an io.Reader over it, which
// stays valid until the next read call. Pings are answered and pongs
// noticed by whichever read is in progress; SetPingHandler,
// SetPongHandler and SetCloseHandler change what happens then.
//
// WriteMessage sends a message as one frame; NextWriter streams one of
// unknown length as fragments, one per filled write buffer (see
// ExampleConn_NextWriter). Text received is guaranteed valid UTF-8; text
// sent is not checked, and a peer fails the connection (1007) on invalid
// text, so send arbitrary bytes as BinaryMessage. WriteControl sends ping,
// pong and close frames, and Ping sends a ping and waits for its pong.
// WriteJSON and ReadJSON carry one JSON value per text message.
//
// # Concurrency
//
// Writing methods (WriteMessage, WriteJSON, NextWriter, WriteControl, Ping,
// Close, CloseWithStatus, CloseNow) may be called from many goroutines at
// once: messages never interleave, and control frames may go out between
// the fragments of a message being streamed. Reading methods (ReadMessage,
// AppendMessage, ReadJSON, NextReader and its reader) are for one goroutine
// at a time; concurrent calls are serialised, but which caller then gets
// which message is unspecified. Setters of deadlines, limits and handlers may be
// called at any time. An Upgrader or a Dialer may serve many goroutines
// once configured. The comment of each method says how its results may be
// used.
//
// # Deadlines and contexts
//
// SetReadDeadline and SetWriteDeadline work as on a net.Conn. A read that
// reaches its deadline returns an error matching os.ErrDeadlineExceeded and
// leaves the Conn usable: the next read resumes where it stopped, in the
// middle of a header or a payload. A write that reaches its deadline before
// its frame's first byte went out leaves the Conn usable; one that had sent
// part of a frame cannot be completed, so the connection fails.
//
// The …Context variants (ReadMessageContext, WriteMessageContext,
// NextReaderContext, NextWriterContext, AppendMessageContext) give up when
// their context ends, on the same terms: an interrupted read resumes, a
// write interrupted mid-frame fails the connection. The context given to
// Dial bounds the connection and the handshake only, not the Conn's life;
// the one given to NetConn governs every Read and Write of the net.Conn it
// returns.
//
// # Keepalive
//
// With PingInterval set on the Upgrader or the Dialer, the Conn pings its
// peer that often and fails with ErrKeepAliveTimeout, sending close code
// 1011, when within PongTimeout neither the pong nor any other byte has
// arrived; bytes still flowing count as life, so a pong queued behind a
// large message does not kill a busy connection. Pongs are seen by reads,
// so keepalive, like Ping, needs a goroutine reading. See ExampleConn_Ping.
//
// # Close
//
// Close performs the closing handshake of RFC 6455 §7 with code 1000, and
// CloseWithStatus with the code and reason given: it sends a close frame,
// waits for the peer's, and closes the transport, waiting at most the
// CloseTimeout (DefaultCloseTimeout when unset). When the peer closes first,
// the Conn answers with the same code and reason by itself (a close
// handler may send another answer first, see [Conn.SetCloseHandler]), and
// reads return a *CloseError with the peer's code and reason; CloseStatus
// extracts the code from a wrapped error (see ExampleCloseStatus). A
// connection that ends without a close frame (an EOF, a TCP reset, a
// broken pipe, the transport closed under a read or a write) gives reads,
// writes and Close a *CloseError with code 1006 (StatusAbnormalClosure)
// that wraps the transport's error: io.ErrUnexpectedEOF after an EOF, and
// errors.Is finds syscall.ECONNRESET after a reset. CloseNow closes the
// transport at once.
//
// Close reads and drops incoming messages itself when no goroutine is
// reading at that moment, which includes the instant between two reads of a
// reading goroutine. A program that must see every message the peer sends
// before its close frame sends its own close frame with WriteControl and
// keeps reading until the *CloseError, as examples/wscat does.
//
// # Limits
//
// Every limit is checked before memory is committed to it:
//
//   - Message size: DefaultReadLimit (16 MiB), set by ReadLimit on the
//     Upgrader or Dialer or by SetReadLimit. A frame header announcing more
//     fails the connection with 1009 before its payload is read; inflated
//     bytes count against the same limit, and a decompression bomb stops
//     there.
//   - Memory follows the bytes that arrived: a header's announced length
//     commits nothing by itself. ReadMessage and AppendMessage collect a
//     large payload in pooled chunks (4 KiB growing to 256 KiB) and
//     allocate the caller's slice once, at the message's exact size, when
//     the last frame's remaining length is at most 64 KiB or 8 times what
//     arrived; a message's memory is thus at most 64 KiB, or 10 times the
//     bytes received, plus 4 KiB. A peer announcing 16 MiB and sending one
//     byte costs one 4 KiB chunk.
//   - Peak memory of one message read whole, per connection, beside the
//     read buffer and the inflater's state (about 50 KiB): a message in one
//     frame, about 1.125 times its size; a compressed one, its size plus
//     its compressed payload plus 512 KiB (≤ 1.25 × the limit + 1 MiB for
//     text compressing 4:1 or better); a bomb, its compressed payload plus
//     512 KiB. A fragmented uncompressed message, whose length is known
//     only at its last frame, gets a slice with room for the whole read
//     limit once an eighth of the limit has arrived, so it too peaks at
//     about 1.125 times the limit; the slice returned then has spare
//     capacity, up to the limit. AppendMessage into a buffer with room, and
//     NextReader, hold no copy at all.
//   - Memory across connections: a MemoryBudget on the Upgrader or Dialer
//     bounds the total that messages being read hold at once; a read that
//     would pass it waits (see MemoryBudget for the one-message overdraft
//     that keeps readers from waiting on each other).
//   - Fragments per message: DefaultMaxFragments (1,048,576), generous so
//     that the 65,536-fragment messages of the Autobahn suite pass; it ends
//     floods of empty fragments, which the size limit does not count.
//   - Control frames: 125 bytes of payload, a close reason 123 bytes
//     (RFC 6455 §5.5).
//   - Stalled writes: a write that gets no byte accepted by the transport
//     for DefaultWriteStallTimeout (30 s; WriteStallTimeout on the
//     Upgrader or Dialer, negative to turn it off) fails the connection
//     with ErrWriteStalled and closes it, so a peer that never reads
//     cannot hold a writer, and every writer queued behind it, forever. A
//     slow peer that keeps reading is not cut.
//   - Handshake: the client reads at most 1 MiB of response header; the
//     server's limits are the http.Server's (ReadHeaderTimeout,
//     MaxHeaderBytes), which the zero http.Server and http.ListenAndServe
//     leave unbounded: serve with NewHTTPServer, which sets them (see
//     ExampleNewHTTPServer).
//
// # Compression and its memory
//
// Setting Compression on an Upgrader and a Dialer negotiates
// permessage-deflate (RFC 7692); see ExampleCompressionOptions. The
// CompressionOptions choose a CompressionMode, a level, a threshold below
// which messages go out as they are (DefaultCompressionThreshold), and the
// window size. EnableWriteCompression and SetCompressionLevel change them
// per connection, from the next message on. Inflated bytes count against
// the read limit, so a small compressed message that inflates past it
// fails with 1009 after at most the limit was inflated.
//
// The compressor's and decompressor's working state (a few hundred KiB for
// the compressor) is borrowed from pools for the duration of one message,
// so a connection between messages holds none of it. With
// CompressionNoContextTakeover each message is compressed on its own and
// nothing stays with the connection. With CompressionContextTakeover a
// message may refer back to earlier ones in the same direction, which
// shrinks small similar messages much further, at the cost of keeping up to
// one window (2^WindowBits bytes, 32 KiB at most) of history per direction
// on every connection, idle or not. A PreparedMessage is compressed once per
// set of parameters for all the connections it goes to, without reference
// to earlier messages; a server that mostly broadcasts gains nothing from
// context takeover on the way out (see ExampleConn_WritePreparedMessage).
//
// # Origin checks
//
// Browsers send an Origin header so that a server can refuse pages of other
// sites (RFC 6455 §10.2). By default Upgrade accepts a request without
// Origin (not a browser) and one whose Origin's host and port equal the
// request's Host, and answers any other with 403 Forbidden. Set
// Upgrader.CheckOrigin to allow other origins, and check them: a page that
// can open a WebSocket to your server with its user's cookies can act as
// that user.
//
// # Proxies
//
// Dialer.Proxy selects a proxy per request: http:// (CONNECT), https://
// (TLS to the proxy, then CONNECT), socks5:// and socks5h://, with
// credentials from the proxy URL. DefaultDialer, used by Dial, takes them
// from HTTP_PROXY, HTTPS_PROXY and NO_PROXY, which never apply to loopback
// addresses. A server behind a reverse proxy needs the proxy to pass the
// handshake through: over HTTP/1.1 the Upgrade and Connection headers, over
// HTTP/2 the extended CONNECT.
//
// # HTTP/2
//
// WebSockets also run over HTTP/2 streams (RFC 8441). Upgrade accepts an
// extended CONNECT as well as an HTTP/1.1 upgrade; the Go HTTP/2 servers
// allow extended CONNECT only when the process starts with
// GODEBUG=http2xconnect=1, or imports the http2xconnect package, which sets
// it (see ExtendedConnectEnabled). A handler whose connection runs over
// HTTP/2 must not return before it is done with the connection. Dialer.HTTP2
// chooses HTTP/1.1, HTTP/2, or (the default, as browsers do) HTTP/2 for
// wss:// servers that allow it and HTTP/1.1 otherwise.
//
// # WebAssembly in the browser (GOOS=js)
//
// Built with GOOS=js GOARCH=wasm, a program's Dial opens the browser's
// WebSocket (or the JavaScript host's: Node 22 has one, and older Node
// can be given the ws package's as globalThis.WebSocket) and returns the
// same *Conn, which frames its messages onto that object: ReadMessage,
// AppendMessage, NextReader, WriteMessage, NextWriter (buffered to one
// message: the JavaScript API has no fragments), the …Context variants,
// ReadJSON and WriteJSON, NetConn, Subprotocol, read limits, deadlines,
// Close and CloseWithStatus with a code and reason, CloseStatus, and the
// same concurrency rules. A received message is copied once, from the
// browser's ArrayBuffer into the slice being read into. A write waits while
// the browser holds 4 MiB it has not sent yet, which is where write
// deadlines apply; text that is not valid UTF-8 fails the connection, since
// a browser sends text only as a string.
//
// The browser does the handshake, TLS, proxies, cookies and compression
// itself, answers pings by itself and cannot send one: Dialer fields for
// those (TLSClientConfig, Proxy returning a proxy, Header, Jar, HTTP2,
// Compression, PingInterval) make Dial fail with an error saying so, as do
// Ping and WriteControl of pings and pongs. Dial's response is made from
// what the page can see (status 101, the subprotocol and extensions), and
// a refused handshake is an ErrBadHandshake without a status: a browser
// does not tell a page why. A browser's close() accepts only code 1000 and
// 3000–4999, so a code the Conn sends outside them goes as 4000 plus its
// last three digits (1009, message too big, as 4009; 1002 as 4002), with
// its reason; the Conn's own error still carries the real code. A Dialer
// with NetDialContext runs the usual handshake over the connection it
// returns instead. An Upgrader has nothing to serve in a browser; under Node
// it works over the js port's in-process network only. examples/chat has a
// page whose client is Go compiled to WebAssembly.
//
// # Buffers
//
// ReadBufferSize and WriteBufferSize (4096 bytes by default) size the
// buffers a Conn uses while a message is in flight. They are borrowed from
// pools shared by all connections and given back when the message ends, so
// an idle connection holds only small fixed scratch space (a few hundred
// bytes per direction) beside its transport. Small frames, control frames
// included, are written in one system call without borrowing. ReadMessage
// returns a new slice each time; AppendMessage lets a reader reuse one.
//
// Masking of client frames runs in assembly on amd64 (SSE2 or AVX2), and
// UTF-8 validation in assembly where the CPU allows (SSSE3 or AVX2); build
// with the purego tag to use the portable Go code everywhere.
package websocket
