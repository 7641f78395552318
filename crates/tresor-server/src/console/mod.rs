//! The web console at `/console/`: server-rendered HTML (maud, escaped by construction)
//! with a little embedded CSS and JavaScript.
//!
//! Sign-in checks an access key's secret once and starts a server-side session (a
//! random cookie: HttpOnly, SameSite=Strict, Secure over TLS, Path=/console) with an
//! idle timeout and a CSRF token that every form carries. Every action is an API call
//! by the signed-in principal through [`tresor_core::Kms::handle`] — authorized by its
//! policies, quota-limited and audited with user agent `tresor-console` — so the
//! console can do nothing its user could not do with the SDK.

mod audit;
mod call;
mod form;
mod grants;
mod key;
mod keys;
mod layout;
mod policy;
pub mod session;
mod sign_in;
mod try_it;
mod users;

use crate::transport::Transport;
use crate::AppState;
use axum::extract::{ConnectInfo, FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

pub(crate) use call::ApiError;
pub(crate) use form::Form;
use session::{Flash, Lookup, Session, Sessions};

/// The console's settings.
#[derive(Debug, Clone)]
pub struct ConsoleConfig {
    /// A session ends after this long without a request.
    pub idle_timeout: Duration,
    /// A session ends this long after sign-in, used or not.
    pub lifetime: Duration,
    /// The region preselected on the sign-in form.
    pub default_region: String,
    /// The audit log's directory, for the audit trail pages (`None`: not kept in files).
    pub audit_dir: Option<std::path::PathBuf>,
}

impl Default for ConsoleConfig {
    fn default() -> Self {
        Self {
            idle_timeout: Duration::from_secs(15 * 60),
            lifetime: Duration::from_secs(12 * 3600),
            default_region: "us-east-1".into(),
            audit_dir: None,
        }
    }
}

/// The console's state: its settings and live sessions.
#[derive(Debug)]
pub struct Console {
    config: ConsoleConfig,
    sessions: Sessions,
}

impl Console {
    /// A console with no sessions.
    pub fn new(config: ConsoleConfig) -> Self {
        Self {
            sessions: Sessions::new(config.idle_timeout, config.lifetime),
            config,
        }
    }
}

/// The console's routes, with its security headers on every answer.
pub(crate) fn routes() -> Router<Arc<AppState>> {
    Router::new()
        .route("/console", get(|| async { see_other("/console/") }))
        .route("/console/", get(|| async { see_other("/console/keys") }))
        .route("/console/assets/console.css", get(layout::css))
        .route("/console/assets/console.js", get(layout::js))
        .route("/console/sign-in", get(sign_in::form).post(sign_in::submit))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/keys", get(keys::list).post(keys::create))
        .route("/console/keys/new", get(keys::new_form))
        .route("/console/keys/{id}", get(key::detail))
        .route("/console/keys/{id}/action", post(key::action))
        .route(
            "/console/keys/{id}/policy",
            get(policy::show).post(policy::save),
        )
        .route("/console/keys/{id}/explain", post(policy::explain))
        .route(
            "/console/keys/{id}/try",
            get(try_it::show).post(try_it::run),
        )
        .route(
            "/console/keys/{id}/grants",
            get(grants::show).post(grants::action),
        )
        .route("/console/keys/{id}/audit", get(audit::show))
        .route("/console/users", get(users::list).post(users::create))
        .route(
            "/console/users/{name}",
            get(users::detail).post(users::action),
        )
        .route("/console/{*rest}", get(|| async { layout::not_found() }))
        .layer(axum::middleware::map_response(security_headers))
}

/// Headers on every console answer: a strict CSP (no inline script or style, forms
/// post only here, no framing), no sniffing, no referrer, no caching.
async fn security_headers(mut resp: Response) -> Response {
    let h = resp.headers_mut();
    h.insert(
        "content-security-policy",
        HeaderValue::from_static(
            "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self'; \
             connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert(
        "x-content-type-options",
        HeaderValue::from_static("nosniff"),
    );
    h.insert("referrer-policy", HeaderValue::from_static("no-referrer"));
    h.insert(
        "cross-origin-opener-policy",
        HeaderValue::from_static("same-origin"),
    );
    if !h.contains_key("cache-control") {
        h.insert("cache-control", HeaderValue::from_static("no-store"));
    }
    resp
}

/// `303 See Other` to `location`.
pub(crate) fn see_other(location: &str) -> Response {
    let mut resp = StatusCode::SEE_OTHER.into_response();
    if let Ok(v) = HeaderValue::from_str(location) {
        resp.headers_mut().insert("location", v);
    }
    resp
}

/// A path segment, percent-encoded.
pub(crate) fn seg(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A signed-in request: the session, who and where from.
pub(crate) struct Ctx {
    /// The session cookie's value.
    pub token: String,
    /// The session.
    pub session: Session,
    /// The client.
    pub peer: SocketAddr,
    /// The connection is TLS.
    pub secure: bool,
    /// The message left by the previous action (GET pages only).
    pub flash: Option<Flash>,
}

impl Ctx {
    /// Leaves `text` for the next page.
    pub fn flash(&self, state: &AppState, error: bool, text: impl Into<String>) {
        if let Some(c) = &state.console {
            c.sessions.set_flash(
                &self.token,
                Flash {
                    error,
                    text: text.into(),
                },
            );
        }
    }

    /// The principal may administer users (the operator or an account root).
    pub fn administers(&self) -> bool {
        let p = &self.session.principal;
        p.operator || p.principal_arn == tresor_core::ids::account_root_arn(&p.account)
    }
}

impl FromRequestParts<Arc<AppState>> for Ctx {
    type Rejection = Response;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &Arc<AppState>,
    ) -> Result<Self, Self::Rejection> {
        let Some(console) = &state.console else {
            return Err(layout::not_found());
        };
        let Some(token) = session::cookie(&parts.headers, session::COOKIE).map(str::to_string)
        else {
            return Err(see_other("/console/sign-in"));
        };
        let session = match console.sessions.touch(&token) {
            Ok(s) => s,
            Err(Lookup::Expired) => return Err(see_other("/console/sign-in?expired=1")),
            Err(Lookup::Unknown) => return Err(see_other("/console/sign-in")),
        };
        if state.kms.is_sealed() {
            return Err(layout::message_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Sealed",
                tresor_core::seal::SEALED_MESSAGE,
            ));
        }
        // The access key must still be active: disabling or deleting it ends the session.
        let kms = state.kms.clone();
        let akid = session.principal.access_key_id.clone();
        let cred = tokio::task::spawn_blocking(move || kms.credential(&akid))
            .await
            .ok()
            .and_then(Result::ok)
            .flatten();
        let still = cred.is_some_and(|c| {
            c.principal_arn == session.principal.principal_arn
                && c.account == session.principal.account
                && c.operator == session.principal.operator
        });
        if !still {
            console.sessions.end(&token);
            return Err(see_other("/console/sign-in"));
        }
        let flash = if parts.method == Method::GET {
            console.sessions.take_flash(&token)
        } else {
            None
        };
        Ok(Ctx {
            token,
            session,
            peer: peer_of(parts),
            secure: secure_of(parts),
            flash,
        })
    }
}

/// A signed-in form submission whose CSRF token matched the session's.
pub(crate) struct Post {
    /// The request.
    pub ctx: Ctx,
    /// The form's fields.
    pub form: Form,
}

impl FromRequest<Arc<AppState>> for Post {
    type Rejection = Response;

    async fn from_request(req: Request, state: &Arc<AppState>) -> Result<Self, Self::Rejection> {
        let (mut parts, body) = req.into_parts();
        let ctx = Ctx::from_request_parts(&mut parts, state).await?;
        let form = Form::read(body).await?;
        if !session::same(form.get("csrf"), &ctx.session.csrf) {
            return Err(csrf_refused());
        }
        Ok(Post { ctx, form })
    }
}

/// The answer to a form whose CSRF token is missing or wrong.
pub(crate) fn csrf_refused() -> Response {
    layout::message_page(
        StatusCode::FORBIDDEN,
        "Form refused",
        "The form's CSRF token is missing or wrong. Reload the page and try again.",
    )
}

fn peer_of(parts: &Parts) -> SocketAddr {
    parts
        .extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map_or(SocketAddr::from(([0, 0, 0, 0], 0)), |c| c.0)
}

fn secure_of(parts: &Parts) -> bool {
    parts
        .extensions
        .get::<Transport>()
        .is_some_and(|t| t.secure)
}
