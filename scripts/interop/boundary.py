"""Boundary test generated from the botocore KMS model (service-2.json).

For every operation Tresor implements, hand-signed raw requests (botocore's SigV4Auth
over bodies we write byte for byte) with: every member at its min/max length or value
and one past, wrong JSON types for each member, missing required members, unknown enum
values, a JSON array or scalar instead of an object, non-JSON and an empty body.

Asserted for every case: an HTTP answer (no dropped connection), never 5xx, and for an
error a JSON body with an AWS-style ``__type``. Invalid cases must be a 4xx whose
``__type`` is ValidationException, SerializationException or one of the operation's
documented errors; valid boundary values must be accepted (200) or answered with a
documented domain error (NotFoundException for a random key id, ...). The few valid-by-
the-model values that AWS itself refuses by a rule the model cannot express are listed in
``SEMANTIC_RULES`` with the rule.

Run by scripts/interop.sh (part ``boundary``) or alone with TRESOR_ENDPOINT set.
Prints a summary: operations, cases, failures. BOUNDARY_VERBOSE=1 prints every failure
in full; BOUNDARY_ONLY=Op1,Op2 limits the operations.
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import re
import sys
import time
import urllib.parse
import uuid
from typing import Any, Dict, Iterator, List, Optional, Tuple

import botocore.loaders
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from interop_common import DEV_ACCOUNT, DEV_REGION, Runner, endpoint

ACCESS_KEY = os.environ.get("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE")
SECRET_KEY = os.environ.get("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
ROOT_ARN = f"arn:aws:iam::{DEV_ACCOUNT}:root"
# Lists and strings longer than this are not generated at their maximum (the body limit
# is 1 MiB; the model's largest members are far below).
MAX_GENERATED = 300_000
# Errors that are never an acceptable answer to a client's request.
NEVER = {"KMSInternalException", "DependencyTimeoutException"}

# (operation, member, case) -> the rule by which AWS refuses (ValidationException) a value
# the model allows; "*" matches every case of the member.
SEMANTIC_RULES = {
    ("ScheduleKeyDeletion", "PendingWindowInDays", "min"): "the waiting period is 7-30 days",
    ("ScheduleKeyDeletion", "PendingWindowInDays", "max"): "the waiting period is 7-30 days",
    ("EnableKeyRotation", "RotationPeriodInDays", "min"): "the rotation period is 90-2560 days",
    ("EnableKeyRotation", "RotationPeriodInDays", "max"): "the rotation period is 90-2560 days",
    ("CreateAlias", "AliasName", "min"): "an alias name begins with alias/",
    ("UpdateAlias", "AliasName", "min"): "an alias name begins with alias/",
    ("DeleteAlias", "AliasName", "min"): "an alias name begins with alias/",
    ("CreateKey", "Origin", "enum AWS_CLOUDHSM"): "this origin needs a CustomKeyStoreId",
    ("CreateKey", "Origin", "enum EXTERNAL_KEY_STORE"): "this origin needs a CustomKeyStoreId",
    ("CreateKey", "XksKeyId", "*"): "XksKeyId needs the CustomKeyStoreId of an external key store",
    ("CreateCustomKeyStore", "CustomKeyStoreType", "enum EXTERNAL_KEY_STORE"): "the base request carries the AWS_CLOUDHSM members",
    ("CreateCustomKeyStore", "XksProxyUriEndpoint", "*"): "XksProxy* members need CustomKeyStoreType EXTERNAL_KEY_STORE",
    ("CreateCustomKeyStore", "XksProxyUriPath", "*"): "XksProxy* members need CustomKeyStoreType EXTERNAL_KEY_STORE",
    ("CreateCustomKeyStore", "XksProxyVpcEndpointServiceName", "*"): "XksProxy* members need CustomKeyStoreType EXTERNAL_KEY_STORE",
    ("CreateCustomKeyStore", "XksProxyAuthenticationCredential", "*"): "XksProxy* members need CustomKeyStoreType EXTERNAL_KEY_STORE",
    ("CreateCustomKeyStore", "XksProxyConnectivity", "*"): "XksProxy* members need CustomKeyStoreType EXTERNAL_KEY_STORE",
    ("CreateCustomKeyStore", "XksProxyVpcEndpointServiceOwner", "*"): "XksProxy* members need CustomKeyStoreType EXTERNAL_KEY_STORE",
    ("ReplicateKey", "ReplicaRegion", "min"): "a Region name has the model's pattern, so at least 5 characters",
    ("UpdatePrimaryRegion", "PrimaryRegion", "min"): "a Region name has the model's pattern, so at least 5 characters",
    ("Decrypt", "", "empty body"): "CiphertextBlob is required (optional in the model only for Recipient)",
    ("GenerateRandom", "", "empty body"): "NumberOfBytes is required",
    ("ListRetirableGrants", "", "empty body"): "RetiringPrincipal is required",
    ("RetireGrant", "", "empty body"): "GrantToken, or KeyId and GrantId, identify the grant",
    ("DeriveSharedSecret", "PublicKey", "*"): "PublicKey must be a DER SubjectPublicKeyInfo",
    ("GetParametersForImport", "WrappingAlgorithm", "enum RSAES_PKCS1_V1_5"): "withdrawn by AWS",
    ("GetParametersForImport", "WrappingAlgorithm", "enum SM2PKE"): "China Regions only",
    ("GetParametersForImport", "WrappingKeySpec", "enum SM2"): "China Regions only",
    ("Sign", "MessageType", "enum EXTERNAL_MU"): "ML-DSA keys only",
    ("Verify", "MessageType", "enum EXTERNAL_MU"): "ML-DSA keys only",
    # AWS documents these page sizes below the model's 1000.
    ("ListAliases", "Limit", "max"): "Limit is 1-100",
    ("ListGrants", "Limit", "max"): "Limit is 1-100",
    ("ListRetirableGrants", "Limit", "max"): "Limit is 1-100",
    ("ListResourceTags", "Limit", "max"): "Limit is 1-50",
}

# Errors an operation may answer beyond its documented list, by the member that causes them.
MEMBER_ERRORS = {
    "GrantTokens": "InvalidGrantTokenException",  # generated tokens are not real ones
    "Marker": "InvalidMarkerException",  # generated markers were not issued
}
# Members Tresor refuses when present and well-formed (documented in the operator guide).
TRESOR_UNSUPPORTED = {"Recipient", "GranteeServicePrincipal", "RetiringServicePrincipal"}

# Members a value needs beside it to be valid at all (None: leave the member out).
USAGE_FOR_SPEC = [
    ("RSA_", "ENCRYPT_DECRYPT"),
    ("HMAC_", "GENERATE_VERIFY_MAC"),
    ("ML_KEM_", "ENCAPSULATE_DECAPSULATE"),
    ("", "SIGN_VERIFY"),
]
SPEC_FOR_USAGE = {
    "SIGN_VERIFY": "ECC_NIST_P256",
    "GENERATE_VERIFY_MAC": "HMAC_256",
    "KEY_AGREEMENT": "ECC_NIST_P256",
    "ENCAPSULATE_DECAPSULATE": "ML_KEM_768",
    "ENCRYPT_DECRYPT": "SYMMETRIC_DEFAULT",
}


def companions(op: str, member: str, value: Any) -> Dict[str, Any]:
    if op == "CreateKey" and member in ("KeySpec", "CustomerMasterKeySpec") and value != "SYMMETRIC_DEFAULT":
        usage = next(u for prefix, u in USAGE_FOR_SPEC if str(value).startswith(prefix))
        return {"KeyUsage": usage}
    if op == "CreateKey" and member == "KeyUsage" and value in SPEC_FOR_USAGE:
        return {"KeySpec": SPEC_FOR_USAGE[value]}
    if op.startswith("GenerateDataKey") and member == "NumberOfBytes":
        return {"KeySpec": None}
    if op == "ImportKeyMaterial" and member == "ExpirationModel" and value == "KEY_MATERIAL_EXPIRES":
        return {"ValidTo": int(time.time()) + 30 * 86400}
    if op in ("Sign", "Verify") and member == "MessageType" and value == "DIGEST":
        return {"Message": b64(b"\x07" * 32)}
    return {}


class Model:
    def __init__(self) -> None:
        m = botocore.loaders.Loader().load_service_model("kms", "service-2")
        self.ops: Dict[str, Any] = m["operations"]
        self.shapes: Dict[str, Any] = m["shapes"]

    def input(self, op: str) -> Dict[str, Any]:
        ref = self.ops[op].get("input")
        return self.shapes[ref["shape"]] if ref else {"type": "structure", "members": {}}

    def errors(self, op: str) -> set:
        return {e["shape"] for e in self.ops[op].get("errors", [])} - NEVER


# ------------------------------------------------------------------ wire


class Answer:
    def __init__(self, status: int, body: bytes) -> None:
        self.status = status
        self.body = body
        try:
            self.json = json.loads(body) if body else None
        except ValueError:
            self.json = None

    @property
    def type(self) -> Optional[str]:
        if isinstance(self.json, dict):
            t = self.json.get("__type")
            return t.split("#")[-1] if isinstance(t, str) else None
        return None

    def short(self) -> str:
        text = self.body[:200].decode("utf-8", "replace")
        return f"HTTP {self.status} {text}"


class Client:
    def __init__(self, url: str) -> None:
        self.url = url
        parsed = urllib.parse.urlparse(url)
        self.host = parsed.hostname or "127.0.0.1"
        self.port = parsed.port or 80
        self.auth = SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "kms", DEV_REGION)
        self.conn: Optional[http.client.HTTPConnection] = None

    def send(self, op: str, body: bytes) -> Answer:
        """One signed request; raises ConnectionError when the server drops it."""
        req = AWSRequest(
            method="POST",
            url=self.url + "/",
            data=body,
            headers={
                "X-Amz-Target": f"TrentService.{op}",
                "Content-Type": "application/x-amz-json-1.1",
            },
        )
        self.auth.add_auth(req)
        headers = {k: v for k, v in req.headers.items()}
        for attempt in (0, 1):
            if self.conn is None:
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
            try:
                self.conn.request("POST", "/", body=body, headers=headers)
                resp = self.conn.getresponse()
                data = resp.read()
                if resp.getheader("connection", "").lower() == "close":
                    self.close()
                return Answer(resp.status, data)
            except (http.client.HTTPException, OSError) as exc:
                self.close()
                # A kept-alive connection the server closed while idle is no failure.
                if attempt == 1 or not isinstance(exc, (http.client.RemoteDisconnected, BrokenPipeError)):
                    raise ConnectionError(f"{op}: connection dropped: {exc!r}") from exc
        raise ConnectionError(f"{op}: connection dropped")

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def call(self, op: str, params: Dict[str, Any]) -> Dict[str, Any]:
        a = self.send(op, json.dumps(params).encode())
        if a.status != 200 or not isinstance(a.json, dict):
            raise AssertionError(f"setup {op} failed: {a.short()}")
        return a.json


# ------------------------------------------------------------------ fixtures

KEY_SPECS = {
    "symmetric": {},
    "rsa-encrypt": {"KeySpec": "RSA_2048", "KeyUsage": "ENCRYPT_DECRYPT"},
    "ecc-sign": {"KeySpec": "ECC_NIST_P256", "KeyUsage": "SIGN_VERIFY"},
    "hmac": {"KeySpec": "HMAC_256", "KeyUsage": "GENERATE_VERIFY_MAC"},
    "agreement": {"KeySpec": "ECC_NIST_P256", "KeyUsage": "KEY_AGREEMENT"},
    "ml-kem": {"KeySpec": "ML_KEM_768", "KeyUsage": "ENCAPSULATE_DECAPSULATE"},
    "external": {"Origin": "EXTERNAL"},
}

# The kind of key an operation's KeyId should name.
KEY_KIND = {
    "Sign": "ecc-sign",
    "Verify": "ecc-sign",
    "GetPublicKey": "ecc-sign",
    "GenerateMac": "hmac",
    "VerifyMac": "hmac",
    "DeriveSharedSecret": "agreement",
    "Encapsulate": "ml-kem",
    "Decapsulate": "ml-kem",
    "GetParametersForImport": "external",
    "ImportKeyMaterial": "external",
    "DeleteImportedKeyMaterial": "external",
}


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


class Fixtures:
    """A fresh key per operation (state changes stay local) and real blobs."""

    def __init__(self, client: Client) -> None:
        self.client = client
        self.peer_public_key: Optional[str] = None
        self.ml_kem_ciphertext: Optional[str] = None

    def key(self, kind: str) -> str:
        out = self.client.call("CreateKey", dict(KEY_SPECS[kind], Description=f"boundary {kind}"))
        return out["KeyMetadata"]["KeyId"]

    def base(self, op: str, key_id: str) -> Dict[str, Any]:
        """Known-good values for members whose meaning the model does not carry."""
        c = self.client
        if op in ("Decrypt", "ReEncrypt"):
            blob = c.call("Encrypt", {"KeyId": key_id, "Plaintext": b64(b"boundary")})["CiphertextBlob"]
            extra = {"DestinationKeyId": key_id} if op == "ReEncrypt" else {}
            return {"CiphertextBlob": blob, **extra}
        if op == "DeriveSharedSecret":
            if self.peer_public_key is None:
                peer = self.key("agreement")
                self.peer_public_key = c.call("GetPublicKey", {"KeyId": peer})["PublicKey"]
            return {"KeyAgreementAlgorithm": "ECDH", "PublicKey": self.peer_public_key}
        if op == "Decapsulate":
            enc = c.call("Encapsulate", {"KeyId": key_id, "EncapsulationAlgorithm": "ML_KEM"})
            return {"EncapsulationAlgorithm": "ML_KEM", "SharedSecretCiphertextBlob": enc["SharedSecretCiphertextBlob"]}
        if op == "ImportKeyMaterial":
            p = c.call(
                "GetParametersForImport",
                {"KeyId": key_id, "WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"},
            )
            return {
                "ImportToken": p["ImportToken"],
                "EncryptedKeyMaterial": b64(b"\x01" * 256),
                "ExpirationModel": "KEY_MATERIAL_DOES_NOT_EXPIRE",
            }
        table: Dict[str, Dict[str, Any]] = {
            "Sign": {"Message": b64(b"hi"), "SigningAlgorithm": "ECDSA_SHA_256"},
            "Verify": {"Message": b64(b"hi"), "SigningAlgorithm": "ECDSA_SHA_256", "Signature": b64(b"\x30" * 8)},
            "GenerateMac": {"Message": b64(b"hi"), "MacAlgorithm": "HMAC_SHA_256"},
            "VerifyMac": {"Message": b64(b"hi"), "MacAlgorithm": "HMAC_SHA_256", "Mac": b64(b"\x00" * 32)},
            "Encapsulate": {"EncapsulationAlgorithm": "ML_KEM"},
            "GenerateDataKey": {"KeySpec": "AES_256"},
            "GenerateDataKeyWithoutPlaintext": {"KeySpec": "AES_256"},
            "GenerateDataKeyPair": {"KeyPairSpec": "ECC_NIST_P256"},
            "GenerateDataKeyPairWithoutPlaintext": {"KeyPairSpec": "ECC_NIST_P256"},
            "GetParametersForImport": {"WrappingAlgorithm": "RSAES_OAEP_SHA_256", "WrappingKeySpec": "RSA_2048"},
            "CreateGrant": {"GranteePrincipal": ROOT_ARN, "Operations": ["Encrypt"]},
            "RevokeGrant": {"GrantId": "0" * 64},
            "RetireGrant": {"KeyId": key_id, "GrantId": "0" * 64},
            "CreateAlias": {"AliasName": f"alias/b-{uuid.uuid4().hex[:8]}", "TargetKeyId": key_id},
            "UpdateAlias": {"AliasName": f"alias/u-{uuid.uuid4().hex[:8]}", "TargetKeyId": key_id},
            "DeleteAlias": {"AliasName": "alias/boundary-absent"},
            "PutKeyPolicy": {"PolicyName": "default", "Policy": default_policy()},
            "GetKeyPolicy": {"PolicyName": "default"},
            "TagResource": {"Tags": [{"TagKey": "k", "TagValue": "v"}]},
            "UntagResource": {"TagKeys": ["k"]},
            "ListRetirableGrants": {"RetiringPrincipal": ROOT_ARN},
            "CreateKey": {},
            "Encrypt": {"Plaintext": b64(b"boundary")},
            "GenerateRandom": {"NumberOfBytes": 32},
            # No HSM cluster is declared: CloudHsmClusterNotFoundException after validation.
            "CreateCustomKeyStore": {
                "CustomKeyStoreName": f"b-{uuid.uuid4().hex[:8]}",
                "CloudHsmClusterId": "cluster-abcdefgh234",
                "TrustAnchorCertificate": "not checked before the cluster",
                "KeyStorePassword": "boundary-pin",
            },
        }
        if op == "UpdateAlias":
            c.call("CreateAlias", table[op])
        return dict(table.get(op, {}))


def default_policy() -> str:
    return json.dumps(
        {
            "Version": "2012-10-17",
            "Statement": [
                {"Sid": "root", "Effect": "Allow", "Principal": {"AWS": ROOT_ARN}, "Action": "kms:*", "Resource": "*"}
            ],
        }
    )


# ------------------------------------------------------------------ case generation


class Case:
    def __init__(self, name: str, body: bytes, valid: bool, rule: Optional[str] = None) -> None:
        self.name = name
        self.body = body
        self.valid = valid
        self.rule = rule
        self.member = ""


def fill(n: int, shape: Dict[str, Any], member: str) -> str:
    """A string of exactly n characters matching the shape's pattern where we can."""
    if member == "AliasName" or member.endswith("AliasName"):
        prefix = "alias/"
    elif "Arn" in member or "Principal" in member:
        prefix = ROOT_ARN if n >= len(ROOT_ARN) else ""
        return (prefix + "a" * n)[:n] if prefix else "a" * n
    else:
        prefix = ""
    pattern = shape.get("pattern")
    if member.endswith("Region") and n >= 5:
        # RegionType: ^([a-z]+-){2,3}\d+$ ("eu-west-1"); shorter than 5 cannot match.
        return "a-" + "a" * (n - 4) + "-1"
    for filler in ("a", "1", "A", "-"):
        s = (prefix + filler * n)[:n] if n >= len(prefix) else filler * n
        if pattern is None or re.fullmatch(pattern.strip("^$"), s):
            return s
    return "a" * n


