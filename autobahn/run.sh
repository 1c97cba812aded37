#!/usr/bin/env bash
# run.sh runs the Autobahn|Testsuite against this library: the fuzzing client
# drives autobahn/server (agents rfc6455-message, rfc6455-stream,
# rfc6455-plain) and autobahn/compatserver, the same written against
# compat/gorilla (agents rfc6455-compat-*), then the fuzzing server is driven
# by autobahn/client (agents rfc6455-client with compression,
# rfc6455-client-plain without) and autobahn/compatclient (agents
# rfc6455-compat-client, rfc6455-compat-client-plain). The reporter then
# fails on every case that is not OK.
#
# Usage: autobahn/run.sh [all|server|client]   (default all)
#
# wstest comes from PATH when it is there; otherwise from the
# crossbario/autobahn-testsuite image when a docker engine answers. Without
# either it explains and exits 2. Reports land in autobahn/reports/.
set -euo pipefail

cd "$(dirname "$0")"
here=$(pwd)
mode=${1:-all}
case "$mode" in
all | server | client) ;;
*)
	echo "usage: $0 [all|server|client]" >&2
	exit 2
	;;
esac

port=9001
image=crossbario/autobahn-testsuite
container=rfc6455-wstest-$$

# wstest runs the suite with the given mode and config file name (relative
# to config/), with ./reports as the output root in both setups.
if command -v wstest >/dev/null 2>&1; then
	wstest_run() { wstest -m "$1" -s "config/$2"; }
elif command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then
	wstest_run() {
		docker run --rm --name "$container" --network host -w / \
			-v "$here/config:/config:ro" -v "$here/reports:/reports" \
			"$image" wstest -m "$1" -s "/config/$2"
	}
else
	cat >&2 <<'EOF'
run.sh: the Autobahn|Testsuite is not available here.
Install it so that `wstest` is on PATH (it is a Python 2 program:
`pip install autobahntestsuite` in a Python 2.7 environment), or start a
docker engine that can pull crossbario/autobahn-testsuite.
The raw-wire conformance suite needs neither: go test ./autobahn/...
EOF
	exit 2
fi

bin=$(mktemp -d)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	docker stop "$container" >/dev/null 2>&1 || true
	rm -rf "$bin"
}
trap cleanup EXIT

# wait_port waits, at most 30 s, until something listens on 127.0.0.1:$port.
wait_port() {
	for _ in $(seq 1 300); do
		if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then return 0; fi
		sleep 0.1
	done
	echo "run.sh: nothing listens on 127.0.0.1:$port after 30 s" >&2
	return 1
}

(cd .. && go build -o "$bin/server" ./autobahn/server && go build -o "$bin/client" ./autobahn/client &&
	go build -o "$bin/compatserver" ./autobahn/compatserver && go build -o "$bin/compatclient" ./autobahn/compatclient)
mkdir -p reports
dirs=()

if [ "$mode" != client ]; then
	echo "== fuzzing client against autobahn/server"
	rm -rf reports/servers
	"$bin/server" -addr "127.0.0.1:$port" &
	server=$!
	pids+=("$server")
	wait_port
	"$bin/compatserver" -addr "127.0.0.1:$((port + 1))" &
	compatserver=$!
	pids+=("$compatserver")
	port=$((port + 1)) wait_port
	wstest_run fuzzingclient fuzzingclient.json
	kill "$server" "$compatserver"
	wait "$server" "$compatserver" 2>/dev/null || true
	dirs+=(reports/servers)
fi

if [ "$mode" != server ]; then
	echo "== autobahn/client against the fuzzing server"
	rm -rf reports/clients
	wstest_run fuzzingserver fuzzingserver.json &
	fuzzer=$!
	pids+=("$fuzzer")
	wait_port
	"$bin/client" -url "ws://127.0.0.1:$port" -agent rfc6455-client -compress=true
	"$bin/client" -url "ws://127.0.0.1:$port" -agent rfc6455-client-plain -compress=false
	"$bin/compatclient" -url "ws://127.0.0.1:$port" -agent rfc6455-compat-client -compress=true
	"$bin/compatclient" -url "ws://127.0.0.1:$port" -agent rfc6455-compat-client-plain -compress=false
	kill "$fuzzer" 2>/dev/null || true
	docker stop "$container" >/dev/null 2>&1 || true
	wait "$fuzzer" 2>/dev/null || true
	dirs+=(reports/clients)
fi

echo "== report"
(cd .. && go run ./autobahn/report "${dirs[@]/#/autobahn/}")
