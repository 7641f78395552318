//! Strict SigV4: what a request acts on must be what was signed. Each test is an attack
//! with a hand-signed raw request; each asserts that nothing was executed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;

/// Host, Content-Type, X-Amz-Date and X-Amz-Target of a `TrentService.<op>` request.
fn base_headers(srv: &Server, op: &str) -> Vec<(String, String)> {
    let (_, stamp) = amz_dates();
    vec![
        ("Host".into(), format!("127.0.0.1:{}", srv.port)),
        ("Content-Type".into(), "application/x-amz-json-1.1".into()),
        ("X-Amz-Date".into(), stamp),
        ("X-Amz-Target".into(), format!("TrentService.{op}")),
    ]
}

/// Sends `headers` with an Authorization signed (correctly, by the dev key) over
/// `signed` only.
fn send(
    srv: &Server,
    mut headers: Vec<(String, String)>,
    signed: &str,
    body: &[u8],
) -> RawResponse {
    let (date, _) = amz_dates();
    let auth = authorization_for(
        &headers,
        signed,
        body,
        (&date, REGION, "kms"),
        ACCESS_KEY,
        SECRET_KEY,
    );
    headers.push(("Authorization".into(), auth));
    http_request(srv.port, "POST", "/", &headers, body)
}

fn key_count(srv: &Server) -> usize {
    let r = srv.kms_raw("ListKeys", b"{}");
    assert_eq!(r.status, 200, "{}", r.body_str());
    r.json()["Keys"].as_array().map(Vec::len).unwrap()
}

fn assert_refused(r: &RawResponse, kind: &str, message: &str) {
    assert_eq!(r.status, 400, "{}", r.body_str());
    assert_eq!(r.error_type(), kind, "{}", r.body_str());
    let m = r.json()["message"].as_str().unwrap_or_default().to_string();
    assert!(m.contains(message), "message {m:?} lacks {message:?}");
}

#[test]
fn an_unsigned_target_is_not_executed() {
    let srv = Server::start();
    let r = send(
        &srv,
        base_headers(&srv, "CreateKey"),
        "host;x-amz-date",
        b"{}",
    );
    assert_refused(
        &r,
        "InvalidSignatureException",
        "'X-Amz-Target' must be a 'SignedHeader' in the AWS Authorization.",
    );
    assert_eq!(key_count(&srv), 0, "the unsigned CreateKey created a key");
}

#[test]
fn every_x_amz_header_must_be_signed() {
    let srv = Server::start();
    let full = "content-type;host;x-amz-date;x-amz-target";
    for (name, value) in [
        ("X-Amz-Security-Token", "FQoGZXIvYXdzEXAMPLE"),
        ("X-Amz-Content-Sha256", "UNSIGNED-PAYLOAD"),
        ("X-Amz-Anything", "1"),
    ] {
        let mut h = base_headers(&srv, "CreateKey");
        h.push((name.into(), value.into()));
        let r = send(&srv, h, full, b"{}");
        assert_refused(
            &r,
            "InvalidSignatureException",
            &format!("'{name}' must be a 'SignedHeader' in the AWS Authorization."),
        );
    }
    // The date and the host too.
    let r = send(
        &srv,
        base_headers(&srv, "CreateKey"),
        "content-type;host;x-amz-target",
        b"{}",
    );
    assert_refused(
        &r,
        "InvalidSignatureException",
        "'X-Amz-Date' must be a 'SignedHeader'",
    );
    let r = send(
        &srv,
        base_headers(&srv, "CreateKey"),
        "content-type;x-amz-date;x-amz-target",
        b"{}",
    );
    assert_refused(
        &r,
        "InvalidSignatureException",
        "'Host' or ':authority' must be a 'SignedHeader'",
    );
    assert_eq!(key_count(&srv), 0);

    // Signed, the same headers are fine; Content-Type, User-Agent and X-Amzn-Trace-Id
    // (which SDKs leave unsigned) need not be signed.
    let body = br#"{"Description":"signed"}"#;
    let mut h = base_headers(&srv, "CreateKey");
    let sha = hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, body).as_ref());
    h.push(("X-Amz-Content-Sha256".into(), sha));
    h.push((
        "X-Amzn-Trace-Id".into(),
        "Root=1-00000000-000000000000000000000000".into(),
    ));
    h.push(("User-Agent".into(), "attack-test".into()));
    let r = send(
        &srv,
        h,
        "host;x-amz-content-sha256;x-amz-date;x-amz-target",
        body,
    );
    assert_eq!(r.status, 200, "{}", r.body_str());
    assert_eq!(key_count(&srv), 1);
}

