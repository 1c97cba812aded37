#!/usr/bin/env bash
# run.sh [quick|full|scale]: runs every workload of bench/ and prints issue 15's
# targets, then one table per workload and metric (a column per library, the
# tcp floor, the ratios ours / best peer and ours / tcp), after the machine it
# ran on. Echo and Idle come first: whole messages read with each library's
# allocating call, the server's read loop inside its HTTP handler.
#
#   quick  about 2 minutes: short runs, one count, 1,000 idle connections,
#          200 compressed ones
#   full   about 10 minutes on 2 cores: three counts, 10,000 idle connections,
#          500 compressed ones
#   scale  the connection-scale benchmark (cmd/scale; not part of full),
#          about 15 minutes: tables to out/scale.md, heap profiles of the
#          servers at their largest counts to out/; flags after the mode
#          go to the program (go run ./cmd/scale -h lists them)
#
# Raw `go test -bench` output, benchstat-ready, goes to out/raw-MODE.txt and a
# benchstat summary with a column per library to out/benchstat-MODE.txt.
# BENCH_LIB_DIR=/path measures a copy of the library there (say, a
# `git archive` of a commit) instead of the working tree at ../.
# BENCH_BEFORE=raw.txt (an earlier run's raw output, say of the library
# before issue 15) adds that run's ratios to the targets table.
set -euo pipefail
mode=${1:-quick}
cd "$(dirname "$0")"
out=out
mkdir -p "$out"

case $mode in
quick)
	count=1 codec=20ms echo=100ms conns=300ms broadcast=300ms compress=300ms compressconns=200 idle=1000 ;;
full)
	count=3 codec=100ms echo=500ms conns=1s broadcast=1s compress=1s compressconns=500 idle=10000 ;;
scale)
	go build -o "$out/scale" ./cmd/scale
	"$out/scale" -profile "$out" "${@:2}" | tee "$out/scale.md"
	exit ;;
*)
	echo "usage: $0 [quick|full|scale [flags]]" >&2
	exit 2 ;;
esac

modflag=()
if [ -n "${BENCH_LIB_DIR:-}" ]; then
	sed "s#=> \.\./#=> ${BENCH_LIB_DIR}#" go.mod >"$out/lib.mod"
	cp go.sum "$out/lib.sum"
	modflag=(-modfile="$out/lib.mod")
fi

bin=$out/bench.test
go test "${modflag[@]}" -c -o "$bin" .

raw=$out/raw-$mode.txt
{
	echo "# bench/run.sh $mode, $(date -u +%Y-%m-%dT%H:%MZ)"
	echo "# $(uname -a)"
	echo "# cpu: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "# $(go version)"
	echo "# library: $(git -C .. rev-parse --short HEAD 2>/dev/null || echo unknown)${BENCH_LIB_DIR:+ (copy at $BENCH_LIB_DIR)}"
} >"$raw"
cat "$raw"

# run PATTERN BENCHTIME [ENV...]: count passes over every case of PATTERN,
# one count each, so that a burst of load from the machine's neighbours
# (tens of seconds, on this shared VM) falls on one sample of a case rather
# than on all of them, and the median leaves it out.
run() {
	local pattern=$1 benchtime=$2 pass
	shift 2
	echo "== $pattern ($benchtime × $count)" >&2
	for ((pass = 0; pass < count; pass++)); do
		env "$@" "$bin" -test.run='^$' -test.bench="$pattern" -test.benchtime="$benchtime" \
			-test.count=1 -test.timeout=30m | grep -E '^(Benchmark|goos|goarch|pkg|cpu)' | tee -a "$raw" >/dev/null
	done
}

# What users write first: whole messages over loopback with the read loop
# inside the handler, and idle memory in both handler patterns.
run '^BenchmarkEcho$' "$echo"
count=1 run '^BenchmarkIdle$' 1x BENCH_IDLE_CONNS=$idle
run '^BenchmarkConns$' "$conns"
run '^BenchmarkBroadcast$' "$broadcast"
run '^BenchmarkCompress$' "$compress"
run '^BenchmarkCompressMem$' 1x BENCH_COMPRESS_CONNS=$compressconns
run '^BenchmarkCodecRead$' "$codec"
run '^BenchmarkCodecWrite$' "$codec"

echo
go run "${modflag[@]}" ./cmd/table ${BENCH_BEFORE:+-before "$BENCH_BEFORE"} <"$raw"
go tool "${modflag[@]}" benchstat -col /lib "$raw" >"$out/benchstat-$mode.txt" 2>&1 || true
echo "raw output: bench/$raw (benchstat-ready); benchstat -col /lib: bench/$out/benchstat-$mode.txt"
