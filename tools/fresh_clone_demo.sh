#!/bin/bash
# A fresh clone's first verdict, timed: clones this checkout's main into an empty folder and
# runs `make demo` there, each line stamped with the seconds since it began (docs/runs.md's
# fresh-clone rows). Warm package caches are the machine's own; nothing here clears them.
# Usage: tools/fresh_clone_demo.sh [repo] > run.log
set -euo pipefail
repo=${1:-$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)}
dir=$(mktemp -d)
git clone -q "$repo" "$dir/p"
cd "$dir/p"
t0=$(date +%s.%N)
since() { awk -v now="$(date +%s.%N)" -v t0="$t0" 'BEGIN { printf "%7.1f", now - t0 }'; }
set +e
make demo 2>&1 | while IFS= read -r line; do printf '%s %s\n' "$(since)" "$line"; done
set -e
echo "TOTAL $(since)"
echo "DIR $dir  (report: $dir/p/.demo/report.json)"
