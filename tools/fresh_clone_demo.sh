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
set +e
make demo 2>&1 | while IFS= read -r line; do
  printf '%7.1f %s\n' "$(echo "$(date +%s.%N) - $t0" | bc)" "$line"
done
set -e
echo "TOTAL $(echo "$(date +%s.%N) - $t0" | bc)"
echo "DIR $dir  (report: $dir/p/.demo/report.json)"
