#!/usr/bin/env bash
# Ferry's demo: sample-data -> DuckDB, synced twice, then read back. `make demo` runs it.
#
# FERRY_BIN  folder holding Ferry's `ferry` and `python` (make demo passes .venv/bin)
# DEMO_OUT   where the DuckDB file and the sync state go (default: examples/demo/out, wiped first)
set -euo pipefail

DEMO_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_DIR="$(cd "$DEMO_DIR/../.." && pwd)"
FERRY_BIN="${FERRY_BIN:-$REPO_DIR/.venv/bin}"
FERRY_BIN="$(cd "$FERRY_BIN" && pwd)"
export DEMO_OUT="${DEMO_OUT:-$DEMO_DIR/out}"
FIRST_COUNT=100000
SECOND_COUNT=120000

if [[ ! -x "$FERRY_BIN/ferry" ]]; then
  echo "error: $FERRY_BIN/ferry not found; run 'make demo' (it installs Ferry into .venv first)" >&2
  exit 1
fi

if [[ -t 1 ]]; then BOLD=$'\e[1m'; DIM=$'\e[2m'; RESET=$'\e[0m'; else BOLD=""; DIM=""; RESET=""; fi
step() { printf '\n%s==> %s%s\n' "$BOLD" "$1" "$RESET"; }
say() { printf '%s    %s%s\n' "$DIM" "$1" "$RESET"; }
# Shows the command as a user would type it (program name without its folder), then runs it.
run() { printf '%s    $ %s%s\n' "$DIM" "${1##*/} ${*:2}" "$RESET"; "$@"; }
# One sync, with the source's count set through the pipeline's ${DEMO_COUNT}.
sync_at() { DEMO_COUNT="$1" run "$FERRY_BIN/ferry" sync pipeline.yaml --state "$OUT/state.json"; }
short() { printf '%s' "${1/#$REPO_DIR\//}"; }  # a path as seen from the repository root
commas() { local n="$1" out=""; while ((${#n} > 3)); do out=",${n: -3}$out"; n="${n:0:${#n}-3}"; done; printf '%s' "$n$out"; }

cd "$DEMO_DIR"
# Paths as seen from here, where the pipeline runs (its DuckDB file is ${DEMO_OUT:-out}/shop.duckdb).
OUT="${DEMO_OUT#"$DEMO_DIR"/}"

step "Starting clean: removing $(short "$DEMO_OUT")/ (the DuckDB file and the saved sync state)"
[[ "$DEMO_OUT" != "/" ]] || { echo "error: DEMO_OUT must not be /" >&2; exit 1; }
rm -rf "$DEMO_OUT"
mkdir -p "$DEMO_OUT"
say "Pipeline: examples/demo/pipeline.yaml (source sample-data -> destination duckdb)"
say "  purchases, users: incremental + append_dedup (read what is new, keep one row per id)"
say "  products:         full_refresh + overwrite   (reload all, swap the new copy in at the end)"

step "Sync 1: the source holds $(commas $FIRST_COUNT) purchases and users; all of it is new, so all of it is read"
say "\$ export DEMO_COUNT=$FIRST_COUNT    # pipeline.yaml reads it: count: \${DEMO_COUNT:-100000}"
sync_at "$FIRST_COUNT"
say "Each stream's cursor (its newest updated_at) was saved only after DuckDB had committed the rows."

step "Sync 2: the source grew to $(commas $SECOND_COUNT); Ferry continues from the saved cursors"
say "Expect $(commas $((SECOND_COUNT - FIRST_COUNT))) records read for purchases and users (only the new rows), and all products again."
say "\$ export DEMO_COUNT=$SECOND_COUNT"
sync_at "$SECOND_COUNT"

step "Reading the result back from $(short "$DEMO_OUT")/shop.duckdb with DuckDB"
run "$FERRY_BIN/python" show.py "$OUT/shop.duckdb" "$SECOND_COUNT"

step "Done"
say "Query it yourself: $(short "$FERRY_BIN")/python -c \"import duckdb; duckdb.connect('$(short "$DEMO_OUT")/shop.duckdb').sql('FROM purchases LIMIT 5').show()\""
say "Run it again with 'make demo' (it starts clean), or 'make test' for the test suite."
