package conformance

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/rfc6455/websocket"
	gorilla "github.com/rfc6455/websocket/compat/gorilla"
	"github.com/rfc6455/websocket/internal/wstest"
)

// compatCompression says whether a compat side enables compression for
// row r: the gorilla API has one switch, which negotiates context takeover
// (rows asking our side for no context takeover still pass, the peer
// following what the handshake settled).
func compatCompression(r row) bool {
	return r.pmd != nil && r.pmd.ours.mode != websocket.CompressionDisabled
}

// compatUpgradeEcho is our server through the compat API: it upgrades,
// sets the read limit and echoes until a read or write fails.
func compatUpgradeEcho(w http.ResponseWriter, req *http.Request, r row, limit int64, stream bool) error {
	up := &gorilla.Upgrader{EnableCompression: compatCompression(r)}
	c, err := up.Upgrade(w, req, nil)
	if err != nil {
		return fmt.Errorf("our compat Upgrade: %w", err)
	}
	c.SetReadLimit(limit)
	return wstest.Echo(c, stream, ourMaxMessages)
}

// compatDialEcho is our client through the compat API.
func compatDialEcho(ctx context.Context, url string, r row, limit int64) error {
	d := &gorilla.Dialer{EnableCompression: compatCompression(r)}
	c, _, err := d.DialContext(ctx, url, nil)
	if err != nil {
		return fmt.Errorf("our compat Dial: %w", err)
	}
	c.SetReadLimit(limit)
	return wstest.Echo(c, false, ourMaxMessages)
}

// compatCloseCodeOf returns the code of the compat *CloseError in err's
// chain, or -1.
func compatCloseCodeOf(err error) int {
	var ce *gorilla.CloseError
	if errors.As(err, &ce) {
		return ce.Code
	}
	return -1
}
