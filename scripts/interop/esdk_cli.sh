#!/usr/bin/env bash
# `tresor encrypt`/`decrypt` against aws-encryption-sdk-cli (the AWS Encryption SDK CLI
# for Python), both directions, against one running Tresor server.
#
# Needs TRESOR_ENDPOINT, the dev credentials, AWS_DEFAULT_REGION; TRESOR_BIN (the tresor
# binary), ESDK_CLI (aws-encryption-cli), AWS_BIN (aws CLI, to create keys). The ESDK CLI
# makes its KMS clients through botocore, which takes the endpoint from
# AWS_ENDPOINT_URL_KMS. Results go to INTEROP_RESULTS as STATUS<TAB>esdkcli<TAB>name<TAB>detail.
set -euo pipefail

: "${TRESOR_ENDPOINT:?TRESOR_ENDPOINT must be set}"
: "${TRESOR_BIN:?TRESOR_BIN must be set}"
: "${ESDK_CLI:?ESDK_CLI must be set}"
AWS_BIN=${AWS_BIN:-aws}
RESULTS=${INTEROP_RESULTS:-/dev/null}
PART=esdkcli
export AWS_ENDPOINT_URL_KMS="$TRESOR_ENDPOINT"

work=$(mktemp -d "${TMPDIR:-/tmp}/tresor-esdkcli.XXXXXX")
trap 'rm -rf "$work"' EXIT
passed=0 failed=0 skipped=0

fail() { echo "$*" >&2; exit 1; }
need() {
  local f
  for f in "$@"; do
    [[ -s "$work/$f" ]] || { echo "needs $f from an earlier failed check" >&2; exit 77; }
  done
}
one_line() { tr '\t\n' '  ' | sed -e 's/  */ /g' -e 's/^ //' -e 's/ $//' | cut -c1-400; }

run() {
  local name=$1 fn=$2 rc detail
  set +e
  (set -euo pipefail; "$fn") >"$work/.log" 2>&1
  rc=$?
  set -e
  detail=$(one_line <"$work/.log")
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1)); echo "  ok   $name"
    printf 'PASS\t%s\t%s\t\n' "$PART" "$name" >>"$RESULTS"
  elif [[ $rc -eq 77 ]]; then
    skipped=$((skipped + 1)); echo "  SKIP $name ($detail)"
    printf 'SKIP\t%s\t%s\t%s\n' "$PART" "$name" "$detail" >>"$RESULTS"
  else
    failed=$((failed + 1)); echo "  FAIL $name: ${detail:-exit code $rc}"
    printf 'FAIL\t%s\t%s\t%s\n' "$PART" "$name" "${detail:-exit code $rc}" >>"$RESULTS"
  fi
}

tresor() { "$TRESOR_BIN" "$@" --endpoint "$TRESOR_ENDPOINT" --quiet; }
esdk() { "$ESDK_CLI" "$@" --suppress-metadata; }
key() { "$AWS_BIN" --endpoint-url "$TRESOR_ENDPOINT" kms create-key --description "esdkcli interop" --query KeyMetadata.Arn --output text; }
same() { cmp -s "$1" "$2" || fail "$1 and $2 differ ($(wc -c <"$1") vs $(wc -c <"$2") bytes)"; }
# must_fail OUT CMD...: CMD must fail and leave no OUT behind.
must_fail() {
  local out=$1; shift
  if "$@" >"$work/.fail.log" 2>&1; then fail "succeeded: $*"; fi
  [[ ! -s $out ]] || fail "$out was written"
}

check_setup() {
  key >"$work/a"; key >"$work/b"; key >"$work/c"
  # Several frames and a partial final one; and an exact multiple of the frame length.
  head -c 1000003 /dev/urandom >"$work/plain"
  head -c 8192 /dev/urandom >"$work/plain8k"
}

check_tresor_to_esdk() {
  need a b plain
  tresor encrypt --key "$(cat "$work/a")" --key "$(cat "$work/b")" --context purpose=interop \
    --context tenant=acme "$work/plain" "$work/t.msg"
  for k in a b; do
    esdk --decrypt --input "$work/t.msg" --output "$work/t.$k.out" \
      --wrapping-keys "key=$(cat "$work/$k")" --encryption-context purpose=interop
    same "$work/plain" "$work/t.$k.out"
  done
}

check_esdk_to_tresor() {
  need a b plain
  esdk --encrypt --input "$work/plain" --output "$work/e.msg" \
    --wrapping-keys "key=$(cat "$work/a")" "key=$(cat "$work/b")" --encryption-context purpose=interop tenant=acme
  for k in a b; do
    tresor decrypt --key "$(cat "$work/$k")" --context purpose=interop "$work/e.msg" "$work/e.$k.out"
    same "$work/plain" "$work/e.$k.out"
  done
}

