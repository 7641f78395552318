//! The keys list (paged through ListKeys markers, filtered by alias, tag, spec and
//! state) and the create-key form.

use super::call::{at, s, set};
use super::layout::{self, api_error, csrf, page, page_status, select};
use super::{see_other, seg, Ctx, Form, Post};
use crate::AppState;
use axum::extract::{Request, State};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};
use std::sync::Arc;

/// Keys per page (each costs a DescribeKey and a ListAliases call).
const PAGE: u32 = 25;

/// Every key spec AWS offers, by usage.
pub(crate) const SPECS: &[(&str, &[&str])] = &[
    (
        "ENCRYPT_DECRYPT",
        &[
            "SYMMETRIC_DEFAULT",
            "RSA_2048",
            "RSA_3072",
            "RSA_4096",
            "SM2",
        ],
    ),
    (
        "SIGN_VERIFY",
        &[
            "RSA_2048",
            "RSA_3072",
            "RSA_4096",
            "ECC_NIST_P256",
            "ECC_NIST_P384",
            "ECC_NIST_P521",
            "ECC_SECG_P256K1",
            "ECC_NIST_EDWARDS25519",
            "ML_DSA_44",
            "ML_DSA_65",
            "ML_DSA_87",
            "SM2",
        ],
    ),
    (
        "GENERATE_VERIFY_MAC",
        &["HMAC_224", "HMAC_256", "HMAC_384", "HMAC_512"],
    ),
    (
        "KEY_AGREEMENT",
        &[
            "ECC_NIST_P256",
            "ECC_NIST_P384",
            "ECC_NIST_P521",
            "ECC_SECG_P256K1",
            "SM2",
        ],
    ),
];

const ALL_SPECS: &[&str] = &[
    "",
    "SYMMETRIC_DEFAULT",
    "RSA_2048",
    "RSA_3072",
    "RSA_4096",
    "ECC_NIST_P256",
    "ECC_NIST_P384",
    "ECC_NIST_P521",
    "ECC_SECG_P256K1",
    "ECC_NIST_EDWARDS25519",
    "HMAC_224",
    "HMAC_256",
    "HMAC_384",
    "HMAC_512",
    "ML_DSA_44",
    "ML_DSA_65",
    "ML_DSA_87",
    "SM2",
];
const STATES: &[&str] = &[
    "",
    "Enabled",
    "Disabled",
    "PendingDeletion",
    "PendingImport",
    "Unavailable",
];

