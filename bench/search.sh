#!/usr/bin/env bash
# Measure issue 18's figures for the search index on the 10,000-note
# benchmark corpus:
#
#   bash bench/search.sh [RUNS]     RUNS timed builds of each binary (default 5)
#
#  - what building the index adds to the build's wall time: the working
#    tree's Rounds builds the corpus with search on and with it off
#    ([search] enabled = false: no index, no search page, no search box),
#    alternating, RUNS cold builds each after one untimed build each; the
#    medians are compared (target: at most 10%);
#  - the index's size against the Markdown's (target: at most 25%);
#  - one-word queries in headless Chromium, cold cache, the site served
#    on loopback as a CDN would (BenchmarkSearchQuery): the time from the
#    keystroke to the first result (target: at most 100 ms) and the bytes
#    a query fetches (target: at most 100 KB).
#
# As bench/build.sh: everything is written under bench/out/, or under
# $BENCH_OUT when set; each timed build goes into a new folder and nothing
# is deleted while builds are timed; the last run's outputs are removed at
# the start, and then the script syncs and waits $BENCH_SETTLE seconds (by
# default 370 on ext4 when it removed anything; see bench/build.sh). The
# corpus is bench/build.sh's when it is there with $N notes (10,000).
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
RUNS="${1:-${RUNS:-5}}"
N="${N:-10000}"
NOW=2026-12-01T00:00:00Z
OUT="${BENCH_OUT:-bench/out}"

[ -x /usr/bin/time ] || { echo "bench/search.sh needs /usr/bin/time (apt-get install time)" >&2; exit 1; }

. bench/timing.sh # describe, build_rounds, ensure_corpus, settle, time_run, median
describe

removed=0
if [ -e "$OUT/search-runs" ]; then
	rm -rf "$OUT/search-runs"
	removed=1
fi

build_rounds
corpus="$OUT/corpus"
ensure_corpus "$corpus" "$N"
# The same corpus with search off.
{ cat "$corpus/config.toml"; printf '\n[search]\nenabled = false\n'; } >"$corpus/config-nosearch.toml"

settle "$removed" "$fstype"

echo "== builds ($RUNS cold runs each, alternating, each into a new folder; load average $(cut -d' ' -f1-3 /proc/loadavg))"
mkdir -p "$OUT/search-runs"
rm -f "$OUT/search-off.times" "$OUT/search-on.times"
echo "  warm-up: one untimed build each"
"$OUT/rounds" build --config "$corpus/config-nosearch.toml" --out "$OUT/search-runs/off-0" --now "$NOW" >/dev/null
"$OUT/rounds" build --config "$corpus/config.toml" --out "$OUT/search-runs/on-0" --now "$NOW" >/dev/null
for i in $(seq "$RUNS"); do
	time_run search-off "$OUT/rounds" build --config "$corpus/config-nosearch.toml" --out "$OUT/search-runs/off-$i" --now "$NOW"
	time_run search-on "$OUT/rounds" build --config "$corpus/config.toml" --out "$OUT/search-runs/on-$i" --now "$NOW"
done
echo "  on: $(cat "$OUT/search-on.log")"

read -r ow ok ou osys <<<"$(median "$OUT/search-off.times")"
read -r nw nk nu nsys <<<"$(median "$OUT/search-on.times")"
echo "== build time: $N notes, median of $RUNS"
printf '  %-4s %8s %8s %8s %9s\n' "" "wall s" "user s" "sys s" "peak MiB"
printf '  %-4s %8.2f %8.2f %8.2f %9.1f\n' off "$ow" "$ou" "$osys" "$(awk -v k="$ok" 'BEGIN{print k/1024}')"
printf '  %-4s %8.2f %8.2f %8.2f %9.1f\n' on "$nw" "$nu" "$nsys" "$(awk -v k="$nk" 'BEGIN{print k/1024}')"
awk -v o="$ow" -v n="$nw" -v ou="$ou" -v nu="$nu" -v ok="$ok" -v nk="$nk" 'BEGIN {
	p = 100 * (n / o - 1)
	printf "build: the index adds %.1f%% to the wall time (on/off %.3f; target <= 10%%)%s\n", p, n / o, (p <= 10 ? "" : "  MISSED")
	printf "       and %.1f%% to the user CPU time, %.1f%% to the peak memory\n", 100 * (nu / ou - 1), 100 * (nk / ok - 1)
}'

site="$OUT/search-runs/on-$RUNS"
md=$(find "$corpus/content/notes" -name '*.md' -print0 | du -cb --files0-from=- | tail -1 | cut -f1)
idx=$(du -sb "$site/search" | cut -f1)
page=$(du -cb "$site/search/index.html" | tail -1 | cut -f1)
data=$((idx - page))
echo "== index size"
echo "  command: du -sb $site/search; Markdown: total bytes of $corpus/content/notes/*.md"
echo "  files: $(find "$site/search" -type f | wc -l) ($(find "$site/search/s" -type f | wc -l) shards in s/, $(find "$site/search/d" -type f | wc -l) record chunks in d/, meta $(du -b "$site"/search/meta.*.json | cut -f1) bytes)"
awk -v i="$idx" -v d="$data" -v m="$md" 'BEGIN {
	printf "  Markdown:                 %10d bytes\n", m
	printf "  search/:                  %10d bytes  %5.1f%% of the Markdown (target <= 25%%)%s\n", i, 100 * i / m, (100 * i / m <= 25 ? "" : "  MISSED")
	printf "  search/ minus index.html: %10d bytes  %5.1f%% of the Markdown\n", d, 100 * d / m
}'

base=$(sed -n 's/^base_url *= *"\(.*\)"/\1/p' "$corpus/config.toml" | sed 's#^[a-z]*://[^/]*##')
base=${base:-/}
echo "== queries in headless Chromium (cold cache per query; served on loopback, text gzipped on the fly; load average $(cut -d' ' -f1-3 /proc/loadavg))"
echo "  command: ROUNDS_SEARCH_SITE=$OUTABS/search-runs/on-$RUNS ROUNDS_SEARCH_BASE=$base go test -run XXX -bench BenchmarkSearchQuery -benchtime 1x -v ./generator"
if ! ROUNDS_SEARCH_SITE="$OUTABS/search-runs/on-$RUNS" ROUNDS_SEARCH_BASE="$base" \
	go test -run XXX -bench BenchmarkSearchQuery -benchtime 1x -v ./generator >"$OUT/search-query.log" 2>&1; then
	cat "$OUT/search-query.log" >&2
	exit 1
fi
grep -v '^goos\|^goarch\|^pkg\|^cpu\|^PASS\|^ok \|^=== \|^--- \|^BenchmarkSearchQuery$' "$OUT/search-query.log" | sed 's/^ *searchbench_test.go:[0-9]*: /  /'
# The benchmark's line: "BenchmarkSearchQuery-2 1 V UNIT V UNIT ...".
awk '/^BenchmarkSearchQuery/ && NF > 4 {
	for (i = 3; i < NF; i += 2) v[$(i + 1)] = $i
	printf "query latency: first result median %.1f ms, max %.1f ms (target <= 100 ms)%s\n", v["ms-median"], v["ms-max"], (v["ms-max"] <= 100 ? "" : "  MISSED")
	printf "query bytes: median %.1f KB, max %.1f KB for the query; with the metadata median %.1f KB, max %.1f KB (target <= 100 KB)%s\n", v["KB-median"], v["KB-max"], v["KB+meta-median"], v["KB+meta-max"], (v["KB+meta-max"] <= 100 ? "" : "  MISSED")
}' "$OUT/search-query.log"
