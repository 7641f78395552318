#!/usr/bin/env bash
# aws CLI (v1) interop checks against a running Tresor server.
#
# Needs TRESOR_ENDPOINT (http://127.0.0.1:PORT), the dev credentials and
# AWS_DEFAULT_REGION in the environment; AWS_BIN names the aws executable
# (default: aws on PATH). Results are appended to INTEROP_RESULTS (if set)
# as STATUS<TAB>cli<TAB>name<TAB>detail lines, like the Python parts.
set -euo pipefail

: "${TRESOR_ENDPOINT:?TRESOR_ENDPOINT must be set}"
AWS_BIN=${AWS_BIN:-aws}
RESULTS=${INTEROP_RESULTS:-/dev/null}
# The part name in the results (the TLS run reports as cli-tls).
PART=${INTEROP_PART:-cli}
RUN_ID=$(head -c 5 /dev/urandom | od -An -tx1 | tr -d ' \n')
ALIAS="alias/interop-cli-$RUN_ID"
CONTEXT="purpose=cli-interop,run=$RUN_ID"
ACCOUNT=111122223333
REGION=${AWS_DEFAULT_REGION:-us-east-1}

work=$(mktemp -d "${TMPDIR:-/tmp}/tresor-cli.XXXXXX")
trap 'rm -rf "$work"' EXIT

passed=0 failed=0 skipped=0

kms() { "$AWS_BIN" --endpoint-url "$TRESOR_ENDPOINT" kms "$@"; }

# fail MESSAGE: print to stderr and stop the current check (which runs in a subshell).
fail() { echo "$*" >&2; exit 1; }

# need FILE...: skip the check when an earlier check did not leave its state behind.
need() {
  local f
  for f in "$@"; do
    [[ -s "$work/$f" ]] || { echo "needs $f from an earlier failed check" >&2; exit 77; }
  done
}

one_line() { tr '\t\n' '  ' | sed -e 's/  */ /g' -e 's/^ //' -e 's/ $//' | cut -c1-400; }

# run NAME FUNCTION: run one check in a subshell with errexit really on.
run() {
  local name=$1 fn=$2 rc detail
  set +e
  (set -euo pipefail; "$fn") >"$work/.log" 2>&1
  rc=$?
  set -e
  detail=$(one_line <"$work/.log")
  if [[ $rc -eq 0 ]]; then
    passed=$((passed + 1))
    echo "  ok   $name"
    printf 'PASS\t%s\t%s\t\n' "$PART" "$name" >>"$RESULTS"
  elif [[ $rc -eq 77 ]]; then
    skipped=$((skipped + 1))
    echo "  SKIP $name ($detail)"
    printf 'SKIP\t%s\t%s\t%s\n' "$PART" "$name" "$detail" >>"$RESULTS"
  else
    failed=$((failed + 1))
    echo "  FAIL $name: ${detail:-exit code $rc}"
    printf 'FAIL\t%s\t%s\t%s\n' "$PART" "$name" "${detail:-exit code $rc}" >>"$RESULTS"
  fi
}

check_create_key() {
  kms create-key --description "cli interop $RUN_ID" --tags TagKey=project,TagValue=tresor \
    --query 'KeyMetadata.[KeyId,Arn,KeyState,Description]' --output text >"$work/create.txt"
  local id arn state desc
  IFS=$'\t' read -r id arn state desc <"$work/create.txt"
  [[ $id =~ ^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$ ]] || fail "KeyMetadata.KeyId is not a bare key id: '$id'"
  [[ $arn == "arn:aws:kms:$REGION:$ACCOUNT:key/$id" ]] || fail "KeyMetadata.Arn '$arn' != arn:aws:kms:$REGION:$ACCOUNT:key/$id"
  [[ $state == Enabled ]] || fail "KeyState '$state' != Enabled"
  [[ $desc == "cli interop $RUN_ID" ]] || fail "Description '$desc'"
  echo "$id" >"$work/key_id"
  echo "$arn" >"$work/key_arn"
}

check_create_alias() {
  need key_id
  kms create-alias --alias-name "$ALIAS" --target-key-id "$(cat "$work/key_id")"
  echo "$ALIAS" >"$work/alias"
}

check_encrypt() {
  need alias
  head -c 3000 /dev/urandom >"$work/plain.bin"
  kms encrypt --key-id "$ALIAS" --plaintext "fileb://$work/plain.bin" --encryption-context "$CONTEXT" \
    --query CiphertextBlob --output text | base64 -d >"$work/cipher.bin"
  [[ -s "$work/cipher.bin" ]] || fail "empty ciphertext"
  local n
  n=$(wc -c <"$work/cipher.bin")
  ((n > 3000)) || fail "ciphertext ($n bytes) shorter than the plaintext"
}

