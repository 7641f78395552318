#!/usr/bin/env python3
"""Writes docs/api-coverage.md: every operation of the KMS model with every request
and response member, and what Tresor does with it.

Usage:  scripts/model/api_coverage.py > docs/api-coverage.md

Reads the trimmed model (crates/tresor/tests/data/kms-model.json, written by
trim_kms_model.py). A member's status is derived from the model (a member with a
constraint or `required` is "validated", others "accepted"; response members
"returned") unless OVERRIDES below says otherwise. crates/tresor/tests/api_coverage.rs
checks the result against the model and the operation sources.
"""

from __future__ import annotations

import json
import os

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MODEL = os.path.join(ROOT, "crates", "tresor", "tests", "data", "kms-model.json")

NITRO = "unsupported: Recipient (Nitro Enclaves attestation) is refused with UnsupportedOperationException"
NOT_WITHOUT_RECIPIENT = "not returned: only with a Recipient, which Tresor refuses"
VPC = "unsupported: only with XksProxyConnectivity VPC_ENDPOINT_SERVICE, which is refused with UnsupportedOperationException (no VPC endpoint services outside AWS)"

# Operations not answered: every member gets the operation's status.
OPERATIONS: dict[str, str] = {}

# (operation, member) -> status, where the default does not hold.
OVERRIDES = {
    ("Decrypt", "Recipient"): NITRO,
    ("Decrypt", "CiphertextForRecipient"): NOT_WITHOUT_RECIPIENT,
    ("DeriveSharedSecret", "Recipient"): NITRO,
    ("DeriveSharedSecret", "CiphertextForRecipient"): NOT_WITHOUT_RECIPIENT,
    ("GenerateDataKey", "Recipient"): NITRO,
    ("GenerateDataKey", "CiphertextForRecipient"): NOT_WITHOUT_RECIPIENT,
    ("GenerateDataKeyPair", "Recipient"): NITRO,
    ("GenerateDataKeyPair", "CiphertextForRecipient"): NOT_WITHOUT_RECIPIENT,
    ("GenerateRandom", "Recipient"): NITRO,
    ("GenerateRandom", "CiphertextForRecipient"): NOT_WITHOUT_RECIPIENT,
    ("GenerateDataKeyPair", "KeyPairSpec"): "validated; SM2 (China Regions only) is refused with UnsupportedOperationException",
    ("GenerateDataKeyPairWithoutPlaintext", "KeyPairSpec"): "validated; SM2 (China Regions only) is refused with UnsupportedOperationException",
    ("CreateKey", "KeySpec"): "validated; SM2 (China Regions only) is refused with UnsupportedOperationException",
    ("CreateKey", "XksKeyId"): "validated; the proxy's GetKeyMetadata must show an enabled AES_256 ENCRYPT/DECRYPT key",
    ("CreateCustomKeyStore", "CustomKeyStoreType"): "validated; AWS_CLOUDHSM over PKCS#11, EXTERNAL_KEY_STORE over XKS",
    ("CreateCustomKeyStore", "XksProxyUriEndpoint"): "validated; https://, or http:// to a loopback host",
    ("CreateCustomKeyStore", "XksProxyConnectivity"): "validated; PUBLIC_ENDPOINT (VPC_ENDPOINT_SERVICE is refused with UnsupportedOperationException)",
    ("CreateCustomKeyStore", "XksProxyVpcEndpointServiceName"): VPC,
    ("CreateCustomKeyStore", "XksProxyAuthenticationCredential"): "validated; AccessKeyId 20-30 of A-Z2-7, RawSecretAccessKey 43-64 (never echoed); the secret is kept wrapped under the root key",
    ("UpdateCustomKeyStore", "XksProxyAuthenticationCredential"): "validated; AccessKeyId 20-30 of A-Z2-7, RawSecretAccessKey 43-64 (never echoed); the secret is kept wrapped under the root key",
    ("CreateCustomKeyStore", "XksProxyVpcEndpointServiceOwner"): VPC,
    ("UpdateCustomKeyStore", "XksProxyUriEndpoint"): "validated; https://, or http:// to a loopback host",
    ("UpdateCustomKeyStore", "XksProxyConnectivity"): "validated; PUBLIC_ENDPOINT (VPC_ENDPOINT_SERVICE is refused with UnsupportedOperationException)",
    ("UpdateCustomKeyStore", "XksProxyVpcEndpointServiceName"): VPC,
    ("UpdateCustomKeyStore", "XksProxyVpcEndpointServiceOwner"): VPC,
    ("CreateGrant", "GranteeServicePrincipal"): "validated; refused with UnsupportedOperationException (grants to AWS service principals)",
    ("CreateGrant", "RetiringServicePrincipal"): "validated; refused with UnsupportedOperationException (grants to AWS service principals)",
    ("ListGrants", "GranteeServicePrincipal"): "validated; refused with UnsupportedOperationException (grants to AWS service principals)",
    ("ListRetirableGrants", "RetiringServicePrincipal"): "validated; refused with UnsupportedOperationException (grants to AWS service principals)",
    ("ListRetirableGrants", "Grants"): "returned (the ListGrants response shape)",
    ("ListRetirableGrants", "NextMarker"): "returned (the ListGrants response shape)",
    ("ListRetirableGrants", "Truncated"): "returned (the ListGrants response shape)",
    ("ListKeyPolicies", "NextMarker"): "not returned: there is one policy (`default`), so the list is never truncated",
    ("GetKeyRotationStatus", "OnDemandRotationStartDate"): "not returned: on-demand rotations complete within the request",
}


