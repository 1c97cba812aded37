package interop

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// requiredEnv, set to 1, turns a missing peer from a skip into a failure.
// .ci/run sets it, after installing the peers.
const requiredEnv = "WEBSOCKET_INTEROP_REQUIRED"

// chromiumPath is where Debian's chromium package puts the browser.
const chromiumPath = "/usr/bin/chromium"

// missingPeer skips t, or fails it when the peers are required, explaining
// how to install what is missing.
func missingPeer(t *testing.T, what, howTo string) {
	t.Helper()
	if os.Getenv(requiredEnv) == "1" {
		t.Fatalf("%s is missing and %s=1: %s", what, requiredEnv, howTo)
	}
	t.Skipf("%s is missing: %s; then run again (set %s=1 to make this a failure)", what, howTo, requiredEnv)
}

// requireNode returns the node binary and the fixture folder, or skips t
// (fails it under requiredEnv) when either is not installed.
func requireNode(t *testing.T) (node, dir string) {
	t.Helper()
	node, err := exec.LookPath("node")
	if err != nil {
		missingPeer(t, "node", "install Node.js 18 or later (Debian: apt-get install nodejs npm)")
	}
	dir, err = filepath.Abs("node")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "ws", "package.json")); err != nil {
		missingPeer(t, "the Node fixture (internal/interop/node/node_modules)", "run: cd internal/interop/node && npm ci")
	}
	return node, dir
}

// requireChromium returns the browser's path, or skips t (fails it under
// requiredEnv) when it is not installed.
func requireChromium(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat(chromiumPath); err != nil {
		missingPeer(t, chromiumPath, "run: apt-get install chromium")
	}
	return chromiumPath
}
