//! A key's grants: list (ListGrants), create with constraints (CreateGrant), revoke
//! (RevokeGrant).

use super::call::{at, s, set};
use super::form::pairs;
use super::key::key_nav;
use super::layout::{csrf, error_page, page};
use super::{see_other, seg, ApiError, Ctx, Form, Post};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::html;
use serde_json::{json, Value};
use std::sync::Arc;

/// The operations a grant may allow (AWS's GrantOperation values).
const OPERATIONS: &[&str] = &[
    "Decrypt",
    "Encrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "ReEncryptFrom",
    "ReEncryptTo",
    "Sign",
    "Verify",
    "GetPublicKey",
    "CreateGrant",
    "RetireGrant",
    "DescribeKey",
    "GenerateDataKeyPair",
    "GenerateDataKeyPairWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "DeriveSharedSecret",
];

/// `GET /console/keys/{id}/grants`.
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Response {
    let listed = match ctx
        .call(&state, "ListGrants", json!({ "KeyId": id, "Limit": 100 }))
        .await
    {
        Ok(v) => v,
        Err(e) => return error_page(&ctx, "Grants", &e),
    };
    let grants: Vec<Value> = at(&listed, "Grants")
        .as_array()
        .cloned()
        .unwrap_or_default();
    let action = format!("/console/keys/{}/grants", seg(&id));
    let body = html! {
        (key_nav(&id, "grants"))
        h1 { "Grants" }
        @if grants.is_empty() {
            p.empty { "No grants on this key." }
        } @else {
            div.scroll { table #grants {
                thead { tr { th { "Name" } th { "Grantee" } th { "Operations" } th { "Constraints" } th {} } }
                tbody {
                    @for g in &grants {
                        tr {
                            td { (s(g, "Name")) }
                            td.mono { (s(g, "GranteePrincipal")) }
                            td { (ops_of(g)) }
                            td.mono { @if let Some(c) = g.get("Constraints") { (c.to_string()) } }
                            td {
                                form.inline method="post" action=(action) data-confirm="Revoke this grant?" {
                                    (csrf(&ctx))
                                    input type="hidden" name="op" value="RevokeGrant";
                                    input type="hidden" name="grant_id" value=(s(g, "GrantId"));
                                    button type="submit" { "Revoke" }
                                }
                            }
                        }
                    }
                }
            } }
        }
        h2 { "Create a grant" }
        form.stack method="post" action=(action) id="grant-form" {
            (csrf(&ctx))
            input type="hidden" name="op" value="CreateGrant";
            label for="grantee" { "Grantee principal ARN" }
            input #grantee name="grantee" required placeholder="arn:aws:iam::111122223333:user/alice";
            label for="retiring" { "Retiring principal ARN (optional)" }
            input #retiring name="retiring";
            label for="grant-name" { "Name (optional)" }
            input #grant-name name="name";
            fieldset.checks {
                legend { "Operations" }
                @for o in OPERATIONS {
                    label { input type="checkbox" name="operation" value=(o); " " (o) }
                }
            }
            label for="ctx-equals" { "Encryption context equals (key=value per line, optional)" }
            textarea #ctx-equals name="context_equals" rows="2" {}
            label for="ctx-subset" { "Encryption context subset (key=value per line, optional)" }
            textarea #ctx-subset name="context_subset" rows="2" {}
            button type="submit" id="create-grant" { "Create grant" }
        }
    };
    page("Grants", &ctx, body)
}

fn ops_of(g: &Value) -> String {
    at(g, "Operations")
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(Value::as_str)
        .collect::<Vec<_>>()
        .join(", ")
}

/// `POST /console/keys/{id}/grants`: CreateGrant or RevokeGrant.
pub(crate) async fn action(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    post: Post,
) -> Response {
    let (ctx, f) = (&post.ctx, &post.form);
    let result = match f.get("op") {
        "RevokeGrant" => ctx
            .call(
                &state,
                "RevokeGrant",
                json!({ "KeyId": id, "GrantId": f.get("grant_id") }),
            )
            .await
            .map(|_| "The grant was revoked.".to_string()),
        "CreateGrant" => match create_body(&id, f) {
            Ok(b) => ctx
                .call(&state, "CreateGrant", b)
                .await
                .map(|v| format!("Created grant {}.", s(&v, "GrantId"))),
            Err(e) => Err(e),
        },
        _ => Err(ApiError::validation("Unknown grant action.")),
    };
    match result {
        Ok(m) => ctx.flash(&state, false, m),
        Err(e) => ctx.flash(&state, true, e.to_string()),
    }
    see_other(&format!("/console/keys/{}/grants", seg(&id)))
}

fn create_body(id: &str, f: &Form) -> Result<Value, ApiError> {
    let mut b = json!({
        "KeyId": id,
        "GranteePrincipal": f.get("grantee").trim(),
        "Operations": f.all("operation"),
    });
    if let Some(r) = f.opt("retiring") {
        set(&mut b, "RetiringPrincipal", r.into());
    }
    if let Some(n) = f.opt("name") {
        set(&mut b, "Name", n.into());
    }
    let equals = pairs(f.get("context_equals")).map_err(ApiError::validation)?;
    let subset = pairs(f.get("context_subset")).map_err(ApiError::validation)?;
    let mut c = serde_json::Map::new();
    if !equals.is_empty() {
        c.insert("EncryptionContextEquals".into(), Value::Object(equals));
    }
    if !subset.is_empty() {
        c.insert("EncryptionContextSubset".into(), Value::Object(subset));
    }
    if !c.is_empty() {
        set(&mut b, "Constraints", Value::Object(c));
    }
    Ok(b)
}
