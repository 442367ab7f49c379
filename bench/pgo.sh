#!/usr/bin/env bash
# Refresh default.pgo, the CPU profile that the Go toolchain uses to
# optimise the rounds binary (profile-guided optimisation: hot calls are
# inlined and devirtualised). `go build` and `go install` of the main
# package pick it up by themselves. The profile is of BenchmarkBuild:
# cold builds of the 10,000-note benchmark corpus, the work a build
# spends its time on. Refresh it after changes to the build's hot paths.
#
#   bash bench/pgo.sh
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
go test -run '^$' -bench 'BenchmarkBuild$' -benchtime 5x -cpuprofile default.pgo -o "$tmp/generator.test" ./generator
echo "wrote default.pgo ($(wc -c <default.pgo) bytes)"
