//! SigV4 verification (header form): rebuilds the canonical request from the client's
//! `SignedHeaders`, derives the signing key (cached per access key and scope) and
//! compares signatures in constant time.

use aws_lc_rs::{digest, hmac};
use axum::http::{HeaderMap, HeaderValue};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use time::macros::format_description;
use time::{OffsetDateTime, PrimitiveDateTime};
use tresor_core::cache::BoundedMap;
use tresor_core::{Credential, KmsError, KmsResult};

/// How far a request's timestamp may be from the server's clock.
pub const MAX_SKEW_SECONDS: i64 = 300;

const ALGORITHM: &str = "AWS4-HMAC-SHA256";

/// The parsed `Authorization` header; its parts borrow from the header's text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Authorization<'a> {
    /// The access key id from the credential scope.
    pub access_key_id: &'a str,
    /// `YYYYMMDD` from the credential scope.
    pub date: &'a str,
    /// Region from the credential scope.
    pub region: &'a str,
    /// Service from the credential scope.
    pub service: &'a str,
    /// Signed header names, lowercase, in the client's order.
    pub signed_headers: Vec<&'a str>,
    /// The signature, as sent (hex).
    pub signature: &'a str,
}

impl Authorization<'_> {
    /// Appends the credential scope, `DATE/REGION/SERVICE/aws4_request`.
    fn push_scope(&self, out: &mut String) {
        for part in [self.date, self.region, self.service] {
            out.push_str(part);
            out.push('/');
        }
        out.push_str("aws4_request");
    }

    fn scope(&self) -> String {
        let mut out = String::with_capacity(48);
        self.push_scope(&mut out);
        out
    }
}

/// Parses an `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`.
pub fn parse_authorization(value: &str) -> KmsResult<Authorization<'_>> {
    let Some(params) = value.strip_prefix(ALGORITHM) else {
        return Err(KmsError::IncompleteSignature(format!(
            "Unsupported signing algorithm; only {ALGORITHM} is accepted."
        )));
    };
    let (mut credential, mut signed, mut signature) = (None, None, None);
    for part in params.split(',') {
        let part = part.trim();
        let (slot, v) = if let Some(v) = part.strip_prefix("Credential=") {
            (&mut credential, v)
        } else if let Some(v) = part.strip_prefix("SignedHeaders=") {
            (&mut signed, v)
        } else if let Some(v) = part.strip_prefix("Signature=") {
            (&mut signature, v)
        } else {
            continue;
        };
        // A second value of a component would leave it open which one was verified.
        if slot.replace(v).is_some() {
            let name = part.split('=').next().unwrap_or_default();
            return Err(KmsError::IncompleteSignature(format!(
                "Authorization header has more than one '{name}' parameter."
            )));
        }
    }
    let mut missing = Vec::new();
    for (name, v) in [
        ("Credential", credential),
        ("Signature", signature),
        ("SignedHeaders", signed),
    ] {
        if v.is_none() {
            missing.push(format!("Authorization header requires '{name}' parameter."));
        }
    }
    let (Some(credential), Some(signed), Some(signature)) = (credential, signed, signature) else {
        return Err(KmsError::IncompleteSignature(missing.join(" ")));
    };
    // Five parts, and no sixth: read into an array (no Vec per request).
    let mut it = credential.split('/');
    let parts: [Option<&str>; 6] = std::array::from_fn(|_| it.next());
    let [Some(akid), Some(date), Some(region), Some(service), Some(terminator), None] = parts
    else {
        return Err(KmsError::IncompleteSignature(format!(
            "Credential should be scoped to a valid region and service: '{credential}'."
        )));
    };
    if terminator != "aws4_request"
        || date.len() != 8
        || akid.is_empty()
        || !tresor_core::ids::is_region(region)
    {
        return Err(KmsError::IncompleteSignature(format!(
            "Credential is malformed: '{credential}'."
        )));
    }
    Ok(Authorization {
        access_key_id: akid,
        date,
        region,
        service,
        signed_headers: signed_header_names(signed)?,
        signature: signature.trim(),
    })
}

