#!/usr/bin/env bash
# Time every command of Rounds on one large corpus (issue 19): a cold
# build, rounds check, rounds digest of the latest edition, rounds serve's
# first build (from its start to its first page served), and the plan of
# rounds publish --dry-run against a bucket that already holds the site
# (one versitygw server on loopback, filled by one untimed publish), with
# the CPU time the server used for each plan.
#
#   bash bench/scale.sh [N]     N notes (default $N or 10000); RUNS runs each (default 3)
#
# Targets at 100,000 notes (issue 19): a build in at most 15 s and
# 1.2 GiB; the publish plan in at most 5 s. As bench/build.sh, everything
# is written under bench/out/, or $BENCH_OUT (BENCH_OUT=/dev/shm/... for
# tmpfs); the corpus is reused when it has N notes; each build goes into
# a new folder, and nothing is deleted while commands are timed.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
N="${1:-${N:-10000}}"
RUNS="${RUNS:-3}"
NOW=2026-11-28T00:00:00Z
OUT="${BENCH_OUT:-bench/out}/scale-$N"

[ -x /usr/bin/time ] || { echo "bench/scale.sh needs /usr/bin/time (apt-get install time)" >&2; exit 1; }
command -v curl >/dev/null || { echo "bench/scale.sh needs curl" >&2; exit 1; }
VGW=$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")
[ -x "$VGW" ] || go install github.com/versity/versitygw/cmd/versitygw@v1.8.0

. bench/timing.sh # describe, build_rounds, ensure_corpus, settle, time_run, median
describe

removed=0
for old in "$OUT/runs" "$OUT/bucket"; do
	if [ -e "$old" ]; then
		rm -rf "$old"
		removed=1
	fi
done
build_rounds
corpus="$OUT/corpus"
ensure_corpus "$corpus" "$N"
cfg="$corpus/config.toml"
# rounds digest needs a sender and a way to unsubscribe, which the corpus
# leaves out.
{ cat "$cfg"; printf '\n[email]\nfrom = "Rounds Benchmark <editors@example.org>"\nunsubscribe_mailto = "unsubscribe@example.org"\n'; } >"$corpus/config-digest.toml"

settle "$removed" "$fstype"
mkdir -p "$OUT/runs"

# freeport prints a free TCP port on loopback.
freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

echo "== build, check, digest ($RUNS runs each, after one untimed build; load average $(cut -d' ' -f1-3 /proc/loadavg))"
"$OUT/rounds" build --config "$cfg" --out "$OUT/runs/build-0" --now "$NOW" >/dev/null
rm -f "$OUT"/*.times
for i in $(seq "$RUNS"); do
	time_run build "$OUT/rounds" build --config "$cfg" --out "$OUT/runs/build-$i" --now "$NOW"
	# rounds check exits 1 on the corpus, which lacks the required pages:
	# a finding, not a failure.
	time_run check bash -c '"$0" check --config "$1" --now "$2" >/dev/null; [ $? -le 1 ]' "$OUT/rounds" "$cfg" "$NOW"
	time_run digest "$OUT/rounds" digest --config "$corpus/config-digest.toml" --out "$OUT/runs/digest-$i" --now "$NOW"
done

echo "== rounds serve: from its start to its first page ($RUNS runs)"
rm -f "$OUT/serve.times"
for i in $(seq "$RUNS"); do
	port=$(freeport)
	sync
	start=$(date +%s.%N)
	"$OUT/rounds" serve --config "$cfg" --port "$port" >"$OUT/serve.log" 2>&1 &
	pid=$!
	until [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/" || true)" = 200 ]; do
		if ! kill -0 "$pid" 2>/dev/null; then
			echo "rounds serve exited:" >&2
			cat "$OUT/serve.log" >&2
			exit 1
		fi
		sleep 0.05
	done
	end=$(date +%s.%N)
	peak=$(awk '/VmHWM/ {print $2}' "/proc/$pid/status")
	kill "$pid"
	wait "$pid" 2>/dev/null || true
	awk -v s="$start" -v e="$end" -v k="$peak" -v i="$i" 'BEGIN {
		printf "  serve  run %d: %6.2f s to the first page  %7.1f MiB\n", i, e - s, k / 1024
		printf "%.2f %d 0 0\n", e - s, k >>"'"$OUT"'/serve.times"
	}'
done

echo "== rounds publish --dry-run against a bucket that holds the site ($RUNS runs, after one untimed publish)"
port=$(freeport)
mkdir -p "$OUT/bucket/site"
ROOT_ACCESS_KEY=scalebench ROOT_SECRET_KEY=scalebench0123456789 "$VGW" --port "127.0.0.1:$port" posix "$OUTABS/bucket" >"$OUT/versitygw.log" 2>&1 &
vgw=$!
trap 'kill "$vgw" 2>/dev/null || true' EXIT
until curl -s -o /dev/null "http://127.0.0.1:$port/"; do sleep 0.1; done
export AWS_ACCESS_KEY_ID=scalebench AWS_SECRET_ACCESS_KEY=scalebench0123456789 AWS_REGION=us-east-1 AWS_EC2_METADATA_DISABLED=true
site="$OUT/runs/build-$RUNS"
pub=(--config "$cfg" --dir "$site" --bucket site --endpoint "http://127.0.0.1:$port" --path-style)
i=0
time_run publish-first "$OUT/rounds" publish "${pub[@]}"
# The server's CPU time (user and system, from /proc), as the plan waits
# mostly on versitygw's listing.
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{printf "%.2f", ($14 + $15) / hz}' "/proc/$vgw/stat"; }
for i in $(seq "$RUNS"); do
	before=$(server_cpu)
	time_run publish-plan "$OUT/rounds" publish "${pub[@]}" --dry-run
	used=$(awk -v a="$before" -v b="$(server_cpu)" 'BEGIN {printf "%.2f", b - a}')
	echo "$used 0 0 0" >>"$OUT/versitygw.times" # the columns median reads
	echo "                    versitygw used $used s of CPU"
done
grep -m1 '^plan' "$OUT/publish-plan.log" | sed 's/^/  /' || true

echo "== results: $N notes, median of $RUNS"
printf '  %-14s %8s %8s %8s %9s\n' "" "wall s" "user s" "sys s" "peak MiB"
for label in build check digest serve publish-plan; do
	read -r w k u s <<<"$(median "$OUT/$label.times")"
	printf '  %-14s %8.2f %8.2f %8.2f %9.1f\n' "$label" "$w" "$u" "$s" "$(awk -v k="$k" 'BEGIN{print k/1024}')"
done
echo "  (serve: the time to its first page and its peak memory then; publish-plan: rounds publish --dry-run)"
read -r c _ <<<"$(median "$OUT/versitygw.times")"
echo "  versitygw's CPU time in a publish plan: $c s"
