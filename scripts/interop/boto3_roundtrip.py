#!/usr/bin/env python3
"""boto3 interop checks against a running Tresor server.

Every assertion states what AWS KMS does for the same call, so a failure
here means the server differs from AWS (or is broken), not the other way
round.  Needs TRESOR_ENDPOINT=http://127.0.0.1:PORT and the dev
credentials in the environment (scripts/interop.sh sets both).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import sys
import uuid

import boto3
from botocore.config import Config

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from interop_common import DEV_ACCOUNT, DEV_REGION, Runner, endpoint, expect_client_error  # noqa: E402

EP = endpoint()
RUN_ID = uuid.uuid4().hex[:10]
KEY_ARN_RE = re.compile(
    r"^arn:aws:kms:" + DEV_REGION + ":" + DEV_ACCOUNT + r":key/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
)
UUID_RE = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")
ALIAS = f"alias/interop-boto3-{RUN_ID}"
ALIAS_ARN = f"arn:aws:kms:{DEV_REGION}:{DEV_ACCOUNT}:{ALIAS}"
DESCRIPTION = f"tresor interop key {RUN_ID}"
CONTEXT = {"purpose": "interop", "run": RUN_ID}
CONTEXT2 = {"purpose": "interop-reencrypt", "run": RUN_ID}

CONFIG = Config(
    region_name=DEV_REGION,
    retries={"max_attempts": 2, "mode": "standard"},
    connect_timeout=5,
    read_timeout=30,
)


def make_client(**cred_overrides):
    session = boto3.session.Session(region_name=DEV_REGION, **cred_overrides)
    return session.client("kms", endpoint_url=EP, config=CONFIG)


kms = make_client()
r = Runner("boto3")


def key_arn(key_id: str) -> str:
    return f"arn:aws:kms:{DEV_REGION}:{DEV_ACCOUNT}:key/{key_id}"


def describe(key_id: str) -> dict:
    return kms.describe_key(KeyId=key_id)["KeyMetadata"]


def find_alias(name: str):
    for page in kms.get_paginator("list_aliases").paginate():
        for entry in page["Aliases"]:
            if entry["AliasName"] == name:
                return entry
    return None


def tags_of(key_id: str) -> dict:
    resp = kms.list_resource_tags(KeyId=key_id)
    assert resp.get("Truncated") is False, f"list_resource_tags Truncated should be False, got {resp.get('Truncated')!r}"
    tags = {}
    for tag in resp["Tags"]:
        assert set(tag) == {"TagKey", "TagValue"}, f"tag entry should have TagKey/TagValue only: {tag}"
        tags[tag["TagKey"]] = tag["TagValue"]
    return tags


def assert_recent(when, what: str, offset: dt.timedelta = dt.timedelta(0), slack: dt.timedelta = dt.timedelta(minutes=10)):
    assert isinstance(when, dt.datetime), f"{what} should parse to a datetime, got {when!r}"
    expected = dt.datetime.now(dt.timezone.utc) + offset
    assert abs(when - expected) <= slack, f"{what} {when.isoformat()} is not within {slack} of {expected.isoformat()}"


# --------------------------------------------------------------------------- keys


@r.step("create_key with description and tags returns full KeyMetadata")
def _(s):
    resp = kms.create_key(
        Description=DESCRIPTION,
        Tags=[{"TagKey": "project", "TagValue": "tresor"}, {"TagKey": "purpose", "TagValue": "interop"}],
    )
    md = resp["KeyMetadata"]
    assert UUID_RE.match(md.get("KeyId", "")), f"KeyMetadata.KeyId should be a bare key id (UUID), got {md.get('KeyId')!r}"
    assert md.get("Arn") == key_arn(md["KeyId"]), f"KeyMetadata.Arn should be {key_arn(md['KeyId'])}, got {md.get('Arn')!r}"
    s["key1"] = md  # usable by later checks even if a metadata field below is off
    assert md.get("AWSAccountId") == DEV_ACCOUNT, f"AWSAccountId: {md.get('AWSAccountId')!r}"
    assert md.get("Description") == DESCRIPTION, f"Description: {md.get('Description')!r}"
    assert md.get("Enabled") is True, f"Enabled: {md.get('Enabled')!r}"
    assert md.get("KeyState") == "Enabled", f"KeyState: {md.get('KeyState')!r}"
    assert md.get("KeyUsage") == "ENCRYPT_DECRYPT", f"KeyUsage: {md.get('KeyUsage')!r}"
    assert md.get("KeySpec") == "SYMMETRIC_DEFAULT", f"KeySpec: {md.get('KeySpec')!r}"
    assert md.get("CustomerMasterKeySpec") == "SYMMETRIC_DEFAULT", f"CustomerMasterKeySpec: {md.get('CustomerMasterKeySpec')!r}"
    assert md.get("Origin") == "AWS_KMS", f"Origin: {md.get('Origin')!r}"
    assert md.get("KeyManager") == "CUSTOMER", f"KeyManager: {md.get('KeyManager')!r}"
    assert md.get("EncryptionAlgorithms") == ["SYMMETRIC_DEFAULT"], f"EncryptionAlgorithms: {md.get('EncryptionAlgorithms')!r}"
    assert md.get("MultiRegion") is False, f"MultiRegion: {md.get('MultiRegion')!r}"
    assert "DeletionDate" not in md, f"new key must not have DeletionDate: {md.get('DeletionDate')!r}"
    assert_recent(md.get("CreationDate"), "CreationDate")


@r.step("create two more keys (re-encrypt target, lifecycle key)")
def _(s):
    key2 = kms.create_key()["KeyMetadata"]
    key3 = kms.create_key(Description="lifecycle", KeyUsage="ENCRYPT_DECRYPT", KeySpec="SYMMETRIC_DEFAULT")["KeyMetadata"]
    s["key2"] = key2
    s["key3"] = key3
    for md in (key2, key3):
        assert KEY_ARN_RE.match(md.get("Arn", "")), f"bad key ARN {md.get('Arn')!r}"
        assert md.get("KeyState") == "Enabled", f"KeyState: {md.get('KeyState')!r}"
    assert key2.get("Description", "") == "", f"key created without Description should have empty Description, got {key2.get('Description')!r}"
    ids = {key2["KeyId"], key3["KeyId"]} | ({s["key1"]["KeyId"]} if "key1" in s else set())
    assert len(ids) == (3 if "key1" in s else 2), "key ids must be unique"


@r.step("describe_key by key id and by key ARN", requires=["key1"])
def _(s):
    k = s["key1"]
    by_id = describe(k["KeyId"])
    by_arn = describe(k["Arn"])
    for md in (by_id, by_arn):
        assert md.get("KeyId") == k["KeyId"], f"KeyId: {md.get('KeyId')!r}"
        assert md.get("Arn") == k["Arn"], f"Arn: {md.get('Arn')!r}"
        assert md.get("Description") == DESCRIPTION, f"Description: {md.get('Description')!r}"
        assert md.get("KeyState") == "Enabled", f"KeyState: {md.get('KeyState')!r}"
        assert md.get("CreationDate") == k["CreationDate"], f"CreationDate changed: {md.get('CreationDate')!r} vs {k['CreationDate']!r}"


@r.step("list_resource_tags shows the tags given at create_key", requires=["key1"])
def _(s):
    tags = tags_of(s["key1"]["KeyId"])
    assert tags == {"project": "tresor", "purpose": "interop"}, f"tags: {tags}"


@r.step("list_keys paging with Limit=1 / Marker visits every key once", requires=["key1", "key2", "key3"])
def _(s):
    seen = []
    marker = None
    pages = 0
    while True:
        kwargs = {"Limit": 1}
        if marker:
            kwargs["Marker"] = marker
        resp = kms.list_keys(**kwargs)
        pages += 1
        assert len(resp["Keys"]) <= 1, f"Limit=1 returned {len(resp['Keys'])} keys"
        for entry in resp["Keys"]:
            assert set(entry) == {"KeyId", "KeyArn"}, f"list_keys entry should have KeyId and KeyArn only: {entry}"
            assert entry["KeyArn"] == key_arn(entry["KeyId"]), f"KeyArn/KeyId mismatch: {entry}"
            seen.append(entry["KeyId"])
        if resp.get("Truncated"):
            assert resp.get("NextMarker"), "Truncated=True but no NextMarker"
            marker = resp["NextMarker"]
        else:
            assert resp.get("Truncated") is False, f"Truncated should be False on the last page, got {resp.get('Truncated')!r}"
            assert "NextMarker" not in resp, "last page must not carry NextMarker"
            break
        assert pages < 10000, "list_keys paging does not terminate"
    assert pages >= 3, f"3+ keys with Limit=1 should take 3+ pages, took {pages}"
    assert len(seen) == len(set(seen)), f"paging returned duplicates: {seen}"
    for name in ("key1", "key2", "key3"):
        assert s[name]["KeyId"] in seen, f"{name} missing from list_keys pages"
    paged = [e["KeyId"] for p in kms.get_paginator("list_keys").paginate(PaginationConfig={"PageSize": 2}) for e in p["Keys"]]
    assert sorted(paged) == sorted(seen), "paginator (PageSize=2) and Limit=1 loop disagree"
    whole = kms.list_keys()
    if len(seen) <= 100:
        assert whole.get("Truncated") is False, "list_keys without Limit (default 100) should not truncate"
        assert sorted(e["KeyId"] for e in whole["Keys"]) == sorted(seen), "unpaged list_keys disagrees with paged one"


# --------------------------------------------------------------------------- aliases


@r.step("create_alias and list_aliases", requires=["key1"])
def _(s):
    kms.create_alias(AliasName=ALIAS, TargetKeyId=s["key1"]["KeyId"])
    s["alias"] = ALIAS
    entry = find_alias(ALIAS)
    assert entry is not None, f"{ALIAS} not in list_aliases"
    assert entry.get("AliasArn") == ALIAS_ARN, f"AliasArn: {entry.get('AliasArn')!r}, expected {ALIAS_ARN}"
    assert entry.get("TargetKeyId") == s["key1"]["KeyId"], f"TargetKeyId should be the bare key id {s['key1']['KeyId']}, got {entry.get('TargetKeyId')!r}"
    by_key = kms.list_aliases(KeyId=s["key1"]["KeyId"])["Aliases"]
    assert [a["AliasName"] for a in by_key] == [ALIAS], f"list_aliases(KeyId=key1): {by_key}"


@r.step("describe_key by alias name and alias ARN", requires=["alias"])
def _(s):
    for ref in (ALIAS, ALIAS_ARN):
        md = describe(ref)
        assert md.get("Arn") == s["key1"]["Arn"], f"describe_key({ref}) Arn: {md.get('Arn')!r}"
        assert md.get("KeyId") == s["key1"]["KeyId"], f"describe_key({ref}) KeyId: {md.get('KeyId')!r}"


@r.step("create_alias with an existing name -> AlreadyExistsException", requires=["alias", "key2"])
def _(s):
    expect_client_error("AlreadyExistsException", kms.create_alias, AliasName=ALIAS, TargetKeyId=s["key2"]["KeyId"])


# --------------------------------------------------------------------------- encrypt / decrypt


@r.step("encrypt by alias with encryption context", requires=["alias"])
def _(s):
    plaintext = b"tresor interop " + os.urandom(1000)
    resp = kms.encrypt(KeyId=ALIAS, Plaintext=plaintext, EncryptionContext=CONTEXT)
    s["plaintext"] = plaintext
    s["blob"] = resp["CiphertextBlob"]
    assert resp.get("KeyId") == s["key1"]["Arn"], f"Encrypt KeyId should be the key ARN {s['key1']['Arn']}, got {resp.get('KeyId')!r}"
    assert resp.get("EncryptionAlgorithm") == "SYMMETRIC_DEFAULT", f"EncryptionAlgorithm: {resp.get('EncryptionAlgorithm')!r}"
    blob = resp.get("CiphertextBlob")
    assert isinstance(blob, bytes) and len(blob) > len(plaintext), f"CiphertextBlob should be bytes longer than the plaintext, got {len(blob or b'')} bytes"
    assert plaintext[15:] not in blob, "ciphertext contains the plaintext"


@r.step("decrypt without KeyId returns key ARN and the plaintext", requires=["blob"])
def _(s):
    resp = kms.decrypt(CiphertextBlob=s["blob"], EncryptionContext=CONTEXT)
    assert resp.get("KeyId") == s["key1"]["Arn"], f"Decrypt KeyId should be the key ARN {s['key1']['Arn']}, got {resp.get('KeyId')!r}"
    assert resp.get("Plaintext") == s["plaintext"], "decrypted plaintext differs from the original"
    assert resp.get("EncryptionAlgorithm") == "SYMMETRIC_DEFAULT", f"EncryptionAlgorithm: {resp.get('EncryptionAlgorithm')!r}"


@r.step("decrypt with KeyId given as alias, key id and ARN", requires=["blob"])
def _(s):
    for ref in (ALIAS, s["key1"]["KeyId"], s["key1"]["Arn"]):
        resp = kms.decrypt(CiphertextBlob=s["blob"], EncryptionContext=CONTEXT, KeyId=ref)
        assert resp.get("Plaintext") == s["plaintext"], f"decrypt with KeyId={ref}: wrong plaintext"
        assert resp.get("KeyId") == s["key1"]["Arn"], f"decrypt with KeyId={ref}: KeyId {resp.get('KeyId')!r}"


@r.step("decrypt with wrong encryption context -> InvalidCiphertextException", requires=["blob"])
def _(s):
    expect_client_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=s["blob"], EncryptionContext={"purpose": "other", "run": RUN_ID})


@r.step("decrypt without the encryption context -> InvalidCiphertextException", requires=["blob"])
def _(s):
    expect_client_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=s["blob"])


@r.step("decrypt of a tampered ciphertext -> InvalidCiphertextException", requires=["blob"])
def _(s):
    blob = bytearray(s["blob"])
    blob[-1] ^= 0x01
    expect_client_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=bytes(blob), EncryptionContext=CONTEXT)


@r.step("decrypt naming a different KeyId -> IncorrectKeyException", requires=["blob", "key2"])
def _(s):
    expect_client_error("IncorrectKeyException", kms.decrypt, CiphertextBlob=s["blob"], EncryptionContext=CONTEXT, KeyId=s["key2"]["Arn"])


# --------------------------------------------------------------------------- data keys, re-encrypt, random


@r.step("generate_data_key AES_256 -> 32-byte key that decrypts back", requires=["key1"])
def _(s):
    resp = kms.generate_data_key(KeyId=s["key1"]["KeyId"], KeySpec="AES_256", EncryptionContext=CONTEXT)
    assert resp.get("KeyId") == s["key1"]["Arn"], f"GenerateDataKey KeyId: {resp.get('KeyId')!r}"
    pt = resp.get("Plaintext")
    assert isinstance(pt, bytes) and len(pt) == 32, f"AES_256 data key should be 32 bytes, got {len(pt or b'')}"
    back = kms.decrypt(CiphertextBlob=resp["CiphertextBlob"], EncryptionContext=CONTEXT)
    assert back.get("Plaintext") == pt, "decrypting the data key CiphertextBlob gives different bytes"
    assert back.get("KeyId") == s["key1"]["Arn"], f"Decrypt KeyId: {back.get('KeyId')!r}"


@r.step("generate_data_key AES_128 and NumberOfBytes=64", requires=["key1"])
def _(s):
    r128 = kms.generate_data_key(KeyId=ALIAS if "alias" in s else s["key1"]["KeyId"], KeySpec="AES_128")
    assert len(r128["Plaintext"]) == 16, f"AES_128 data key should be 16 bytes, got {len(r128['Plaintext'])}"
    r64 = kms.generate_data_key(KeyId=s["key1"]["Arn"], NumberOfBytes=64)
    assert len(r64["Plaintext"]) == 64, f"NumberOfBytes=64 should give 64 bytes, got {len(r64['Plaintext'])}"
    assert kms.decrypt(CiphertextBlob=r64["CiphertextBlob"])["Plaintext"] == r64["Plaintext"], "64-byte data key round trip failed"


@r.step("generate_data_key_without_plaintext", requires=["key1"])
def _(s):
    resp = kms.generate_data_key_without_plaintext(KeyId=s["key1"]["KeyId"], KeySpec="AES_256", EncryptionContext=CONTEXT)
    assert "Plaintext" not in resp, "GenerateDataKeyWithoutPlaintext must not return Plaintext"
    assert resp.get("KeyId") == s["key1"]["Arn"], f"KeyId: {resp.get('KeyId')!r}"
    back = kms.decrypt(CiphertextBlob=resp["CiphertextBlob"], EncryptionContext=CONTEXT)
    assert len(back["Plaintext"]) == 32, f"decrypted data key should be 32 bytes, got {len(back['Plaintext'])}"


@r.step("re_encrypt to a second key", requires=["blob", "key2"])
def _(s):
    resp = kms.re_encrypt(
        CiphertextBlob=s["blob"],
        SourceEncryptionContext=CONTEXT,
        DestinationKeyId=s["key2"]["Arn"],
        DestinationEncryptionContext=CONTEXT2,
    )
    assert resp.get("KeyId") == s["key2"]["Arn"], f"ReEncrypt KeyId should be the destination key ARN, got {resp.get('KeyId')!r}"
    assert resp.get("SourceKeyId") == s["key1"]["Arn"], f"ReEncrypt SourceKeyId should be the source key ARN, got {resp.get('SourceKeyId')!r}"
    assert resp.get("SourceEncryptionAlgorithm") == "SYMMETRIC_DEFAULT", f"SourceEncryptionAlgorithm: {resp.get('SourceEncryptionAlgorithm')!r}"
    assert resp.get("DestinationEncryptionAlgorithm") == "SYMMETRIC_DEFAULT", f"DestinationEncryptionAlgorithm: {resp.get('DestinationEncryptionAlgorithm')!r}"
    back = kms.decrypt(CiphertextBlob=resp["CiphertextBlob"], EncryptionContext=CONTEXT2)
    assert back.get("Plaintext") == s["plaintext"], "re-encrypted ciphertext decrypts to different bytes"
    assert back.get("KeyId") == s["key2"]["Arn"], f"Decrypt of re-encrypted blob KeyId: {back.get('KeyId')!r}"
    expect_client_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=resp["CiphertextBlob"], EncryptionContext=CONTEXT)


@r.step("generate_random")
def _(s):
    a = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    b = kms.generate_random(NumberOfBytes=32)["Plaintext"]
    big = kms.generate_random(NumberOfBytes=1024)["Plaintext"]
    assert isinstance(a, bytes) and len(a) == 32, f"expected 32 random bytes, got {len(a or b'')}"
    assert len(big) == 1024, f"expected 1024 random bytes, got {len(big)}"
    assert a != b, "two generate_random calls returned the same bytes"
    assert len(set(big)) > 128, "1024 random bytes use suspiciously few distinct values"


# --------------------------------------------------------------------------- key state


@r.step("disable_key -> encrypt/decrypt fail with DisabledException; enable_key restores", requires=["key3"])
def _(s):
    k = s["key3"]["KeyId"]
    old = kms.encrypt(KeyId=k, Plaintext=b"before disable")["CiphertextBlob"]
    s["key3_blob"] = old
    kms.disable_key(KeyId=k)
    md = describe(k)
    assert md.get("Enabled") is False and md.get("KeyState") == "Disabled", f"after disable_key: Enabled={md.get('Enabled')!r} KeyState={md.get('KeyState')!r}"
    expect_client_error("DisabledException", kms.encrypt, KeyId=k, Plaintext=b"x")
    expect_client_error("DisabledException", kms.generate_data_key, KeyId=k, KeySpec="AES_256")
    expect_client_error("DisabledException", kms.decrypt, CiphertextBlob=old)
    kms.enable_key(KeyId=k)
    md = describe(k)
    assert md.get("Enabled") is True and md.get("KeyState") == "Enabled", f"after enable_key: Enabled={md.get('Enabled')!r} KeyState={md.get('KeyState')!r}"
    assert kms.decrypt(CiphertextBlob=old)["Plaintext"] == b"before disable", "decrypt after re-enable failed"
    kms.encrypt(KeyId=k, Plaintext=b"after enable")


@r.step("schedule_key_deletion(7 days) -> PendingDeletion, KMSInvalidStateException", requires=["key3"])
def _(s):
    k = s["key3"]["KeyId"]
    resp = kms.schedule_key_deletion(KeyId=k, PendingWindowInDays=7)
    s["key3_pending"] = True
    assert resp.get("KeyId") == s["key3"]["Arn"], f"ScheduleKeyDeletion KeyId should be the key ARN, got {resp.get('KeyId')!r}"
    assert resp.get("KeyState") == "PendingDeletion", f"ScheduleKeyDeletion KeyState: {resp.get('KeyState')!r}"
    assert resp.get("PendingWindowInDays") == 7, f"PendingWindowInDays: {resp.get('PendingWindowInDays')!r}"
    assert_recent(resp.get("DeletionDate"), "DeletionDate", offset=dt.timedelta(days=7), slack=dt.timedelta(hours=26))
    md = describe(k)
    assert md.get("KeyState") == "PendingDeletion", f"describe KeyState: {md.get('KeyState')!r}"
    assert md.get("Enabled") is False, f"describe Enabled: {md.get('Enabled')!r}"
    assert md.get("DeletionDate") == resp.get("DeletionDate"), f"describe DeletionDate {md.get('DeletionDate')!r} != {resp.get('DeletionDate')!r}"
    expect_client_error("KMSInvalidStateException", kms.encrypt, KeyId=k, Plaintext=b"x")
    if "key3_blob" in s:
        expect_client_error("KMSInvalidStateException", kms.decrypt, CiphertextBlob=s["key3_blob"])
    expect_client_error("KMSInvalidStateException", kms.enable_key, KeyId=k)


@r.step("cancel_key_deletion -> Disabled; enable_key -> Enabled", requires=["key3_pending"])
def _(s):
    k = s["key3"]["KeyId"]
    resp = kms.cancel_key_deletion(KeyId=k)
    assert resp.get("KeyId") == s["key3"]["Arn"], f"CancelKeyDeletion KeyId should be the key ARN, got {resp.get('KeyId')!r}"
    md = describe(k)
    assert md.get("KeyState") == "Disabled", f"after cancel_key_deletion KeyState should be Disabled, got {md.get('KeyState')!r}"
    assert md.get("Enabled") is False, f"after cancel_key_deletion Enabled: {md.get('Enabled')!r}"
    assert "DeletionDate" not in md, f"DeletionDate still present: {md.get('DeletionDate')!r}"
    expect_client_error("DisabledException", kms.encrypt, KeyId=k, Plaintext=b"x")
    kms.enable_key(KeyId=k)
    assert describe(k).get("KeyState") == "Enabled", "enable_key after cancel did not enable"


@r.step("update_key_description", requires=["key1"])
def _(s):
    kms.update_key_description(KeyId=s["key1"]["KeyId"], Description=DESCRIPTION + " (updated)")
    md = describe(s["key1"]["Arn"])
    assert md.get("Description") == DESCRIPTION + " (updated)", f"Description: {md.get('Description')!r}"


# --------------------------------------------------------------------------- tags


@r.step("tag_resource / untag_resource / list_resource_tags", requires=["key1"])
def _(s):
    k = s["key1"]["KeyId"]
    kms.tag_resource(KeyId=k, Tags=[{"TagKey": "env", "TagValue": "test"}, {"TagKey": "project", "TagValue": "tresor-2"}])
    tags = tags_of(k)
    assert tags == {"project": "tresor-2", "purpose": "interop", "env": "test"}, f"after tag_resource (adds env, overwrites project): {tags}"
    kms.untag_resource(KeyId=s["key1"]["Arn"], TagKeys=["purpose", "env"])
    tags = tags_of(k)
    assert tags == {"project": "tresor-2"}, f"after untag_resource(purpose, env): {tags}"


# --------------------------------------------------------------------------- alias update / delete


@r.step("update_alias points the alias at the second key", requires=["alias", "key2"])
def _(s):
    kms.update_alias(AliasName=ALIAS, TargetKeyId=s["key2"]["KeyId"])
    entry = find_alias(ALIAS)
    assert entry is not None, "alias vanished after update_alias"
    assert entry.get("TargetKeyId") == s["key2"]["KeyId"], f"TargetKeyId after update_alias: {entry.get('TargetKeyId')!r}"
    resp = kms.encrypt(KeyId=ALIAS, Plaintext=b"via updated alias")
    assert resp.get("KeyId") == s["key2"]["Arn"], f"encrypt by updated alias used {resp.get('KeyId')!r}, expected {s['key2']['Arn']}"
    assert describe(ALIAS).get("Arn") == s["key2"]["Arn"], "describe_key by alias does not follow update_alias"


@r.step("delete_alias; the alias then is NotFound", requires=["alias"])
def _(s):
    kms.delete_alias(AliasName=ALIAS)
    assert find_alias(ALIAS) is None, "alias still listed after delete_alias"
    expect_client_error("NotFoundException", kms.describe_key, KeyId=ALIAS)
    expect_client_error("NotFoundException", kms.encrypt, KeyId=ALIAS, Plaintext=b"x")


# --------------------------------------------------------------------------- errors


@r.step("unknown key id / ARN / alias -> NotFoundException")
def _(s):
    unknown = str(uuid.uuid4())
    expect_client_error("NotFoundException", kms.describe_key, KeyId=unknown)
    expect_client_error("NotFoundException", kms.encrypt, KeyId=key_arn(unknown), Plaintext=b"x")
    expect_client_error("NotFoundException", kms.describe_key, KeyId=f"alias/interop-missing-{RUN_ID}")


@r.step("service-side limits: 4097-byte Encrypt / 1025-byte GenerateRandom -> ValidationException", requires=["key1"])
def _(s):
    # botocore checks only minimum lengths client-side, so these reach the server.
    expect_client_error("ValidationException", kms.encrypt, KeyId=s["key1"]["KeyId"], Plaintext=b"x" * 4097)
    expect_client_error("ValidationException", kms.generate_random, NumberOfBytes=1025)
    resp = kms.encrypt(KeyId=s["key1"]["KeyId"], Plaintext=b"x" * 4096)
    assert kms.decrypt(CiphertextBlob=resp["CiphertextBlob"])["Plaintext"] == b"x" * 4096, "4096-byte plaintext round trip failed"


@r.step("decrypt of random bytes -> InvalidCiphertextException")
def _(s):
    expect_client_error("InvalidCiphertextException", kms.decrypt, CiphertextBlob=os.urandom(200))


@r.step("wrong secret key -> InvalidSignatureException")
def _(s):
    bad = make_client(
        aws_access_key_id=os.environ.get("AWS_ACCESS_KEY_ID", "AKIAIOSFODNN7EXAMPLE"),
        aws_secret_access_key="not-the-right-secret-key-0000000000000000",
    )
    expect_client_error("InvalidSignatureException", bad.list_keys)


@r.step("unknown access key id -> UnrecognizedClientException")
def _(s):
    bad = make_client(aws_access_key_id="AKIAZZZZZZZZZZZZZZZZ", aws_secret_access_key="x" * 40)
    expect_client_error("UnrecognizedClientException", bad.list_keys)


if __name__ == "__main__":
    sys.exit(r.run())
