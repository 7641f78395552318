#!/usr/bin/env bash
# Interop tests: real AWS clients (boto3, aws CLI v1, AWS Encryption SDK for
# Python and its CLI, AWS SDK and Encryption SDK for JavaScript) against a freshly
# started `tresor serve --dev`, and the boundary test
# generated from botocore's KMS model (hand-signed raw requests at and past every limit).
#
# Run from anywhere (CI runs it from the repo root):  scripts/interop.sh
#
# Environment:
#   TRESOR_BIN     server binary to use (default: `cargo build -p tresor`, then target/debug/tresor)
#   TRESOR_VENV    virtualenv for the Python clients (default: <repo>/.venv-interop; reused if present)
#   PYTHON         interpreter used to create the virtualenv (default: python3.11, else python3)
#   TRESOR_ESDKCLI_VENV  virtualenv for aws-encryption-sdk-cli (default: <repo>/.venv-interop-esdkcli;
#                  its own, as it needs aws-encryption-sdk 3 and the main venv pins 4)
#   INTEROP_ONLY   comma-separated subset of parts to run:
#                  boto3,cli,esdk,esdkcli,js,boundary,tls,console,xks
#                  (default: all); esdkcli checks `tresor encrypt`/`decrypt` against
#                  aws-encryption-sdk-cli both ways; js runs scripts/interop/js (npm ci,
#                  node); tls runs the boto3 and CLI round trips against a second
#                  server started with `--dev --tls`, trusting its CA through AWS_CA_BUNDLE;
#                  console runs the browser tests (scripts/console: playwright-core and
#                  Chromium) against a server of its own;
#                  xks drives the server's XKS proxy listener (`--xks-listen`) with plain
#                  `curl --aws-sigv4` (scripts/xks-curl.sh)
#   INTEROP_VERBOSE=1  print Python tracebacks of failed checks
#
# Prints per-check results and ends with one line `N passed, N failed`
# (totals over all parts); exits non-zero if anything failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
HERE="$ROOT/scripts/interop"
REQUIREMENTS="$HERE/requirements.txt"
VENV=${TRESOR_VENV:-$ROOT/.venv-interop}
ESDKCLI_VENV=${TRESOR_ESDKCLI_VENV:-$ROOT/.venv-interop-esdkcli}
ONLY=${INTEROP_ONLY:-boto3,cli,esdk,esdkcli,js,boundary,tls,console,xks}
START_TIMEOUT=60
t_start=$SECONDS

log() { printf '[interop] %s\n' "$*"; }
# Setup failures (venv, build, server start) count as one failed check so the
# closing line is always there.
die() { printf '[interop] error: %s\n' "$*" >&2; echo "0 passed, 1 failed"; exit 1; }

# ---------------------------------------------------------------- environment

# Nothing from the machine's AWS setup may leak in: fixed dev credentials only.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_SECURITY_TOKEN AWS_ROLE_ARN \
  AWS_WEB_IDENTITY_TOKEN_FILE AWS_CONTAINER_CREDENTIALS_RELATIVE_URI AWS_CONTAINER_CREDENTIALS_FULL_URI \
  AWS_ENDPOINT_URL AWS_ENDPOINT_URL_KMS AWS_IGNORE_CONFIGURED_ENDPOINT_URLS AWS_USE_FIPS_ENDPOINT \
  AWS_USE_DUALSTACK_ENDPOINT AWS_REGION AWS_CA_BUNDLE AWS_MAX_ATTEMPTS AWS_RETRY_MODE AWS_CLI_AUTO_PROMPT \
  AWS_PAGER AWS_DEFAULT_OUTPUT
export AWS_ACCESS_KEY_ID=AKIAIOSFODNN7EXAMPLE
export AWS_SECRET_ACCESS_KEY=wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY
export AWS_DEFAULT_REGION=us-east-1
export AWS_CONFIG_FILE=/dev/null
export AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_EC2_METADATA_DISABLED=true
export AWS_PAGER=""
# Loopback traffic must never go through a proxy.
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"
export PYTHONDONTWRITEBYTECODE=1
export PYTHONUNBUFFERED=1

# ---------------------------------------------------------------- python venv

