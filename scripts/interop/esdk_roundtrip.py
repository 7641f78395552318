#!/usr/bin/env python3
"""AWS Encryption SDK for Python interop checks against a running Tresor server.

The ESDK builds its own KMS clients from the botocore session it is given,
so the endpoint comes from AWS_ENDPOINT_URL_KMS (honoured by botocore
>= 1.31).  The first check makes sure that really is the case before any
ESDK call, so a client that would go to the real AWS endpoint is never
used.  Needs TRESOR_ENDPOINT and AWS_ENDPOINT_URL_KMS set to the server
URL plus the dev credentials (scripts/interop.sh sets them).
"""

from __future__ import annotations

import os
import sys
import uuid

import aws_encryption_sdk
import boto3
import botocore
import botocore.session
from aws_encryption_sdk import CommitmentPolicy
from aws_encryption_sdk.identifiers import Algorithm
from aws_encryption_sdk.key_providers.kms import (
    DiscoveryAwsKmsMasterKeyProvider,
    DiscoveryFilter,
    StrictAwsKmsMasterKeyProvider,
)
from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import DEV_ACCOUNT, DEV_REGION, Runner, endpoint  # noqa: E402

EP = endpoint()
RUN_ID = uuid.uuid4().hex[:10]
CONTEXT = {"purpose": "esdk-interop", "run": RUN_ID, "tenant": "acme"}
MESSAGE = os.urandom(100 * 1024)
# Keys the ESDK itself adds to the message's encryption context.
ESDK_RESERVED = {"aws-crypto-public-key"}

CLIENT_CONFIG = Config(retries={"max_attempts": 2, "mode": "standard"}, connect_timeout=5, read_timeout=30)

r = Runner("esdk")


def botocore_session() -> botocore.session.Session:
    session = botocore.session.Session()
    session.set_config_variable("region", DEV_REGION)
    # Short timeouts for every client the ESDK creates from this session.
    session.set_default_client_config(CLIENT_CONFIG)
    return session


def esdk_client():
    return aws_encryption_sdk.EncryptionSDKClient(commitment_policy=CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT)


def provider_endpoints(provider) -> dict:
    clients = getattr(provider, "_regional_clients", {}) or {}
    return {region: client.meta.endpoint_url.rstrip("/") for region, client in clients.items()}


def assert_context(header_ctx: dict, what: str):
    for k, v in CONTEXT.items():
        assert header_ctx.get(k) == v, f"{what}: encryption context entry {k}={v!r} missing or wrong (got {header_ctx.get(k)!r})"
    extra = set(header_ctx) - set(CONTEXT) - ESDK_RESERVED
    assert not extra, f"{what}: unexpected encryption context keys {sorted(extra)}"


def kms_edks(header) -> list:
    return [edk for edk in header.encrypted_data_keys if edk.key_provider.provider_id == "aws-kms"]


@r.step("botocore honours AWS_ENDPOINT_URL_KMS")
def _(s):
    env = os.environ.get("AWS_ENDPOINT_URL_KMS", "").rstrip("/")
    assert env == EP, f"AWS_ENDPOINT_URL_KMS should be {EP}, is {env!r}"
    version = tuple(int(p) for p in botocore.__version__.split(".")[:2])
    assert version >= (1, 31), f"botocore {botocore.__version__} is too old for AWS_ENDPOINT_URL_KMS (needs >= 1.31)"
    session = botocore_session()
    direct = session.create_client("kms", region_name=DEV_REGION).meta.endpoint_url.rstrip("/")
    assert direct == EP, f"botocore kms client ignores AWS_ENDPOINT_URL_KMS: endpoint {direct}"
    # The ESDK creates clients as boto3.session.Session(botocore_session=...).client("kms", region_name=..., config=...)
    via_boto3 = boto3.session.Session(botocore_session=session).client("kms", region_name=DEV_REGION, config=Config()).meta.endpoint_url.rstrip("/")
    assert via_boto3 == EP, f"boto3-from-botocore-session kms client endpoint is {via_boto3}"
    s["endpoint_ok"] = True


@r.step("create two KMS keys for the ESDK", requires=["endpoint_ok"])
def _(s):
    kms = boto3.session.Session(region_name=DEV_REGION).client("kms", endpoint_url=EP, config=CLIENT_CONFIG)
    s["arn1"] = kms.create_key(Description=f"esdk interop {RUN_ID} (1)")["KeyMetadata"]["Arn"]
    s["arn2"] = kms.create_key(Description=f"esdk interop {RUN_ID} (2)")["KeyMetadata"]["Arn"]
    for name in ("arn1", "arn2"):
        assert s[name].startswith(f"arn:aws:kms:{DEV_REGION}:{DEV_ACCOUNT}:key/"), f"unexpected key ARN {s[name]!r}"


