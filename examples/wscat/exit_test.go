package main

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/rfc6455/websocket"
)

// asMainEnv, set to 1 in the environment of this test binary, makes it run
// wscat's main with the arguments after "--" instead of the tests, so that
// a test sees the exit status and the streams a user of the command sees.
const asMainEnv = "WSCAT_TEST_AS_MAIN"

// runAsMain runs main with the arguments that follow "--", and exits.
func runAsMain() {
	i := slices.Index(os.Args, "--")
	os.Args = append([]string{"wscat"}, os.Args[i+1:]...)
	main()
	os.Exit(0)
}

// runCommand runs wscat as a command, its standard input a pipe that
// carries stdin then ends, and returns its exit status and its output.
func runCommand(t *testing.T, stdin string, args ...string) (status int, stdout, stderr string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], append([]string{"--"}, args...)...)
	cmd.Env = append(os.Environ(), asMainEnv+"=1")
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &errOut
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		status = exit.ExitCode()
	} else {
		require.NoError(t, err)
	}
	require.NoError(t, ctx.Err(), "wscat did not end; stderr:\n%s", errOut.String())
	return status, out.String(), errOut.String()
}

// closingServer refuses every session after the handshake with code and
// reason, as the chat example does a client without a nickname (1008).
func closingServer(t *testing.T, code websocket.StatusCode, reason string) string {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := (&websocket.Upgrader{}).Upgrade(w, r, nil)
		if err != nil {
			return
		}
		conn.CloseWithStatus(code, reason)
	}))
	t.Cleanup(ts.Close)
	return "ws" + strings.TrimPrefix(ts.URL, "http")
}

// TestExitStatus runs wscat as a script would, standard input piped, and
// checks the exit status its documentation promises: 0 for a session that
// closed with 1000 or 1001, and for -h; 1 for any other close code and for
// a failed connection; 2 for a bad command line.
func TestExitStatus(t *testing.T) {
	refused := httptest.NewServer(http.NotFoundHandler())
	refusedURL := "ws" + strings.TrimPrefix(refused.URL, "http")
	refused.Close() // nothing listens there any more
	cases := []struct {
		name   string
		stdin  string
		args   []string
		status int
		stderr string
	}{
		{"normal close", "hi\n", []string{"-wait", "0", peerServer(t, nil)}, 0, "closed: 1000\n"},
		{"server going away", "hi\n", []string{closingServer(t, websocket.StatusGoingAway, "restart")}, 0, "closed: 1001 restart\n"},
		{"policy violation", "hi\n", []string{closingServer(t, websocket.StatusPolicyViolation, "no nickname")}, 1, "closed: 1008 no nickname\n"},
		{"policy violation, no input", "", []string{"-wait", "0", closingServer(t, websocket.StatusPolicyViolation, "no nickname")}, 1, "closed: 1008 no nickname\n"},
		{"connection refused", "hi\n", []string{refusedURL}, 1, "connection refused"},
		{"help", "", []string{"-h"}, 0, "-wait duration"},
		{"no scheme", "", []string{"127.0.0.1:8080/ws"}, 2, `"127.0.0.1:8080/ws" has no scheme: did you mean ws://127.0.0.1:8080/ws`},
		{"host as scheme", "", []string{"localhost:8080"}, 2, "did you mean ws://localhost:8080"},
		{"other scheme", "", []string{"ftp://example.com/"}, 2, `the scheme must be ws or wss`},
		{"unknown flag", "", []string{"-nope", "ws://127.0.0.1:1/"}, 2, "usage: wscat"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			status, _, stderr := runCommand(t, c.stdin, c.args...)
			assert.Equal(t, c.status, status, "stderr:\n%s", stderr)
			assert.Contains(t, stderr, c.stderr)
		})
	}
}