def has_constraint(shapes: dict, member: dict) -> bool:
    shape = shapes.get(member["shape"], {})
    return any(k in shape for k in ("min", "max", "pattern", "enum"))


def rows(model: dict):
    shapes = model["shapes"]
    for op in sorted(model["operations"]):
        spec = model["operations"][op]
        op_status = OPERATIONS.get(op)
        for direction in ("input", "output"):
            if direction not in spec:
                continue
            shape = shapes[spec[direction]["shape"]]
            required = set(shape.get("required", []))
            for name, member in shape.get("members", {}).items():
                if op_status:
                    status = op_status
                elif (op, name) in OVERRIDES:
                    status = OVERRIDES[(op, name)]
                elif direction == "output":
                    status = "returned"
                elif name in required or has_constraint(shapes, member):
                    status = "validated"
                else:
                    status = "accepted"
                yield op, name, "request" if direction == "input" else "response", status


def main() -> None:
    with open(MODEL, encoding="utf-8") as f:
        model = json.load(f)
    out = []
    w = out.append
    w("# API coverage: the 56 operations of the AWS KMS model")
    w("")
    w("Generated by `scripts/model/api_coverage.py` from the botocore model vendored as")
    w("`crates/tresor/tests/data/kms-model.json` (botocore 1.44.8, the version the interop")
    w("tests pin). `cargo test -p tresor --test api_coverage` fails when the model has an")
    w("operation or member this page does not list, and when a member listed as handled is")
    w("not a field of the operation's request or response type.")
    w("")
    w("Member status:")
    w("")
    w("- **validated**: read, and checked against the model's constraints (length, range,")
    w("  pattern, enum, required) with AWS's `1 validation error detected: …` message, from")
    w("  the one table `scripts/model/gen_constraints.py` generates from this model")
    w("  (`crates/tresor-core/src/validate/model.rs`), before the operation runs;")
    w("- **accepted**: read; the model sets no constraint on it (booleans, maps, lists of")
    w("  structures checked member by member);")
    w("- **unsupported**: refused with `UnsupportedOperationException`, whose message names")
    w("  what is missing;")
    w("- **returned** / **not returned**: response members, with the reason when absent;")
    w("")
    w("## Operations")
    w("")
    w("| Operation | Status |")
    w("|---|---|")
    for op in sorted(model["operations"]):
        w(f"| {op} | {OPERATIONS.get(op, 'implemented')} |")
    w("")
    w("## Members")
    w("")
    w("| Operation | Member | In | Status |")
    w("|---|---|---|---|")
    for op, name, direction, status in rows(model):
        w(f"| {op} | {name} | {direction} | {status} |")
    print("\n".join(out))


if __name__ == "__main__":
    main()
