//go:build race

package websocket

// raceEnabled is true under -race, where sync.Pool drops items at random and
// allocation counts mean nothing.
const raceEnabled = true

// raceSlowdown scales the time bounds of tests that time real work: the race
// detector makes that work several times slower.
const raceSlowdown = 3
