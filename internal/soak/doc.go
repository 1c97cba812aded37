// Package soak holds a fault-injection soak test of the websocket package:
// many connections exchanging checked messages of mixed sizes, half of
// them compressed, while a fault injector ends some of them abruptly (FIN,
// reset), half-closes them, stops reading, sends protocol violations and
// oversized messages. It asserts that every message arrives intact and in
// order, that each fault ends its connection with the right close code or
// error, and that nothing leaks once all connections are gone.
//
// go test ./... runs a few seconds of it. WEBSOCKET_SOAK sets its duration
// and WEBSOCKET_SOAK_CONNS the number of concurrent connections (200 when
// a duration is set); .ci/run runs 40 s, and bench/SOAK.md gives the
// larger run:
//
//	WEBSOCKET_SOAK=3m WEBSOCKET_SOAK_CONNS=1000 go test -count=1 -v -run TestSoak ./internal/soak/
package soak
