//go:build race

package websocket

// deflateRaceBuild is true under the race detector, which slows the
// compression tests tenfold: they then cover a sample of their cases.
const deflateRaceBuild = true