#[test]
fn a_captured_request_cannot_be_replayed_as_another_operation() {
    let srv = Server::start();
    let full = "content-type;host;x-amz-date;x-amz-target";
    let (date, _) = amz_dates();
    let mut h = base_headers(&srv, "ListKeys");
    let auth = authorization_for(
        &h,
        full,
        b"{}",
        (&date, REGION, "kms"),
        ACCESS_KEY,
        SECRET_KEY,
    );
    h.push(("Authorization".into(), auth));
    let r = http_request(srv.port, "POST", "/", &h, b"{}");
    assert_eq!(r.status, 200, "{}", r.body_str());
    // Same signature, another target.
    for (k, v) in h.iter_mut() {
        if k == "X-Amz-Target" {
            *v = "TrentService.CreateKey".into();
        }
    }
    let r = http_request(srv.port, "POST", "/", &h, b"{}");
    assert_refused(&r, "InvalidSignatureException", "does not match");
    assert_eq!(key_count(&srv), 0);
}

#[test]
fn a_duplicated_signed_header_is_refused() {
    let srv = Server::start();
    let mut h = base_headers(&srv, "ListKeys");
    h.push(("X-Amz-Target".into(), "TrentService.CreateKey".into()));
    // Both values are in the signature (joined with ','), so it verifies; which one
    // would run is ambiguous.
    let r = send(&srv, h, "content-type;host;x-amz-date;x-amz-target", b"{}");
    assert_refused(
        &r,
        "IncompleteSignatureException",
        "more than one 'X-Amz-Target' header",
    );
    let mut h = base_headers(&srv, "CreateKey");
    let (_, stamp) = amz_dates();
    h.push(("X-Amz-Date".into(), stamp));
    let r = send(&srv, h, "content-type;host;x-amz-date;x-amz-target", b"{}");
    assert_refused(
        &r,
        "IncompleteSignatureException",
        "more than one 'X-Amz-Date' header",
    );
    assert_eq!(key_count(&srv), 0);
}

#[test]
fn duplicated_authorization_components_are_refused() {
    let srv = Server::start();
    let (date, _) = amz_dates();
    let full = "content-type;host;x-amz-date;x-amz-target";
    let mut h = base_headers(&srv, "CreateKey");
    let good = authorization_for(
        &h,
        full,
        b"{}",
        (&date, REGION, "kms"),
        ACCESS_KEY,
        SECRET_KEY,
    );
    let sig = good.rsplit("Signature=").next().unwrap().to_string();
    let cred = format!("{ACCESS_KEY}/{date}/{REGION}/kms/aws4_request");
    for auth in [
        format!("AWS4-HMAC-SHA256 Credential={cred}, SignedHeaders={full}, Signature={}, Signature={sig}", "0".repeat(64)),
        format!("AWS4-HMAC-SHA256 Credential={cred}, SignedHeaders=host;x-amz-date, SignedHeaders={full}, Signature={sig}"),
        format!("AWS4-HMAC-SHA256 Credential=AKIAOTHER/{date}/{REGION}/kms/aws4_request, Credential={cred}, SignedHeaders={full}, Signature={sig}"),
    ] {
        let mut req = h.clone();
        req.push(("Authorization".into(), auth));
        let r = http_request(srv.port, "POST", "/", &req, b"{}");
        assert_refused(&r, "IncompleteSignatureException", "more than one");
    }
    // Two Authorization headers.
    h.push(("Authorization".into(), good.clone()));
    h.push(("Authorization".into(), good));
    let r = http_request(srv.port, "POST", "/", &h, b"{}");
    assert_eq!(r.status, 400, "{}", r.body_str());
    assert_eq!(key_count(&srv), 0);
}

#[test]
fn signed_headers_must_be_lowercase_and_sorted() {
    let srv = Server::start();
    for signed in [
        // Correctly signed in this order, but not SigV4's canonical order.
        "x-amz-target;host;x-amz-date",
        "host;x-amz-date;x-amz-target;x-amz-target",
        "Host;X-Amz-Date;X-Amz-Target",
        "host;;x-amz-date;x-amz-target",
    ] {
        let r = send(&srv, base_headers(&srv, "CreateKey"), signed, b"{}");
        assert_refused(
            &r,
            "IncompleteSignatureException",
            "SignedHeaders must list lowercase",
        );
    }
    assert_eq!(key_count(&srv), 0);
}

#[test]
fn the_credential_scope_must_name_kms_and_a_region() {
    let srv = Server::start();
    let (date, _) = amz_dates();
    let full = "content-type;host;x-amz-date;x-amz-target";
    for (region, service, kind, message) in [
        (
            REGION,
            "s3",
            "InvalidSignatureException",
            "Credential should be scoped to correct service: 'kms'.",
        ),
        (
            "US_EAST_1",
            "kms",
            "IncompleteSignatureException",
            "Credential is malformed",
        ),
        (
            "",
            "kms",
            "IncompleteSignatureException",
            "Credential is malformed",
        ),
    ] {
        let mut h = base_headers(&srv, "CreateKey");
        let auth = authorization_for(
            &h,
            full,
            b"{}",
            (&date, region, service),
            ACCESS_KEY,
            SECRET_KEY,
        );
        h.push(("Authorization".into(), auth));
        let r = http_request(srv.port, "POST", "/", &h, b"{}");
        assert_refused(&r, kind, message);
    }
    assert_eq!(key_count(&srv), 0);
}
