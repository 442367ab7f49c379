#!/usr/bin/env bash
# Time a republish after a one-note change: Rounds, `hugo deploy` and
# `aws s3 sync`, each to its own bucket of one versitygw server on
# loopback, in the same run.
#
#   bash bench/publish.sh [N]     N notes (default $N or 10000)
#
# It reuses the corpus and Hugo site of bench/build.sh (running it first
# if they are missing), copies the corpus, builds it with both tools,
# publishes everything once, changes one note, rebuilds, and times the
# three republishes. Targets (issues 5 and 13): Rounds' republish at most
# a third of hugo deploy's time, uploading only the changed files, and its
# first publish no slower than hugo deploy's.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
N="${1:-${N:-10000}}"
NOW=2026-11-28
OUT="${BENCH_OUT:-bench/out}"

need=""
command -v hugo >/dev/null 2>&1 || need="$need hugo"
[ -x /usr/bin/aws ] || need="$need awscli"
[ -x /usr/bin/time ] || need="$need time"
if [ -n "$need" ]; then
	echo "installing:$need"
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $need >/dev/null
fi
VGW=$(command -v versitygw || echo "$(go env GOPATH)/bin/versitygw")
[ -x "$VGW" ] || go install github.com/versity/versitygw/cmd/versitygw@v1.8.0
AWS=/usr/bin/aws

if [ ! -d "$OUT/corpus" ] || [ ! -d "$OUT/hugo-site" ] || [ "$(ls "$OUT/corpus/content/notes" | wc -l)" != "$N" ]; then
	BENCH_SETTLE=0 bash bench/build.sh "$N"
fi
P="$OUT/publish"
rm -rf "$P"
mkdir -p "$P/s3"
go build -o "$P/rounds" .
cp -r "$OUT/corpus" "$P/site"
cp -r "$OUT/hugo-site" "$P/hugo-site"
sed -i 's|^contentDir = .*|contentDir = "../site/content"|' "$P/hugo-site/hugo.toml"

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
endpoint="http://127.0.0.1:$port"
export AWS_ACCESS_KEY_ID=benchaccess AWS_SECRET_ACCESS_KEY=benchsecret0123456789 AWS_REGION=us-east-1
export AWS_REQUEST_CHECKSUM_CALCULATION=when_required AWS_RESPONSE_CHECKSUM_VALIDATION=when_required
ROOT_ACCESS_KEY=$AWS_ACCESS_KEY_ID ROOT_SECRET_KEY=$AWS_SECRET_ACCESS_KEY "$VGW" --port "127.0.0.1:$port" posix "$P/s3" >"$P/versitygw.log" 2>&1 &
vgw=$!
trap 'kill $vgw 2>/dev/null' EXIT
for _ in $(seq 100); do (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break; sleep 0.1; done
for b in rounds hugo sync; do mkdir -p "$P/s3/$b"; done

cat >>"$P/site/config.toml" <<TOML

[publish]
bucket = "rounds"
endpoint = "$endpoint"
path_style = true
checksums = "when_required"
max_deletes = 100000
TOML
cat >>"$P/hugo-site/hugo.toml" <<TOML

[deployment]
[[deployment.targets]]
name = "bench"
URL = "s3://hugo?endpoint=$endpoint&s3ForcePathStyle=true&disableSSL=true&region=us-east-1"
TOML

build() {
	"$P/rounds" build --config "$P/site/config.toml" --now "$NOW" >/dev/null
	hugo --quiet -s "$P/hugo-site" -d "$(cd "$P/hugo-site" && pwd)/public" >/dev/null
}
# run LABEL CMD...: times CMD; its output goes to $P/LABEL.log.
run() {
	local label=$1
	shift
	/usr/bin/time -f '%e' -o "$P/$label.time" "$@" >"$P/$label.log" 2>&1 || { echo "$label failed:"; cat "$P/$label.log"; exit 1; }
}

echo "== first publish of $N notes (not timed for the comparison)"
build
run rounds-0 "$P/rounds" publish --config "$P/site/config.toml"
run hugo-0 hugo deploy -s "$P/hugo-site" --target bench --maxDeletes -1
run sync-0 "$AWS" s3 sync --only-show-errors "$P/site/public" s3://sync --endpoint-url "$endpoint"
echo "  rounds $(cat "$P/rounds-0.time") s, hugo deploy $(cat "$P/hugo-0.time") s, aws s3 sync $(cat "$P/sync-0.time") s"
awk -v r="$(cat "$P/rounds-0.time")" -v h="$(cat "$P/hugo-0.time")" 'BEGIN {
	printf "  first publish: rounds takes %.2f of hugo deploy'"'"'s time (target <= 1)%s\n", r / h, (r <= h ? "" : "  MISSED")
}'

# Three rounds of: change one note, rebuild with both tools, republish
# with each; aws s3 sync in the last round only (it takes half a minute).
note="$P/site/content/notes/$(ls "$P/site/content/notes" | sed -n "$((N / 2))p")"
rm -f "$P/rounds.times" "$P/hugo.times"
for i in 1 2 3; do
	printf '\nA sentence the curator added after publish %d.\n' "$i" >>"$note"
	build
	run rounds-$i "$P/rounds" publish --config "$P/site/config.toml"
	run hugo-$i hugo deploy -s "$P/hugo-site" --target bench --maxDeletes -1
	cat "$P/rounds-$i.time" >>"$P/rounds.times"
	cat "$P/hugo-$i.time" >>"$P/hugo.times"
	echo "  round $i: rounds $(cat "$P/rounds-$i.time") s ($(grep -o '[0-9]* uploaded' "$P/rounds-$i.log")), hugo deploy $(cat "$P/hugo-$i.time") s"
done
run sync-3 "$AWS" s3 sync "$P/site/public" s3://sync --endpoint-url "$endpoint"

median() { sort -n "$1" | awk '{v[NR] = $1} END {print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2}'; }
ru=$(grep -o '[0-9]* uploaded' "$P/rounds-3.log" | cut -d' ' -f1)
hu=$(grep -o 'Identified [0-9]* file' "$P/hugo-3.log" | grep -o '[0-9]*' || echo "?")
su=$(grep -o 'upload:' "$P/sync-3.log" | wc -l)
rt=$(median "$P/rounds.times") ht=$(median "$P/hugo.times") st=$(cat "$P/sync-3.time")
echo "== republish after a one-note change (median of 3; aws s3 sync once)"
printf '  %-12s %8s %10s\n' "" "wall s" "uploads"
printf '  %-12s %8.2f %10s\n' rounds "$rt" "$ru" "hugo deploy" "$ht" "$hu" "aws s3 sync" "$st" "$su"
awk -v r="$rt" -v h="$ht" 'BEGIN {
	if (r <= 0) r = 0.01
	printf "rounds takes %.2f of hugo deploy'"'"'s time (target <= 0.33)%s\n", r / h, (r / h <= 1 / 3 ? "" : "  MISSED")
}'
