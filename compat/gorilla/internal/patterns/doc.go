// Package patterns holds the usual gorilla/websocket program patterns,
// written against gorilla's API and compiled here against the compat
// package: an echo server and client, a chat hub with a read pump and a
// write pump that batches queued messages into one NextWriter message, a
// clean close with WriteControl, and a ping keepalive that extends a read
// deadline from the pong handler.
//
// Each file other than this one has a twin in testdata/gorilla that
// imports github.com/gorilla/websocket instead; the tests check that the
// import line is the only difference, build the twins against gorilla
// v1.5.3 when it is in the module cache, and run the patterns against the
// websocket package and headless Chromium.
package patterns
