#!/usr/bin/env bash
# The `js` part of scripts/interop.sh: installs the locked npm packages (npm ci, once per
# package-lock.json) and runs interop.mjs with node.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$HERE"
command -v node >/dev/null 2>&1 || { echo "node is not installed (apt-get install nodejs npm)" >&2; exit 1; }
stamp=node_modules/.tresor-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
  echo "[interop] npm ci in ${HERE##*/scripts/} (quiet)"
  npm ci --no-audit --no-fund --loglevel=error >/dev/null
  echo "$want" >"$stamp"
fi
exec node interop.mjs
