//! A key's page: metadata, aliases, tags, rotation (status, enable/disable, rotate now,
//! history), state changes and scheduled deletion; and the actions its forms post.

use super::call::{at, date, s};
use super::layout::{csrf, error_page, page};
use super::{see_other, seg, ApiError, Ctx, Post};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};
use std::sync::Arc;

/// `GET /console/keys/{id}`.
pub(crate) async fn detail(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Response {
    let meta = match ctx
        .call(&state, "DescribeKey", json!({ "KeyId": id }))
        .await
    {
        Ok(v) => at(&v, "KeyMetadata").clone(),
        Err(e) => return error_page(&ctx, "Key", &e),
    };
    let id = s(&meta, "KeyId").to_string();
    let aliases = ctx
        .call(&state, "ListAliases", json!({ "KeyId": id, "Limit": 100 }))
        .await
        .map(|v| {
            at(&v, "Aliases")
                .as_array()
                .into_iter()
                .flatten()
                .map(|a| s(a, "AliasName").to_string())
                .collect::<Vec<_>>()
        });
    let tags = tags(&state, &ctx, &id).await;
    let rotates = s(&meta, "KeySpec") == "SYMMETRIC_DEFAULT"
        && s(&meta, "KeyUsage") == "ENCRYPT_DECRYPT"
        && s(&meta, "Origin") == "AWS_KMS";
    let rotation = if rotates {
        Some(
            ctx.call(&state, "GetKeyRotationStatus", json!({ "KeyId": id }))
                .await,
        )
    } else {
        None
    };
    let history = if rotates {
        Some(
            ctx.call(
                &state,
                "ListKeyRotations",
                json!({ "KeyId": id, "Limit": 100 }),
            )
            .await,
        )
    } else {
        None
    };
    let key_state = s(&meta, "KeyState");
    let title = format!("Key {id}");
    let body = html! {
        (key_nav(&id, "detail"))
        h1.mono { (id) }
        section {
            h2 { "Configuration" }
            dl.meta {
                dt { "ARN" } dd.mono { (s(&meta, "Arn")) }
                dt { "State" } dd { span class={ "state " (key_state) } id="key-state" { (key_state) } }
                dt { "Spec" } dd { (s(&meta, "KeySpec")) }
                dt { "Usage" } dd { (s(&meta, "KeyUsage")) }
                dt { "Origin" } dd { (s(&meta, "Origin")) }
                dt { "Key manager" } dd { (s(&meta, "KeyManager")) }
                dt { "Created" } dd { (date(&meta, "CreationDate")) }
                @if key_state == "PendingDeletion" {
                    dt { "Deletion date" } dd #deletion-date { (date(&meta, "DeletionDate")) }
                }
                dt { "Description" } dd #description { (s(&meta, "Description")) }
            }
            (action_form(&ctx, &id, "UpdateKeyDescription", html! {
                input name="description" aria-label="New description" maxlength="8192" value=(s(&meta, "Description"));
            }, "Update description", ""))
        }
        section {
            h2 { "Aliases" }
            @match &aliases {
                Err(e) => { (super::layout::api_error(e)) }
                Ok(a) if a.is_empty() => { p.empty { "No aliases." } }
                Ok(a) => {
                    ul.chips #aliases {
                        @for name in a {
                            li { span.alias { (name) } (action_form(&ctx, &id, "DeleteAlias", html! {
                                input type="hidden" name="alias" value=(name);
                            }, "Remove", "Remove this alias?")) }
                        }
                    }
                }
            }
            (action_form(&ctx, &id, "CreateAlias", html! {
                input name="alias" id="new-alias" aria-label="Alias name" placeholder="alias/my-key" required;
            }, "Add alias", ""))
        }
        section {
            h2 { "Tags" }
            @match &tags {
                Err(e) => { (super::layout::api_error(e)) }
                Ok(t) if t.is_empty() => { p.empty { "No tags." } }
                Ok(t) => {
                    div.scroll { table #tags {
                        thead { tr { th { "Key" } th { "Value" } th {} } }
                        tbody { @for (k, v) in t { tr { td { (k) } td { (v) } td { (action_form(&ctx, &id, "UntagResource", html! {
                            input type="hidden" name="tag_key" value=(k);
                        }, "Remove", "Remove this tag?")) } } } }
                    } }
                }
            }
            (action_form(&ctx, &id, "TagResource", html! {
                input name="tag_key" id="new-tag-key" aria-label="Tag key" placeholder="key" required;
                input name="tag_value" id="new-tag-value" aria-label="Tag value" placeholder="value";
            }, "Add tag", ""))
        }
        @if let Some(r) = &rotation { (rotation_section(&ctx, &id, r, history.as_ref())) }
        section {
            h2 { "Key state" }
            div.actions {
                @if key_state == "Disabled" {
                    (action_form(&ctx, &id, "EnableKey", html! {}, "Enable key", ""))
                } @else if key_state == "Enabled" {
                    (action_form(&ctx, &id, "DisableKey", html! {}, "Disable key", "Disable this key? It can no longer be used until enabled."))
                }
                @if key_state == "PendingDeletion" {
                    (action_form(&ctx, &id, "CancelKeyDeletion", html! {}, "Cancel deletion", ""))
                } @else {
                    (action_form(&ctx, &id, "ScheduleKeyDeletion", html! {
                        label { "Waiting period (days) " input type="number" name="days" id="pending-days" min="7" max="30" value="30"; }
                    }, "Schedule deletion", "Schedule this key for deletion? Data encrypted under it will be unrecoverable once it is deleted."))
                }
            }
        }
    };
    page(&title, &ctx, body)
}