@r.step("StrictAwsKmsMasterKeyProvider encrypt (100 KiB, encryption context)", requires=["arn1"])
def _(s):
    session = botocore_session()
    provider = StrictAwsKmsMasterKeyProvider(key_ids=[s["arn1"]], botocore_session=session)
    ciphertext, header = esdk_client().encrypt(source=MESSAGE, key_provider=provider, encryption_context=CONTEXT)
    eps = provider_endpoints(provider)
    assert eps and all(ep == EP for ep in eps.values()), f"ESDK KMS clients did not use the Tresor endpoint: {eps}"
    assert isinstance(ciphertext, bytes) and len(ciphertext) > len(MESSAGE), f"ciphertext length {len(ciphertext)}"
    assert MESSAGE[:64] not in ciphertext, "ciphertext contains the plaintext"
    assert_context(header.encryption_context, "encrypt header")
    edks = kms_edks(header)
    assert len(edks) == 1, f"expected 1 aws-kms encrypted data key, got {len(edks)}"
    key_info = edks[0].key_provider.key_info.decode()
    assert key_info == s["arn1"], f"EDK key_info should be the key ARN {s['arn1']} (from GenerateDataKey KeyId), got {key_info!r}"
    s["ciphertext"] = ciphertext
    s["header"] = header


@r.step("StrictAwsKmsMasterKeyProvider decrypt; header encryption context", requires=["ciphertext"])
def _(s):
    provider = StrictAwsKmsMasterKeyProvider(key_ids=[s["arn1"]], botocore_session=botocore_session())
    plaintext, header = esdk_client().decrypt(source=s["ciphertext"], key_provider=provider)
    assert plaintext == MESSAGE, "ESDK decrypt returned different bytes"
    assert_context(header.encryption_context, "decrypt header")
    assert header.encryption_context == s["header"].encryption_context, "decrypt header context differs from encrypt header context"
    assert header.algorithm == s["header"].algorithm, f"algorithm suite changed: {header.algorithm} vs {s['header'].algorithm}"


@r.step("DiscoveryAwsKmsMasterKeyProvider decrypt (account filter)", requires=["ciphertext"])
def _(s):
    provider = DiscoveryAwsKmsMasterKeyProvider(
        botocore_session=botocore_session(),
        discovery_filter=DiscoveryFilter(account_ids=[DEV_ACCOUNT], partition="aws"),
    )
    plaintext, header = esdk_client().decrypt(source=s["ciphertext"], key_provider=provider)
    assert plaintext == MESSAGE, "discovery decrypt returned different bytes"
    assert_context(header.encryption_context, "discovery decrypt header")
    eps = provider_endpoints(provider)
    assert eps and all(ep == EP for ep in eps.values()), f"discovery provider KMS clients did not use the Tresor endpoint: {eps}"


@r.step("DiscoveryAwsKmsMasterKeyProvider decrypt (no filter)", requires=["ciphertext"])
def _(s):
    provider = DiscoveryAwsKmsMasterKeyProvider(botocore_session=botocore_session())
    plaintext, _header = esdk_client().decrypt(source=s["ciphertext"], key_provider=provider)
    assert plaintext == MESSAGE, "discovery decrypt (no filter) returned different bytes"


@r.step("two-key message (GenerateDataKey + Encrypt), decrypt with the second key only", requires=["arn1", "arn2"])
def _(s):
    both = StrictAwsKmsMasterKeyProvider(key_ids=[s["arn1"], s["arn2"]], botocore_session=botocore_session())
    ciphertext, header = esdk_client().encrypt(
        source=MESSAGE,
        key_provider=both,
        encryption_context=CONTEXT,
        algorithm=Algorithm.AES_256_GCM_HKDF_SHA512_COMMIT_KEY,
    )
    infos = sorted(edk.key_provider.key_info.decode() for edk in kms_edks(header))
    assert infos == sorted([s["arn1"], s["arn2"]]), f"EDK key infos should be both key ARNs, got {infos}"
    assert "aws-crypto-public-key" not in header.encryption_context, "unsigned suite should not add aws-crypto-public-key"
    only2 = StrictAwsKmsMasterKeyProvider(key_ids=[s["arn2"]], botocore_session=botocore_session())
    plaintext, dheader = esdk_client().decrypt(source=ciphertext, key_provider=only2)
    assert plaintext == MESSAGE, "decrypt with the second key returned different bytes"
    assert dheader.encryption_context == CONTEXT, f"decrypt header context: {dheader.encryption_context}"


@r.step("streaming encrypt/decrypt through the ESDK", requires=["arn1"])
def _(s):
    import io

    provider = StrictAwsKmsMasterKeyProvider(key_ids=[s["arn1"]], botocore_session=botocore_session())
    client = esdk_client()
    out = io.BytesIO()
    with client.stream(mode="e", source=io.BytesIO(MESSAGE), key_provider=provider, encryption_context=CONTEXT, frame_length=4096) as enc:
        for chunk in enc:
            out.write(chunk)
    back = io.BytesIO()
    with client.stream(mode="d", source=io.BytesIO(out.getvalue()), key_provider=provider) as dec:
        for chunk in dec:
            back.write(chunk)
        assert_context(dec.header.encryption_context, "stream decrypt header")
    assert back.getvalue() == MESSAGE, "streamed round trip returned different bytes"


if __name__ == "__main__":
    sys.exit(r.run())
