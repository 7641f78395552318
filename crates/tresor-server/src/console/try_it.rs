//! "Try it": encrypt and decrypt, sign and verify, or MAC some text with the key, as
//! the signed-in principal.

use super::call::{at, s, set};
use super::form::pairs;
use super::key::key_nav;
use super::layout::{api_error, csrf, error_page, page, select};
use super::{seg, ApiError, Ctx, Form, Post};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use base64::Engine;
use maud::{html, Markup};
use serde_json::{json, Value};
use std::sync::Arc;

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// `GET /console/keys/{id}/try`.
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Response {
    render(&state, &ctx, &id, &Form::default(), None).await
}

/// `POST /console/keys/{id}/try`: runs the chosen operation and shows its answer.
pub(crate) async fn run(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    post: Post,
) -> Response {
    let (ctx, f) = (&post.ctx, &post.form);
    let outcome = execute(&state, ctx, &id, f).await;
    render(&state, ctx, &id, f, Some(outcome)).await
}

/// What an operation answered, for display.
struct Outcome {
    op: &'static str,
    lines: Vec<(&'static str, String)>,
}

async fn execute(
    state: &Arc<AppState>,
    ctx: &Ctx,
    id: &str,
    f: &Form,
) -> Result<Outcome, ApiError> {
    let alg = f.opt("algorithm");
    let context = pairs(f.get("context")).map_err(ApiError::validation)?;
    let with_context = |mut b: Value| {
        if !context.is_empty() {
            set(&mut b, "EncryptionContext", Value::Object(context.clone()));
        }
        b
    };
    let decode = |field: &str, what: &str| {
        B64.decode(f.get(field).trim())
            .map_err(|_| ApiError::validation(format!("The {what} must be base64.")))
    };
    match f.get("op") {
        "Encrypt" => {
            let mut b =
                with_context(json!({ "KeyId": id, "Plaintext": B64.encode(f.get("text")) }));
            if let Some(a) = alg {
                set(&mut b, "EncryptionAlgorithm", a.into());
            }
            let v = ctx.call(state, "Encrypt", b).await?;
            Ok(Outcome {
                op: "Encrypt",
                lines: vec![("CiphertextBlob (base64)", s(&v, "CiphertextBlob").into())],
            })
        }
        "Decrypt" => {
            decode("ciphertext", "ciphertext")?;
            let mut b =
                with_context(json!({ "KeyId": id, "CiphertextBlob": f.get("ciphertext").trim() }));
            if let Some(a) = alg {
                set(&mut b, "EncryptionAlgorithm", a.into());
            }
            let v = ctx.call(state, "Decrypt", b).await?;
            let plain = B64.decode(s(&v, "Plaintext")).unwrap_or_default();
            Ok(Outcome {
                op: "Decrypt",
                lines: vec![("Plaintext", String::from_utf8_lossy(&plain).into_owned())],
            })
        }
        "Sign" => {
            let b = json!({ "KeyId": id, "Message": B64.encode(f.get("text")), "MessageType": "RAW",
                "SigningAlgorithm": alg.unwrap_or_default() });
            let v = ctx.call(state, "Sign", b).await?;
            Ok(Outcome {
                op: "Sign",
                lines: vec![("Signature (base64)", s(&v, "Signature").into())],
            })
        }
        "Verify" => {
            decode("signature", "signature")?;
            let b = json!({ "KeyId": id, "Message": B64.encode(f.get("text")), "MessageType": "RAW",
                "Signature": f.get("signature").trim(), "SigningAlgorithm": alg.unwrap_or_default() });
            let v = ctx.call(state, "Verify", b).await?;
            Ok(Outcome {
                op: "Verify",
                lines: vec![("SignatureValid", at(&v, "SignatureValid").to_string())],
            })
        }
        "GenerateMac" => {
            let b = json!({ "KeyId": id, "Message": B64.encode(f.get("text")),
                "MacAlgorithm": alg.unwrap_or_default() });
            let v = ctx.call(state, "GenerateMac", b).await?;
            Ok(Outcome {
                op: "GenerateMac",
                lines: vec![("Mac (base64)", s(&v, "Mac").into())],
            })
        }
        _ => Err(ApiError::validation("Unknown operation.")),
    }
}

async fn render(
    state: &Arc<AppState>,
    ctx: &Ctx,
    id: &str,
    f: &Form,
    outcome: Option<Result<Outcome, ApiError>>,
) -> Response {
    let meta = match ctx.call(state, "DescribeKey", json!({ "KeyId": id })).await {
        Ok(v) => at(&v, "KeyMetadata").clone(),
        Err(e) => return error_page(ctx, "Try it", &e),
    };
    let list = |k: &str| -> Vec<String> {
        at(&meta, k)
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(String::from)
            .collect()
    };
    let action = format!("/console/keys/{}/try", seg(id));
    // The ciphertext just made feeds the decrypt form.
    let produced = match &outcome {
        Some(Ok(o)) if o.op == "Encrypt" => o.lines.first().map(|l| l.1.clone()),
        _ => None,
    };
    let body = html! {
        (key_nav(id, "try"))
        h1 { "Try it" }
        p.muted { "Runs as you, through the API: authorized by your policies and audited." }
        @if let Some(o) = &outcome { (result(o)) }
        @match s(&meta, "KeyUsage") {
            "ENCRYPT_DECRYPT" => {
                @let algs = list("EncryptionAlgorithms");
                (op_form(ctx, &action, "Encrypt", &algs, f, html! {
                    label for="encrypt-text" { "Plaintext" }
                    textarea #encrypt-text name="text" rows="3" maxlength="4096" {}
                    (context_field("encrypt-context", f))
                }))
                (op_form(ctx, &action, "Decrypt", &algs, f, html! {
                    label for="decrypt-ciphertext" { "Ciphertext (base64)" }
                    textarea #decrypt-ciphertext name="ciphertext" rows="3" {
                        (produced.as_deref().unwrap_or_else(|| f.get("ciphertext")))
                    }
                    (context_field("decrypt-context", f))
                }))
            }
            "SIGN_VERIFY" => {
                @let algs = list("SigningAlgorithms");
                (op_form(ctx, &action, "Sign", &algs, f, html! {
                    label for="sign-text" { "Message" }
                    textarea #sign-text name="text" rows="3" maxlength="4096" { (f.get("text")) }
                }))
                (op_form(ctx, &action, "Verify", &algs, f, html! {
                    label for="verify-text" { "Message" }
                    textarea #verify-text name="text" rows="3" maxlength="4096" { (f.get("text")) }
                    label for="verify-signature" { "Signature (base64)" }
                    textarea #verify-signature name="signature" rows="3" { (f.get("signature")) }
                }))
            }
            "GENERATE_VERIFY_MAC" => {
                @let algs = list("MacAlgorithms");
                (op_form(ctx, &action, "GenerateMac", &algs, f, html! {
                    label for="mac-text" { "Message" }
                    textarea #mac-text name="text" rows="3" maxlength="4096" { (f.get("text")) }
                }))
            }
            other => { p.empty { "Nothing to try for key usage " (other) "." } }
        }
    };
    page("Try it", ctx, body)
}

