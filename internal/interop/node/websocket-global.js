// Preloaded (node --require) by internal/interop's TestWasm before Go's
// wasm_exec_node.js: a Go program built for GOOS=js finds the host's
// WebSocket as a global, as in a browser. Node 22 and later have one of
// their own; for older ones, the pinned ws package's serves.
"use strict";
if (typeof globalThis.WebSocket !== "function") {
  globalThis.WebSocket = require("ws");
}
