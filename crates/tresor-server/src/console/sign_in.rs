//! Sign-in with an access key id and its secret (checked once, in constant time,
//! against the stored secret), and sign-out.

use super::layout::{self, bare};
use super::session::{self, Principal, COOKIE, PRE_COOKIE};
use super::{see_other, Ctx, Form, Post};
use crate::AppState;
use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::Response;
use maud::html;
use std::sync::Arc;
use std::time::Instant;
use tresor_core::KmsError;

/// What a failed sign-in is told, whatever the reason (no oracle for key ids).
const FAILED: &str = "Sign-in failed: the access key id or the secret access key is wrong, or the key is not active.";
/// The audit event of a sign-in (CloudTrail's name for it).
const EVENT: &str = "ConsoleLogin";

/// `GET /console/sign-in`: the form, with a fresh pre-sign-in CSRF token.
pub(crate) async fn form(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let q = Form::query(req.uri());
    let notice = (q.get("expired") == "1").then_some("Your session expired. Sign in again.");
    render(&state, secure(&req), StatusCode::OK, notice, None, "")
}

fn render(
    state: &AppState,
    secure: bool,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<&str>,
    access_key_id: &str,
) -> Response {
    let Some(token) = session::random_token() else {
        return layout::message_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Unavailable",
            "No randomness.",
        );
    };
    let region = state
        .console
        .as_ref()
        .map_or("us-east-1", |c| c.config.default_region.as_str());
    let body = html! {
        section.signin {
            h1 { "Sign in" }
            p.muted { "Sign in with an access key, as with the AWS CLI. Every action runs as that principal, under its policies." }
            @if let Some(n) = notice { p.alert.ok role="status" { (n) } }
            @if let Some(e) = error { p.alert.error role="alert" { (e) } }
            form method="post" action="/console/sign-in" {
                input type="hidden" name="csrf" value=(token);
                label for="access-key-id" { "Access key ID" }
                input #access-key-id name="access_key_id" autocomplete="username" required maxlength="128" value=(access_key_id);
                label for="secret" { "Secret access key" }
                input #secret type="password" name="secret" autocomplete="current-password" required maxlength="128";
                label for="region" { "Region" }
                input #region name="region" required maxlength="32" value=(region);
                button type="submit" id="sign-in" { "Sign in" }
            }
        }
    };
    let mut resp = bare(status, "Sign in", body);
    if let Ok(v) = HeaderValue::from_str(&cookie(PRE_COOKIE, &token, secure, None)) {
        resp.headers_mut().append("set-cookie", v);
    }
    resp
}