/// SignedHeaders as the canonical request lists them: lowercase, sorted, no duplicates.
/// Anything else is refused rather than normalized, so that one signature has one
/// reading.
fn signed_header_names(signed: &str) -> KmsResult<Vec<&str>> {
    let names: Vec<&str> = signed.split(';').collect();
    let canonical = names.iter().all(|n| {
        !n.is_empty()
            && n.bytes().all(|b| {
                // An HTTP token (RFC 9110 tchar) without uppercase letters.
                b.is_ascii_lowercase() || b.is_ascii_digit() || b"!#$%&'*+-.^_`|~".contains(&b)
            })
    }) && names.windows(2).all(|w| matches!(w, [a, b] if a < b));
    if !canonical {
        return Err(KmsError::IncompleteSignature(format!(
            "SignedHeaders must list lowercase header names, sorted and each once: '{}'.",
            signed.chars().take(256).collect::<String>()
        )));
    }
    Ok(names)
}

/// The request parts that are signed.
#[derive(Debug)]
pub struct SignedRequest<'a> {
    /// HTTP method.
    pub method: &'a str,
    /// Path, as sent.
    pub path: &'a str,
    /// Query string, as sent (without `?`).
    pub query: &'a str,
    /// All headers.
    pub headers: &'a HeaderMap,
    /// The body.
    pub body: &'a [u8],
}

/// Derived signing keys, cached by access key, secret and scope (they change daily).
#[derive(Debug)]
pub struct SigningKeys {
    cache: BoundedMap<String, (Arc<tresor_core::SecretBytes>, Arc<hmac::Key>)>,
    /// The service's credential epoch the cache was filled under.
    epoch: AtomicU64,
}

impl Default for SigningKeys {
    fn default() -> Self {
        Self {
            cache: BoundedMap::new(10_000),
            epoch: AtomicU64::new(0),
        }
    }
}

impl SigningKeys {
    /// Drops every derived key when access keys changed since the last call
    /// (`epoch` is [`tresor_core::Kms::credential_epoch`]): a deactivated or deleted
    /// key's derived signing keys do not outlive it.
    pub fn sync(&self, epoch: u64) {
        if self.epoch.swap(epoch, Ordering::AcqRel) != epoch {
            self.cache.remove_where(|_| true);
        }
    }

    /// Drops every derived key (the server was sealed).
    pub fn clear(&self) {
        self.cache.remove_where(|_| true);
    }

    fn key(&self, auth: &Authorization<'_>, cred: &Credential) -> Arc<hmac::Key> {
        let mut id = String::with_capacity(80);
        id.push_str(auth.access_key_id);
        id.push('\n');
        auth.push_scope(&mut id);
        // The entry holds the secret it was derived from: a changed secret misses.
        if let Some((secret, k)) = self.cache.get(&id) {
            if aws_lc_rs::constant_time::verify_slices_are_equal(
                secret.expose(),
                cred.secret.expose(),
            )
            .is_ok()
            {
                return k;
            }
        }
        let k_secret =
            tresor_core::SecretBytes::new([b"AWS4".as_slice(), cred.secret.expose()].concat());
        let sign = |key: &[u8], data: &str| {
            hmac::sign(&hmac::Key::new(hmac::HMAC_SHA256, key), data.as_bytes())
        };
        let k_date = sign(k_secret.expose(), auth.date);
        let k_region = sign(k_date.as_ref(), auth.region);
        let k_service = sign(k_region.as_ref(), auth.service);
        let k_signing = sign(k_service.as_ref(), "aws4_request");
        let key = Arc::new(hmac::Key::new(hmac::HMAC_SHA256, k_signing.as_ref()));
        self.cache
            .insert(id, (Arc::new(cred.secret.clone()), key.clone()));
        key
    }
}

fn amz_date(headers: &HeaderMap) -> KmsResult<(&str, OffsetDateTime)> {
    let raw = headers
        .get(&crate::headers::X_AMZ_DATE)
        .and_then(|v| v.to_str().ok())
        .ok_or_else(|| KmsError::IncompleteSignature("Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.".into()))?;
    let t = parse_basic(raw).ok_or_else(|| {
        KmsError::IncompleteSignature(format!(
            "Date must be in ISO-8601 'basic format'. Got '{raw}'."
        ))
    })?;
    Ok((raw, t))
}

