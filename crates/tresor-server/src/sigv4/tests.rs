use super::*;
use axum::http::HeaderValue;
use tresor_core::SecretBytes;

fn cred() -> Credential {
    Credential {
        access_key_id: "AKIDEXAMPLE".into(),
        secret: SecretBytes::from_slice(b"wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"),
        account: "111122223333".into(),
        principal_arn: "arn:aws:iam::111122223333:root".into(),
        operator: false,
        xks_proxy: false,
    }
}

/// The `get-vanilla` case of AWS's SigV4 test suite.
#[test]
fn aws_test_suite_get_vanilla() {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("example.amazonaws.com"));
    headers.insert("x-amz-date", HeaderValue::from_static("20150830T123600Z"));
    let auth = parse_authorization(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31",
    )
    .unwrap();
    let req = SignedRequest {
        method: "GET",
        path: "/",
        query: "",
        headers: &headers,
        body: b"",
    };
    let canonical = canonical_request(&req, &auth.signed_headers);
    assert_eq!(
        canonical,
        "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\ne3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    );
    // The suite's scope uses service "service"; check the signature math directly.
    let keys = SigningKeys::default();
    let key = keys.key(&auth, &cred());
    let sts = format!(
        "AWS4-HMAC-SHA256\n20150830T123600Z\n{}\n{}",
        auth.scope(),
        hex::encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
    );
    assert_eq!(
        hex::encode(hmac::sign(&key, sts.as_bytes())),
        auth.signature
    );
}

#[test]
fn sign_then_verify_round_trips() {
    let mut headers = HeaderMap::new();
    headers.insert("host", HeaderValue::from_static("127.0.0.1:7390"));
    headers.insert(
        "x-amz-date",
        HeaderValue::from_str(&amz_date_now()).unwrap(),
    );
    headers.insert(
        "x-amz-target",
        HeaderValue::from_static("TrentService.ListKeys"),
    );
    let c = cred();
    let value = sign(
        "POST",
        "/",
        &headers,
        b"{}",
        &c.access_key_id,
        c.secret.expose(),
        "eu-west-1",
    )
    .unwrap();
    let auth = parse_authorization(&value).unwrap();
    assert_eq!(auth.region, "eu-west-1");
    let req = SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers: &headers,
        body: b"{}",
    };
    verify(
        &req,
        &auth,
        &c,
        &SigningKeys::default(),
        OffsetDateTime::now_utc(),
    )
    .unwrap();
    let tampered = SignedRequest {
        body: b"{ }",
        ..req
    };
    assert!(verify(
        &tampered,
        &auth,
        &c,
        &SigningKeys::default(),
        OffsetDateTime::now_utc()
    )
    .is_err());
    // The right signature with a byte more or less, or a non-hex digit, is refused.
    let good = auth.signature;
    let longer = format!("{good}00");
    let non_hex = format!("{}g", &good[..good.len() - 1]);
    for signature in [
        &good[..good.len() - 2],
        longer.as_str(),
        non_hex.as_str(),
        "",
    ] {
        let forged = Authorization {
            signature,
            ..auth.clone()
        };
        let r = verify(
            &req,
            &forged,
            &c,
            &SigningKeys::default(),
            OffsetDateTime::now_utc(),
        );
        assert!(
            matches!(r, Err(KmsError::InvalidSignature(_))),
            "{signature}: {r:?}"
        );
    }
}

