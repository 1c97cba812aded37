package main

import (
	"errors"

	"github.com/rfc6455/websocket"
)

// errNoCompression is returned for -compress until the library's Dialer and
// Upgrader negotiate permessage-deflate.
var errNoCompression = errors.New("-compress: permessage-deflate is not wired into the Dialer and Upgrader yet")

// setDialerCompression turns permessage-deflate on for d when on is set.
func setDialerCompression(d *websocket.Dialer, on bool) error {
	if on {
		return errNoCompression // TODO: d.Compression = websocket.CompressionContextTakeover
	}
	return nil
}

// setUpgraderCompression turns permessage-deflate on for u when on is set.
func setUpgraderCompression(u *websocket.Upgrader, on bool) error {
	if on {
		return errNoCompression // TODO: u.Compression = websocket.CompressionContextTakeover
	}
	return nil
}
