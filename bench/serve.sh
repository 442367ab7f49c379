#!/usr/bin/env bash
# Time rounds serve from saving an edit to one note's body to the reload
# event the browser gets, and to the edited page served, with 10,000 notes
# loaded ($N when set): the real watcher, the rebuild, the event stream
# and the page made on request, in one process.
#
#   bash bench/serve.sh [COUNT]       runs the benchmark COUNT times (default 3)
#   N=100000 bash bench/serve.sh 1    the same with 100,000 notes
#   EDIT=date bash bench/serve.sh     an edit to the note's date too, which
#                                     moves it in every list
#   EDIT=add bash bench/serve.sh      a note added, then deleted, in turns
#
# The target (issues 6 and 19): a median of at most 30 ms on 2 cores.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
COUNT="${1:-3}"
N="${N:-10000}"
EDIT="${EDIT:-body}"
echo "machine: $(nproc) CPUs; $(go version); $N notes; an edit to the note's $EDIT"
ROUNDS_SERVE_NOTES="$N" ROUNDS_SERVE_EDIT="$EDIT" go test -run '^$' -bench 'BenchmarkServeEdit' -benchtime 100x -count "$COUNT" -timeout 60m ./generator/serve/ 2>/dev/null | grep '^Benchmark'
