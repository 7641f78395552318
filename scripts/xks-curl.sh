#!/usr/bin/env bash
# Drives a running XKS proxy (Tresor's `serve --xks-listen`, or any other) with plain
# `curl --aws-sigv4 "aws:amz:REGION:kms-xks-proxy"`, the way the XKS specification's
# curl client and conformance tests do: the four calls, and the errors a proxy must give.
#
# Environment (all required unless noted):
#   XKS_URI                 base URI, e.g. https://xks.example.com/ks/prod/kms/xks/v1
#   XKS_ACCESS_KEY_ID       the proxy credential (`tresor admin xks-credential create`)
#   XKS_SECRET_ACCESS_KEY
#   XKS_KEY_ID              an external key id (a Tresor symmetric key id)
#   XKS_REGION              region to sign for (default us-east-1)
#   XKS_CACERT              CA file for an https proxy with a private CA (optional)
#   INTEROP_RESULTS         when set, results are appended there as interop.sh records them
#   INTEROP_PART            part name in those records (default xks)
#
# Prints one line per check; exits non-zero if any failed.
set -uo pipefail

: "${XKS_URI:?set XKS_URI}" "${XKS_ACCESS_KEY_ID:?}" "${XKS_SECRET_ACCESS_KEY:?}" "${XKS_KEY_ID:?}"
REGION=${XKS_REGION:-us-east-1}
PART=${INTEROP_PART:-xks}
PYTHON=${PYTHON:-python3}
TMP=$(mktemp -d "${TMPDIR:-/tmp}/xks-curl.XXXXXX")
trap 'rm -rf "$TMP"' EXIT
failures=0

record() { # record PASS|FAIL NAME [DETAIL]
  local verdict=$1 name=$2 detail=${3:-}
  printf '%s %s%s\n' "$verdict" "$name" "${detail:+: $detail}"
  [[ $verdict == PASS ]] || failures=$((failures + 1))
  if [[ -n ${INTEROP_RESULTS:-} ]]; then
    printf '%s\t%s\t%s\t%s\n' "$verdict" "$PART" "$name" "$detail" >>"$INTEROP_RESULTS"
  fi
}

tls=()
[[ -n ${XKS_CACERT:-} ]] && tls=(--cacert "$XKS_CACERT")

# xks PATH BODY [USER] [SERVICE]: POST, signed; the body goes to $TMP/out, the status is printed.
xks() {
  local path=$1 body=$2 user=${3:-$XKS_ACCESS_KEY_ID:$XKS_SECRET_ACCESS_KEY} service=${4:-kms-xks-proxy}
  printf '%s' "$body" >"$TMP/in.json"
  curl -sS "${tls[@]}" --aws-sigv4 "aws:amz:$REGION:$service" --user "$user" \
    -X POST -H 'Content-Type: application/json' --data-binary @"$TMP/in.json" \
    -o "$TMP/out" -w '%{http_code}' "$XKS_URI$path"
}

# field NAME: a member of the last answer (empty if absent).
field() {
  "$PYTHON" -c 'import json,sys
try: v = json.load(open(sys.argv[1])).get(sys.argv[2], "")
except Exception: v = ""
print(v if isinstance(v, str) else json.dumps(v))' "$TMP/out" "$1"
}

# expect NAME STATUS ERRORNAME: the last call answered STATUS with errorName ERRORNAME.
expect() {
  local name=$1 want=$2 want_error=$3 got=$4
  local err
  err=$(field errorName)
  if [[ $got == "$want" && $err == "$want_error" ]]; then
    record PASS "$name"
  else
    record FAIL "$name" "wanted $want $want_error, got $got ${err:-$(head -c 200 "$TMP/out")}"
  fi
}

meta() { # meta OPERATION
  printf '{"awsPrincipalArn":"arn:aws:iam::123456789012:user/Alice","kmsKeyArn":"arn:aws:kms:%s:123456789012:key/example","kmsOperation":"%s","kmsRequestId":"curl-%s-%s","kmsViaService":"ebs"}' \
    "$REGION" "$1" "$1" "$$"
}

key="/keys/$XKS_KEY_ID"

# --- GetHealthStatus
code=$(xks /health '{"requestMetadata":{"kmsOperation":"KmsHealthCheck","kmsRequestId":"curl-health"}}')
if [[ $code == 200 && $(field xksProxyFleetSize) -ge 1 && $(field ekmFleetDetails) == *ACTIVE* ]]; then
  record PASS "GetHealthStatus answers ACTIVE"
else
  record FAIL "GetHealthStatus answers ACTIVE" "$code $(head -c 300 "$TMP/out")"
fi

# --- GetKeyMetadata
code=$(xks "$key/metadata" "{\"requestMetadata\":$(meta CreateKey)}")
if [[ $code == 200 && $(field keySpec) == AES_256 && $(field keyUsage) == *ENCRYPT*DECRYPT* && $(field keyStatus) == ENABLED ]]; then
  record PASS "GetKeyMetadata: AES_256, ENCRYPT and DECRYPT, ENABLED"
else
  record FAIL "GetKeyMetadata: AES_256, ENCRYPT and DECRYPT, ENABLED" "$code $(head -c 300 "$TMP/out")"