/// `YYYYMMDDTHHMMSSZ` (UTC), read by hand: this runs on every request.
fn parse_basic(raw: &str) -> Option<OffsetDateTime> {
    let b = raw.as_bytes();
    if b.len() != 16 || b.get(8) != Some(&b'T') || b.get(15) != Some(&b'Z') {
        return None;
    }
    let num = |from: usize, to: usize| -> Option<u32> {
        let digits = b.get(from..to)?;
        digits.iter().try_fold(0u32, |n, d| {
            d.is_ascii_digit().then(|| n * 10 + u32::from(d - b'0'))
        })
    };
    let year = i32::try_from(num(0, 4)?).ok()?;
    let month = time::Month::try_from(u8::try_from(num(4, 6)?).ok()?).ok()?;
    let date = time::Date::from_calendar_date(year, month, u8::try_from(num(6, 8)?).ok()?).ok()?;
    let time = time::Time::from_hms(
        u8::try_from(num(9, 11)?).ok()?,
        u8::try_from(num(11, 13)?).ok()?,
        u8::try_from(num(13, 15)?).ok()?,
    )
    .ok()?;
    Some(PrimitiveDateTime::new(date, time).assume_utc())
}

fn basic(t: OffsetDateTime) -> String {
    let fmt = format_description!("[year][month][day]T[hour][minute][second]Z");
    t.format(&fmt).unwrap_or_default()
}

/// Checks everything about a request's signing that needs no credential: the scope's
/// service, the timestamp, and that `host`, `x-amz-date` and every `x-amz-*` header the
/// request carries are signed, each once. Runs before the access key is looked up, so
/// malformed requests cost no store read. Returns the raw `x-amz-date`.
pub fn precheck<'h>(
    headers: &'h HeaderMap,
    auth: &Authorization<'_>,
    now: OffsetDateTime,
) -> KmsResult<Prechecked<'h>> {
    precheck_for("kms", headers, auth, now)
}

/// Proof that a request passed [`precheck_for`], carrying its `x-amz-date`: what
/// [`verify_prechecked`] needs so the checks do not run twice. Only the precheck makes one.
#[derive(Debug)]
pub struct Prechecked<'h> {
    raw_date: &'h str,
}

/// [`precheck`] for a request to `service` (`kms`, or `sts` for GetCallerIdentity).
pub fn precheck_for<'h>(
    service: &str,
    headers: &'h HeaderMap,
    auth: &Authorization<'_>,
    now: OffsetDateTime,
) -> KmsResult<Prechecked<'h>> {
    let (raw_date, t) = amz_date(headers)?;
    if auth.service != service {
        return Err(KmsError::InvalidSignature(format!(
            "Credential should be scoped to correct service: '{service}'."
        )));
    }
    if raw_date.get(..8) != Some(auth.date) {
        return Err(KmsError::InvalidSignature(format!(
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '{}' != '{}', from '{raw_date}'.",
            auth.date,
            raw_date.get(..8).unwrap_or_default()
        )));
    }
    let skew = time::Duration::seconds(MAX_SKEW_SECONDS);
    if t < now - skew {
        return Err(KmsError::InvalidSignature(format!(
            "Signature expired: {raw_date} is now earlier than {} ({} - 5 min.)",
            basic(now - skew),
            basic(now)
        )));
    }
    if t > now + skew {
        return Err(KmsError::InvalidSignature(format!(
            "Signature not yet current: {raw_date} is still later than {} ({} + 5 min.)",
            basic(now + skew),
            basic(now)
        )));
    }
    check_signed_headers(headers, &auth.signed_headers)?;
    Ok(Prechecked { raw_date })
}

/// `host`, `x-amz-date` and every `x-amz-*` header present must be signed (else an
/// unsigned `X-Amz-Target` could turn a captured request into another operation), and
/// none of them may appear twice (else the signed and the acted-on value could differ).
fn check_signed_headers(headers: &HeaderMap, signed: &[&str]) -> KmsResult<()> {
    let is_signed = |name: &str| signed.contains(&name);
    // As many values as names: no header appears twice.
    let repeats = headers.len() != headers.keys_len();
    if !is_signed("host") {
        return Err(KmsError::InvalidSignature(
            "'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.".into(),
        ));
    }
    for name in ["x-amz-date"]
        .into_iter()
        .chain(headers.keys().map(|k| k.as_str()))
    {
        let guarded = name == "host" || name == "authorization" || name.starts_with("x-amz-");
        if !guarded {
            continue;
        }
        if !is_signed(name) && name != "authorization" {
            return Err(KmsError::InvalidSignature(format!(
                "'{}' must be a 'SignedHeader' in the AWS Authorization.",
                display_name(name)
            )));
        }
        if repeats && headers.get_all(name).iter().nth(1).is_some() {
            return Err(KmsError::IncompleteSignature(format!(
                "The request has more than one '{}' header.",
                display_name(name)
            )));
        }
    }
    Ok(())
}

