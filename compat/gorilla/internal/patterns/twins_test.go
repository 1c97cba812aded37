package patterns

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	compatImport  = `"github.com/rfc6455/websocket/compat/gorilla"`
	gorillaImport = `"github.com/gorilla/websocket"`
	twinsDir      = "testdata/gorilla"
)

// requiredEnv, set to 1 (as .ci/run does), turns a missing peer, here
// gorilla's module or Chromium, from a skip into a failure.
const requiredEnv = "WEBSOCKET_INTEROP_REQUIRED"

// missingPeer skips t, or fails it when peers are required.
func missingPeer(t *testing.T, what, howTo string) {
	t.Helper()
	if os.Getenv(requiredEnv) == "1" {
		t.Fatalf("%s is missing and %s=1: %s", what, requiredEnv, howTo)
	}
	t.Skipf("%s is missing: %s; then run again (set %s=1 to make this a failure)", what, howTo, requiredEnv)
}

// patternFiles lists the pattern sources: every non-test Go file but doc.go.
func patternFiles(t *testing.T) []string {
	t.Helper()
	all, err := filepath.Glob("*.go")
	require.NoError(t, err)
	var out []string
	for _, f := range all {
		if !strings.HasSuffix(f, "_test.go") && f != "doc.go" {
			out = append(out, f)
		}
	}
	require.NotEmpty(t, out)
	return out
}

// TestOnlyTheImportDiffers checks that each pattern is its gorilla twin with
// one line changed: the import of gorilla/websocket replaced by the compat
// package's.
func TestOnlyTheImportDiffers(t *testing.T) {
	files := patternFiles(t)
	twins, err := filepath.Glob(filepath.Join(twinsDir, "*.go"))
	require.NoError(t, err)
	for i := range twins {
		twins[i] = filepath.Base(twins[i])
	}
	assert.Equal(t, files, twins, "every pattern has a twin and every twin a pattern")
	for _, name := range files {
		t.Run(name, func(t *testing.T) {
			ours, err := os.ReadFile(name)
			require.NoError(t, err)
			theirs, err := os.ReadFile(filepath.Join(twinsDir, name))
			require.NoError(t, err)
			a := strings.Split(string(ours), "\n")
			b := strings.Split(string(theirs), "\n")
			require.Equal(t, len(b), len(a), "line counts differ")
			var diff []string
			for i := range a {
				if a[i] != b[i] {
					diff = append(diff, "-"+b[i], "+"+a[i])
				}
			}
			assert.Equal(t, []string{"-\t" + gorillaImport, "+\t" + compatImport}, diff,
				"the only difference must be the import line")
		})
	}
}

// TestTwinsBuildWithGorilla builds and vets the twins in a module of their
// own that requires gorilla/websocket v1.5.3, from the module cache only
// (the bench module puts it there), so the patterns are gorilla programs
// as written.
func TestTwinsBuildWithGorilla(t *testing.T) {
	goBin, err := exec.LookPath("go")
	require.NoError(t, err)
	dir := t.TempDir()
	gomod := "module patterns\n\ngo 1.26\n\nrequire github.com/gorilla/websocket v1.5.3\n"
	gosum := "github.com/gorilla/websocket v1.5.3 h1:saDtZ6Pbx/0u+bgYQ3q96pZgCzfhKXGPqt7kZ72aNNg=\n" +
		"github.com/gorilla/websocket v1.5.3/go.mod h1:YR8l580nyteQvAITg2hZ9XVh4b55+EU/adAjf1fMHhE=\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.mod"), []byte(gomod), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "go.sum"), []byte(gosum), 0o644))
	for _, name := range append(patternFiles(t), "doc.go") {
		src := name
		if name != "doc.go" {
			src = filepath.Join(twinsDir, name)
		}
		b, err := os.ReadFile(src)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), b, 0o644))
	}
	cmd := exec.Command(goBin, "vet", ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "GOPROXY=off", "GOFLAGS=-mod=mod", "GOWORK=off", "GOTOOLCHAIN=local")
	out, err := cmd.CombinedOutput()
	if err != nil && bytes.Contains(out, []byte("GOPROXY=off")) {
		missingPeer(t, "gorilla/websocket v1.5.3 in the module cache", "run: cd bench && go mod download github.com/gorilla/websocket")
	}
	require.NoError(t, err, "go vet of the gorilla twins:\n%s", out)
	// The twins did import gorilla, not the compat package.
	list := exec.Command(goBin, "list", "-deps", ".")
	list.Dir, list.Env = dir, cmd.Env
	deps, err := list.Output()
	require.NoError(t, err)
	lines := strings.Fields(string(deps))
	assert.True(t, slices.Contains(lines, "github.com/gorilla/websocket"))
	assert.False(t, slices.Contains(lines, "github.com/rfc6455/websocket/compat/gorilla"))
}