fn op_form(
    ctx: &Ctx,
    action: &str,
    op: &str,
    algorithms: &[String],
    f: &Form,
    fields: Markup,
) -> Markup {
    let algs: Vec<&str> = algorithms.iter().map(String::as_str).collect();
    let chosen = f
        .opt("algorithm")
        .unwrap_or_else(|| algs.first().copied().unwrap_or(""));
    html! {
        form.stack.card method="post" action=(action) id={ "form-" (op) } {
            h2 { (op) }
            (csrf(ctx))
            input type="hidden" name="op" value=(op);
            (fields)
            @if algs.len() > 1 || (op != "Encrypt" && op != "Decrypt") {
                label { "Algorithm " (select("algorithm", &format!("{op}-algorithm"), &algs, chosen)) }
            }
            button type="submit" id={ "run-" (op) } { (op) }
        }
    }
}

fn context_field(id: &str, f: &Form) -> Markup {
    html! {
        label for=(id) { "Encryption context (key=value per line, optional)" }
        textarea id=(id) name="context" rows="2" { (f.get("context")) }
    }
}

fn result(o: &Result<Outcome, ApiError>) -> Markup {
    match o {
        Err(e) => api_error(e),
        Ok(o) => html! {
            section.card #result {
                h2 { (o.op) " succeeded" }
                @for (label, value) in &o.lines {
                    label { (label) }
                    textarea.output readonly rows="3" data-field=(label) { (value) }
                }
            }
        },
    }
}