fn rotation_section(
    ctx: &Ctx,
    id: &str,
    status: &Result<Value, ApiError>,
    history: Option<&Result<Value, ApiError>>,
) -> Markup {
    html! {
        section #rotation {
            h2 { "Rotation" }
            @match status {
                Err(e) => { (super::layout::api_error(e)) }
                Ok(v) => {
                    @let on = at(v, "KeyRotationEnabled").as_bool() == Some(true);
                    p #rotation-status {
                        "Automatic rotation: " strong { @if on { "enabled" } @else { "disabled" } }
                        @if on { " · every " (at(v, "RotationPeriodInDays").as_i64().unwrap_or_default()) " days · next " (date(v, "NextRotationDate")) }
                    }
                    div.actions {
                        @if on {
                            (action_form(ctx, id, "DisableKeyRotation", html! {}, "Disable rotation", ""))
                        } @else {
                            (action_form(ctx, id, "EnableKeyRotation", html! {
                                label { "Period (days) " input type="number" name="period" min="90" max="2560" value="365"; }
                            }, "Enable rotation", ""))
                        }
                        (action_form(ctx, id, "RotateKeyOnDemand", html! {}, "Rotate now", "Rotate this key's material now?"))
                    }
                }
            }
            h3 { "History" }
            @match history {
                Some(Ok(h)) => {
                    @let list = at(h, "Rotations").as_array().cloned().unwrap_or_default();
                    @if list.is_empty() { p.empty { "Never rotated." } }
                    @else {
                        ul #rotation-history { @for r in &list { li { (date(r, "RotationDate")) " · " (s(r, "RotationType")) } } }
                    }
                }
                Some(Err(e)) => { (super::layout::api_error(e)) }
                None => {}
            }
        }
    }
}

/// The tabs of a key's pages.
pub(crate) fn key_nav(id: &str, current: &str) -> Markup {
    let base = format!("/console/keys/{}", seg(id));
    let tabs = [
        ("detail", "Details", base.clone()),
        ("policy", "Key policy", format!("{base}/policy")),
        ("grants", "Grants", format!("{base}/grants")),
        ("try", "Try it", format!("{base}/try")),
        ("audit", "Audit trail", format!("{base}/audit")),
    ];
    html! {
        nav.tabs {
            a href="/console/keys" { "← Keys" }
            @for (name, label, href) in &tabs {
                a.current[*name == current] href=(href) { (label) }
            }
        }
    }
}