check_unsigned_suite_and_frames() {
  need a plain8k
  tresor encrypt --key "$(cat "$work/a")" --algorithm AES_256_GCM_HKDF_SHA512_COMMIT_KEY \
    --frame-length 1024 "$work/plain8k" "$work/u.msg"
  esdk --decrypt --input "$work/u.msg" --output "$work/u.out" --wrapping-keys "key=$(cat "$work/a")"
  same "$work/plain8k" "$work/u.out"
  esdk --encrypt --input "$work/plain8k" --output "$work/eu.msg" --wrapping-keys "key=$(cat "$work/a")" \
    --algorithm AES_256_GCM_HKDF_SHA512_COMMIT_KEY --frame-length 4096
  tresor decrypt --key "$(cat "$work/a")" "$work/eu.msg" "$work/eu.out"
  same "$work/plain8k" "$work/eu.out"
}

check_stdin_stdout() {
  need a plain8k
  tresor encrypt --key "$(cat "$work/a")" - - <"$work/plain8k" |
    esdk --decrypt --input - --output - --wrapping-keys "key=$(cat "$work/a")" >"$work/s.out"
  same "$work/plain8k" "$work/s.out"
  esdk --encrypt --input - --output - --wrapping-keys "key=$(cat "$work/a")" <"$work/plain8k" |
    tresor decrypt --key "$(cat "$work/a")" - - >"$work/s2.out"
  same "$work/plain8k" "$work/s2.out"
}

check_discovery() {
  need t.msg
  esdk --decrypt --input "$work/t.msg" --output "$work/d.out" --wrapping-keys discovery=true
  same "$work/plain" "$work/d.out"
  tresor decrypt --discovery "$work/e.msg" "$work/d3.out"
  same "$work/plain" "$work/d3.out"
}

# esdk_refuses OUT ARGS...: the ESDK CLI must not decrypt (it skips a message whose
# context lacks the required pairs with a warning, deletes OUT and still exits 0).
esdk_refuses() {
  local out=$1; shift
  if esdk "$@" >"$work/.refuse.log" 2>&1 && ! grep -q "did not match" "$work/.refuse.log"; then
    fail "aws-encryption-cli decrypted: $*"
  fi
  [[ ! -s $out ]] || fail "$out was written"
}

check_wrong_context() {
  need t.msg e.msg
  esdk_refuses "$work/w1.out" --decrypt --input "$work/t.msg" --output "$work/w1.out" \
    --wrapping-keys "key=$(cat "$work/a")" --encryption-context purpose=other
  must_fail "$work/w2.out" tresor decrypt --key "$(cat "$work/a")" --context purpose=other \
    "$work/e.msg" "$work/w2.out"
}

check_wrong_key() {
  need t.msg e.msg c
  must_fail "$work/k1.out" esdk --decrypt --input "$work/t.msg" --output "$work/k1.out" \
    --wrapping-keys "key=$(cat "$work/c")"
  must_fail "$work/k2.out" tresor decrypt --key "$(cat "$work/c")" "$work/e.msg" "$work/k2.out"
}

check_tampered() {
  need e.msg
  cp "$work/e.msg" "$work/x.msg"
  # Flip one byte in the middle of the body.
  local at=$(( $(wc -c <"$work/x.msg") / 2 ))
  printf '\x55' | dd of="$work/x.msg" bs=1 seek="$at" conv=notrunc status=none
  must_fail "$work/x.out" tresor decrypt --key "$(cat "$work/a")" "$work/x.msg" "$work/x.out"
}

echo "== $PART: $("$ESDK_CLI" --version 2>&1 | tail -n 1)"
run "setup: three keys" check_setup
run "tresor encrypt (2 keys, context) → aws-encryption-cli --decrypt with either key" check_tresor_to_esdk
run "aws-encryption-cli --encrypt (2 keys, context) → tresor decrypt with either key" check_esdk_to_tresor
run "suite 0x0478 and other frame lengths, both directions" check_unsigned_suite_and_frames
run "stdin/stdout pipes, both directions" check_stdin_stdout
run "discovery mode, both directions" check_discovery
run "a wrong encryption context fails, both directions" check_wrong_context
run "a key the message is not under fails, both directions" check_wrong_key
run "tresor decrypt refuses an ESDK message with a flipped byte" check_tampered

echo "$PART summary: passed=$passed failed=$failed skipped=$skipped"
[[ $failed -eq 0 && $skipped -eq 0 ]]
