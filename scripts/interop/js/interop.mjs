// AWS SDK for JavaScript v3 (@aws-sdk/client-kms) and the AWS Encryption SDK for
// JavaScript (@aws-crypto/client-node) against a running Tresor server.
//
// Needs TRESOR_ENDPOINT, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY (the dev pair) and
// AWS_DEFAULT_REGION; TRESOR_BIN (optional) to also decrypt the ESDK message with
// `tresor decrypt`. Results go to INTEROP_RESULTS as STATUS<TAB>js<TAB>name<TAB>detail.
import {
  KMS,
  KMSClient,
  CreateKeyCommand,
  ListKeysCommand,
  NotFoundException,
  KMSServiceException,
  paginateListKeys,
} from "@aws-sdk/client-kms";
import { KmsKeyringNode, buildClient, CommitmentPolicy } from "@aws-crypto/client-node";
import { execFileSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

const endpoint = process.env.TRESOR_ENDPOINT;
if (!endpoint) throw new Error("TRESOR_ENDPOINT must be set");
const region = process.env.AWS_DEFAULT_REGION || "us-east-1";
const results = process.env.INTEROP_RESULTS || "/dev/null";
const config = {
  endpoint,
  region,
  credentials: {
    accessKeyId: process.env.AWS_ACCESS_KEY_ID,
    secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY,
  },
  maxAttempts: 1,
};
const kms = new KMS(config);
const state = {};
let passed = 0;
let failed = 0;

function assert(cond, message) {
  if (!cond) throw new Error(message);
}

async function check(name, fn) {
  try {
    await fn();
    passed += 1;
    console.log(`  ok   ${name}`);
    fs.appendFileSync(results, `PASS\tjs\t${name}\t\n`);
  } catch (e) {
    failed += 1;
    const detail = String(e && e.stack ? e.stack : e).replace(/\s+/g, " ").slice(0, 400);
    console.log(`  FAIL ${name}: ${detail}`);
    fs.appendFileSync(results, `FAIL\tjs\t${name}\t${detail}\n`);
  }
}

console.log(`== js: node ${process.version}`);

await check("symmetric Encrypt/Decrypt round trip with an encryption context", async () => {
  const key = await kms.createKey({ Description: "js interop" });
  state.arn = key.KeyMetadata.Arn;
  const plaintext = crypto.randomBytes(300);
  const context = { purpose: "js-interop" };
  const enc = await kms.encrypt({ KeyId: state.arn, Plaintext: plaintext, EncryptionContext: context });
  assert(enc.KeyId === state.arn, `Encrypt KeyId ${enc.KeyId}`);
  const dec = await kms.decrypt({ CiphertextBlob: enc.CiphertextBlob, EncryptionContext: context });
  assert(Buffer.from(dec.Plaintext).equals(plaintext), "Decrypt returned other bytes");
  assert(dec.KeyId === state.arn, `Decrypt KeyId ${dec.KeyId}`);
});

await check("Sign (ECC_NIST_P256, ECDSA_SHA_256) verified with node:crypto", async () => {
  const key = await kms.createKey({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" });
  const id = key.KeyMetadata.KeyId;
  const message = Buffer.from("signed by tresor, checked by node");
  const sig = await kms.sign({ KeyId: id, Message: message, MessageType: "RAW", SigningAlgorithm: "ECDSA_SHA_256" });
  const pub = await kms.getPublicKey({ KeyId: id });
  const publicKey = crypto.createPublicKey({ key: Buffer.from(pub.PublicKey), format: "der", type: "spki" });
  const signature = Buffer.from(sig.Signature);
  assert(crypto.verify("sha256", message, { key: publicKey, dsaEncoding: "der" }, signature), "signature does not verify");
  assert(!crypto.verify("sha256", Buffer.from("another message"), { key: publicKey, dsaEncoding: "der" }, signature),
    "signature verifies for another message");
});

await check("ListKeys with Limit 1, page by page (Marker) and with paginateListKeys", async () => {
  const client = new KMSClient(config);
  const made = [];
  for (let i = 0; i < 3; i += 1) {
    made.push((await client.send(new CreateKeyCommand({ Description: `js page ${i}` }))).KeyMetadata.KeyId);
  }
  const seen = [];
  let marker;
  let pages = 0;
  do {
    const page = await client.send(new ListKeysCommand({ Limit: 1, Marker: marker }));
    pages += 1;
    assert(page.Keys.length <= 1, `a page of ${page.Keys.length} keys with Limit 1`);
    seen.push(...page.Keys.map((k) => k.KeyId));
    marker = page.Truncated ? page.NextMarker : undefined;
    assert(!page.Truncated || marker, "Truncated without NextMarker");
    assert(pages < 10000, "too many pages");
  } while (marker);
  assert(pages >= 3, `only ${pages} pages`);
  for (const id of made) assert(seen.includes(id), `key ${id} missing from the pages`);
  assert(new Set(seen).size === seen.length, "a key appeared on two pages");
  const viaPaginator = [];
  for await (const page of paginateListKeys({ client, pageSize: 1 }, {})) {
    viaPaginator.push(...page.Keys.map((k) => k.KeyId));
  }
  assert(viaPaginator.length === seen.length, `paginator saw ${viaPaginator.length} keys, pages ${seen.length}`);
});

await check("DescribeKey of an unknown key throws NotFoundException", async () => {
  try {
    await kms.describeKey({ KeyId: "00000000-0000-0000-0000-000000000000" });
  } catch (e) {
    assert(e instanceof NotFoundException, `got ${e && e.name}: ${e && e.message}`);
    assert(e instanceof KMSServiceException, "not a KMSServiceException");
    assert(e.name === "NotFoundException", `name ${e.name}`);
    assert(e.$metadata.httpStatusCode === 400, `HTTP ${e.$metadata.httpStatusCode}`);
    assert(e.message && e.message.length > 0, "no message");
    return;
  }
  throw new Error("DescribeKey succeeded");
});

await check("Encryption SDK: KmsKeyringNode encrypt/decrypt round trip (2 keys), and tresor decrypt", async () => {
  assert(state.arn, "needs the key of the first check");
  const second = (await kms.createKey({ Description: "js esdk 2" })).KeyMetadata.Arn;
  const clientProvider = () => new KMS(config);
  const keyring = new KmsKeyringNode({ generatorKeyId: state.arn, keyIds: [second], clientProvider });
  const { encrypt, decrypt } = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT);
  const plaintext = crypto.randomBytes(20000);
  const context = { purpose: "js-esdk", tenant: "acme" };
  const { result, messageHeader } = await encrypt(keyring, plaintext, { encryptionContext: context });
  assert(messageHeader.encryptedDataKeys.length === 2, `${messageHeader.encryptedDataKeys.length} data keys`);
  const out = await decrypt(new KmsKeyringNode({ keyIds: [second], clientProvider }), result);
  assert(Buffer.from(out.plaintext).equals(plaintext), "ESDK decrypt returned other bytes");
  for (const [k, v] of Object.entries(context)) {
    assert(out.messageHeader.encryptionContext[k] === v, `context ${k} missing after decrypt`);
  }
  const bin = process.env.TRESOR_BIN;
  if (bin) {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tresor-js-"));
    try {
      fs.writeFileSync(path.join(dir, "m"), result);
      execFileSync(bin, ["decrypt", "--quiet", "--endpoint", endpoint, "--key", second,
        "--context", "purpose=js-esdk", path.join(dir, "m"), path.join(dir, "p")], { stdio: "pipe" });
      assert(fs.readFileSync(path.join(dir, "p")).equals(plaintext), "tresor decrypt returned other bytes");
      execFileSync(bin, ["encrypt", "--quiet", "--endpoint", endpoint, "--key", state.arn,
        "--context", "purpose=from-tresor", path.join(dir, "p"), path.join(dir, "t")], { stdio: "pipe" });
      const back = await decrypt(keyring, fs.readFileSync(path.join(dir, "t")));
      assert(Buffer.from(back.plaintext).equals(plaintext), "ESDK for JavaScript could not read tresor encrypt");
      assert(back.messageHeader.encryptionContext.purpose === "from-tresor", "context lost");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
});

console.log(`js summary: passed=${passed} failed=${failed}`);
process.exit(failed === 0 ? 0 : 1);
