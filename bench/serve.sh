#!/usr/bin/env bash
# Time rounds serve from saving an edit to one note's body to the reload
# event the browser gets, with 10,000 notes loaded: the real watcher, the
# incremental rebuild and the event stream, in one process.
#
#   bash bench/serve.sh [COUNT]     runs the benchmark COUNT times (default 3)
#
# Issue 6's target: a median of at most 30 ms on 2 cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
COUNT="${1:-3}"
echo "machine: $(nproc) CPUs; $(go version)"
go test -run '^$' -bench 'BenchmarkServeEdit' -benchtime 100x -count "$COUNT" ./generator/serve/ 2>/dev/null | grep '^Benchmark'
