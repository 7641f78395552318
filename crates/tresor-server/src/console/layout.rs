//! The page frame, shared fragments and the embedded stylesheet and script.

use super::session::Flash;
use super::{ApiError, Ctx};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use maud::{html, Markup, DOCTYPE};

const CSS: &str = include_str!("assets/console.css");
const JS: &str = include_str!("assets/console.js");

/// A signed-in page, 200.
pub(crate) fn page(title: &str, ctx: &Ctx, body: Markup) -> Response {
    page_status(StatusCode::OK, title, ctx, body)
}

/// A signed-in page with `status`: the navigation, the flash message, `body`.
pub(crate) fn page_status(status: StatusCode, title: &str, ctx: &Ctx, body: Markup) -> Response {
    let p = &ctx.session.principal;
    let content = html! {
        header.top {
            a.brand href="/console/keys" { "Tresor" }
            nav {
                a href="/console/keys" { "Keys" }
                a href="/console/keys/new" { "Create key" }
                @if ctx.administers() {
                    a href="/console/users" { "Users" }
                }
            }
            div.who {
                span.principal title=(p.principal_arn) { (p.principal_arn) }
                span.region { (p.region) }
                form method="post" action="/console/sign-out" {
                    (csrf(ctx))
                    button.link type="submit" id="sign-out" { "Sign out" }
                }
            }
        }
        main {
            @if let Some(f) = &ctx.flash { (flash(f)) }
            (body)
        }
    };
    frame(status, title, content)
}

/// A page outside a session (sign-in, errors).
pub(crate) fn bare(status: StatusCode, title: &str, body: Markup) -> Response {
    let content = html! {
        header.top { a.brand href="/console/" { "Tresor" } }
        main { (body) }
    };
    frame(status, title, content)
}

fn frame(status: StatusCode, title: &str, content: Markup) -> Response {
    let doc = html! {
        (DOCTYPE)
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width, initial-scale=1";
                title { (title) " · Tresor console" }
                link rel="stylesheet" href="/console/assets/console.css";
                script src="/console/assets/console.js" defer {}
            }
            body { (content) }
        }
    };
    let mut resp = (status, doc.into_string()).into_response();
    resp.headers_mut().insert(
        "content-type",
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

/// A one-message page outside a session.
pub(crate) fn message_page(status: StatusCode, title: &str, text: &str) -> Response {
    bare(
        status,
        title,
        html! {
            h1 { (title) }
            p.alert.error role="alert" { (text) }
            p { a href="/console/" { "Back to the console" } }
        },
    )
}

/// Anything under `/console/` that is not a page.
pub(crate) fn not_found() -> Response {
    message_page(
        StatusCode::NOT_FOUND,
        "Not found",
        "There is no such page in the console.",
    )
}

/// The hidden CSRF field every form carries.
pub(crate) fn csrf(ctx: &Ctx) -> Markup {
    html! { input type="hidden" name="csrf" value=(ctx.session.csrf); }
}

/// The flash message.
pub(crate) fn flash(f: &Flash) -> Markup {
    html! {
        @if f.error {
            p.alert.error role="alert" { (f.text) }
        } @else {
            p.alert.ok role="status" { (f.text) }
        }
    }
}

/// An API error, as the API phrased it.
pub(crate) fn api_error(e: &ApiError) -> Markup {
    html! { p.alert.error role="alert" { strong { (e.code) } @if !e.message.is_empty() { ": " (e.message) } } }
}

/// The status a page that failed with `e` answers with.
pub(crate) fn status_for(e: &ApiError) -> StatusCode {
    match e.code {
        "AccessDeniedException" => StatusCode::FORBIDDEN,
        "NotFoundException" => StatusCode::NOT_FOUND,
        "KMSInternalException" => StatusCode::INTERNAL_SERVER_ERROR,
        _ => StatusCode::BAD_REQUEST,
    }
}

/// A page that is only an API error.
pub(crate) fn error_page(ctx: &Ctx, title: &str, e: &ApiError) -> Response {
    page_status(
        status_for(e),
        title,
        ctx,
        html! { h1 { (title) } (api_error(e)) },
    )
}

/// A `<select>` of `options`, `selected` preselected.
pub(crate) fn select(name: &str, id: &str, options: &[&str], selected: &str) -> Markup {
    html! {
        select name=(name) id=(id) {
            @for o in options {
                option value=(o) selected[*o == selected] { (o) }
            }
        }
    }
}

/// `GET /console/assets/console.css`.
pub(crate) async fn css() -> Response {
    asset(CSS, "text/css; charset=utf-8")
}

/// `GET /console/assets/console.js`.
pub(crate) async fn js() -> Response {
    asset(JS, "text/javascript; charset=utf-8")
}

fn asset(body: &'static str, content_type: &'static str) -> Response {
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert("content-type", HeaderValue::from_static(content_type));
    h.insert("cache-control", HeaderValue::from_static("max-age=300"));
    resp
}