def has_pattern(shape: Dict[str, Any], value: str) -> bool:
    """True when `value` has the shape's pattern (or the shape has none)."""
    pattern = shape.get("pattern")
    if pattern is None:
        return True
    try:
        return re.search(pattern, value) is not None
    except re.error:
        return True


def good_value(model: Model, shape_name: str, member: str, depth: int = 0) -> Any:
    shape = model.shapes[shape_name]
    t = shape["type"]
    if t == "string":
        if "enum" in shape:
            return shape["enum"][0]
        if member.endswith("Region"):
            return "eu-west-1"
        return fill(max(shape.get("min", 1), 1 if member not in ("AliasName",) else 10), shape, member)
    if t == "blob":
        return b64(b"\x01" * max(shape.get("min", 1), 1))
    if t in ("integer", "long"):
        return max(shape.get("min", 1), 1)
    if t == "boolean":
        return False
    if t == "timestamp":
        return 4102444800  # 2100-01-01
    if t == "list":
        return [good_value(model, shape["member"]["shape"], member, depth + 1)] if depth < 3 else []
    if t == "map":
        return {"k": "v"}
    if t == "structure":
        s = shape
        return {
            k: good_value(model, model_member(s, k), k, depth + 1) for k in s.get("required", []) if depth < 3
        }
    return None