/// `GET /console/keys?alias=&tag=&spec=&state=&marker=`.
pub(crate) async fn list(State(state): State<Arc<AppState>>, ctx: Ctx, req: Request) -> Response {
    let q = Form::query(req.uri());
    let (alias, tag, spec, key_state) = (
        q.get("alias").trim().to_lowercase(),
        q.get("tag").trim().to_string(),
        q.get("spec"),
        q.get("state"),
    );
    let mut body = json!({ "Limit": PAGE });
    if let Some(m) = q.opt("marker") {
        set(&mut body, "Marker", m.into());
    }
    let listed = match ctx.call(&state, "ListKeys", body).await {
        Ok(v) => v,
        Err(e) => {
            return page_status(
                layout::status_for(&e),
                "Keys",
                &ctx,
                html! { h1 { "Keys" } (api_error(&e)) },
            )
        }
    };
    let mut rows = Vec::new();
    for k in at(&listed, "Keys").as_array().into_iter().flatten() {
        let id = s(k, "KeyId").to_string();
        rows.push(row(&state, &ctx, id, !tag.is_empty()).await);
    }
    let shown: Vec<&Row> = rows
        .iter()
        .filter(|r| {
            (alias.is_empty() || r.aliases.iter().any(|a| a.to_lowercase().contains(&alias)))
                && (spec.is_empty() || r.spec == spec)
                && (key_state.is_empty() || r.state == key_state)
                && (tag.is_empty() || r.tags.iter().any(|t| tag_matches(&tag, t)))
        })
        .collect();
    let next = listed
        .get("NextMarker")
        .and_then(Value::as_str)
        .filter(|_| at(&listed, "Truncated").as_bool() == Some(true));
    let filtered = !(alias.is_empty() && tag.is_empty() && spec.is_empty() && key_state.is_empty());
    let next_link = next.map(|m| {
        format!(
            "/console/keys?alias={}&tag={}&spec={}&state={}&marker={}",
            seg(&alias),
            seg(&tag),
            seg(spec),
            seg(key_state),
            seg(m)
        )
    });
    page(
        "Keys",
        &ctx,
        html! {
            div.titlebar {
                h1 { "Keys" }
                a.button href="/console/keys/new" id="create-key" { "Create key" }
            }
            form.filters method="get" action="/console/keys" {
                label { "Alias" input name="alias" value=(alias) placeholder="alias/…"; }
                label { "Tag" input name="tag" value=(tag) placeholder="key or key=value"; }
                label { "Spec" (select("spec", "filter-spec", ALL_SPECS, spec)) }
                label { "State" (select("state", "filter-state", STATES, key_state)) }
                button type="submit" { "Filter" }
            }
            @if shown.is_empty() {
                p.empty {
                    @if filtered { "No key on this page matches the filter." }
                    @else if q.opt("marker").is_some() { "No more keys." }
                    @else { "No keys yet. " a href="/console/keys/new" { "Create one." } }
                }
            } @else {
                div.scroll {
                    table #keys {
                        thead { tr { th { "Aliases" } th { "Key ID" } th { "Spec" } th { "Usage" } th { "State" } th { "Description" } } }
                        tbody {
                            @for r in &shown {
                                tr {
                                    td { @for a in &r.aliases { span.alias { (a) } " " } }
                                    td.mono { a href={ "/console/keys/" (seg(&r.id)) } { (r.id) } }
                                    @if let Some(e) = &r.error {
                                        td.muted colspan="4" { (e.code) }
                                    } @else {
                                        td { (r.spec) } td { (r.usage) } td { span class={ "state " (r.state) } { (r.state) } } td { (r.description) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            p.pager {
                @if filtered && next.is_some() { span.muted { "Filters apply to one page of " (PAGE) " keys at a time. " } }
                @if let Some(l) = next_link { a href=(l) id="next-page" { "Next page →" } }
            }
        },
    )
}

fn tag_matches(filter: &str, (k, v): &(String, String)) -> bool {
    match filter.split_once('=') {
        Some((fk, fv)) => k == fk.trim() && v == fv.trim(),
        None => k == filter,
    }
}

struct Row {
    id: String,
    aliases: Vec<String>,
    tags: Vec<(String, String)>,
    spec: String,
    usage: String,
    state: String,
    description: String,
    error: Option<super::ApiError>,
}

async fn row(state: &Arc<AppState>, ctx: &Ctx, id: String, with_tags: bool) -> Row {
    let mut r = Row {
        id,
        aliases: Vec::new(),
        tags: Vec::new(),
        spec: String::new(),
        usage: String::new(),
        state: String::new(),
        description: String::new(),
        error: None,
    };
    match ctx
        .call(state, "DescribeKey", json!({ "KeyId": r.id }))
        .await
    {
        Ok(v) => {
            let m = &at(&v, "KeyMetadata");
            r.spec = s(m, "KeySpec").into();
            r.usage = s(m, "KeyUsage").into();
            r.state = s(m, "KeyState").into();
            r.description = s(m, "Description").into();
        }
        Err(e) => {
            r.error = Some(e);
            return r;
        }
    }
    if let Ok(v) = ctx
        .call(state, "ListAliases", json!({ "KeyId": r.id, "Limit": 100 }))
        .await
    {
        r.aliases = at(&v, "Aliases")
            .as_array()
            .into_iter()
            .flatten()
            .map(|a| s(a, "AliasName").to_string())
            .collect();
    }
    if with_tags {
        r.tags = super::key::tags(state, ctx, &r.id)
            .await
            .unwrap_or_default();
    }
    r
}

/// `GET /console/keys/new`.
pub(crate) async fn new_form(ctx: Ctx) -> Response {
    page(
        "Create key",
        &ctx,
        create_form(&ctx, &Form::default(), None),
    )
}

fn create_form(ctx: &Ctx, f: &Form, error: Option<&super::ApiError>) -> Markup {
    let usages: Vec<&str> = SPECS.iter().map(|(u, _)| *u).collect();
    let usage = f.opt("usage").unwrap_or("ENCRYPT_DECRYPT");
    let spec = f.opt("spec").unwrap_or("SYMMETRIC_DEFAULT");
    html! {
        h1 { "Create key" }
        @if let Some(e) = error { (api_error(e)) }
        form.stack method="post" action="/console/keys" id="create-key-form" {
            (csrf(ctx))
            label for="usage" { "Key usage" }
            (select("usage", "usage", &usages, usage))
            label for="spec" { "Key spec" }
            select name="spec" id="spec" {
                @for (u, specs) in SPECS {
                    optgroup label=(u) data-usage=(u) {
                        @for s in *specs {
                            option value=(s) selected[*s == spec && *u == usage] { (s) }
                        }
                    }
                }
            }
            label for="origin" { "Key material origin" }
            (select("origin", "origin", &["AWS_KMS", "EXTERNAL", "AWS_CLOUDHSM"], f.opt("origin").unwrap_or("AWS_KMS")))
            label for="custom_key_store_id" { "Custom key store id (origin AWS_CLOUDHSM)" }
            input #custom_key_store_id name="custom_key_store_id" placeholder="cks-…" value=(f.get("custom_key_store_id"));
            label.check for="multi_region" {
                input #multi_region type="checkbox" name="multi_region" value="on" checked[f.opt("multi_region").is_some()];
                " Multi-Region key (replicable to other Regions)"
            }
            label for="description" { "Description" }
            input #description name="description" maxlength="8192" value=(f.get("description"));
            label for="alias" { "Alias (optional)" }
            input #alias name="alias" placeholder="alias/my-key" value=(f.get("alias"));
            fieldset.inline {
                legend { "Tag (optional)" }
                input name="tag_key" aria-label="Tag key" placeholder="key" value=(f.get("tag_key"));
                input name="tag_value" aria-label="Tag value" placeholder="value" value=(f.get("tag_value"));
            }
            button type="submit" id="create" { "Create key" }
        }
    }
}

/// `POST /console/keys`: CreateKey, then CreateAlias when an alias is given.
pub(crate) async fn create(State(state): State<Arc<AppState>>, post: Post) -> Response {
    let (ctx, f) = (&post.ctx, &post.form);
    let mut body = json!({
        "KeyUsage": f.opt("usage").unwrap_or("ENCRYPT_DECRYPT"),
        "KeySpec": f.opt("spec").unwrap_or("SYMMETRIC_DEFAULT"),
        "Origin": f.opt("origin").unwrap_or("AWS_KMS"),
    });
    if let Some(d) = f.opt("description") {
        set(&mut body, "Description", d.into());
    }
    if let Some(id) = f.opt("custom_key_store_id") {
        set(&mut body, "CustomKeyStoreId", id.into());
    }
    if f.opt("multi_region").is_some() {
        set(&mut body, "MultiRegion", true.into());
    }
    if let Some(k) = f.opt("tag_key") {
        set(
            &mut body,
            "Tags",
            json!([{ "TagKey": k, "TagValue": f.get("tag_value").trim() }]),
        );
    }
    let created = match ctx.call(&state, "CreateKey", body).await {
        Ok(v) => v,
        Err(e) => {
            return page_status(
                layout::status_for(&e),
                "Create key",
                ctx,
                create_form(ctx, f, Some(&e)),
            )
        }
    };
    let id = s(at(&created, "KeyMetadata"), "KeyId").to_string();
    let mut message = format!("Created key {id}.");
    let mut error = false;
    if let Some(alias) = f.opt("alias") {
        match ctx
            .call(
                &state,
                "CreateAlias",
                json!({ "AliasName": alias, "TargetKeyId": id }),
            )
            .await
        {
            Ok(_) => message.push_str(&format!(" Alias {alias} added.")),
            Err(e) => {
                error = true;
                message.push_str(&format!(" The alias was not added: {e}"));
            }
        }
    }
    ctx.flash(&state, error, message);
    see_other(&format!("/console/keys/{}", seg(&id)))
}
