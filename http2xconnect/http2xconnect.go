// Package http2xconnect switches on extended CONNECT (RFC 8441) in the
// HTTP/2 servers of net/http and golang.org/x/net/http2 when it is
// imported, so that browsers open WebSockets over HTTP/2:
//
//	import _ "github.com/rfc6455/websocket/http2xconnect"
//
// With Go 1.26, both servers advertise SETTINGS_ENABLE_CONNECT_PROTOCOL,
// and accept the requests it allows, only when the GODEBUG environment
// variable contains http2xconnect=1 at the moment net/http (or x/net/http2)
// is initialised. Neither a //go:debug directive nor a godebug line in
// go.mod sets it: the packages read the environment variable itself, and
// the toolchain rejects http2xconnect as an unknown setting. This package
// adds http2xconnect=1 to GODEBUG in its init function, which runs before
// theirs: the Go specification (since Go 1.21) initialises packages in
// the order of their import paths among those whose imports are done, this
// package imports only os and strings, and its path sorts before both
// "golang.org/x/net/http2" and "net/http".
//
// The change is process-wide, and child processes inherit the variable. An
// explicit http2xconnect=0 in GODEBUG is left alone. Setting
// GODEBUG=http2xconnect=1 in the server's environment does the same without
// this package.
package http2xconnect

import (
	"os"
	"strings"
)

// setting is the GODEBUG entry net/http and x/net/http2 look for.
const setting = "http2xconnect=1"

func init() {
	godebug := os.Getenv("GODEBUG")
	if strings.Contains(godebug, "http2xconnect=") {
		return // the user chose, either way
	}
	if godebug != "" {
		godebug += ","
	}
	os.Setenv("GODEBUG", godebug+setting)
}
