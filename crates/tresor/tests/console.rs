//! The web console over HTTP: sign-in, sessions, CSRF, headers, escaping, and that
//! every action is an API call by the signed-in principal (its policies, its audit).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;
use serde_json::json;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// One HTTP answer.
struct Answer {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Answer {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
    fn set_cookies(&self) -> Vec<&str> {
        self.headers
            .iter()
            .filter(|(k, _)| k.eq_ignore_ascii_case("set-cookie"))
            .map(|(_, v)| v.as_str())
            .collect()
    }
    /// The CSRF token of the page's first form.
    fn csrf(&self) -> String {
        let at = self
            .body
            .find("name=\"csrf\" value=\"")
            .expect("a form with a CSRF token");
        let rest = &self.body[at + 19..];
        rest[..rest.find('"').unwrap()].to_string()
    }
}

/// A minimal browser: a cookie jar over raw HTTP/1.1.
struct Browser {
    port: u16,
    cookies: HashMap<String, String>,
}

impl Browser {
    fn new(port: u16) -> Browser {
        Browser {
            port,
            cookies: HashMap::new(),
        }
    }

    fn request(&mut self, method: &str, path: &str, form: Option<&[(&str, &str)]>) -> Answer {
        let body = form.map(form_encode).unwrap_or_default();
        let cookie = self
            .cookies
            .iter()
            .map(|(k, v)| format!("{k}={v}"))
            .collect::<Vec<_>>()
            .join("; ");
        let mut req = format!(
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{}\r\nConnection: close\r\nContent-Length: {}\r\n",
            self.port,
            body.len()
        );
        if form.is_some() {
            req.push_str("Content-Type: application/x-www-form-urlencoded\r\n");
        }
        if !cookie.is_empty() {
            req.push_str(&format!("Cookie: {cookie}\r\n"));
        }
        req.push_str("\r\n");
        req.push_str(&body);
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).unwrap();
        s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
        s.write_all(req.as_bytes()).unwrap();
        let mut raw = Vec::new();
        s.read_to_end(&mut raw).unwrap();
        let a = parse(&raw);
        for c in a.set_cookies() {
            let first = c.split(';').next().unwrap();
            let (k, v) = first.split_once('=').unwrap();
            if c.contains("Max-Age=0") {
                self.cookies.remove(k);
            } else {
                self.cookies.insert(k.to_string(), v.to_string());
            }
        }
        a
    }

    fn get(&mut self, path: &str) -> Answer {
        self.request("GET", path, None)
    }

    fn post(&mut self, path: &str, form: &[(&str, &str)]) -> Answer {
        self.request("POST", path, Some(form))
    }

    /// Signs in; returns the answer to the sign-in post.
    fn sign_in(&mut self, akid: &str, secret: &str) -> Answer {
        let page = self.get("/console/sign-in");
        assert_eq!(page.status, 200);
        let csrf = page.csrf();
        self.post(
            "/console/sign-in",
            &[
                ("csrf", &csrf),
                ("access_key_id", akid),
                ("secret", secret),
                ("region", REGION),
            ],
        )
    }

    fn signed_in(port: u16, akid: &str, secret: &str) -> Browser {
        let mut b = Browser::new(port);
        let a = b.sign_in(akid, secret);
        assert_eq!(a.status, 303, "{}", a.body);
        assert_eq!(a.header("location"), Some("/console/keys"));
        b
    }

    /// A page's CSRF token (any signed-in page carries it in the sign-out form).
    fn csrf(&mut self) -> String {
        self.get("/console/keys/new").csrf()
    }
}

fn form_encode(f: &[(&str, &str)]) -> String {
    f.iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

fn parse(raw: &[u8]) -> Answer {
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut body = raw[split + 4..].to_vec();
    let mut lines = head.split("\r\n");
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_string(), v.trim().to_string()))
        .collect();
    let chunked = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("transfer-encoding") && v.contains("chunked"));
    if chunked {
        let mut out = Vec::new();
        let mut rest = &body[..];
        loop {
            let nl = rest.windows(2).position(|w| w == b"\r\n").unwrap();
            let n = usize::from_str_radix(std::str::from_utf8(&rest[..nl]).unwrap().trim(), 16)
                .unwrap();
            if n == 0 {
                break;
            }
            out.extend_from_slice(&rest[nl + 2..nl + 2 + n]);
            rest = &rest[nl + 2 + n + 2..];
        }
        body = out;
    }
    Answer {
        status,
        headers,
        body: String::from_utf8_lossy(&body).into_owned(),
    }
}

