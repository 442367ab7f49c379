#!/usr/bin/env bash
# Time the subscribers service and its log:
#   - sign-up requests (POST /subscribe, each a new address) against the
#     service on loopback, with the local store (each sign-up appended and
#     synced to disk) and a mailer that only counts;
#   - folding a log of 100,000 subscribers and 300,000 events into the
#     send list.
#
#   bash bench/subscribers.sh [COUNT]     runs each benchmark COUNT times (default 3)
#
# Issue 15's targets: at least 2,000 sign-ups a second; the fold in at
# most 1 s and 200 MiB.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
COUNT="${1:-3}"
echo "machine: $(nproc) CPUs; $(go version)"
median() { sort -n | awk '{v[NR] = $1} END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
metric() { awk -v m="$1" '/^Benchmark/ { for (i = 1; i < NF; i++) if ($(i+1) == m) print $i }'; }
out=$(go test -run '^$' -bench 'BenchmarkSubscribe$' -benchtime 20000x -count "$COUNT" ./generator/subscribers/ 2>/dev/null)
echo "$out" | grep '^Benchmark'
rate=$(echo "$out" | metric req/s | median)
awk -v r="$rate" -v n="$COUNT" 'BEGIN { printf "subscribe: %.0f requests/s, median of %d (target >= 2000)%s\n", r, n, (r >= 2000 ? "" : "  MISSED") }'
out=$(go test -run '^$' -bench 'BenchmarkLoad$' -benchtime 3x -count "$COUNT" ./generator/subscribers/ 2>/dev/null)
echo "$out" | grep '^Benchmark'
cpu=$(echo "$out" | metric cpu-s/op | median)
mem=$(echo "$out" | metric sys-MiB | median)
wall=$(echo "$out" | awk '/^BenchmarkLoad/ { print $3 / 1e9 }' | median)
awk -v w="$wall" -v c="$cpu" -v m="$mem" -v n="$COUNT" 'BEGIN { printf "fold of 100,000 subscribers, 300,000 events: %.2f s wall, %.2f s CPU, %.0f MiB, median of %d (target <= 1 s, <= 200 MiB)%s\n", w, c, m, n, (w <= 1 && m <= 200 ? "" : "  MISSED") }'