def model_member(shape: Dict[str, Any], name: str) -> str:
    return shape["members"][name]["shape"]


def wrong_types(model: Model, shape_name: str) -> List[Tuple[str, Any]]:
    t = model.shapes[shape_name]["type"]
    candidates = [
        ("string", "x"),
        ("number", 7),
        ("float", 1.5),
        ("bool", True),
        ("array", ["x"]),
        ("object", {"x": "y"}),
    ]
    keep = {
        "string": {"string"},
        "blob": {"string"},
        "integer": {"number"},
        "long": {"number"},
        "boolean": {"bool"},
        "timestamp": {"number", "float"},
        "list": {"array"},
        "map": {"object"},
        "structure": {"object"},
    }[t]
    return [(n, v) for n, v in candidates if n not in keep]


def boundary_values(model: Model, shape_name: str, member: str) -> Iterator[Tuple[str, Any, bool]]:
    """(case, value, valid per the model) for one member."""
    shape = model.shapes[shape_name]
    t = shape["type"]
    lo, hi = shape.get("min"), shape.get("max")
    if t == "string" and "enum" in shape:
        for v in shape["enum"]:
            yield (f"enum {v}", v, True)
        yield ("enum unknown", "NOT_A_REAL_VALUE", False)
        yield ("enum lowercase", shape["enum"][0].lower(), shape["enum"][0].lower() in shape["enum"])
        return
    if t == "string":
        # A length at the boundary is valid only if the value also has the model's pattern
        # (unanchored, as Smithy checks it); `fill` cannot always make one.
        if lo is not None:
            v = fill(lo, shape, member)
            yield ("min", v, has_pattern(shape, v))
            if lo > 0:
                yield ("min-1", fill(lo - 1, shape, member), False)
        if hi is not None and hi < MAX_GENERATED:
            v = fill(hi, shape, member)
            yield ("max", v, has_pattern(shape, v))
            yield ("max+1", fill(hi + 1, shape, member), False)
        return
    if t == "blob":
        if lo is not None:
            yield ("min", b64(b"\x01" * lo), True)
            if lo > 0:
                yield ("min-1", b64(b"\x01" * (lo - 1)), False)
        if hi is not None and hi < MAX_GENERATED:
            yield ("max", b64(b"\x01" * hi), True)
            yield ("max+1", b64(b"\x01" * (hi + 1)), False)
        yield ("not base64", "not*base64!", False)
        return
    if t in ("integer", "long"):
        if lo is not None:
            yield ("min", lo, True)
            yield ("min-1", lo - 1, False)
        if hi is not None:
            yield ("max", hi, True)
            yield ("max+1", hi + 1, False)
        yield ("huge", 2**70, False)
        return
    if t == "list":
        item = good_value(model, shape["member"]["shape"], member, 1)
        if lo is not None and lo > 0:
            yield ("min", [item] * lo, True)
            yield ("min-1", [item] * (lo - 1), False)
        if hi is not None and hi < 10_000:
            items = distinct_items(model, shape["member"]["shape"], member, hi + 1)
            yield ("max", items[:hi], True)
            yield ("max+1", items, False)
        return
    if t == "map":
        yield ("empty", {}, True)
        yield ("value not a string", {"k": 1}, False)
        return
    if t == "structure":
        s = shape
        yield ("minimal", good_value(model, shape_name, member), True)
        for req in s.get("required", []):
            v = good_value(model, shape_name, member)
            v.pop(req, None)
            yield (f"missing {req}", v, False)
        return