/// The id of the key a create-key post redirected to.
fn created_key(a: &Answer) -> String {
    assert_eq!(a.status, 303, "{}", a.body);
    a.header("location")
        .unwrap()
        .strip_prefix("/console/keys/")
        .unwrap()
        .to_string()
}

#[test]
fn sign_in_with_a_wrong_secret_is_refused_and_audited() {
    let srv = Server::start();
    let mut b = Browser::new(srv.port);
    // Not signed in: every page sends to the sign-in form.
    let a = b.get("/console/keys");
    assert_eq!(a.status, 303);
    assert_eq!(a.header("location"), Some("/console/sign-in"));

    let a = b.sign_in(ACCESS_KEY, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEX");
    assert_eq!(a.status, 401);
    assert!(a.body.contains("Sign-in failed"), "{}", a.body);
    assert!(!b.cookies.contains_key("tresor_console"));
    // An unknown key id gets the same words (no oracle).
    let a = b.sign_in("AKIAUNKNOWNUNKNOWN00", SECRET_KEY);
    assert_eq!(a.status, 401);
    assert!(a.body.contains("Sign-in failed"));
    assert_eq!(b.get("/console/keys").status, 303);

    // The right secret opens a session.
    let a = b.sign_in(ACCESS_KEY, SECRET_KEY);
    assert_eq!(a.status, 303, "{}", a.body);
    assert_eq!(b.get("/console/keys").status, 200);

    // Records reach the file asynchronously: wait for both kinds.
    let mut logins = Vec::new();
    for _ in 0..50 {
        logins = records(&audit_dir(&srv))
            .into_iter()
            .filter(|r| r["eventName"] == "ConsoleLogin")
            .collect();
        let refused = logins.iter().any(|r| r["errorCode"].is_string());
        let admitted = logins
            .iter()
            .any(|r| r["errorCode"].is_null() && r["userAgent"] == "tresor-console");
        if refused && admitted {
            return;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    panic!("no refused and admitted ConsoleLogin records: {logins:?}");
}

#[test]
fn failed_sign_ins_are_rate_limited_per_source() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = Server::start_opts(
        tmp.path(),
        &[
            "--dev",
            "--auth-failure-burst",
            "3",
            "--auth-failure-rate",
            "0.01",
        ],
        &[],
    );
    let mut b = Browser::new(srv.port);
    for _ in 0..3 {
        assert_eq!(b.sign_in(ACCESS_KEY, "wrong-secret").status, 401);
    }
    // Past the burst even the right secret is not looked at.
    let a = b.sign_in(ACCESS_KEY, SECRET_KEY);
    assert_eq!(a.status, 429, "{}", a.body);
    assert!(!b.cookies.contains_key("tresor_console"));
}

#[test]
fn session_cookie_flags_and_security_headers() {
    let srv = Server::start();
    let mut b = Browser::new(srv.port);
    let page = b.get("/console/sign-in");
    let a = b.post(
        "/console/sign-in",
        &[
            ("csrf", &page.csrf()),
            ("access_key_id", ACCESS_KEY),
            ("secret", SECRET_KEY),
            ("region", REGION),
        ],
    );
    let session = a
        .set_cookies()
        .into_iter()
        .find(|c| c.starts_with("tresor_console="))
        .expect("a session cookie")
        .to_string();
    let value = session
        .split(';')
        .next()
        .unwrap()
        .trim_start_matches("tresor_console=");
    assert_eq!(value.len(), 64, "{session}");
    for flag in ["HttpOnly", "SameSite=Strict", "Path=/console"] {
        assert!(session.contains(flag), "{session}");
    }
    // Plain HTTP: a Secure cookie would never come back.
    assert!(!session.contains("Secure"), "{session}");

    let keys = b.get("/console/keys");
    assert_eq!(keys.status, 200);
    let csp = keys.header("content-security-policy").unwrap();
    assert!(csp.contains("default-src 'none'") && csp.contains("script-src 'self'"));
    assert!(csp.contains("frame-ancestors 'none'") && !csp.contains("unsafe-inline"));
    assert_eq!(keys.header("x-frame-options"), Some("DENY"));
    assert_eq!(keys.header("x-content-type-options"), Some("nosniff"));
    assert_eq!(keys.header("cache-control"), Some("no-store"));
    // No inline script or handler anywhere.
    assert!(!keys.body.contains("onclick") && !keys.body.contains("<script>"));

    // A forged cookie is no session.
    let mut forged = Browser::new(srv.port);
    forged
        .cookies
        .insert("tresor_console".into(), "0".repeat(64));
    assert_eq!(forged.get("/console/keys").status, 303);

    // Sign-out ends the session server-side: the old cookie no longer works.
    let csrf = b.csrf();
    let old = b.cookies["tresor_console"].clone();
    let a = b.post("/console/sign-out", &[("csrf", &csrf)]);
    assert_eq!(a.status, 303);
    assert!(!b.cookies.contains_key("tresor_console"));
    b.cookies.insert("tresor_console".into(), old);
    assert_eq!(b.get("/console/keys").status, 303);
}

/// A create-key form, with `csrf` when given.
fn form(csrf: Option<&str>) -> Vec<(&str, &str)> {
    let mut f = vec![("usage", "ENCRYPT_DECRYPT"), ("spec", "SYMMETRIC_DEFAULT")];
    if let Some(c) = csrf {
        f.push(("csrf", c));
    }
    f
}

#[test]
fn forms_without_the_right_csrf_token_are_refused() {
    let srv = Server::start();
    let mut b = Browser::signed_in(srv.port, ACCESS_KEY, SECRET_KEY);
    let a = b.post("/console/keys", &form(None));
    assert_eq!(a.status, 403, "{}", a.body);
    assert!(a.body.contains("CSRF"));
    let real = b.csrf();
    let mut wrong = real.clone();
    wrong.replace_range(0..1, if real.starts_with('0') { "1" } else { "0" });
    assert_eq!(b.post("/console/keys", &form(Some(&wrong))).status, 403);
    assert_eq!(b.post("/console/keys", &form(Some(""))).status, 403);
    // A token from another session does not do either.
    let mut other = Browser::signed_in(srv.port, ACCESS_KEY, SECRET_KEY);
    let theirs = other.csrf();
    assert_eq!(b.post("/console/keys", &form(Some(&theirs))).status, 403);
    // Nothing was created.
    assert!(!b.get("/console/keys").body.contains("<table"));
    // Sign-out needs the token too.
    assert_eq!(b.post("/console/sign-out", &[]).status, 403);
    assert_eq!(b.get("/console/keys").status, 200);

    // The sign-in form is protected as well (double-submit token).
    let mut fresh = Browser::new(srv.port);
    let a = fresh.post(
        "/console/sign-in",
        &[
            ("csrf", "abc"),
            ("access_key_id", ACCESS_KEY),
            ("secret", SECRET_KEY),
            ("region", REGION),
        ],
    );
    assert_eq!(a.status, 403);

    let id = created_key(&b.post("/console/keys", &form(Some(&real))));
    assert!(is_uuid(&id), "{id}");
}

#[test]
fn an_idle_session_expires() {
    let tmp = tempfile::tempdir().unwrap();
    let srv = Server::start_opts(tmp.path(), &["--dev", "--console-idle-timeout", "1"], &[]);
    let mut b = Browser::signed_in(srv.port, ACCESS_KEY, SECRET_KEY);
    assert_eq!(b.get("/console/keys").status, 200);
    std::thread::sleep(Duration::from_millis(2500));
    let a = b.get("/console/keys");
    assert_eq!(a.status, 303);
    assert_eq!(a.header("location"), Some("/console/sign-in?expired=1"));
    assert!(b.get("/console/sign-in?expired=1").body.contains("expired"));
    // Gone for good, not only late.
    assert_eq!(
        b.get("/console/keys").header("location"),
        Some("/console/sign-in")
    );
}

#[test]
fn console_actions_are_api_calls_by_the_principal() {
    let srv = Server::start();
    let mut b = Browser::signed_in(srv.port, ACCESS_KEY, SECRET_KEY);
    let csrf = b.csrf();
    let id = created_key(&b.post(
        "/console/keys",
        &[
            ("csrf", &csrf),
            ("usage", "ENCRYPT_DECRYPT"),
            ("spec", "SYMMETRIC_DEFAULT"),
            ("description", "made in the console"),
            ("alias", "alias/console-made"),
            ("tag_key", "team"),
            ("tag_value", "blue"),
        ],
    ));
    let page = b.get(&format!("/console/keys/{id}"));
    assert_eq!(page.status, 200);
    for s in [
        "made in the console",
        "alias/console-made",
        "team",
        "blue",
        "Enabled",
    ] {
        assert!(page.body.contains(s), "{s} missing");
    }
    let recs = records(&audit_dir(&srv));
    for op in ["CreateKey", "CreateAlias", "DescribeKey"] {
        let r = recs
            .iter()
            .find(|r| r["eventName"] == op)
            .unwrap_or_else(|| panic!("no {op} record"));
        assert_eq!(r["userAgent"], "tresor-console", "{r}");
        assert_eq!(r["userIdentity"]["accessKeyId"], ACCESS_KEY, "{r}");
    }
    // A bad policy is refused with the API's own message.
    let a = b.post(
        &format!("/console/keys/{id}/policy"),
        &[("csrf", &csrf), ("policy", "{\"Statement\": []}")],
    );
    assert_eq!(a.status, 400);
    assert!(
        a.body.contains("MalformedPolicyDocumentException"),
        "{}",
        a.body
    );
    // Unknown actions are refused, not guessed.
    let a = b.post(
        &format!("/console/keys/{id}/action"),
        &[("csrf", &csrf), ("op", "ImportKeyMaterial")],
    );
    assert_eq!(a.status, 303);
    assert!(b
        .get(&format!("/console/keys/{id}"))
        .body
        .contains("Unknown console action"));

    // The key's audit trail, filtered; the lookup is itself on the record.
    let trail = b.get(&format!("/console/keys/{id}/audit?operation=CreateAlias"));
    assert_eq!(trail.status, 200);
    assert!(trail.body.contains("CreateAlias") && trail.body.contains("tresor-console"));
    assert!(
        !trail.body.contains("<td>DescribeKey</td>"),
        "{}",
        trail.body
    );
    let failed = b.get(&format!("/console/keys/{id}/audit?outcome=error"));
    assert!(failed.body.contains("No record matches"), "{}", failed.body);
    let bad = b.get(&format!("/console/keys/{id}/audit?since=yesterday"));
    assert!(bad.body.contains("cannot read time"), "{}", bad.body);
    let lookup = |r: &serde_json::Value| {
        r["eventName"] == "LookupEvents" && r["userAgent"] == "tresor-console"
    };
    let mut seen = false;
    for _ in 0..50 {
        seen = records(&audit_dir(&srv)).iter().any(lookup);
        if seen {
            break;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    assert!(seen, "no LookupEvents record");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_user_sees_only_what_its_policies_allow() {
    let srv = Server::start();
    let root = srv.client().await;
    let mine = ok(root.create_key().description("bob may see").send().await)
        .key_metadata
        .unwrap()
        .key_id;
    let other = ok(root.create_key().description("secret-project").send().await)
        .key_metadata
        .unwrap()
        .key_id;
    let bob = create_user(&srv, ACCOUNT, "bob");
    put_policy(
        &srv,
        ACCOUNT,
        "bob",
        &json!({"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Action": "kms:ListKeys", "Resource": "*"},
            {"Effect": "Allow", "Action": ["kms:DescribeKey", "kms:ListAliases"],
             "Resource": key_arn(REGION, &mine)}
        ]}),
    );
    let carol = create_user(&srv, ACCOUNT, "carol");
    let (bob, carol) = (bob.clone(), carol.clone());
    let (mine2, other2) = (mine.clone(), other.clone());
    let port = srv.port;
    tokio::task::spawn_blocking(move || {
        let mut b = Browser::signed_in(port, &bob.access_key_id, &bob.secret);
        let list = b.get("/console/keys");
        assert_eq!(list.status, 200);
        assert!(list.body.contains("bob may see"));
        assert!(!list.body.contains("secret-project"), "{}", list.body);
        assert!(list.body.contains("AccessDeniedException"));
        let page = b.get(&format!("/console/keys/{other2}"));
        assert_eq!(page.status, 403);
        assert!(!page.body.contains("secret-project"));
        // An action bob's policies do not allow is refused by the pipeline.
        let csrf = b.csrf();
        b.post(
            &format!("/console/keys/{mine2}/action"),
            &[("csrf", &csrf), ("op", "DisableKey")],
        );
        let page = b.get(&format!("/console/keys/{mine2}"));
        assert!(page.body.contains("kms:DisableKey"), "{}", page.body);
        // Operator pages are not offered, and the API refuses them anyway.
        assert!(!page.body.contains("href=\"/console/users\""));
        assert_eq!(b.get("/console/users").status, 403);
        // The audit trail of a key bob may describe is still not his to read.
        let trail = b.get(&format!("/console/keys/{mine2}/audit"));
        assert_eq!(trail.status, 403);
        assert!(!trail.body.contains("<table"));

        // Carol has no policy: no key is listed at all.
        let mut c = Browser::signed_in(port, &carol.access_key_id, &carol.secret);
        let list = c.get("/console/keys");
        assert_eq!(list.status, 403);
        assert!(list.body.contains("AccessDeniedException"));
        assert!(!list.body.contains(&mine2) && !list.body.contains(&other2));
    })
    .await
    .unwrap();
    let meta = ok(root.describe_key().key_id(&mine).send().await)
        .key_metadata
        .unwrap();
    assert!(meta.enabled, "bob's refused DisableKey changed nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn markup_in_descriptions_and_tags_is_escaped() {
    let srv = Server::start();
    let root = srv.client().await;
    let evil = "<script>alert(1)</script>";
    let evil_tag = "\"><img src=x onerror=alert(2)>";
    let id = ok(root
        .create_key()
        .description(evil)
        .tags(
            aws_sdk_kms::types::Tag::builder()
                .tag_key("x<b>")
                .tag_value(evil_tag)
                .build()
                .unwrap(),
        )
        .send()
        .await)
    .key_metadata
    .unwrap()
    .key_id;
    let port = srv.port;
    let id2 = id.clone();
    let (page, list) = tokio::task::spawn_blocking(move || {
        let mut b = Browser::signed_in(port, ACCESS_KEY, SECRET_KEY);
        (
            b.get(&format!("/console/keys/{id2}")).body,
            b.get("/console/keys?tag=x%3Cb%3E").body,
        )
    })
    .await
    .unwrap();
    for body in [&page, &list] {
        assert!(!body.contains(evil), "raw script in the page");
        assert!(!body.contains("<img"), "raw img in the page");
        assert!(!body.contains("<b>"), "raw tag key in the page");
    }
    assert!(
        page.contains("&lt;script&gt;alert(1)&lt;/script&gt;"),
        "{page}"
    );
    assert!(
        page.contains("&quot;&gt;&lt;img src=x onerror=alert(2)&gt;"),
        "{page}"
    );
    assert!(list.contains(&id), "the tag filter finds the key");
}

#[test]
fn a_deactivated_access_key_ends_its_sessions() {
    let srv = Server::start();
    let dave = create_user(&srv, ACCOUNT, "dave");
    let mut b = Browser::signed_in(srv.port, &dave.access_key_id, &dave.secret);
    assert_eq!(b.get("/console/keys/new").status, 200);
    admin(
        &srv,
        &[
            "access-key",
            "deactivate",
            "--account",
            ACCOUNT,
            "--name",
            "dave",
            "--access-key-id",
            &dave.access_key_id,
        ],
    )
    .expect("deactivate");
    let a = b.get("/console/keys/new");
    assert_eq!(a.status, 303);
    assert_eq!(a.header("location"), Some("/console/sign-in"));
    // And it cannot sign in again.
    assert_eq!(b.sign_in(&dave.access_key_id, &dave.secret).status, 401);
}

#[test]
fn the_create_form_makes_multi_region_keys_and_names_custom_key_stores() {
    let srv = Server::start();
    let mut b = Browser::signed_in(srv.port, ACCESS_KEY, SECRET_KEY);
    let csrf = b.csrf();
    let id = created_key(&b.post(
        "/console/keys",
        &[
            ("csrf", &csrf),
            ("usage", "ENCRYPT_DECRYPT"),
            ("spec", "SYMMETRIC_DEFAULT"),
            ("multi_region", "on"),
        ],
    ));
    assert!(id.starts_with("mrk-"), "{id}");
    let page = b.get(&format!("/console/keys/{id}"));
    assert_eq!(page.status, 200);
    // Without the box ticked the key is single-Region.
    let plain = created_key(&b.post(
        "/console/keys",
        &[
            ("csrf", &csrf),
            ("usage", "ENCRYPT_DECRYPT"),
            ("spec", "SYMMETRIC_DEFAULT"),
        ],
    ));
    assert!(!plain.starts_with("mrk-"), "{plain}");
    // A store that does not exist is refused with the API's answer, and nothing is made.
    let refused = b.post(
        "/console/keys",
        &[
            ("csrf", &csrf),
            ("usage", "ENCRYPT_DECRYPT"),
            ("spec", "SYMMETRIC_DEFAULT"),
            ("origin", "AWS_CLOUDHSM"),
            ("custom_key_store_id", "cks-1234567890abcdef0"),
        ],
    );
    assert_ne!(refused.status, 303, "{}", refused.body);
    assert!(
        refused.body.contains("CustomKeyStoreNotFound"),
        "{}",
        refused.body
    );
}