/// `POST /console/sign-in`.
pub(crate) async fn submit(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let Some(console) = &state.console else {
        return layout::not_found();
    };
    let secure = secure(&req);
    let (parts, body) = req.into_parts();
    let peer = parts
        .extensions
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map_or(std::net::SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0);
    let request_id = uuid::Uuid::new_v4().to_string();
    // A source that keeps failing is refused before any secret is looked at.
    if !state.rejections.admit(peer.ip(), Instant::now()) {
        let e = KmsError::Throttling("Rate exceeded".into());
        crate::api::record_refusal(&state, &parts, peer, &request_id, &e, EVENT.into());
        return render(
            &state,
            secure,
            StatusCode::TOO_MANY_REQUESTS,
            None,
            Some("Too many failed sign-ins from this address. Wait a minute and try again."),
            "",
        );
    }
    let form = match Form::read(body).await {
        Ok(f) => f,
        Err(r) => return r,
    };
    let pre = session::cookie(&parts.headers, PRE_COOKIE).unwrap_or_default();
    if pre.is_empty() || !session::same(form.get("csrf"), pre) {
        return super::csrf_refused();
    }
    let akid = form.get("access_key_id").trim().to_string();
    let region = form.get("region").trim().to_string();
    let region_ok = (1..=32).contains(&region.len())
        && region
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !region_ok {
        return render(
            &state,
            secure,
            StatusCode::BAD_REQUEST,
            None,
            Some("The region must be a region name such as us-east-1."),
            &akid,
        );
    }
    let secret = zeroize::Zeroizing::new(form.get("secret").as_bytes().to_vec());
    drop(form);
    let principal = match check(&state, &akid, &secret, region).await {
        Ok(p) => p,
        Err(e) => {
            tracing::debug!(request_id, "console sign-in refused: {e}");
            let refusal = KmsError::UnrecognizedClient(
                "The security token included in the request is invalid.".into(),
            );
            crate::api::record_refusal(&state, &parts, peer, &request_id, &refusal, EVENT.into());
            return render(
                &state,
                secure,
                StatusCode::UNAUTHORIZED,
                None,
                Some(FAILED),
                &akid,
            );
        }
    };
    let caller = tresor_core::Caller {
        account: principal.account.clone(),
        principal_arn: principal.principal_arn.clone(),
        access_key_id: principal.access_key_id.clone(),
        operator: principal.operator,
        region: principal.region.clone(),
        source_ip: peer.ip().to_string(),
        user_agent: super::call::USER_AGENT.into(),
        request_id,
        secure_transport: secure,
    };
    // Fail closed: no session unless its start is on the record.
    if let Err(e) = state.kms.audit_call(EVENT, &caller) {
        return layout::message_page(
            StatusCode::SERVICE_UNAVAILABLE,
            "Unavailable",
            &e.to_string(),
        );
    }
    let Some(token) = console.sessions.create(principal) else {
        return render(
            &state,
            secure,
            StatusCode::SERVICE_UNAVAILABLE,
            None,
            Some("Too many console sessions are open; try again later."),
            &akid,
        );
    };
    let mut resp = see_other("/console/keys");
    for c in [
        cookie(COOKIE, &token, secure, None),
        cookie(PRE_COOKIE, "", secure, Some(0)),
    ] {
        if let Ok(v) = HeaderValue::from_str(&c) {
            resp.headers_mut().append("set-cookie", v);
        }
    }
    resp
}

/// The principal behind `akid` if `secret` is its secret.
async fn check(
    state: &Arc<AppState>,
    akid: &str,
    secret: &[u8],
    region: String,
) -> Result<Principal, &'static str> {
    if akid.is_empty() || akid.len() > 128 || secret.is_empty() || secret.len() > 128 {
        return Err("bad lengths");
    }
    if !state.accept_example_key && akid == crate::EXAMPLE_ACCESS_KEY_ID {
        return Err("example key outside dev mode");
    }
    let kms = state.kms.clone();
    let id = akid.to_string();
    let cred = tokio::task::spawn_blocking(move || kms.credential(&id))
        .await
        .map_err(|_| "task failed")?
        .map_err(|_| "store error")?
        .ok_or("unknown or inactive key")?;
    let stored = cred.secret.expose();
    if !state.accept_example_key && stored == crate::EXAMPLE_SECRET_ACCESS_KEY.as_bytes() {
        return Err("example secret outside dev mode");
    }
    aws_lc_rs::constant_time::verify_slices_are_equal(stored, secret)
        .map_err(|_| "wrong secret")?;
    Ok(Principal {
        access_key_id: cred.access_key_id.clone(),
        account: cred.account.clone(),
        principal_arn: cred.principal_arn.clone(),
        operator: cred.operator,
        region,
    })
}

/// `POST /console/sign-out`.
pub(crate) async fn sign_out(State(state): State<Arc<AppState>>, post: Post) -> Response {
    let ctx: &Ctx = &post.ctx;
    if let Some(c) = &state.console {
        c.sessions.end(&ctx.token);
    }
    let mut resp = see_other("/console/sign-in");
    if let Ok(v) = HeaderValue::from_str(&cookie(COOKIE, "", ctx.secure, Some(0))) {
        resp.headers_mut().append("set-cookie", v);
    }
    resp
}

fn secure(req: &Request) -> bool {
    req.extensions()
        .get::<crate::transport::Transport>()
        .is_some_and(|t| t.secure)
}

/// A console cookie: HttpOnly, SameSite=Strict, Path=/console, Secure over TLS.
fn cookie(name: &str, value: &str, secure: bool, max_age: Option<u32>) -> String {
    let mut c = format!("{name}={value}; Path=/console; HttpOnly; SameSite=Strict");
    if let Some(a) = max_age {
        c.push_str(&format!("; Max-Age={a}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}