def distinct_items(model: Model, shape_name: str, member: str, n: int) -> List[Any]:
    shape = model.shapes[shape_name]
    if shape["type"] == "string" and "enum" in shape:
        return [shape["enum"][i % len(shape["enum"])] for i in range(n)]
    if shape["type"] == "string":
        width = max(shape.get("min", 1), len(str(n)) + 1)
        return [fill(width, shape, member)[: width - len(str(i))] + str(i) for i in range(n)]
    if shape["type"] == "structure" and member == "Tags":
        return [{"TagKey": f"k{i}", "TagValue": "v"} for i in range(n)]
    return [good_value(model, shape_name, member, 1) for _ in range(n)]


def cases_for(model: Model, op: str, base: Dict[str, Any]) -> Iterator[Case]:
    shape = model.input(op)
    members = shape.get("members", {})
    required = shape.get("required", [])
    dump = lambda d: json.dumps(d).encode()  # noqa: E731

    yield Case("base request", dump(base), True)
    for name, ref in members.items():
        for case, value, valid in boundary_values(model, ref["shape"], name):
            rule = SEMANTIC_RULES.get((op, name, case)) or SEMANTIC_RULES.get((op, name, "*"))
            body = {**base, name: value}
            for k, v in (companions(op, name, value) if valid else {}).items():
                if v is None:
                    body.pop(k, None)
                else:
                    body[k] = v
            c = Case(f"{name} {case}", dump(body), valid, rule)
            c.member = name
            yield c
        for tname, value in wrong_types(model, ref["shape"]):
            c = Case(f"{name} as {tname}", dump({**base, name: value}), False)
            c.member = name
            yield c
    for name in required:
        body = {k: v for k, v in base.items() if k != name}
        yield Case(f"missing required {name}", dump(body), False)
    yield Case("JSON array []", b"[]", False)
    yield Case("JSON array [32,null,null]", b"[32,null,null]", False)
    yield Case("JSON string", b'"KeyId"', False)
    yield Case("JSON null", b"null", False)
    yield Case("non-JSON", b"KeyId=alias/x", False)
    yield Case("truncated JSON", dump(base)[:-1] or b"{", False)
    yield Case("empty body", b"", not required, SEMANTIC_RULES.get((op, "", "empty body")))
    if base:
        first = next(iter(base))
        yield Case(f"duplicate member {first}", dump(base)[:-1] + f', "{first}": {json.dumps(base[first])}}}'.encode(), False)


