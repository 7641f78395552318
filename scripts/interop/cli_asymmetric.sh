#!/usr/bin/env bash
# aws CLI: sign with an ECC key and check the signature locally (Python cryptography).
set -euo pipefail
HERE="$(cd "$(dirname "$0")" && pwd)"
: "${TRESOR_ENDPOINT:?}" "${AWS_BIN:?}" "${PY:?}"
aws() { "$AWS_BIN" --endpoint-url "$TRESOR_ENDPOINT" --output text "$@"; }
record() { [[ -n "${INTEROP_RESULTS:-}" ]] && printf '%s\tcli-asymmetric\t%s\t%s\n' "$1" "$2" "${3:-}" >>"$INTEROP_RESULTS"; echo "  $1 $2"; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
echo "== cli-asymmetric: 1 checks"
key=$(aws kms create-key --key-spec ECC_NIST_P256 --key-usage SIGN_VERIFY --query KeyMetadata.KeyId)
printf 'signed by the aws CLI' >"$tmp/msg"
aws kms sign --key-id "$key" --message fileb://"$tmp/msg" --message-type RAW \
  --signing-algorithm ECDSA_SHA_256 --query Signature | base64 -d >"$tmp/sig"
aws kms get-public-key --key-id "$key" --query PublicKey | base64 -d >"$tmp/pub.der"
if "$PY" - "$tmp" <<'PYEOF'
import sys, pathlib
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
d = pathlib.Path(sys.argv[1])
pub = serialization.load_der_public_key((d / "pub.der").read_bytes())
pub.verify((d / "sig").read_bytes(), (d / "msg").read_bytes(), ec.ECDSA(hashes.SHA256()))
PYEOF
then record PASS "aws kms sign + get-public-key verify locally"
else record FAIL "aws kms sign + get-public-key verify locally" "local verification failed"; exit 1
fi