/// `x-amz-target` → `X-Amz-Target`, as AWS names headers in its messages.
fn display_name(name: &str) -> String {
    name.split('-')
        .map(|part| {
            let mut c = part.chars();
            c.next()
                .map(|f| f.to_ascii_uppercase().to_string() + c.as_str())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join("-")
}

/// Checks the request's signature against `cred`; `now` is the wall clock. Runs
/// [`precheck`] first.
pub fn verify(
    req: &SignedRequest<'_>,
    auth: &Authorization<'_>,
    cred: &Credential,
    keys: &SigningKeys,
    now: OffsetDateTime,
) -> KmsResult<()> {
    verify_for("kms", req, auth, cred, keys, now)
}

/// [`verify`] for a request to `service`.
pub fn verify_for(
    service: &str,
    req: &SignedRequest<'_>,
    auth: &Authorization<'_>,
    cred: &Credential,
    keys: &SigningKeys,
    now: OffsetDateTime,
) -> KmsResult<()> {
    let checked = precheck_for(service, req.headers, auth, now)?;
    verify_prechecked(&checked, req, auth, cred, keys)
}

/// The signature check of [`verify_for`] for a request whose [`precheck_for`] passed.
pub fn verify_prechecked(
    checked: &Prechecked<'_>,
    req: &SignedRequest<'_>,
    auth: &Authorization<'_>,
    cred: &Credential,
    keys: &SigningKeys,
) -> KmsResult<()> {
    let raw_date = checked.raw_date;
    let canonical = canonical_request(req, &auth.signed_headers);
    let mut string_to_sign = String::with_capacity(160);
    string_to_sign.push_str(ALGORITHM);
    string_to_sign.push('\n');
    string_to_sign.push_str(raw_date);
    string_to_sign.push('\n');
    auth.push_scope(&mut string_to_sign);
    string_to_sign.push('\n');
    push_hex(
        &mut string_to_sign,
        digest::digest(&digest::SHA256, canonical.as_bytes()).as_ref(),
    );
    // A SHA-256 HMAC is 32 bytes: any other length cannot match.
    let mut provided = [0u8; 32];
    hex::decode_to_slice(auth.signature, &mut provided).map_err(|_| signature_mismatch())?;
    let key = keys.key(auth, cred);
    hmac::verify(&key, string_to_sign.as_bytes(), &provided).map_err(|_| signature_mismatch())
}

/// Signs a request as an AWS SDK would (for Tresor's own clients: the CLI, the
/// benchmark). `headers` must already hold `host`, `x-amz-date` and every other header to
/// sign; returns the `Authorization` header value. All given headers are signed.
pub fn sign(
    method: &str,
    path: &str,
    headers: &HeaderMap,
    body: &[u8],
    access_key_id: &str,
    secret: &[u8],
    region: &str,
) -> KmsResult<String> {
    let (raw_date, _) = amz_date(headers)?;
    let mut signed: Vec<String> = headers
        .keys()
        .map(|k| k.as_str().to_ascii_lowercase())
        .collect();
    signed.sort();
    signed.dedup();
    let auth = Authorization {
        access_key_id,
        date: raw_date.get(..8).unwrap_or_default(),
        region,
        service: "kms",
        signed_headers: signed.iter().map(String::as_str).collect(),
        signature: "",
    };
    let req = SignedRequest {
        method,
        path,
        query: "",
        headers,
        body,
    };
    let canonical = canonical_request(&req, &auth.signed_headers);
    let string_to_sign = format!(
        "{ALGORITHM}\n{raw_date}\n{}\n{}",
        auth.scope(),
        hex::encode(digest::digest(&digest::SHA256, canonical.as_bytes()))
    );
    let cred = Credential {
        access_key_id: access_key_id.to_string(),
        secret: tresor_core::SecretBytes::from_slice(secret),
        account: String::new(),
        principal_arn: String::new(),
        operator: false,
        xks_proxy: false,
    };
    let key = SigningKeys::default().key(&auth, &cred);
    let signature = hex::encode(hmac::sign(&key, string_to_sign.as_bytes()));
    Ok(format!(
        "{ALGORITHM} Credential={access_key_id}/{}, SignedHeaders={}, Signature={signature}",
        auth.scope(),
        auth.signed_headers.join(";")
    ))
}

/// The current time in SigV4's basic format (`20150830T123600Z`).
pub fn amz_date_now() -> String {
    basic(OffsetDateTime::now_utc())
}

fn signature_mismatch() -> KmsError {
    KmsError::InvalidSignature(
        "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
            .into(),
    )
}

/// The hex digit of the low four bits of `n` (`a` is `b'a'` or `b'A'`).
fn hex_digit(n: u8, a: u8) -> char {
    let n = n & 0x0f;
    char::from(if n < 10 { b'0' + n } else { a + (n - 10) })
}

/// Appends the lower-case hex of `bytes` to `out`.
fn push_hex(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        out.push(hex_digit(b >> 4, b'a'));
        out.push(hex_digit(*b, b'a'));
    }
}

fn canonical_request(req: &SignedRequest<'_>, signed: &[&str]) -> String {
    let mut out = String::with_capacity(512);
    out.push_str(req.method);
    out.push('\n');
    canonical_uri(&mut out, req.path);
    out.push('\n');
    out.push_str(&canonical_query(req.query));
    out.push('\n');
    // The signed headers' values in one pass over the headers (a lookup by name would
    // parse each name again). `signed` is sorted; the sort is stable, so a header's
    // values keep the order they came in.
    let mut found: Vec<(usize, &HeaderValue)> = Vec::with_capacity(req.headers.len());
    found.extend(
        req.headers
            .iter()
            .filter_map(|(name, v)| signed.binary_search(&name.as_str()).ok().map(|i| (i, v))),
    );
    found.sort_by_key(|&(i, _)| i);
    let mut found = found.into_iter().peekable();
    for (i, name) in signed.iter().enumerate() {
        out.push_str(name);
        out.push(':');
        let mut first = true;
        while let Some((_, v)) = found.next_if(|&(j, _)| j == i) {
            if !first {
                out.push(',');
            }
            first = false;
            // Values are trimmed and runs of spaces collapse to one.
            if let Some(plain) = already_canonical(v.as_bytes()) {
                out.push_str(plain);
                continue;
            }
            let v = String::from_utf8_lossy(v.as_bytes());
            for (j, word) in v.split_whitespace().enumerate() {
                if j > 0 {
                    out.push(' ');
                }
                out.push_str(word);
            }
        }
        out.push('\n');
    }
    out.push('\n');
    for (i, name) in signed.iter().enumerate() {
        if i > 0 {
            out.push(';');
        }
        out.push_str(name);
    }
    out.push('\n');
    push_hex(&mut out, digest::digest(&digest::SHA256, req.body).as_ref());
    out
}

/// A header value that canonicalizes to itself (printable ASCII, no space at either
/// end or next to another), as nearly every value does: no trimming pass needed.
fn already_canonical(v: &[u8]) -> Option<&str> {
    let mut prev_space = true;
    for &b in v {
        let space = b == b' ';
        if !(space || (0x21..=0x7e).contains(&b)) || (space && prev_space) {
            return None;
        }
        prev_space = space;
    }
    if prev_space {
        return None;
    }
    std::str::from_utf8(v).ok()
}

fn uri_encode_into(out: &mut String, s: &str, keep_slash: bool) {
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || (keep_slash && b == b'/') {
            out.push(char::from(b));
        } else {
            out.push('%');
            out.push(hex_digit(b >> 4, b'A'));
            out.push(hex_digit(b, b'A'));
        }
    }
}

fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len());
    uri_encode_into(&mut out, s, keep_slash);
    out
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            if let Some(v) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
            {
                out.push(v);
                i += 3;
                continue;
            }
        }
        out.push(b);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn canonical_uri(out: &mut String, path: &str) {
    if path.is_empty() || path == "/" {
        out.push('/');
        return;
    }
    // Non-S3 services encode each segment twice: once by the client, once for signing.
    for (i, seg) in path.split('/').enumerate() {
        if i > 0 {
            out.push('/');
        }
        uri_encode_into(out, seg, false);
    }
}

fn canonical_query(query: &str) -> String {
    if query.is_empty() {
        return String::new();
    }
    let mut pairs: Vec<(String, String)> = query
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (
                uri_encode(&percent_decode(k), false),
                uri_encode(&percent_decode(v), false),
            )
        })
        .collect();
    pairs.sort();
    pairs
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests;
