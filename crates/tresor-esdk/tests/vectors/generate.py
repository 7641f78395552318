"""Writes the messages in this directory with the AWS Encryption SDK for Python (3.x or 4.x) and a
raw AES keyring (wrapping key bytes 0..31): `python generate.py` here. Each run makes new
messages (random message ids and data keys); the Rust test only needs them to decrypt."""
import sys
import aws_encryption_sdk
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.identifiers import Algorithm, EncryptionKeyType, WrappingAlgorithm
from aws_encryption_sdk.internal.crypto.wrapping_keys import WrappingKey
from aws_encryption_sdk.key_providers.raw import RawMasterKey

WRAPPING_KEY = bytes(range(32))
key = RawMasterKey(
    provider_id="tresor-test-vectors",
    key_id=b"wrapping-key-1",
    wrapping_key=WrappingKey(
        wrapping_algorithm=WrappingAlgorithm.AES_256_GCM_IV12_TAG16_NO_PADDING,
        wrapping_key=WRAPPING_KEY,
        wrapping_key_type=EncryptionKeyType.SYMMETRIC,
    ),
)
client = aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)
plaintext = bytes((i * 7) % 251 for i in range(10000))
for name, alg, frame in [
    ("python-0578-frame4096.bin", Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384, 4096),
    ("python-0478-frame512.bin", Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY, 512),
    ("python-0578-exact16000.bin", Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY_ECDSA_P384, 2000 * 8),
]:
    ct, hdr = client.encrypt(source=plaintext if frame != 16000 else plaintext[:8000] * 2, key_provider=key, algorithm=alg, frame_length=frame,
                             encryption_context={"purpose": "test-vector", "tenant": "acme"})
    open(name, "wb").write(ct)
    print(name, len(ct))
empty, _ = client.encrypt(source=b"", key_provider=key, frame_length=4096, encryption_context={})
open("python-0578-empty.bin", "wb").write(empty)
print("empty", len(empty))