# setup_venv VENV REQUIREMENTS: create VENV if needed and install REQUIREMENTS into it
# (again only when the file changed).
setup_venv() {
  local venv=$1 requirements=$2 py stamp want
  if [[ ! -x "$venv/bin/python" ]]; then
    py=${PYTHON:-}
    if [[ -z $py ]]; then
      if command -v python3.11 >/dev/null 2>&1; then py=python3.11; else py=python3; fi
    fi
    command -v "$py" >/dev/null 2>&1 || die "no $py on PATH (set PYTHON)"
    log "creating virtualenv $venv with $("$py" --version 2>&1)"
    "$py" -m venv "$venv" || die "could not create a virtualenv with $py (on Debian: apt-get install python3-venv)"
  fi
  stamp="$venv/.interop-requirements.sha256"
  want=$(sha256sum "$requirements" | cut -d' ' -f1)
  if [[ ! -f $stamp || $(cat "$stamp") != "$want" ]]; then
    log "installing pinned clients from ${requirements#"$ROOT"/} (quiet)"
    if ! "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
      -r "$requirements" >"$venv/.interop-pip.log" 2>&1; then
      cat "$venv/.interop-pip.log" >&2
      die "pip install failed"
    fi
    echo "$want" >"$stamp"
  else
    log "reusing virtualenv $venv (requirements unchanged)"
  fi
}

setup_venv "$VENV" "$REQUIREMENTS"
PY="$VENV/bin/python"
AWS_BIN="$VENV/bin/aws"
[[ -x $AWS_BIN ]] || die "aws CLI missing from $VENV (delete the venv and rerun)"

# ---------------------------------------------------------------- server

