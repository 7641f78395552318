"""boto3 interop checks for asymmetric and HMAC keys, verified with the Python
`cryptography` library as an implementation independent of the server's.

Sign through the service -> verify locally; encrypt locally with the public key ->
Decrypt through the service; ECDH through the service == ECDH computed locally;
GenerateDataKeyPair's PKCS#8 private key loads locally and matches its public key.
"""

from __future__ import annotations

import hashlib
import os
import sys

import boto3
from botocore.config import Config
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, utils

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import DEV_REGION, Runner, endpoint, expect_client_error  # noqa: E402

EP = endpoint()
CONFIG = Config(region_name=DEV_REGION, retries={"max_attempts": 2, "mode": "standard"}, read_timeout=60)
kms = boto3.session.Session(region_name=DEV_REGION).client("kms", endpoint_url=EP, config=CONFIG)
r = Runner("boto3-asymmetric")
MESSAGE = b"tresor interop: sign me"


def create(spec: str, usage: str) -> str:
    return kms.create_key(KeySpec=spec, KeyUsage=usage)["KeyMetadata"]["KeyId"]


def public_key(key_id: str):
    out = kms.get_public_key(KeyId=key_id)
    return serialization.load_der_public_key(out["PublicKey"]), out


def sign(key_id: str, alg: str, message: bytes, message_type: str = "RAW") -> bytes:
    out = kms.sign(KeyId=key_id, Message=message, MessageType=message_type, SigningAlgorithm=alg)
    assert out["SigningAlgorithm"] == alg
    return out["Signature"]


@r.step("ECC_NIST_P256 Sign (RAW and DIGEST) verifies locally; Verify rejects a changed message")
def _(s):
    key = create("ECC_NIST_P256", "SIGN_VERIFY")
    pub, meta = public_key(key)
    assert meta["SigningAlgorithms"] == ["ECDSA_SHA_256"], meta["SigningAlgorithms"]
    sig = sign(key, "ECDSA_SHA_256", MESSAGE)
    pub.verify(sig, MESSAGE, ec.ECDSA(hashes.SHA256()))
    digest = hashlib.sha256(MESSAGE).digest()
    sig2 = sign(key, "ECDSA_SHA_256", digest, "DIGEST")
    pub.verify(sig2, digest, ec.ECDSA(utils.Prehashed(hashes.SHA256())))
    assert kms.verify(KeyId=key, Message=MESSAGE, Signature=sig, SigningAlgorithm="ECDSA_SHA_256")["SignatureValid"]
    expect_client_error(
        "KMSInvalidSignatureException",
        kms.verify, KeyId=key, Message=MESSAGE + b"!", Signature=sig, SigningAlgorithm="ECDSA_SHA_256",
    )
    s["ecc_key"] = key


@r.step("ECC_NIST_P384 ECDSA_SHA_384 verifies locally")
def _(s):
    key = create("ECC_NIST_P384", "SIGN_VERIFY")
    pub, _ = public_key(key)
    pub.verify(sign(key, "ECDSA_SHA_384", MESSAGE), MESSAGE, ec.ECDSA(hashes.SHA384()))


@r.step("RSA_2048 PSS and PKCS#1 v1.5 signatures verify locally")
def _(s):
    key = create("RSA_2048", "SIGN_VERIFY")
    pub, _ = public_key(key)
    pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
    pub.verify(sign(key, "RSASSA_PSS_SHA_256", MESSAGE), MESSAGE, pss, hashes.SHA256())
    pub.verify(sign(key, "RSASSA_PKCS1_V1_5_SHA_256", MESSAGE), MESSAGE, padding.PKCS1v15(), hashes.SHA256())
    try:
        pub.verify(sign(key, "RSASSA_PKCS1_V1_5_SHA_256", MESSAGE), MESSAGE + b"x", padding.PKCS1v15(), hashes.SHA256())
    except InvalidSignature:
        pass
    else:
        raise AssertionError("a signature over another message must not verify")


@r.step("ECC_NIST_EDWARDS25519 ED25519_SHA_512 verifies locally")
def _(s):
    key = create("ECC_NIST_EDWARDS25519", "SIGN_VERIFY")
    pub, _ = public_key(key)
    assert isinstance(pub, ed25519.Ed25519PublicKey)
    pub.verify(sign(key, "ED25519_SHA_512", MESSAGE), MESSAGE)


@r.step("RSA_2048 ciphertexts made locally (OAEP SHA-1 and SHA-256) decrypt through the service")
def _(s):
    key = create("RSA_2048", "ENCRYPT_DECRYPT")
    pub, meta = public_key(key)
    assert sorted(meta["EncryptionAlgorithms"]) == ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]
    for alg, h in (("RSAES_OAEP_SHA_1", hashes.SHA1()), ("RSAES_OAEP_SHA_256", hashes.SHA256())):
        plaintext = os.urandom(100)
        ct = pub.encrypt(plaintext, padding.OAEP(mgf=padding.MGF1(h), algorithm=h, label=None))
        out = kms.decrypt(KeyId=key, CiphertextBlob=ct, EncryptionAlgorithm=alg)
        assert out["Plaintext"] == plaintext, alg
        assert out["EncryptionAlgorithm"] == alg


@r.step("DeriveSharedSecret equals the ECDH secret computed locally")
def _(s):
    key = create("ECC_NIST_P256", "KEY_AGREEMENT")
    kms_pub, meta = public_key(key)
    assert meta["KeyAgreementAlgorithms"] == ["ECDH"]
    mine = ec.generate_private_key(ec.SECP256R1())
    der = mine.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    out = kms.derive_shared_secret(KeyId=key, KeyAgreementAlgorithm="ECDH", PublicKey=der)
    assert out["SharedSecret"] == mine.exchange(ec.ECDH(), kms_pub)


@r.step("HMAC_256 GenerateMac/VerifyMac round trip; a flipped MAC is KMSInvalidMacException")
def _(s):
    key = create("HMAC_256", "GENERATE_VERIFY_MAC")
    mac = kms.generate_mac(KeyId=key, Message=MESSAGE, MacAlgorithm="HMAC_SHA_256")["Mac"]
    assert len(mac) == 32
    assert kms.verify_mac(KeyId=key, Message=MESSAGE, Mac=mac, MacAlgorithm="HMAC_SHA_256")["MacValid"]
    flipped = bytes([mac[0] ^ 1]) + mac[1:]
    expect_client_error("KMSInvalidMacException", kms.verify_mac, KeyId=key, Message=MESSAGE, Mac=flipped,
                        MacAlgorithm="HMAC_SHA_256")


@r.step("GenerateDataKeyPair ECC_NIST_P256: PKCS#8 loads locally, matches PublicKey, ciphertext decrypts to it")
def _(s):
    wrapping = kms.create_key()["KeyMetadata"]["KeyId"]
    ctx = {"pair": "interop"}
    out = kms.generate_data_key_pair(KeyId=wrapping, KeyPairSpec="ECC_NIST_P256", EncryptionContext=ctx)
    private = serialization.load_der_private_key(out["PrivateKeyPlaintext"], password=None)
    der = private.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert der == out["PublicKey"]
    back = kms.decrypt(CiphertextBlob=out["PrivateKeyCiphertextBlob"], EncryptionContext=ctx)["Plaintext"]
    assert back == out["PrivateKeyPlaintext"]


if __name__ == "__main__":
    sys.exit(r.run())
