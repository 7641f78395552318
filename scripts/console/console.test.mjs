// Browser tests of the Tresor web console: playwright-core driving the system Chromium
// against a running `tresor serve --dev` (TRESOR_ENDPOINT).
//
//   TRESOR_ENDPOINT   the server (default http://127.0.0.1:8080)
//   CHROMIUM          browser binary (default /usr/bin/chromium)
//   INTEROP_RESULTS   when set (scripts/interop.sh), one PASS/FAIL line per check
//   CONSOLE_SCREENSHOTS  directory to write the documentation screenshots into
//
// Ends with `N passed, N failed`; exits non-zero when a check failed.
import { chromium } from "playwright-core";
import { appendFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";

const endpoint = process.env.TRESOR_ENDPOINT ?? "http://127.0.0.1:8080";
const base = `${endpoint}/console`;
const akid = process.env.AWS_ACCESS_KEY_ID ?? "AKIAIOSFODNN7EXAMPLE";
const secret = process.env.AWS_SECRET_ACCESS_KEY ?? "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
const shots = process.env.CONSOLE_SCREENSHOTS;
const results = process.env.INTEROP_RESULTS;
const part = process.env.INTEROP_PART ?? "console";

let passed = 0;
let failed = 0;
function record(ok, name, detail = "") {
  const line = `${ok ? "PASS" : "FAIL"}\t${part}\t${name}\t${String(detail).replace(/\s+/g, " ").slice(0, 300)}\n`;
  if (results) appendFileSync(results, line);
  console.log(`${ok ? "ok  " : "FAIL"} ${name}${ok ? "" : `: ${detail}`}`);
  ok ? passed++ : failed++;
}

/** Runs one check; a failure is recorded and stops the scenario (later steps need it). */
async function check(name, fn) {
  try {
    await fn();
    record(true, name);
  } catch (e) {
    record(false, name, e?.message ?? e);
    throw e;
  }
}

function assert(cond, msg) {
  if (!cond) throw new Error(msg);
}

async function shot(page, name) {
  if (!shots) return;
  mkdirSync(shots, { recursive: true });
  await page.screenshot({ path: join(shots, `${name}.png`), fullPage: true });
}

async function text(page, sel) {
  return (await page.locator(sel).first().innerText()).trim();
}

async function signIn(page, id, key) {
  await page.goto(`${base}/`);
  assert(page.url().endsWith("/console/sign-in"), `not sent to sign-in: ${page.url()}`);
  await page.fill("#access-key-id", id);
  await page.fill("#secret", key);
  await Promise.all([page.waitForURL(/\/console\/keys$/), page.click("#sign-in")]);
}

async function submit(page, selector) {
  await Promise.all([page.waitForLoadState("load"), page.waitForNavigation(), page.click(selector)]);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
try {
  const context = await browser.newContext({ viewport: { width: 1200, height: 860 } });
  const page = await context.newPage();
  page.on("dialog", (d) => d.accept());
  const cspViolations = [];
  page.on("console", (m) => {
    if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
  });
  let keyId;
  let hiddenKey;

  await check("a wrong secret is refused", async () => {
    await page.goto(`${base}/sign-in`);
    await shot(page, "sign-in");
    await page.fill("#access-key-id", akid);
    await page.fill("#secret", "not-the-secret");
    await submit(page, "#sign-in");
    assert((await text(page, ".alert.error")).includes("Sign-in failed"), "no refusal shown");
  });

  await check("sign in", async () => {
    await signIn(page, akid, secret);
    assert((await page.content()).includes("arn:aws:iam::111122223333:root"), "principal not shown");
  });

  await check("create a key", async () => {
    await page.click("#create-key");
    await page.selectOption("#usage", "ENCRYPT_DECRYPT");
    await page.fill("#description", "Browser test key");
    await shot(page, "create-key");
    await submit(page, "#create");
    assert((await text(page, ".alert.ok")).startsWith("Created key"), "no confirmation");
    keyId = (await text(page, "h1")).trim();
    assert(/^[0-9a-f-]{36}$/.test(keyId), `key id ${keyId}`);
  });

  await check("add an alias", async () => {
    await page.fill("#new-alias", "alias/browser-test");
    await submit(page, "button[data-op=CreateAlias]");
    assert((await text(page, "#aliases")).includes("alias/browser-test"), "alias not listed");
  });

  await check("add a tag", async () => {
    await page.fill("#new-tag-key", "team");
    await page.fill("#new-tag-value", "platform");
    await submit(page, "button[data-op=TagResource]");
    const tags = await text(page, "#tags");
    assert(tags.includes("team") && tags.includes("platform"), `tags: ${tags}`);
    await shot(page, "key-detail");
  });

  await check("a bad policy is refused with the API's message", async () => {
    await page.click("nav.tabs >> text=Key policy");
    const bad = JSON.stringify({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: "kms:*", Resource: "*" }],
    });
    await page.fill("#policy", bad);
    await submit(page, "#save-policy");
    const err = await text(page, ".alert.error");
    assert(err.includes("MalformedPolicyDocumentException"), `error: ${err}`);
  });

  await check("explain a denial", async () => {
    const draft = JSON.stringify(
      {
        Version: "2012-10-17",
        Statement: [
          { Sid: "Root", Effect: "Allow", Principal: { AWS: "arn:aws:iam::111122223333:root" }, Action: "kms:*", Resource: "*" },
          { Sid: "NoDeletion", Effect: "Deny", Principal: "*", Action: "kms:ScheduleKeyDeletion", Resource: "*" },
        ],
      },
      null,
      2,
    );
    await page.fill("#policy", draft);
    await page.fill("#explain-principal", "arn:aws:iam::111122223333:root");
    await page.selectOption("#explain-action", "kms:ScheduleKeyDeletion");
    await submit(page, "#explain-button");
    const d = await text(page, "#decision");
    assert(d.includes("DENIED (explicit)") && d.includes("NoDeletion"), `decision: ${d}`);
    await shot(page, "policy-explain");
  });

  await check("encrypt and decrypt text", async () => {
    await page.click("nav.tabs >> text=Try it");
    await page.fill("#encrypt-text", "hello from the browser");
    await submit(page, "#run-Encrypt");
    const blob = await page.inputValue("#decrypt-ciphertext");
    assert(blob.length > 40, "no ciphertext");
    await submit(page, "#run-Decrypt");
    const plain = await page.inputValue("#result textarea");
    assert(plain === "hello from the browser", `plaintext: ${plain}`);
    await shot(page, "try-it");
  });

  await check("the key's audit trail", async () => {
    await page.click("nav.tabs >> text=Audit trail");
    await page.fill("input[name=operation]", "Encrypt");
    await submit(page, "form.filters button");
    const trail = await text(page, "#audit");
    assert(trail.includes("Encrypt") && trail.includes("tresor-console"), `trail: ${trail}`);
    assert(!trail.includes("CreateAlias"), "operation filter");
  });

  await check("schedule deletion", async () => {
    await page.click("nav.tabs >> text=Details");
    await page.fill("#pending-days", "7");
    await submit(page, "button[data-op=ScheduleKeyDeletion]");
    assert((await text(page, "#key-state")) === "PendingDeletion", "state not PendingDeletion");
  });

  await check("keys list filters by alias and state", async () => {
    await page.goto(`${base}/keys/new`);
    await page.fill("#description", "hidden key");
    await submit(page, "#create");
    hiddenKey = (await text(page, "h1")).trim();
    await page.goto(`${base}/keys?alias=browser`);
    let rows = await page.locator("#keys tbody tr").count();
    assert(rows === 1, `alias filter rows ${rows}`);
    await page.goto(`${base}/keys?state=Enabled`);
    const body = await text(page, "#keys");
    assert(body.includes(hiddenKey) && !body.includes(keyId), "state filter");
    await page.goto(`${base}/keys`);
    await shot(page, "keys");
  });

  let viewer;
  await check("create a second user with a narrow policy", async () => {
    await page.click("header nav >> text=Users");
    await page.fill("#user-name", "viewer");
    await submit(page, "#create-user");
    viewer = { id: await text(page, "#new-access-key-id"), secret: await text(page, "#new-secret") };
    assert(viewer.id.startsWith("AKIA") || viewer.id.length > 10, `key ${viewer.id}`);
    await page.click("#users >> text=viewer");
    await page.fill("#policy-name", "read-one-key");
    await page.fill(
      "#policy-document",
      JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: "kms:ListKeys", Resource: "*" },
          { Effect: "Allow", Action: ["kms:DescribeKey", "kms:ListAliases"], Resource: `arn:aws:kms:us-east-1:111122223333:key/${keyId}` },
        ],
      }),
    );
    await submit(page, "#put-user-policy");
    assert((await text(page, "#user-policies")).includes("read-one-key"), "policy not listed");
    await shot(page, "users");
  });

  await check("sign out", async () => {
    await submit(page, "#sign-out");
    assert(page.url().endsWith("/console/sign-in"), page.url());
    await page.goto(`${base}/keys`);
    assert(page.url().includes("/console/sign-in"), "still signed in");
  });

  await check("a second user sees only what its policies allow", async () => {
    await signIn(page, viewer.id, viewer.secret);
    const list = await text(page, "#keys");
    assert(list.includes("Browser test key"), "own key missing");
    assert(!list.includes("hidden key"), "the other key's description leaked");
    await page.goto(`${base}/keys/${hiddenKey}`);
    assert((await text(page, ".alert.error")).includes("AccessDeniedException"), "detail not refused");
    assert((await page.locator("header nav >> text=Users").count()) === 0, "users offered");
  });

  await check("works at 360 px wide", async () => {
    await page.setViewportSize({ width: 360, height: 740 });
    for (const path of ["/keys", `/keys/${keyId}`, `/keys/${keyId}/policy`, `/keys/${keyId}/try`]) {
      await page.goto(`${base}${path}`);
      const w = await page.evaluate(() => document.documentElement.scrollWidth);
      assert(w <= 360, `${path} is ${w}px wide`);
    }
    await page.goto(`${base}/keys/${keyId}`);
    await shot(page, "narrow");
    await submit(page, "#sign-out");
  });

  await check("no Content-Security-Policy violations", async () => {
    assert(cspViolations.length === 0, cspViolations.join("; "));
  });
} catch {
  // Recorded by check(); the remaining steps depend on the failed one.
} finally {
  await browser.close();
}
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed === 0 && passed > 0 ? 0 : 1);