if [[ -z ${TRESOR_BIN:-} ]]; then
  log "building tresor (cargo build -p tresor)"
  (cd "$ROOT" && cargo build -p tresor --quiet) || die "cargo build -p tresor failed"
  target_dir=${CARGO_TARGET_DIR:-$ROOT/target}
  [[ $target_dir == /* ]] || target_dir="$ROOT/$target_dir"
  TRESOR_BIN="$target_dir/debug/tresor"
fi
[[ -x $TRESOR_BIN ]] || die "server binary $TRESOR_BIN not found or not executable"

TMP=$(mktemp -d "${TMPDIR:-/tmp}/tresor-interop.XXXXXX")
SERVER_PID=""
TLS_PID=""
cleanup() {
  local rc=$?
  if [[ -n $TLS_PID ]]; then
    kill -TERM -- "-$TLS_PID" 2>/dev/null || kill -TERM "$TLS_PID" 2>/dev/null || true
    wait "$TLS_PID" 2>/dev/null || true
  fi
  if [[ -n $SERVER_PID ]]; then
    # The server runs in its own session/process group (setsid): stop the whole group.
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

mkdir -p "$TMP/data"
xks_flags=()
if [[ ",$ONLY," == *",xks,"* ]]; then
  xks_flags=(--xks-listen 127.0.0.1:0 --xks-uri-prefix /interop)
fi
log "starting $TRESOR_BIN serve --dev --listen 127.0.0.1:0 ${xks_flags[*]}"
setsid "$TRESOR_BIN" serve --dev --listen 127.0.0.1:0 "${xks_flags[@]}" --data-dir "$TMP/data" \
  >"$TMP/server.out" 2>"$TMP/server.err" </dev/null &
SERVER_PID=$!

server_logs() {
  echo "---- server stdout (tail) ----" >&2
  tail -n 40 "$TMP/server.out" >&2 || true
  echo "---- server stderr (tail) ----" >&2
  tail -n 40 "$TMP/server.err" >&2 || true
}

PORT=""
deadline=$((SECONDS + START_TIMEOUT))
while [[ -z $PORT ]]; do
  PORT=$(sed -n 's#^Tresor listening on http://127\.0\.0\.1:\([0-9][0-9]*\)[[:space:]]*$#\1#p' "$TMP/server.out" | head -n 1)
  [[ -n $PORT ]] && break
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    server_logs
    die "server exited before printing 'Tresor listening on http://127.0.0.1:PORT'"
  fi
  if ((SECONDS >= deadline)); then
    server_logs
    die "server did not print 'Tresor listening on http://127.0.0.1:PORT' within ${START_TIMEOUT}s"
  fi
  sleep 0.1
done
export TRESOR_ENDPOINT="http://127.0.0.1:$PORT"
log "server up at $TRESOR_ENDPOINT (pid $SERVER_PID)"

# ---------------------------------------------------------------- the parts

export INTEROP_RESULTS="$TMP/results.tsv"
: >"$INTEROP_RESULTS"

wants() { [[ ",$ONLY," == *",$1,"* ]]; }

# run_part NAME CMD...: run one part; a part that exits non-zero without
# having recorded a failure (a crash, an import error) counts as one failure.
run_part() {
  local part=$1 rc=0 before after
  shift
  before=$(grep -c "^FAIL"$'\t'"$part"$'\t' "$INTEROP_RESULTS" || true)
  "$@" || rc=$?
  after=$(grep -c "^FAIL"$'\t'"$part"$'\t' "$INTEROP_RESULTS" || true)
  local ran
  ran=$(grep -c "^[A-Z]*"$'\t'"$part"$'\t' "$INTEROP_RESULTS" || true)
  if [[ $rc -ne 0 && $after -eq $before ]] && ! grep -q "^SKIP"$'\t'"$part"$'\t' "$INTEROP_RESULTS"; then
    printf 'FAIL\t%s\t%s\t%s\n' "$part" "$part part exited with code $rc" "see output above" >>"$INTEROP_RESULTS"
  elif [[ $rc -eq 0 && $ran -eq 0 ]]; then
    printf 'FAIL\t%s\t%s\t%s\n' "$part" "$part part ran no checks" "" >>"$INTEROP_RESULTS"
  fi
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    printf 'FAIL\t%s\t%s\t%s\n' "$part" "server still running after the $part part" "it exited" >>"$INTEROP_RESULTS"
    server_logs
  fi
  return 0
}

if wants boto3; then
  run_part boto3 "$PY" "$HERE/boto3_roundtrip.py"
fi
if wants boto3; then
  run_part boto3-asymmetric "$PY" "$HERE/boto3_asymmetric.py"
  # Ed25519ph, ML-DSA EXTERNAL_MU, ML-KEM data key pairs against independent verifiers.
  run_part boto3-pq "$PY" "$HERE/boto3_pq.py"
fi
if wants cli; then
  run_part cli env AWS_BIN="$AWS_BIN" bash "$HERE/cli_roundtrip.sh"
  run_part cli-asymmetric env AWS_BIN="$AWS_BIN" PY="$PY" bash "$HERE/cli_asymmetric.sh"
fi
if wants esdk; then
  # The ESDK makes its own KMS clients; botocore >= 1.31 takes their endpoint from here.
  run_part esdk env AWS_ENDPOINT_URL_KMS="$TRESOR_ENDPOINT" "$PY" "$HERE/esdk_roundtrip.py"
fi
if wants esdkcli; then
  # `tresor encrypt`/`decrypt` and aws-encryption-sdk-cli, each decrypting the other's files.
  setup_venv "$ESDKCLI_VENV" "$HERE/requirements-esdkcli.txt"
  run_part esdkcli env TRESOR_BIN="$TRESOR_BIN" ESDK_CLI="$ESDKCLI_VENV/bin/aws-encryption-cli" \
    AWS_BIN="$AWS_BIN" bash "$HERE/esdk_cli.sh"
fi
if wants js; then
  # AWS SDK for JavaScript v3 and the AWS Encryption SDK for JavaScript (node).
  run_part js env TRESOR_BIN="$TRESOR_BIN" bash "$HERE/js/run.sh"
fi
if wants boundary; then
  # Every member of every operation at its model limits and past them, wrong types,
  # missing members, non-objects: never 5xx, always an AWS-style __type.
  run_part boundary "$PY" "$HERE/boundary.py"
fi

if wants xks; then
  # The XKS proxy listener of the same server, driven by curl's own SigV4 signer with a
  # credential from `tresor admin xks-credential create` and a key made by the CLI.
  XKS_URI=$(sed -n 's#^Tresor XKS proxy listening on \(http://127\.0\.0\.1:[0-9]*/interop/kms/xks/v1\)[[:space:]]*$#\1#p' "$TMP/server.out" | head -n 1)
  xks_cred=$("$TRESOR_BIN" admin --endpoint "$TRESOR_ENDPOINT" --output json \
    xks-credential create --account 111122223333 2>"$TMP/xks.err") || true
  xks_key=$("$AWS_BIN" --endpoint-url "$TRESOR_ENDPOINT" kms create-key \
    --query KeyMetadata.KeyId --output text 2>>"$TMP/xks.err") || true
  if [[ -z $XKS_URI || -z $xks_cred || -z $xks_key ]]; then
    cat "$TMP/xks.err" >&2 || true
    printf 'FAIL\t%s\t%s\t%s\n' xks "XKS set-up" "no XKS banner, credential or key" >>"$INTEROP_RESULTS"
  else
    log "XKS proxy at $XKS_URI"
    run_part xks env XKS_URI="$XKS_URI" XKS_KEY_ID="$xks_key" PYTHON="$PY" \
      XKS_ACCESS_KEY_ID="$(printf '%s' "$xks_cred" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["AccessKeyId"])')" \
      XKS_SECRET_ACCESS_KEY="$(printf '%s' "$xks_cred" | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["SecretAccessKey"])')" \
      bash "$ROOT/scripts/xks-curl.sh"
  fi
fi

if wants tls; then
  # A second server speaking TLS with a generated certificate; the clients trust
  # its CA through AWS_CA_BUNDLE, as an operator's would.
  mkdir -p "$TMP/data-tls"
  setsid "$TRESOR_BIN" serve --dev --tls --listen 127.0.0.1:0 --data-dir "$TMP/data-tls" \
    >"$TMP/tls.out" 2>"$TMP/tls.err" </dev/null &
  TLS_PID=$!
  TLS_PORT=""
  deadline=$((SECONDS + START_TIMEOUT))
  while [[ -z $TLS_PORT ]] && kill -0 "$TLS_PID" 2>/dev/null && ((SECONDS < deadline)); do
    TLS_PORT=$(sed -n 's#^Tresor listening on https://127\.0\.0\.1:\([0-9][0-9]*\)[[:space:]]*$#\1#p' "$TMP/tls.out" | head -n 1)
    [[ -n $TLS_PORT ]] || sleep 0.1
  done
  CA_BUNDLE=$(sed -n 's#^AWS_CA_BUNDLE=##p' "$TMP/tls.out" | head -n 1)
  if [[ -z $TLS_PORT || -z $CA_BUNDLE ]]; then
    tail -n 20 "$TMP/tls.out" "$TMP/tls.err" >&2 || true
    printf 'FAIL\t%s\t%s\t%s\n' tls "TLS server start" "no https ready line or AWS_CA_BUNDLE line" >>"$INTEROP_RESULTS"
  else
    log "TLS server up at https://127.0.0.1:$TLS_PORT (CA $CA_BUNDLE)"
    tls_env=(env TRESOR_ENDPOINT="https://127.0.0.1:$TLS_PORT" AWS_CA_BUNDLE="$CA_BUNDLE")
    run_part boto3-tls "${tls_env[@]}" INTEROP_PART=boto3-tls "$PY" "$HERE/boto3_roundtrip.py"
    run_part cli-tls "${tls_env[@]}" INTEROP_PART=cli-tls AWS_BIN="$AWS_BIN" bash "$HERE/cli_roundtrip.sh"
    # Plain HTTP to the TLS port gets no answer a client accepts.
    if "$AWS_BIN" --endpoint-url "http://127.0.0.1:$TLS_PORT" --region us-east-1 kms list-keys \
        >/dev/null 2>&1; then
      printf 'FAIL\t%s\t%s\t%s\n' tls "plain HTTP to the TLS port is refused" "the CLI succeeded" >>"$INTEROP_RESULTS"
    else
      printf 'PASS\t%s\t%s\t\n' tls "plain HTTP to the TLS port is refused" >>"$INTEROP_RESULTS"
    fi
  fi
fi
if wants console; then
  # The web console in a real browser, on a fresh server so that its pages are its own.
  run_part console env TRESOR_BIN="$TRESOR_BIN" bash "$ROOT/scripts/console/run.sh"
fi

# ---------------------------------------------------------------- summary

passed=$(grep -c '^PASS' "$INTEROP_RESULTS" || true)
failed=$(grep -c '^FAIL' "$INTEROP_RESULTS" || true)
skipped=$(grep -c '^SKIP' "$INTEROP_RESULTS" || true)

if [[ $failed -gt 0 || $skipped -gt 0 ]]; then
  echo
  echo "Failed / skipped checks:"
  awk -F'\t' '$1 != "PASS" { printf "  %s [%s] %s%s\n", $1, $2, $3, ($4 != "" ? ": " $4 : "") }' "$INTEROP_RESULTS"
  if [[ -s $TMP/server.err ]]; then
    echo "---- server stderr (last 20 lines) ----"
    tail -n 20 "$TMP/server.err"
  fi
fi
echo
log "finished in $((SECONDS - t_start))s"
if [[ $skipped -gt 0 ]]; then
  echo "$passed passed, $failed failed, $skipped skipped"
else
  echo "$passed passed, $failed failed"
fi
[[ $failed -eq 0 && $skipped -eq 0 ]]