# ------------------------------------------------------------------ checks


def judge(model: Model, op: str, case: Case, a: Answer) -> Optional[str]:
    """None when the answer is acceptable, else why not."""
    if a.status >= 500:
        return f"5xx: {a.short()}"
    if a.status != 200:
        if a.type is None:
            return f"error without an AWS __type: {a.short()}"
        if not 400 <= a.status < 500:
            return f"unexpected status: {a.short()}"
    documented = model.errors(op)
    members = model.input(op).get("members", {})
    documented |= {e for m, e in MEMBER_ERRORS.items() if m in members}
    if case.valid and case.member in TRESOR_UNSUPPORTED:
        documented = documented | {"UnsupportedOperationException"}
    if case.valid and case.rule is None:
        if a.status == 200 or a.type in documented:
            return None
        return f"valid value refused with {a.type}: {a.short()}"
    if case.valid:  # allowed by the model, refused by AWS's rule
        if a.status == 200 or a.type in documented | {"ValidationException"}:
            return None
        return f"expected ValidationException ({case.rule}): {a.short()}"
    if a.status == 200:
        return f"invalid request accepted: {a.short()}"
    if a.type in {"ValidationException", "SerializationException"} | documented:
        return None
    return f"invalid request answered with undocumented {a.type}: {a.short()}"


