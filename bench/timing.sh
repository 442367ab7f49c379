# Shared by the bench/ scripts, sourced: saying what a benchmark runs on,
# building Rounds and the corpus, waiting out a mass delete, timing a
# command and the median of its runs.
# Each script sets OUT, and i to the run's number.

# settle REMOVED FSTYPE: when the script removed the last run's files
# (REMOVED is 1) on ext4, syncs and waits $BENCH_SETTLE seconds (370 by
# default): ext4 without a journal makes new files slow for about that
# long after a mass delete.
settle() {
	local wait=0
	[[ $1 = 1 && $2 = ext* ]] && wait=370
	wait=${BENCH_SETTLE:-$wait}
	if [ "$wait" -gt 0 ]; then
		echo "waiting ${wait} s after removing the last run's files, so that no build pays for them"
		sync
		sleep "$wait"
	fi
}

# time_run LABEL CMD...: one cold build, into a new folder that CMD names;
# appends "wall KiB user sys" to $OUT/LABEL.times and keeps the command's
# output in $OUT/LABEL.log. It syncs first: the kernel writes a build's
# files out some 30 s after it ends, and on ext4 that writeback allocates
# the blocks, on the same CPUs; unsynced, each run would pay for the
# runs before it (measured here: 1.3 s, 2.0 s, 2.9 s for three builds
# in a row; 1.3-1.4 s with a sync before each).
time_run() {
	local label=$1
	shift
	sync
	if ! /usr/bin/time -f '%e %M %U %S' -o "$OUT/$label.time" "$@" >"$OUT/$label.log" 2>&1; then
		echo "$label failed:" >&2
		cat "$OUT/$label.log" >&2
		exit 1
	fi
	cat "$OUT/$label.time" >>"$OUT/$label.times"
	awk -v l="$label" -v i="$i" '{printf "  %-6s run %d: %6.2f s wall  %6.2f s user  %6.2f s sys  %7.1f MiB\n", l, i, $1, $3, $4, $2/1024}' "$OUT/$label.time"
}

# median FILE: the medians of the four columns of a .times file.
median() {
	for col in 1 2 3 4; do
		cut -d' ' -f"$col" "$1" | sort -n | awk '{v[NR]=$1} END {printf "%s ", (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'
	done
}

# build_rounds builds this working tree's Rounds into $OUT/rounds and
# says which commit it is.
build_rounds() {
	go build -o "$OUT/rounds" .
	echo "rounds:  $(git log -1 --format='%h' HEAD)$(git diff --quiet HEAD -- . ':!bench' 2>/dev/null || echo ' (with uncommitted changes)')"
}

# ensure_corpus DIR N: the benchmark corpus of N notes in DIR, reused when it
# has them, made otherwise (then removed is set to 1), with the working
# tree's theme copied in.
ensure_corpus() {
	if [ -f "$1/config.toml" ] && [ "$(find "$1/content/notes" -name '*.md' 2>/dev/null | wc -l)" -eq "$2" ]; then
		echo "corpus:  $1 (reused, $2 notes)"
	else
		rm -rf "$1"
		removed=1
		go run ./bench/corpus -n "$2" -out "$1" -theme themes/default
		echo "corpus:  $1 (made, $2 notes)"
	fi
	# The corpus's theme is a copy: the one being measured replaces it.
	rm -rf "$1/themes/default"
	cp -r themes/default "$1/themes/default"
}

# describe makes $OUT, sets OUTABS and fstype, and says what the
# benchmark runs on.
describe() {
	mkdir -p "$OUT"
	OUTABS=$(cd "$OUT" && pwd)
	fstype=$(df -PT "$OUTABS" | awk 'NR==2 {print $2}')
	echo "== setup"
	echo "machine: $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	echo "go:      $(go version)"
	echo "output:  $OUTABS ($fstype)"
}
