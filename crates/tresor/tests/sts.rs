//! STS GetCallerIdentity on the KMS endpoint, through hand-signed Query-protocol requests:
//! the root and a user see who they are; a request signed for another service, with a
//! wrong secret or an unknown key is refused in STS's XML; other actions are refused.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use common::*;

const FORM: &str = "Action=GetCallerIdentity&Version=2011-06-15";

/// A form POST signed for `service` with the given key.
fn sts(srv: &Server, body: &str, service: &str, access: &str, secret: &str) -> RawResponse {
    let (date, stamp) = amz_dates();
    let mut headers = vec![
        ("Host".to_string(), format!("127.0.0.1:{}", srv.port)),
        (
            "Content-Type".to_string(),
            "application/x-www-form-urlencoded; charset=utf-8".to_string(),
        ),
        ("X-Amz-Date".to_string(), stamp),
    ];
    let auth = authorization_for(
        &headers,
        "content-type;host;x-amz-date",
        body.as_bytes(),
        (&date, REGION, service),
        access,
        secret,
    );
    headers.push(("Authorization".to_string(), auth));
    http_request(srv.port, "POST", "/", &headers, body.as_bytes())
}

/// The text of `<tag>` in an XML answer.
fn element(xml: &str, tag: &str) -> String {
    let open = format!("<{tag}>");
    let start = xml
        .find(&open)
        .unwrap_or_else(|| panic!("no <{tag}> in {xml}"))
        + open.len();
    let end = xml[start..].find(&format!("</{tag}>")).unwrap() + start;
    xml[start..end].to_string()
}

#[test]
fn get_caller_identity_answers_the_signer() {
    let srv = Server::start();
    let r = sts(&srv, FORM, "sts", ACCESS_KEY, SECRET_KEY);
    assert_eq!(r.status, 200, "{}", r.body_str());
    let xml = r.body_str();
    assert!(xml.starts_with("<GetCallerIdentityResponse"), "{xml}");
    assert_eq!(element(&xml, "Account"), ACCOUNT);
    assert_eq!(element(&xml, "Arn"), format!("arn:aws:iam::{ACCOUNT}:root"));
    assert_eq!(element(&xml, "UserId"), ACCOUNT);

    let bob = create_user(&srv, ACCOUNT, "bob");
    let r = sts(&srv, FORM, "sts", &bob.access_key_id, &bob.secret);
    assert_eq!(r.status, 200, "{}", r.body_str());
    let xml = r.body_str();
    assert_eq!(element(&xml, "Arn"), bob.arn);
    let user_id = element(&xml, "UserId");
    assert!(
        user_id.starts_with("AIDA") && user_id.len() == 21,
        "{user_id}"
    );
    // Stable across calls.
    let again = sts(&srv, FORM, "sts", &bob.access_key_id, &bob.secret);
    assert_eq!(element(&again.body_str(), "UserId"), user_id);

    // Audited, as an STS event.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
    loop {
        let recs: Vec<_> = records(&audit_dir(&srv))
            .into_iter()
            .filter(|r| r["eventName"] == "GetCallerIdentity")
            .collect();
        if recs.len() == 3 {
            assert!(recs.iter().all(|r| r["eventSource"] == "sts.amazonaws.com"));
            assert_eq!(recs[1]["userIdentity"]["arn"], bob.arn.as_str());
            break;
        }
        assert!(std::time::Instant::now() < deadline, "{recs:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
}

#[test]
fn sts_requests_are_authenticated_like_kms_ones() {
    let srv = Server::start();
    let refused = |r: &RawResponse, code: &str| {
        let xml = r.body_str();
        assert!(r.status >= 400, "{xml}");
        assert!(xml.starts_with("<ErrorResponse"), "{xml}");
        assert_eq!(element(&xml, "Code"), code, "{xml}");
        assert!(!xml.contains("<Account>"), "{xml}");
    };
    // Signed for KMS: a captured KMS signature is not an STS one.
    refused(
        &sts(&srv, FORM, "kms", ACCESS_KEY, SECRET_KEY),
        "SignatureDoesNotMatch",
    );
    refused(
        &sts(&srv, FORM, "sts", ACCESS_KEY, "not-the-secret"),
        "SignatureDoesNotMatch",
    );
    refused(
        &sts(&srv, FORM, "sts", "AKIAUNKNOWNKEY000000", SECRET_KEY),
        "InvalidClientTokenId",
    );
    let unsigned = http_request(
        srv.port,
        "POST",
        "/",
        &[
            ("Host".to_string(), format!("127.0.0.1:{}", srv.port)),
            (
                "Content-Type".to_string(),
                "application/x-www-form-urlencoded".to_string(),
            ),
        ],
        FORM.as_bytes(),
    );
    refused(&unsigned, "MissingAuthenticationToken");
    // Only GetCallerIdentity is answered; a repeated Action is not an answer either.
    for body in [
        "Action=AssumeRole&Version=2011-06-15&RoleArn=x&RoleSessionName=y",
        "Action=GetCallerIdentity&Version=2099-01-01",
        "Action=GetCallerIdentity&Action=AssumeRole&Version=2011-06-15",
    ] {
        refused(
            &sts(&srv, body, "sts", ACCESS_KEY, SECRET_KEY),
            "InvalidAction",
        );
    }
}
