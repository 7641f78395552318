#!/usr/bin/env bash
# Browser tests of the web console: starts its own `tresor serve --dev` on a fresh data
# directory, then drives it with playwright-core and the system Chromium.
#
#   TRESOR_BIN           server binary (default: target/debug/tresor, built if missing)
#   CHROMIUM             browser (default: /usr/bin/chromium; `apt-get install chromium`)
#   CONSOLE_SCREENSHOTS  write the documentation screenshots there (e.g. docs/img)
#   INTEROP_RESULTS      set by scripts/interop.sh: checks are recorded there
#
# Ends with `N passed, N failed`.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
fail() { echo "[console] error: $*" >&2; echo "0 passed, 1 failed"; exit 1; }

command -v node >/dev/null || fail "node is not installed (apt-get install nodejs npm)"
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[[ -x $CHROMIUM ]] || fail "no Chromium at $CHROMIUM (apt-get install chromium)"
export CHROMIUM
if [[ ! -d $HERE/node_modules/playwright-core ]]; then
  (cd "$HERE" && npm ci --no-audit --no-fund --silent) || fail "npm ci failed"
fi
if [[ -z ${TRESOR_BIN:-} ]]; then
  (cd "$ROOT" && cargo build -p tresor --quiet) || fail "cargo build -p tresor failed"
  TRESOR_BIN=${CARGO_TARGET_DIR:-$ROOT/target}/debug/tresor
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tresor-console.XXXXXX")
PID=""
cleanup() {
  local rc=$?
  if [[ -n $PID ]]; then
    kill -TERM -- "-$PID" 2>/dev/null || kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
setsid "$TRESOR_BIN" serve --dev --listen 127.0.0.1:0 --data-dir "$TMP/data" \
  >"$TMP/out" 2>"$TMP/err" </dev/null &
PID=$!
PORT=""
for _ in $(seq 600); do
  PORT=$(sed -n 's#^Tresor listening on http://127\.0\.0\.1:\([0-9][0-9]*\)[[:space:]]*$#\1#p' "$TMP/out" | head -n 1)
  [[ -n $PORT ]] && break
  kill -0 "$PID" 2>/dev/null || { tail -n 20 "$TMP/err" >&2; fail "server exited"; }
  sleep 0.1
done
[[ -n $PORT ]] || fail "server did not start"
echo "[console] server at http://127.0.0.1:$PORT, browser $CHROMIUM"
TRESOR_ENDPOINT="http://127.0.0.1:$PORT" node "$HERE/console.test.mjs"