check_decrypt() {
  need cipher.bin key_arn
  kms decrypt --ciphertext-blob "fileb://$work/cipher.bin" --encryption-context "$CONTEXT" \
    --query Plaintext --output text | base64 -d >"$work/decrypted.bin"
  cmp -s "$work/plain.bin" "$work/decrypted.bin" || fail "decrypted bytes differ from the original"
  local key
  key=$(kms decrypt --ciphertext-blob "fileb://$work/cipher.bin" --encryption-context "$CONTEXT" --query KeyId --output text)
  [[ $key == "$(cat "$work/key_arn")" ]] || fail "Decrypt KeyId '$key' != key ARN $(cat "$work/key_arn")"
}

check_decrypt_wrong_context() {
  need cipher.bin
  local rc=0
  kms decrypt --ciphertext-blob "fileb://$work/cipher.bin" --encryption-context purpose=wrong \
    >"$work/out.txt" 2>"$work/err.txt" || rc=$?
  [[ $rc -ne 0 ]] || fail "decrypt with a wrong encryption context succeeded"
  grep -q InvalidCiphertextException "$work/err.txt" || fail "stderr does not mention InvalidCiphertextException: $(cat "$work/err.txt")"
}

check_list_keys() {
  need key_id key_arn
  local arn
  arn=$(kms list-keys --query "Keys[?KeyId=='$(cat "$work/key_id")'].KeyArn" --output text)
  [[ $arn == "$(cat "$work/key_arn")" ]] || fail "list-keys entry for the key: '$arn'"
}

check_list_aliases() {
  need alias key_id
  local out
  out=$(kms list-aliases --query "Aliases[?AliasName=='$ALIAS'].[TargetKeyId,AliasArn]" --output text)
  [[ $out == "$(cat "$work/key_id")"$'\t'"arn:aws:kms:$REGION:$ACCOUNT:$ALIAS" ]] \
    || fail "list-aliases entry: '$out', expected '$(cat "$work/key_id") arn:aws:kms:$REGION:$ACCOUNT:$ALIAS'"
}

check_describe_alias() {
  need alias key_arn
  local arn
  arn=$(kms describe-key --key-id "$ALIAS" --query KeyMetadata.Arn --output text)
  [[ $arn == "$(cat "$work/key_arn")" ]] || fail "describe-key $ALIAS gave '$arn'"
}

check_generate_random() {
  local n
  n=$(kms generate-random --number-of-bytes 48 --query Plaintext --output text | base64 -d | wc -c)
  [[ $n -eq 48 ]] || fail "generate-random 48 gave $n bytes"
}

check_describe_unknown() {
  local rc=0 unknown
  unknown=$(cat /proc/sys/kernel/random/uuid)
  kms describe-key --key-id "$unknown" >"$work/out.txt" 2>"$work/err.txt" || rc=$?
  [[ $rc -ne 0 ]] || fail "describe-key of an unknown key succeeded: $(cat "$work/out.txt")"
  grep -q NotFoundException "$work/err.txt" || fail "stderr does not mention NotFoundException: $(cat "$work/err.txt")"
}

check_sts_get_caller_identity() {
  local arn
  arn=$("$AWS_BIN" --endpoint-url "$TRESOR_ENDPOINT" sts get-caller-identity --query Arn --output text)
  [[ $arn == "arn:aws:iam::$ACCOUNT:root" ]] || fail "sts get-caller-identity gave '$arn'"
}

echo "== $PART: $("$AWS_BIN" --version 2>&1)"
run "create-key" check_create_key
run "create-alias" check_create_alias
run "encrypt --plaintext fileb:// by alias" check_encrypt
run "decrypt --ciphertext-blob fileb:// matches the original" check_decrypt
run "decrypt with a wrong encryption context fails (InvalidCiphertextException)" check_decrypt_wrong_context
run "list-keys contains the key" check_list_keys
run "list-aliases contains the alias" check_list_aliases
run "describe-key --key-id alias/..." check_describe_alias
run "generate-random" check_generate_random
run "describe-key of an unknown key fails with NotFoundException" check_describe_unknown
run "sts get-caller-identity on the same endpoint" check_sts_get_caller_identity

echo "$PART summary: passed=$passed failed=$failed skipped=$skipped"
[[ $failed -eq 0 && $skipped -eq 0 ]]
