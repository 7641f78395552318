#!/usr/bin/env python3
"""boto3 interop checks of ED25519_PH_SHA_512, ML-DSA with MessageType EXTERNAL_MU and
GenerateDataKeyPair for ML-KEM, each against an implementation other than Tresor's:

- Ed25519ph (RFC 8032 §5.1, empty context): verified here with the RFC's own reference
  arithmetic (the ``cryptography`` package has no Ed25519ph), after checking that
  arithmetic against the RFC 8032 §7.3 test vector;
- ML-DSA: μ is computed here (FIPS 204 §6.2: SHAKE256(SHAKE256(pk, 64) ‖ 0 ‖ 0 ‖ M, 64)),
  Tresor signs μ, and ``cryptography`` verifies the signature over M (and the other way
  round: Tresor's RAW signature verifies with EXTERNAL_MU);
- ML-KEM data key pairs: ``cryptography`` loads the seed-only PKCS#8, re-encodes it to
  the same bytes, derives the same public key, and decapsulates what it encapsulated.

Needs TRESOR_ENDPOINT and the dev credentials (scripts/interop.sh sets both).
"""

from __future__ import annotations

import hashlib
import os
import sys
import uuid

import boto3
from botocore.config import Config
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import mldsa, mlkem

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import DEV_REGION, Runner, endpoint, expect_client_error  # noqa: E402

EP = endpoint()
RUN_ID = uuid.uuid4().hex[:10]
MESSAGE = b"tresor pq interop " + RUN_ID.encode() + b" " + os.urandom(100)
CONFIG = Config(region_name=DEV_REGION, retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)
kms = boto3.session.Session(region_name=DEV_REGION).client("kms", endpoint_url=EP, config=CONFIG)
r = Runner("boto3-pq")

# --------------------------------------------------------------------------- Ed25519ph
# RFC 8032 §5.1 / §6 reference arithmetic (extended coordinates).