def implemented(client: Client, model: Model) -> List[str]:
    out = []
    only = {o for o in os.environ.get("BOUNDARY_ONLY", "").split(",") if o}
    for op in sorted(model.ops):
        if only and op not in only:
            continue
        a = client.send(op, b"{}")
        if a.type not in ("UnknownOperationException", "UnsupportedOperationException"):
            out.append(op)
    return out


def main() -> int:
    runner = Runner("boundary")
    model = Model()
    client = Client(endpoint())
    fixtures = Fixtures(client)
    ops = implemented(client, model)
    verbose = os.environ.get("BOUNDARY_VERBOSE") == "1"
    totals = {"operations": len(ops), "cases": 0, "failures": 0}

    for op in ops:

        @runner.step(f"{op}: every boundary case answered as documented")
        def check(state: Dict[str, Any], op: str = op) -> None:
            shape = model.input(op)
            names_key = {"KeyId", "TargetKeyId", "DestinationKeyId"} & set(shape.get("members", {}))
            key_id = fixtures.key(KEY_KIND.get(op, "symmetric")) if names_key else None
            base: Dict[str, Any] = {}
            for req in shape.get("required", []):
                base[req] = good_value(model, model_member(shape, req), req)
            if key_id:
                for m in ("KeyId", "TargetKeyId"):
                    if m in shape.get("members", {}) and (m in base or op in ("RetireGrant",)):
                        base[m] = key_id
            base.update(fixtures.base(op, key_id or ""))
            failures = []
            n = 0
            for case in cases_for(model, op, base):
                n += 1
                try:
                    a = client.send(op, case.body)
                except ConnectionError as exc:
                    failures.append(f"{case.name}: {exc}")
                    continue
                why = judge(model, op, case, a)
                if why:
                    failures.append(f"{case.name}: {why}")
            totals["cases"] += n
            totals["failures"] += len(failures)
            if verbose:
                for f in failures:
                    print(f"    {op} / {f}")
            assert not failures, f"{len(failures)} of {n} cases: " + " | ".join(failures[:6])

    rc = runner.run()
    client.close()
    print(
        f"[boundary] operations: {totals['operations']}, cases: {totals['cases']}, "
        f"failures: {totals['failures']}"
    )
    return rc


if __name__ == "__main__":
    sys.exit(main())
