//go:build js

package websocket

import "os"

// Without TestWasm's server (serverEnv), the binary runs the package's
// portable tests, whose servers listen on the js port's in-process network:
// their Dials take the handshake of other ports (portableTests), and the
// browser client's tests skip.
func init() { portableTests = os.Getenv(serverEnv) == "" }
