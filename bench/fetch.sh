#!/usr/bin/env bash
# Time aggregation: 200 sources of 50 items each, served on loopback by 20
# hosts, fetched cold (an empty cache) and when every source answers 304.
#
#   bash bench/fetch.sh [COUNT]     runs each benchmark COUNT times (default 5)
#
# Issue 3's targets on 2 cores: at most 1 s cold and 0.2 s all-304. The
# loopback servers run in the benchmark's own process, so their work is
# counted too.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
COUNT="${1:-5}"
echo "machine: $(nproc) CPUs; $(go version)"
out=$(go test -run '^$' -bench 'BenchmarkFetch' -benchtime 10x -count "$COUNT" ./feeds/)
echo "$out" | grep '^Benchmark'
# median NAME: the median seconds per run of benchmark NAME.
median() {
	echo "$out" | awk -v n="$1" '$1 ~ "^"n"-" {print $3 / 1e9}' | sort -n |
		awk '{v[NR] = $1} END {printf "%.3f %d", (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2, NR}'
}
read -r cold n <<<"$(median BenchmarkFetchCold)"
read -r same m <<<"$(median BenchmarkFetchNotModified)"
awk -v c="$cold" -v n="$n" -v s="$same" -v m="$m" 'BEGIN {
	printf "cold:    %.3f s median of %d (target <= 1 s)%s\n", c, n, (c <= 1 ? "" : "  MISSED")
	printf "all 304: %.3f s median of %d (target <= 0.2 s)%s\n", s, m, (s <= 0.2 ? "" : "  MISSED")
}'