/// A small form posting `op` to the key's action endpoint; `confirm` asks first.
pub(crate) fn action_form(
    ctx: &Ctx,
    id: &str,
    op: &str,
    fields: Markup,
    label: &str,
    confirm: &str,
) -> Markup {
    html! {
        form.inline method="post" action={ "/console/keys/" (seg(id)) "/action" } data-confirm=[(!confirm.is_empty()).then_some(confirm)] {
            (csrf(ctx))
            input type="hidden" name="op" value=(op);
            (fields)
            button type="submit" data-op=(op) { (label) }
        }
    }
}

/// The key's tags.
pub(crate) async fn tags(
    state: &Arc<AppState>,
    ctx: &Ctx,
    id: &str,
) -> Result<Vec<(String, String)>, ApiError> {
    let v = ctx
        .call(
            state,
            "ListResourceTags",
            json!({ "KeyId": id, "Limit": 50 }),
        )
        .await?;
    Ok(at(&v, "Tags")
        .as_array()
        .into_iter()
        .flatten()
        .map(|t| (s(t, "TagKey").to_string(), s(t, "TagValue").to_string()))
        .collect())
}

/// `POST /console/keys/{id}/action`: one of the key page's actions, as its API call.
pub(crate) async fn action(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    post: Post,
) -> Response {
    let (ctx, f) = (&post.ctx, &post.form);
    let op = f.get("op");
    let body = match op {
        "EnableKey" | "DisableKey" | "DisableKeyRotation" | "RotateKeyOnDemand"
        | "CancelKeyDeletion" => Ok(json!({ "KeyId": id })),
        "EnableKeyRotation" => number(f.get("period"), "period")
            .map(|p| json!({ "KeyId": id, "RotationPeriodInDays": p })),
        "ScheduleKeyDeletion" => number(f.get("days"), "waiting period")
            .map(|d| json!({ "KeyId": id, "PendingWindowInDays": d })),
        "UpdateKeyDescription" => Ok(json!({ "KeyId": id, "Description": f.get("description") })),
        "CreateAlias" => Ok(json!({ "AliasName": f.get("alias").trim(), "TargetKeyId": id })),
        "DeleteAlias" => Ok(json!({ "AliasName": f.get("alias") })),
        "TagResource" => Ok(json!({
            "KeyId": id,
            "Tags": [{ "TagKey": f.get("tag_key").trim(), "TagValue": f.get("tag_value").trim() }],
        })),
        "UntagResource" => Ok(json!({ "KeyId": id, "TagKeys": [f.get("tag_key")] })),
        _ => Err(ApiError::validation("Unknown console action.")),
    };
    let result = match body {
        Ok(b) => ctx.call(&state, op, b).await,
        Err(e) => Err(e),
    };
    match result {
        Ok(_) => ctx.flash(&state, false, format!("{} succeeded.", describe(op))),
        Err(e) => ctx.flash(&state, true, e.to_string()),
    }
    see_other(&format!("/console/keys/{}", seg(&id)))
}

fn number(v: &str, what: &str) -> Result<i64, ApiError> {
    v.trim()
        .parse()
        .map_err(|_| ApiError::validation(format!("The {what} must be a whole number of days.")))
}

fn describe(op: &str) -> &'static str {
    match op {
        "EnableKey" => "Enabling the key",
        "DisableKey" => "Disabling the key",
        "EnableKeyRotation" => "Enabling rotation",
        "DisableKeyRotation" => "Disabling rotation",
        "RotateKeyOnDemand" => "Starting a rotation",
        "ScheduleKeyDeletion" => "Scheduling the deletion",
        "CancelKeyDeletion" => "Cancelling the deletion",
        "UpdateKeyDescription" => "Updating the description",
        "CreateAlias" => "Adding the alias",
        "DeleteAlias" => "Removing the alias",
        "TagResource" => "Adding the tag",
        "UntagResource" => "Removing the tag",
        _ => "The action",
    }
}
