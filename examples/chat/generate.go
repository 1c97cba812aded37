package main

// The Go page's client (wasm/), compiled to WebAssembly, and Go's loader
// for it, into static/ where the server embeds them from; neither is
// committed (static/.gitignore).
//
//go:generate env GOOS=js GOARCH=wasm go build -o static/chat.wasm ./wasm
//go:generate sh -c "cp \"$(go env GOROOT)/lib/wasm/wasm_exec.js\" static/"