#[test]
fn rejects_incomplete_headers() {
    assert!(matches!(
        parse_authorization("Bearer x"),
        Err(KmsError::IncompleteSignature(_))
    ));
    let r =
        parse_authorization("AWS4-HMAC-SHA256 Credential=A/20150830/us-east-1/kms/aws4_request");
    assert!(matches!(r, Err(KmsError::IncompleteSignature(m)) if m.contains("Signature")));
    // The credential scope has exactly five parts.
    let header = |credential: &str| {
        format!("AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=ab")
    };
    assert!(parse_authorization(&header("A/20150830/us-east-1/kms/aws4_request")).is_ok());
    for bad in [
        "A/20150830/us-east-1/kms",
        "A/20150830/us-east-1/kms/aws4_request/x",
        "A/20150830/us-east-1/kms/aws4_request/",
        "",
    ] {
        let h = header(bad);
        let r = parse_authorization(&h);
        assert!(
            matches!(&r, Err(KmsError::IncompleteSignature(m)) if m.contains("scoped to a valid region")),
            "{bad}: {r:?}"
        );
    }
}

#[test]
fn query_is_sorted_and_encoded() {
    assert_eq!(canonical_query("b=2&a=1&c=x%20y"), "a=1&b=2&c=x%20y");
    let uri = |p: &str| {
        let mut out = String::new();
        canonical_uri(&mut out, p);
        out
    };
    assert_eq!(uri("/"), "/");
    assert_eq!(uri(""), "/");
    assert_eq!(uri("/a b/c%2F"), "/a%20b/c%252F");
    let t = parse_basic("20261201T235959Z").unwrap();
    assert_eq!(basic(t), "20261201T235959Z");
    for bad in [
        "20261301T000000Z",
        "2026120T1000000Z",
        "20261201T000000",
        "2026120aT000000Z",
        "20261201T246000Z",
        "+0261201T000000Z",
    ] {
        assert!(parse_basic(bad).is_none(), "{bad}");
    }
}

/// The canonical request of an empty `POST /` with `headers`.
fn canonical_post(headers: &HeaderMap, signed: &[&str]) -> String {
    let req = SignedRequest {
        method: "POST",
        path: "/",
        query: "",
        headers,
        body: b"",
    };
    canonical_request(&req, signed)
}

#[test]
fn canonical_headers_follow_signed_headers_order_with_repeated_values_joined() {
    let mut headers = HeaderMap::new();
    headers.append("x-b", HeaderValue::from_static("2"));
    headers.append("x-z", HeaderValue::from_static("unsigned"));
    headers.append("host", HeaderValue::from_static("h"));
    headers.append("x-a", HeaderValue::from_static(" 1  one "));
    headers.append("x-b", HeaderValue::from_static("3"));
    headers.append("x-b", HeaderValue::from_static("1"));
    let c = canonical_post(&headers, &["host", "x-a", "x-b", "x-c"]);
    let lines: Vec<&str> = c.lines().skip(3).take(5).collect();
    // A signed header that is absent has an empty value; an unsigned one is left out.
    assert_eq!(lines, ["host:h", "x-a:1 one", "x-b:2,3,1", "x-c:", ""]);
}

#[test]
fn header_values_are_trimmed_and_collapsed() {
    let canonical = |v: &'static [u8]| {
        let mut headers = HeaderMap::new();
        headers.insert("x-v", HeaderValue::from_bytes(v).unwrap());
        let c = canonical_post(&headers, &["x-v"]);
        c.lines().nth(3).unwrap().to_string()
    };
    for (given, want) in [
        (&b"a b"[..], "x-v:a b"),
        (
            b"aws-sdk-rust/1.3 os/linux",
            "x-v:aws-sdk-rust/1.3 os/linux",
        ),
        (b"a  b", "x-v:a b"),
        (b"a \t b", "x-v:a b"),
        (b"a\tb", "x-v:a b"),
        (b"x ", "x-v:x"),
        (b"", "x-v:"),
        (b"\xc3\xa9 e", "x-v:\u{e9} e"),
    ] {
        assert_eq!(canonical(given), want, "{given:?}");
    }
    assert_eq!(already_canonical(b"a b"), Some("a b"));
    for v in [&b"a  b"[..], b" a", b"a ", b"", b"a\tb", b"\xc3\xa9"] {
        assert_eq!(already_canonical(v), None, "{v:?}");
    }
}
