//go:build race

package main

// raceEnabled: the race detector enlarges every goroutine's runtime state,
// which the runtime keeps after the goroutine ends.
const raceEnabled = true