fi

# --- Encrypt then Decrypt, with AAD and the integrity value (the specification's example)
plaintext=SGVsbG8gV29ybGQh # "Hello World!"
aad=cHJvamVjdD1uaWxlLGRlcGFydG1lbnQ9bWFya2V0aW5n
code=$(xks "$key/encrypt" "{\"requestMetadata\":$(meta Encrypt),\"plaintext\":\"$plaintext\",\"additionalAuthenticatedData\":\"$aad\",\"encryptionAlgorithm\":\"AES_GCM\",\"ciphertextDataIntegrityValueAlgorithm\":\"SHA_256\"}")
ct=$(field ciphertext) iv=$(field initializationVector) tag=$(field authenticationTag)
md=$(field ciphertextMetadata) cdiv=$(field ciphertextDataIntegrityValue)
want_cdiv=$("$PYTHON" -c 'import base64,hashlib,sys
d=lambda s: base64.b64decode(s)
print(base64.b64encode(hashlib.sha256(b"".join(d(x) for x in sys.argv[1:])).digest()).decode())' "$aad" "$md" "$iv" "$ct" "$tag" 2>/dev/null)
if [[ $code == 200 && -n $ct && -n $iv && -n $tag && $cdiv == "$want_cdiv" ]]; then
  record PASS "Encrypt returns ciphertext, IV, tag and a correct integrity value"
else
  record FAIL "Encrypt returns ciphertext, IV, tag and a correct integrity value" "$code $(head -c 300 "$TMP/out")"
fi
decrypt_body() { # decrypt_body CIPHERTEXT AAD
  printf '{"requestMetadata":%s,"ciphertext":"%s","ciphertextMetadata":"%s","initializationVector":"%s","authenticationTag":"%s","additionalAuthenticatedData":"%s","encryptionAlgorithm":"AES_GCM"}' \
    "$(meta Decrypt)" "$1" "$md" "$iv" "$tag" "$2"
}
code=$(xks "$key/decrypt" "$(decrypt_body "$ct" "$aad")")
if [[ $code == 200 && $(field plaintext) == "$plaintext" ]]; then
  record PASS "Decrypt returns the plaintext"
else
  record FAIL "Decrypt returns the plaintext" "$code $(head -c 300 "$TMP/out")"
fi

# --- what a proxy must refuse
code=$(xks "$key/decrypt" "$(decrypt_body "$ct" "b3RoZXI=")")
expect "Decrypt with other AAD: 400 InvalidCiphertextException" 400 InvalidCiphertextException "$code"
flipped=$("$PYTHON" -c 'import base64,sys
b=bytearray(base64.b64decode(sys.argv[1])); b[0]^=1; print(base64.b64encode(b).decode())' "$ct")
code=$(xks "$key/decrypt" "$(decrypt_body "$flipped" "$aad")")
expect "Decrypt of a changed ciphertext: 400 InvalidCiphertextException" 400 InvalidCiphertextException "$code"
code=$(xks "$key/metadata" "{\"requestMetadata\":$(meta DescribeKey)}" "$XKS_ACCESS_KEY_ID:wrong-secret-wrong-secret-wrong-secret-wrong")
expect "wrong secret: 401 AuthenticationFailedException" 401 AuthenticationFailedException "$code"
code=$(xks "$key/metadata" "{\"requestMetadata\":$(meta DescribeKey)}" "$XKS_ACCESS_KEY_ID:$XKS_SECRET_ACCESS_KEY" kms)
expect "signed for service kms: 401 AuthenticationFailedException" 401 AuthenticationFailedException "$code"
code=$(curl -sS "${tls[@]}" -X POST -H 'Content-Type: application/json' --data '{}' -o "$TMP/out" -w '%{http_code}' "$XKS_URI/health")
expect "unsigned: 401 AuthenticationFailedException" 401 AuthenticationFailedException "$code"
code=$(xks "/keys/no-such-key-0000/metadata" "{\"requestMetadata\":$(meta DescribeKey)}")
expect "unknown key: 404 KeyNotFoundException" 404 KeyNotFoundException "$code"
code=$(xks "/keys/$XKS_KEY_ID/rotate" "{\"requestMetadata\":$(meta Encrypt)}")
expect "unknown path: 404 InvalidUriPathException" 404 InvalidUriPathException "$code"
code=$(xks "$key/encrypt" "{\"requestMetadata\":$(meta Encrypt),\"plaintext\":\"$plaintext\",\"encryptionAlgorithm\":\"AES_CBC\"}")
expect "another algorithm: 400 ValidationException" 400 ValidationException "$code"
code=$(xks "$key/encrypt" "{\"plaintext\":\"$plaintext\",\"encryptionAlgorithm\":\"AES_GCM\"}")
expect "no requestMetadata: 400 ValidationException" 400 ValidationException "$code"
code=$(curl -sS "${tls[@]}" -o "$TMP/out" -w '%{http_code}' "$XKS_URI$key/encrypt")
if [[ $code == 405 ]]; then
  record PASS "GET: 405"
else
  record FAIL "GET: 405" "got $code"
fi

[[ $failures -eq 0 ]]
