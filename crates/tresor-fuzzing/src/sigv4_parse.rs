//! `sigv4_parse`: arbitrary text as a SigV4 `Authorization` header with the request's
//! other headers and body, through the server's parser and verifier.
//!
//! Input (text): the first line is the `Authorization` value, then `name: value` header
//! lines up to an empty line, then the body. Besides parsing and verifying what was
//! sent, every request with `host` and a valid `x-amz-date` is signed with the server's
//! signer and must then verify (signer and verifier agree on every canonical form),
//! unless it repeats a header (the verifier refuses those).

use axum::http::{HeaderMap, HeaderName, HeaderValue};
use time::OffsetDateTime;
use tresor_core::{Credential, SecretBytes};
use tresor_server::sigv4::{self, SignedRequest, SigningKeys};

const ACCESS_KEY_ID: &str = "AKIDEXAMPLE";
const SECRET: &[u8] = b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

/// Runs one input; panics only when a request the signer signed does not verify.
pub fn run(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    let (head, body) = text.split_once("\n\n").unwrap_or((&text, ""));
    let mut lines = head.split('\n');
    let authorization = lines.next().unwrap_or_default();
    let mut headers = HeaderMap::new();
    for line in lines {
        let Some((name, value)) = line.split_once(':') else {
            continue;
        };
        if let (Ok(n), Ok(v)) = (
            HeaderName::from_bytes(name.trim().as_bytes()),
            HeaderValue::from_str(value.trim()),
        ) {
            headers.append(n, v);
        }
    }
    let cred = Credential {
        access_key_id: ACCESS_KEY_ID.into(),
        secret: SecretBytes::from_slice(SECRET),
        account: "111122223333".into(),
        principal_arn: "arn:aws:iam::111122223333:root".into(),
        operator: false,
        xks_proxy: false,
    };
    let keys = SigningKeys::default();
    let date = request_time(&headers);
    let now = date.unwrap_or(OffsetDateTime::UNIX_EPOCH);
    if let Ok(auth) = sigv4::parse_authorization(authorization) {
        let _ = sigv4::verify(&request(&headers, body), &auth, &cred, &keys, now);
    }

    // Round trip: what the signer signs, the verifier accepts — for requests a client
    // can send: the verifier refuses a header sent twice (a signed one is ambiguous).
    let repeated = headers
        .keys()
        .any(|k| headers.get_all(k).iter().count() > 1);
    if date.is_none() || !headers.contains_key("host") || repeated {
        return;
    }
    headers.remove("authorization");
    let req = request(&headers, body);
    let Ok(value) = sigv4::sign(
        "POST",
        "/",
        &headers,
        body.as_bytes(),
        ACCESS_KEY_ID,
        SECRET,
        "us-east-1",
    ) else {
        return;
    };
    let verified = sigv4::parse_authorization(&value)
        .and_then(|auth| sigv4::verify(&req, &auth, &cred, &keys, now));
    if let Err(e) = verified {
        signer_disagrees(&value, &e.to_string());
    }
}

fn request<'a>(headers: &'a HeaderMap, body: &'a str) -> SignedRequest<'a> {
    SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body: body.as_bytes(),
    }
}

/// The `x-amz-date` of the request when it is valid SigV4 basic format; used as the
/// verifier's clock.
fn request_time(headers: &HeaderMap) -> Option<OffsetDateTime> {
    let raw = headers.get("x-amz-date")?.to_str().ok()?;
    let fmt = time::macros::format_description!("[year][month][day]T[hour][minute][second]Z");
    let t = time::PrimitiveDateTime::parse(raw, &fmt).ok()?.assume_utc();
    // The verifier compares with the server's clock ± 5 minutes; a clock at the edge of
    // `time`'s range (year 9999) is not one a server has.
    (1..=9000).contains(&t.year()).then_some(t)
}

#[allow(clippy::panic)]
fn signer_disagrees(authorization: &str, error: &str) -> ! {
    panic!("sigv4_parse: a request signed as `{authorization}` does not verify: {error}")
}
