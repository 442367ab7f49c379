#!/usr/bin/env bash
# Time sending one edition to 10,000 subscribers through a real SMTP
# server on loopback (go-smtp, in the benchmark's process), over 8 reused
# connections, with the send ledger synced to disk as in a real send.
#
#   bash bench/send.sh [COUNT]     runs the benchmark COUNT times (default 3)
#
# Issue 4's target: at least 1,000 messages a second.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
COUNT="${1:-3}"
echo "machine: $(nproc) CPUs; $(go version)"
out=$(go test -run '^$' -bench 'BenchmarkSend$' -benchtime 1x -count "$COUNT" ./generator/digest/ 2>/dev/null)
echo "$out" | grep '^Benchmark'
echo "$out" | awk '/^BenchmarkSend/ { for (i = 1; i < NF; i++) if ($(i+1) == "msgs/s") print $i }' | sort -n |
	awk '{v[NR] = $1} END {
		m = (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2
		printf "send: %.0f messages/s, median of %d (target >= 1000)%s\n", m, NR, (m >= 1000 ? "" : "  MISSED")
	}'