P = 2**255 - 19
L = 2**252 + 27742317777372353535851937790883648493
D = -121665 * pow(121666, P - 2, P) % P
SQRT_M1 = pow(2, (P - 1) // 4, P)


def _add(p1, p2):
    a = (p1[1] - p1[0]) * (p2[1] - p2[0]) % P
    b = (p1[1] + p1[0]) * (p2[1] + p2[0]) % P
    c = 2 * p1[3] * p2[3] * D % P
    dd = 2 * p1[2] * p2[2] % P
    e, f, g, h = b - a, dd - c, dd + c, b + a
    return (e * f % P, g * h % P, f * g % P, e * h % P)


def _mul(s, pt):
    q = (0, 1, 1, 0)
    while s > 0:
        if s & 1:
            q = _add(q, pt)
        pt = _add(pt, pt)
        s >>= 1
    return q


def _equal(p1, p2):
    return (p1[0] * p2[2] - p2[0] * p1[2]) % P == 0 and (p1[1] * p2[2] - p2[1] * p1[2]) % P == 0


def _recover_x(y, sign):
    if y >= P:
        return None
    x2 = (y * y - 1) * pow(D * y * y + 1, P - 2, P)
    if x2 == 0:
        return None if sign else 0
    x = pow(x2, (P + 3) // 8, P)
    if (x * x - x2) % P != 0:
        x = x * SQRT_M1 % P
    if (x * x - x2) % P != 0:
        return None
    if (x & 1) != sign:
        x = P - x
    return x


def _decompress(s: bytes):
    y = int.from_bytes(s, "little")
    sign = y >> 255
    y &= (1 << 255) - 1
    x = _recover_x(y, sign)
    return None if x is None else (x, y, 1, x * y % P)


_GY = 4 * pow(5, P - 2, P) % P
G = (_recover_x(_GY, 0), _GY, 1, _recover_x(_GY, 0) * _GY % P)
DOM2_PH = b"SigEd25519 no Ed25519 collisions" + bytes([1, 0])


def ed25519ph_verify(public: bytes, message: bytes, signature: bytes) -> bool:
    """Ed25519ph with an empty context: PH(M) = SHA-512(M)."""
    if len(public) != 32 or len(signature) != 64:
        return False
    a, rp = _decompress(public), _decompress(signature[:32])
    s = int.from_bytes(signature[32:], "little")
    if a is None or rp is None or s >= L:
        return False
    k = int.from_bytes(hashlib.sha512(DOM2_PH + signature[:32] + public + hashlib.sha512(message).digest()).digest(), "little") % L
    return _equal(_mul(s, G), _add(rp, _mul(k, a)))


def raw_ed25519_public(spki: bytes) -> bytes:
    assert len(spki) == 44 and spki[:12] == bytes.fromhex("302a300506032b6570032100"), f"not an Ed25519 SPKI: {spki.hex()}"
    return spki[12:]


@r.step("the local Ed25519ph verifier passes RFC 8032 §7.3 and fails a flipped bit")
def _(s):
    pub = bytes.fromhex("ec172b93ad5e563bf4932c70e1245034c35467ef2efd4d64ebf819683467e2bf")
    sig = bytes.fromhex(
        "98a70222f0b8121aa9d30f813d683f809e462b469c7ff87639499bb94e6dae41"
        "31f85042463c2a355a2003d062adf5aaa10b8c61e636062aaad11c2a26083406")
    assert ed25519ph_verify(pub, b"abc", sig), "RFC 8032 Ed25519ph vector does not verify"
    assert not ed25519ph_verify(pub, b"abd", sig), "a different message verifies"


@r.step("ED25519_PH_SHA_512 DIGEST: Sign -> Ed25519ph(digest) verifies locally; Verify; RAW refused")
def _(s):
    md = kms.create_key(KeySpec="ECC_NIST_EDWARDS25519", KeyUsage="SIGN_VERIFY", Description=f"pq interop {RUN_ID}")["KeyMetadata"]
    pub = raw_ed25519_public(kms.get_public_key(KeyId=md["KeyId"])["PublicKey"])
    digest = hashlib.sha512(MESSAGE).digest()
    resp = kms.sign(KeyId=md["KeyId"], Message=digest, MessageType="DIGEST", SigningAlgorithm="ED25519_PH_SHA_512")
    sig = resp["Signature"]
    assert resp.get("SigningAlgorithm") == "ED25519_PH_SHA_512" and len(sig) == 64, f"Sign: {resp.get('SigningAlgorithm')!r}, {len(sig)} bytes"
    # AWS: KMS applies the SHA-512 prehash to the digest given (it is hashed twice).
    assert ed25519ph_verify(pub, digest, sig), "the signature is not Ed25519ph over the DIGEST message"
    assert not ed25519ph_verify(pub, MESSAGE, sig), "the signature is Ed25519ph over the message, not over its digest"
    ok = kms.verify(KeyId=md["KeyId"], Message=digest, MessageType="DIGEST", Signature=sig, SigningAlgorithm="ED25519_PH_SHA_512")
    assert ok.get("SignatureValid") is True, f"Verify: {ok!r}"
    bad = bytearray(sig)
    bad[5] ^= 1
    expect_client_error("KMSInvalidSignatureException", kms.verify, KeyId=md["KeyId"], Message=digest, MessageType="DIGEST",
                        Signature=bytes(bad), SigningAlgorithm="ED25519_PH_SHA_512")
    # An Ed25519ph signature is not an Ed25519 one, and the other way round.
    expect_client_error("KMSInvalidSignatureException", kms.verify, KeyId=md["KeyId"], Message=digest, MessageType="RAW",
                        Signature=sig, SigningAlgorithm="ED25519_SHA_512")
    expect_client_error("ValidationException", kms.sign, KeyId=md["KeyId"], Message=MESSAGE, MessageType="RAW",
                        SigningAlgorithm="ED25519_PH_SHA_512")
    expect_client_error("ValidationException", kms.sign, KeyId=md["KeyId"], Message=digest[:32], MessageType="DIGEST",
                        SigningAlgorithm="ED25519_PH_SHA_512")


# --------------------------------------------------------------------------- ML-DSA μ

ML_DSA = {"ML_DSA_44": mldsa.MLDSA44PublicKey, "ML_DSA_65": mldsa.MLDSA65PublicKey, "ML_DSA_87": mldsa.MLDSA87PublicKey}


def mu_of(public_raw: bytes, message: bytes) -> bytes:
    tr = hashlib.shake_256(public_raw).digest(64)
    return hashlib.shake_256(tr + b"\x00\x00" + message).digest(64)


for _spec in ML_DSA:
    @r.step(f"{_spec} EXTERNAL_MU: Sign(μ) verifies over M with cryptography; RAW signature verifies as EXTERNAL_MU")
    def _(s, spec=_spec):
        md = kms.create_key(KeySpec=spec, KeyUsage="SIGN_VERIFY", Description=f"pq interop {RUN_ID}")["KeyMetadata"]
        der = kms.get_public_key(KeyId=md["KeyId"])["PublicKey"]
        pub = serialization.load_der_public_key(der)
        assert isinstance(pub, ML_DSA[spec]), f"public key type {type(pub)}"
        raw = pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        mu = mu_of(raw, MESSAGE)
        sig = kms.sign(KeyId=md["KeyId"], Message=mu, MessageType="EXTERNAL_MU", SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
        pub.verify(sig, MESSAGE)  # raises InvalidSignature
        ok = kms.verify(KeyId=md["KeyId"], Message=MESSAGE, MessageType="RAW", Signature=sig, SigningAlgorithm="ML_DSA_SHAKE_256")
        assert ok.get("SignatureValid") is True, "Tresor's RAW verification rejects its EXTERNAL_MU signature"
        raw_sig = kms.sign(KeyId=md["KeyId"], Message=MESSAGE, MessageType="RAW", SigningAlgorithm="ML_DSA_SHAKE_256")["Signature"]
        ok = kms.verify(KeyId=md["KeyId"], Message=mu, MessageType="EXTERNAL_MU", Signature=raw_sig, SigningAlgorithm="ML_DSA_SHAKE_256")
        assert ok.get("SignatureValid") is True, "EXTERNAL_MU verification rejects a RAW signature of the same message"
        other = mu_of(raw, MESSAGE + b"!")
        expect_client_error("KMSInvalidSignatureException", kms.verify, KeyId=md["KeyId"], Message=other, MessageType="EXTERNAL_MU",
                            Signature=raw_sig, SigningAlgorithm="ML_DSA_SHAKE_256")
        expect_client_error("ValidationException", kms.sign, KeyId=md["KeyId"], Message=mu[:63], MessageType="EXTERNAL_MU",
                            SigningAlgorithm="ML_DSA_SHAKE_256")


# --------------------------------------------------------------------------- ML-KEM data key pairs

ML_KEM_PRIVATE = {"ML_KEM_768": mlkem.MLKEM768PrivateKey, "ML_KEM_1024": mlkem.MLKEM1024PrivateKey}
ML_KEM_OID_LAST = {"ML_KEM_512": 1, "ML_KEM_768": 2, "ML_KEM_1024": 3}


@r.step("GenerateDataKeyPair ML_KEM_*: seed-only PKCS#8 that cryptography loads and re-encodes identically")
def _(s):
    wrapping = kms.create_key(Description=f"pq interop {RUN_ID} data key pairs")["KeyMetadata"]
    for spec, last in ML_KEM_OID_LAST.items():
        resp = kms.generate_data_key_pair(KeyId=wrapping["KeyId"], KeyPairSpec=spec)
        assert resp.get("KeyPairSpec") == spec, f"KeyPairSpec: {resp.get('KeyPairSpec')!r}"
        der = resp["PrivateKeyPlaintext"]
        # SEQUENCE { INTEGER 0, SEQUENCE { id-alg-ml-kem-* }, OCTET STRING { [0] seed(64) } }
        head = bytes.fromhex("3054020100300b06096086480165030404") + bytes([last])
        assert der[:18] == head and der[18:22] == bytes.fromhex("04428040") and len(der) == 86, f"{spec}: not the seed-only form: {der[:24].hex()}"
        back = kms.decrypt(CiphertextBlob=resp["PrivateKeyCiphertextBlob"])["Plaintext"]
        assert back == der, f"{spec}: PrivateKeyCiphertextBlob does not decrypt to PrivateKeyPlaintext"
        without = kms.generate_data_key_pair_without_plaintext(KeyId=wrapping["KeyId"], KeyPairSpec=spec)
        assert "PrivateKeyPlaintext" not in without, "WithoutPlaintext returned a plaintext private key"
        assert len(kms.decrypt(CiphertextBlob=without["PrivateKeyCiphertextBlob"])["Plaintext"]) == 86
        if spec not in ML_KEM_PRIVATE:
            continue  # cryptography has no ML-KEM-512.
        priv = serialization.load_der_private_key(der, password=None)
        assert isinstance(priv, ML_KEM_PRIVATE[spec]), f"{spec}: loaded as {type(priv)}"
        again = priv.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        assert again == der, f"{spec}: cryptography re-encodes the private key differently"
        spki = priv.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
        assert spki == resp["PublicKey"], f"{spec}: PublicKey is not the public key of the private key"
        secret, ciphertext = priv.public_key().encapsulate()
        assert priv.decapsulate(ciphertext) == secret


if __name__ == "__main__":
    sys.exit(r.run())
