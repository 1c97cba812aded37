package conformance

import "github.com/rfc6455/websocket"

// compressionRows are Autobahn sections 12 and 13: permessage-deflate (RFC
// 7692) under each parameter set the peer offers or answers.
//
// TODO(compression): Upgrader and Dialer have no compression option yet;
// until they do, the rows check that our side declines the offer (RFC 7692
// §5: a server that does not accept an offer answers without it).
func compressionRows() []row {
	return []row{
		{id: "12.0.1", name: "offer declined while compression is off: messages flow uncompressed",
			pmd: nil, steps: echo(text("no compression"))},
	}
}

// configureServerCompression and configureClientCompression set our side's
// compression for row r.
func configureServerCompression(up *websocket.Upgrader, r row) {}

func configureClientCompression(d *websocket.Dialer, r row) {}
