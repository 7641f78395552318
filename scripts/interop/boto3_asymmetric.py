#!/usr/bin/env python3
"""boto3 interop checks of asymmetric, HMAC and key-agreement keys.

The server's results are checked against an independent implementation,
the Python ``cryptography`` library: signatures made with Sign are verified
locally with the public key from GetPublicKey, ciphertexts made locally
with that public key are decrypted with Decrypt, ECDH shared secrets are
derived on both sides, data key pairs are loaded and compared.  Every
assertion states what AWS KMS does for the same call, so a failure means
the server differs from AWS (or is broken).

Needs TRESOR_ENDPOINT=http://127.0.0.1:PORT and the dev credentials in the
environment (scripts/interop.sh sets both).  RSA keys are 2048-bit only, to
stay fast.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import sys
import uuid

import boto3
from botocore.config import Config
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import DEV_ACCOUNT, DEV_REGION, Runner, endpoint, expect_client_error  # noqa: E402

EP = endpoint()
RUN_ID = uuid.uuid4().hex[:10]
CONTEXT = {"purpose": "asym-interop", "run": RUN_ID}
MESSAGE = b"tresor asymmetric interop " + RUN_ID.encode() + b" " + os.urandom(200)

CONFIG = Config(
    region_name=DEV_REGION,
    retries={"max_attempts": 2, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
)

kms = boto3.session.Session(region_name=DEV_REGION).client("kms", endpoint_url=EP, config=CONFIG)
r = Runner("boto3-asymmetric")

RSA_SIGNING = {
    "RSASSA_PKCS1_V1_5_SHA_256", "RSASSA_PKCS1_V1_5_SHA_384", "RSASSA_PKCS1_V1_5_SHA_512",
    "RSASSA_PSS_SHA_256", "RSASSA_PSS_SHA_384", "RSASSA_PSS_SHA_512",
}
RSA_ENCRYPTION = {"RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"}


def key_arn(key_id: str) -> str:
    return f"arn:aws:kms:{DEV_REGION}:{DEV_ACCOUNT}:key/{key_id}"


def flip_last(blob: bytes) -> bytes:
    b = bytearray(blob)
    b[-1] ^= 0x01
    return bytes(b)


def create(key_spec: str, key_usage: str, **extra) -> dict:
    md = kms.create_key(KeySpec=key_spec, KeyUsage=key_usage, Description=f"asym interop {RUN_ID} {key_spec}", **extra)["KeyMetadata"]
    assert md.get("Arn") == key_arn(md.get("KeyId", "")), f"KeyMetadata.Arn {md.get('Arn')!r} / KeyId {md.get('KeyId')!r}"
    assert md.get("KeySpec") == key_spec, f"KeySpec: {md.get('KeySpec')!r}, expected {key_spec}"
    assert md.get("CustomerMasterKeySpec") == key_spec, f"CustomerMasterKeySpec: {md.get('CustomerMasterKeySpec')!r}"
    assert md.get("KeyUsage") == key_usage, f"KeyUsage: {md.get('KeyUsage')!r}, expected {key_usage}"
    return md


def public_key(md: dict, key_spec: str, key_usage: str):
    """GetPublicKey: check the response fields, return (response, cryptography public key)."""
    resp = kms.get_public_key(KeyId=md["KeyId"])
    assert resp.get("KeyId") == md["Arn"], f"GetPublicKey KeyId should be the key ARN {md['Arn']}, got {resp.get('KeyId')!r}"
    assert resp.get("KeySpec") == key_spec, f"GetPublicKey KeySpec: {resp.get('KeySpec')!r}"
    assert resp.get("CustomerMasterKeySpec") == key_spec, f"GetPublicKey CustomerMasterKeySpec: {resp.get('CustomerMasterKeySpec')!r}"
    assert resp.get("KeyUsage") == key_usage, f"GetPublicKey KeyUsage: {resp.get('KeyUsage')!r}"
    der = resp.get("PublicKey")
    assert isinstance(der, bytes) and der[:1] == b"\x30", "PublicKey should be a DER SubjectPublicKeyInfo"
    pub = serialization.load_der_public_key(der)
    again = pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert again == der, "PublicKey is not in canonical DER SubjectPublicKeyInfo form (re-encoding differs)"
    return resp, pub


def kms_sign(md: dict, message: bytes, algorithm: str, message_type: str = "RAW") -> bytes:
    resp = kms.sign(KeyId=md["KeyId"], Message=message, MessageType=message_type, SigningAlgorithm=algorithm)
    assert resp.get("KeyId") == md["Arn"], f"Sign KeyId should be the key ARN, got {resp.get('KeyId')!r}"
    assert resp.get("SigningAlgorithm") == algorithm, f"Sign SigningAlgorithm: {resp.get('SigningAlgorithm')!r}"
    sig = resp.get("Signature")
    assert isinstance(sig, bytes) and sig, "Sign returned no Signature"
    return sig


def local_verify(what: str, fn, *args) -> None:
    try:
        fn(*args)
    except InvalidSignature:
        raise AssertionError(f"{what}: the signature from Sign does not verify with cryptography") from None


def kms_verify_round(md: dict, message: bytes, sig: bytes, algorithm: str, message_type: str = "RAW") -> None:
    resp = kms.verify(KeyId=md["Arn"], Message=message, MessageType=message_type, Signature=sig, SigningAlgorithm=algorithm)
    assert resp.get("SignatureValid") is True, f"Verify SignatureValid: {resp.get('SignatureValid')!r}"
    assert resp.get("KeyId") == md["Arn"], f"Verify KeyId should be the key ARN, got {resp.get('KeyId')!r}"
    assert resp.get("SigningAlgorithm") == algorithm, f"Verify SigningAlgorithm: {resp.get('SigningAlgorithm')!r}"
    expect_client_error(
        "KMSInvalidSignatureException", kms.verify,
        KeyId=md["KeyId"], Message=message, MessageType=message_type, Signature=flip_last(sig), SigningAlgorithm=algorithm,
    )


# --------------------------------------------------------------------------- signing keys


@r.step("create ECC_NIST_P256 SIGN_VERIFY key; get_public_key is a P-256 SPKI")
def _(s):
    md = create("ECC_NIST_P256", "SIGN_VERIFY")
    assert md.get("SigningAlgorithms") == ["ECDSA_SHA_256"], f"SigningAlgorithms: {md.get('SigningAlgorithms')!r}"
    assert "EncryptionAlgorithms" not in md, f"SIGN_VERIFY key should have no EncryptionAlgorithms: {md.get('EncryptionAlgorithms')!r}"
    resp, pub = public_key(md, "ECC_NIST_P256", "SIGN_VERIFY")
    assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp256r1", f"public key: {pub!r}"
    assert resp.get("SigningAlgorithms") == ["ECDSA_SHA_256"], f"GetPublicKey SigningAlgorithms: {resp.get('SigningAlgorithms')!r}"
    s["p256"] = (md, pub)


@r.step("ECDSA_SHA_256 RAW: Sign -> verifies with cryptography", requires=["p256"])
def _(s):
    md, pub = s["p256"]
    sig = kms_sign(md, MESSAGE, "ECDSA_SHA_256")
    local_verify("ECDSA_SHA_256 RAW", pub.verify, sig, MESSAGE, ec.ECDSA(hashes.SHA256()))
    s["p256_raw_sig"] = sig


@r.step("ECDSA_SHA_256 DIGEST: Sign of a SHA-256 digest -> verifies with cryptography (prehashed and over the message)", requires=["p256"])
def _(s):
    md, pub = s["p256"]
    digest = hashlib.sha256(MESSAGE).digest()
    sig = kms_sign(md, digest, "ECDSA_SHA_256", "DIGEST")
    local_verify("ECDSA_SHA_256 DIGEST (prehashed)", pub.verify, sig, digest, ec.ECDSA(Prehashed(hashes.SHA256())))
    local_verify("ECDSA_SHA_256 DIGEST (over the message)", pub.verify, sig, MESSAGE, ec.ECDSA(hashes.SHA256()))
    s["p256_digest_sig"] = sig


@r.step("ECDSA_SHA_256: Verify accepts RAW and DIGEST signatures, modified -> KMSInvalidSignatureException", requires=["p256_raw_sig", "p256_digest_sig"])
def _(s):
    md, _pub = s["p256"]
    kms_verify_round(md, MESSAGE, s["p256_raw_sig"], "ECDSA_SHA_256")
    kms_verify_round(md, hashlib.sha256(MESSAGE).digest(), s["p256_digest_sig"], "ECDSA_SHA_256", "DIGEST")
    # A RAW signature is over the same SHA-256 digest, so DIGEST verification of it succeeds too (as in AWS KMS).
    ok = kms.verify(KeyId=md["KeyId"], Message=hashlib.sha256(MESSAGE).digest(), MessageType="DIGEST",
                    Signature=s["p256_raw_sig"], SigningAlgorithm="ECDSA_SHA_256")
    assert ok.get("SignatureValid") is True, "RAW signature should verify as DIGEST of the same message"
    expect_client_error("KMSInvalidSignatureException", kms.verify, KeyId=md["KeyId"], Message=MESSAGE + b"!",
                        MessageType="RAW", Signature=s["p256_raw_sig"], SigningAlgorithm="ECDSA_SHA_256")


@r.step("ECC_NIST_P384 ECDSA_SHA_384 RAW: Sign -> verifies with cryptography; Verify / modified")
def _(s):
    md = create("ECC_NIST_P384", "SIGN_VERIFY")
    assert md.get("SigningAlgorithms") == ["ECDSA_SHA_384"], f"SigningAlgorithms: {md.get('SigningAlgorithms')!r}"
    resp, pub = public_key(md, "ECC_NIST_P384", "SIGN_VERIFY")
    assert isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name == "secp384r1", f"public key: {pub!r}"
    sig = kms_sign(md, MESSAGE, "ECDSA_SHA_384")
    local_verify("ECDSA_SHA_384 RAW", pub.verify, sig, MESSAGE, ec.ECDSA(hashes.SHA384()))
    kms_verify_round(md, MESSAGE, sig, "ECDSA_SHA_384")


@r.step("create RSA_2048 SIGN_VERIFY key; get_public_key is a 2048-bit RSA SPKI")
def _(s):
    md = create("RSA_2048", "SIGN_VERIFY")
    assert set(md.get("SigningAlgorithms") or []) == RSA_SIGNING, f"SigningAlgorithms: {md.get('SigningAlgorithms')!r}"
    resp, pub = public_key(md, "RSA_2048", "SIGN_VERIFY")
    assert isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 2048, f"public key: {pub!r}"
    assert pub.public_numbers().e == 65537, f"public exponent {pub.public_numbers().e}"
    assert set(resp.get("SigningAlgorithms") or []) == RSA_SIGNING, f"GetPublicKey SigningAlgorithms: {resp.get('SigningAlgorithms')!r}"
    s["rsa_sign"] = (md, pub)


@r.step("RSASSA_PSS_SHA_256 RAW: Sign -> verifies with cryptography (salt = 32); Verify / modified", requires=["rsa_sign"])
def _(s):
    md, pub = s["rsa_sign"]
    sig = kms_sign(md, MESSAGE, "RSASSA_PSS_SHA_256")
    assert len(sig) == 256, f"RSA-2048 signature should be 256 bytes, got {len(sig)}"
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    local_verify("RSASSA_PSS_SHA_256", pub.verify, sig, MESSAGE, pss, hashes.SHA256())
    kms_verify_round(md, MESSAGE, sig, "RSASSA_PSS_SHA_256")


@r.step("RSASSA_PKCS1_V1_5_SHA_256 RAW: Sign -> verifies with cryptography; deterministic; Verify / modified", requires=["rsa_sign"])
def _(s):
    md, pub = s["rsa_sign"]
    sig = kms_sign(md, MESSAGE, "RSASSA_PKCS1_V1_5_SHA_256")
    local_verify("RSASSA_PKCS1_V1_5_SHA_256", pub.verify, sig, MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    assert kms_sign(md, MESSAGE, "RSASSA_PKCS1_V1_5_SHA_256") == sig, "PKCS#1 v1.5 signatures are deterministic; two Sign calls differ"
    kms_verify_round(md, MESSAGE, sig, "RSASSA_PKCS1_V1_5_SHA_256")
    # A PKCS#1 v1.5 signature is not a PSS signature.
    expect_client_error("KMSInvalidSignatureException", kms.verify, KeyId=md["KeyId"], Message=MESSAGE,
                        MessageType="RAW", Signature=sig, SigningAlgorithm="RSASSA_PSS_SHA_256")


@r.step("ECC_NIST_EDWARDS25519 ED25519_SHA_512 RAW: Sign -> verifies with cryptography; Verify / modified")
def _(s):
    md = create("ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
    resp, pub = public_key(md, "ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
    assert isinstance(pub, ed25519.Ed25519PublicKey), f"public key: {pub!r}"
    sig = kms_sign(md, MESSAGE, "ED25519_SHA_512")
    assert len(sig) == 64, f"Ed25519 signature should be 64 bytes, got {len(sig)}"
    local_verify("ED25519_SHA_512", pub.verify, sig, MESSAGE)
    assert kms_sign(md, MESSAGE, "ED25519_SHA_512") == sig, "Ed25519 signatures are deterministic; two Sign calls differ"
    kms_verify_round(md, MESSAGE, sig, "ED25519_SHA_512")
    # AWS KMS lists both Ed25519 algorithms for this key spec (checked last, so the crypto above is checked regardless).
    algs = set(md.get("SigningAlgorithms") or [])
    assert algs == {"ED25519_SHA_512", "ED25519_PH_SHA_512"}, f"KeyMetadata.SigningAlgorithms: {md.get('SigningAlgorithms')!r}"
    assert set(resp.get("SigningAlgorithms") or []) == algs, f"GetPublicKey SigningAlgorithms: {resp.get('SigningAlgorithms')!r}"


@r.step("Sign with an algorithm the key spec lacks / Encrypt with a SIGN_VERIFY key -> InvalidKeyUsageException", requires=["p256"])
def _(s):
    md, _pub = s["p256"]
    # AWS KMS answers both with InvalidKeyUsageException (the algorithm is not among the key's SigningAlgorithms).
    expect_client_error("InvalidKeyUsageException", kms.sign, KeyId=md["KeyId"], Message=MESSAGE, MessageType="RAW", SigningAlgorithm="ECDSA_SHA_384")
    expect_client_error("InvalidKeyUsageException", kms.encrypt, KeyId=md["KeyId"], Plaintext=b"x", EncryptionAlgorithm="RSAES_OAEP_SHA_256")


# --------------------------------------------------------------------------- RSA encryption


@r.step("create RSA_2048 ENCRYPT_DECRYPT key; get_public_key lists the OAEP algorithms")
def _(s):
    md = create("RSA_2048", "ENCRYPT_DECRYPT")
    assert set(md.get("EncryptionAlgorithms") or []) == RSA_ENCRYPTION, f"EncryptionAlgorithms: {md.get('EncryptionAlgorithms')!r}"
    resp, pub = public_key(md, "RSA_2048", "ENCRYPT_DECRYPT")
    assert isinstance(pub, rsa.RSAPublicKey) and pub.key_size == 2048, f"public key: {pub!r}"
    assert set(resp.get("EncryptionAlgorithms") or []) == RSA_ENCRYPTION, f"GetPublicKey EncryptionAlgorithms: {resp.get('EncryptionAlgorithms')!r}"
    s["rsa_enc"] = (md, pub)


def _oaep(h):
    return padding.OAEP(mgf=padding.MGF1(algorithm=h), algorithm=h, label=None)


for _alg, _hash, _max in (("RSAES_OAEP_SHA_256", hashes.SHA256, 190), ("RSAES_OAEP_SHA_1", hashes.SHA1, 214)):

    @r.step(f"local OAEP ({_alg}, {_max}-byte plaintext) -> Decrypt with KeyId + EncryptionAlgorithm", requires=["rsa_enc"])
    def _(s, _alg=_alg, _hash=_hash, _max=_max):
        md, pub = s["rsa_enc"]
        plaintext = os.urandom(_max)
        ct = pub.encrypt(plaintext, _oaep(_hash()))
        resp = kms.decrypt(KeyId=md["KeyId"], CiphertextBlob=ct, EncryptionAlgorithm=_alg)
        assert resp.get("Plaintext") == plaintext, "Decrypt of a locally made OAEP ciphertext gives different bytes"
        assert resp.get("KeyId") == md["Arn"], f"Decrypt KeyId should be the key ARN, got {resp.get('KeyId')!r}"
        assert resp.get("EncryptionAlgorithm") == _alg, f"Decrypt EncryptionAlgorithm: {resp.get('EncryptionAlgorithm')!r}"
        s[f"ct_{_alg}"] = ct


@r.step("Decrypt of an OAEP-SHA-256 ciphertext as RSAES_OAEP_SHA_1 / tampered -> InvalidCiphertextException", requires=["ct_RSAES_OAEP_SHA_256"])
def _(s):
    md, _pub = s["rsa_enc"]
    ct = s["ct_RSAES_OAEP_SHA_256"]
    expect_client_error("InvalidCiphertextException", kms.decrypt, KeyId=md["KeyId"], CiphertextBlob=ct, EncryptionAlgorithm="RSAES_OAEP_SHA_1")
    expect_client_error("InvalidCiphertextException", kms.decrypt, KeyId=md["KeyId"], CiphertextBlob=flip_last(ct), EncryptionAlgorithm="RSAES_OAEP_SHA_256")


# --------------------------------------------------------------------------- ECDH


@r.step("ECC_NIST_P256 KEY_AGREEMENT: derive_shared_secret == local ECDH with the KMS public key")
def _(s):
    md = create("ECC_NIST_P256", "KEY_AGREEMENT")
    assert md.get("KeyAgreementAlgorithms") == ["ECDH"], f"KeyAgreementAlgorithms: {md.get('KeyAgreementAlgorithms')!r}"
    resp, kms_pub = public_key(md, "ECC_NIST_P256", "KEY_AGREEMENT")
    assert isinstance(kms_pub, ec.EllipticCurvePublicKey) and kms_pub.curve.name == "secp256r1", f"public key: {kms_pub!r}"
    assert resp.get("KeyAgreementAlgorithms") == ["ECDH"], f"GetPublicKey KeyAgreementAlgorithms: {resp.get('KeyAgreementAlgorithms')!r}"
    local = ec.generate_private_key(ec.SECP256R1())
    local_der = local.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    out = kms.derive_shared_secret(KeyId=md["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=local_der)
    expected = local.exchange(ec.ECDH(), kms_pub)
    assert out.get("SharedSecret") == expected, (
        f"SharedSecret differs from local ECDH ({len(out.get('SharedSecret') or b'')} vs {len(expected)} bytes)"
    )
    assert out.get("KeyId") == md["Arn"], f"DeriveSharedSecret KeyId should be the key ARN, got {out.get('KeyId')!r}"
    assert out.get("KeyAgreementAlgorithm") == "ECDH", f"KeyAgreementAlgorithm: {out.get('KeyAgreementAlgorithm')!r}"
    assert out.get("KeyOrigin") == "AWS_KMS", f"KeyOrigin: {out.get('KeyOrigin')!r}"
    # A public key on another curve is rejected (AWS KMS: ValidationException).
    p384 = ec.generate_private_key(ec.SECP384R1()).public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    expect_client_error("ValidationException", kms.derive_shared_secret, KeyId=md["KeyId"], KeyAgreementAlgorithm="ECDH", PublicKey=p384)


# --------------------------------------------------------------------------- HMAC


@r.step("HMAC_256: generate_mac / verify_mac round trip; flipped MAC -> KMSInvalidMacException")
def _(s):
    md = create("HMAC_256", "GENERATE_VERIFY_MAC")
    assert md.get("MacAlgorithms") == ["HMAC_SHA_256"], f"MacAlgorithms: {md.get('MacAlgorithms')!r}"
    resp = kms.generate_mac(KeyId=md["KeyId"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")
    mac = resp.get("Mac")
    assert isinstance(mac, bytes) and len(mac) == 32, f"HMAC_SHA_256 Mac should be 32 bytes, got {len(mac or b'')}"
    assert resp.get("KeyId") == md["Arn"], f"GenerateMac KeyId should be the key ARN, got {resp.get('KeyId')!r}"
    assert resp.get("MacAlgorithm") == "HMAC_SHA_256", f"MacAlgorithm: {resp.get('MacAlgorithm')!r}"
    assert kms.generate_mac(KeyId=md["Arn"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")["Mac"] == mac, "HMAC is deterministic; two GenerateMac calls differ"
    ok = kms.verify_mac(KeyId=md["KeyId"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_256", Mac=mac)
    assert ok.get("MacValid") is True, f"VerifyMac MacValid: {ok.get('MacValid')!r}"
    assert ok.get("KeyId") == md["Arn"], f"VerifyMac KeyId: {ok.get('KeyId')!r}"
    assert ok.get("MacAlgorithm") == "HMAC_SHA_256", f"VerifyMac MacAlgorithm: {ok.get('MacAlgorithm')!r}"
    expect_client_error("KMSInvalidMacException", kms.verify_mac, KeyId=md["KeyId"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_256", Mac=flip_last(mac))
    expect_client_error("KMSInvalidMacException", kms.verify_mac, KeyId=md["KeyId"], Message=MESSAGE + b"!", MacAlgorithm="HMAC_SHA_256", Mac=mac)


@r.step("HMAC_256 with imported key material (OAEP-SHA-256 wrapped locally): generate_mac == local HMAC-SHA-256")
def _(s):
    md = create("HMAC_256", "GENERATE_VERIFY_MAC", Origin="EXTERNAL")
    assert md.get("Origin") == "EXTERNAL", f"Origin: {md.get('Origin')!r}"
    assert md.get("KeyState") == "PendingImport", f"EXTERNAL key KeyState before import: {md.get('KeyState')!r}"
    params = kms.get_parameters_for_import(KeyId=md["KeyId"], WrappingAlgorithm="RSAES_OAEP_SHA_256", WrappingKeySpec="RSA_2048")
    wrapping = serialization.load_der_public_key(params["PublicKey"])
    assert isinstance(wrapping, rsa.RSAPublicKey) and wrapping.key_size == 2048, f"wrapping key: {wrapping!r}"
    material = os.urandom(32)
    kms.import_key_material(
        KeyId=md["KeyId"], ImportToken=params["ImportToken"],
        EncryptedKeyMaterial=wrapping.encrypt(material, _oaep(hashes.SHA256())),
        ExpirationModel="KEY_MATERIAL_DOES_NOT_EXPIRE",
    )
    after = kms.describe_key(KeyId=md["KeyId"])["KeyMetadata"]
    assert after.get("KeyState") == "Enabled", f"KeyState after import: {after.get('KeyState')!r}"
    mac = kms.generate_mac(KeyId=md["KeyId"], Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert mac == hmac.new(material, MESSAGE, hashlib.sha256).digest(), "GenerateMac with imported material differs from local HMAC-SHA-256"
    local = hmac.new(material, b"made locally", hashlib.sha256).digest()
    ok = kms.verify_mac(KeyId=md["KeyId"], Message=b"made locally", MacAlgorithm="HMAC_SHA_256", Mac=local)
    assert ok.get("MacValid") is True, "VerifyMac rejects a locally made HMAC over the imported material"


# --------------------------------------------------------------------------- data key pairs


@r.step("generate_data_key_pair ECC_NIST_P256: PKCS#8 loads, public key matches, Decrypt of PrivateKeyCiphertextBlob")
def _(s):
    md = kms.create_key(Description=f"asym interop {RUN_ID} data key pairs")["KeyMetadata"]
    resp = kms.generate_data_key_pair(KeyId=md["KeyId"], KeyPairSpec="ECC_NIST_P256", EncryptionContext=CONTEXT)
    assert resp.get("KeyId") == md["Arn"], f"GenerateDataKeyPair KeyId should be the key ARN, got {resp.get('KeyId')!r}"
    assert resp.get("KeyPairSpec") == "ECC_NIST_P256", f"KeyPairSpec: {resp.get('KeyPairSpec')!r}"
    priv_der = resp.get("PrivateKeyPlaintext")
    assert isinstance(priv_der, bytes) and priv_der, "no PrivateKeyPlaintext"
    priv = serialization.load_der_private_key(priv_der, password=None)
    assert isinstance(priv, ec.EllipticCurvePrivateKey) and priv.curve.name == "secp256r1", f"private key: {priv!r}"
    pkcs8 = priv.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    assert pkcs8 == priv_der, "PrivateKeyPlaintext is not in canonical DER PKCS#8 form (re-encoding differs)"
    pub_der = priv.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert resp.get("PublicKey") == pub_der, "PublicKey is not the SPKI of the returned private key"
    back = kms.decrypt(CiphertextBlob=resp["PrivateKeyCiphertextBlob"], EncryptionContext=CONTEXT)
    assert back.get("Plaintext") == priv_der, "Decrypt of PrivateKeyCiphertextBlob gives different bytes"
    assert back.get("KeyId") == md["Arn"], f"Decrypt KeyId: {back.get('KeyId')!r}"
    expect_client_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=resp["PrivateKeyCiphertextBlob"])


if __name__ == "__main__":
    sys.exit(r.run())
