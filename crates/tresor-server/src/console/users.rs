//! For the operator and account roots: users and their access keys, through the
//! `TresorAdmin` API (which decides who may do what).

use super::call::{at, date, s, set};
use super::layout::{api_error, csrf, error_page, page, page_status, status_for};
use super::{see_other, seg, ApiError, Ctx, Form, Post};
use crate::AppState;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};
use std::sync::Arc;

/// `GET /console/users?account=`.
pub(crate) async fn list(State(state): State<Arc<AppState>>, ctx: Ctx, req: Request) -> Response {
    let q = Form::query(req.uri());
    let account = q
        .opt("account")
        .unwrap_or(&ctx.session.principal.account)
        .to_string();
    render_list(&state, &ctx, &account, None).await
}

async fn render_list(
    state: &Arc<AppState>,
    ctx: &Ctx,
    account: &str,
    created: Option<Result<Value, ApiError>>,
) -> Response {
    let users = ctx
        .call(
            state,
            "TresorAdmin.ListUsers",
            json!({ "Account": account }),
        )
        .await;
    let body = html! {
        h1 { "Users" }
        @if let Some(c) = &created { (new_secret(c)) }
        @if ctx.session.principal.operator {
            form.filters method="get" action="/console/users" {
                label { "Account " input name="account" value=(account) maxlength="12"; }
                button type="submit" { "Show" }
            }
        }
        @match &users {
            Err(e) => { (api_error(e)) }
            Ok(v) => {
                @let list = at(v, "Users").as_array().cloned().unwrap_or_default();
                @if list.is_empty() { p.empty { "No users in account " (account) "." } }
                @else {
                    div.scroll { table #users {
                        thead { tr { th { "User" } th { "ARN" } th { "Status" } th { "Created" } } }
                        tbody { @for u in &list { tr {
                            td { a href={ "/console/users/" (seg(s(u, "UserName"))) "?account=" (seg(account)) } { (s(u, "UserName")) } }
                            td.mono { (s(u, "Arn")) }
                            td { @if at(u, "Enabled").as_bool() == Some(false) { "Disabled" } @else { "Enabled" } }
                            td { (date(u, "CreateDate")) }
                        } } }
                    } }
                }
            }
        }
        h2 { "Create a user" }
        form.stack method="post" action="/console/users" id="create-user-form" {
            (csrf(ctx))
            input type="hidden" name="account" value=(account);
            label for="user-name" { "User name" }
            input #user-name name="name" required maxlength="64";
            button type="submit" id="create-user" { "Create user" }
        }
    };
    let status = match (&created, &users) {
        (Some(Err(e)), _) | (None, Err(e)) => status_for(e),
        _ => axum::http::StatusCode::OK,
    };
    page_status(status, "Users", ctx, body)
}

/// The secret of a new access key: shown once, on the answer to the form, never
/// stored in the session.
fn new_secret(created: &Result<Value, ApiError>) -> Markup {
    match created {
        Err(e) => api_error(e),
        Ok(v) => html! {
            section.card #new-key {
                h2 { "Access key created" }
                p { "Copy the secret now: it is not shown again." }
                dl.meta {
                    dt { "Principal" } dd.mono { (s(v, "Arn")) }
                    dt { "Access key ID" } dd.mono #new-access-key-id { (s(v, "AccessKeyId")) }
                    dt { "Secret access key" } dd.mono #new-secret { (s(v, "SecretAccessKey")) }
                }
            }
        },
    }
}

/// `POST /console/users`: CreateUser (its first access key is shown once).
pub(crate) async fn create(State(state): State<Arc<AppState>>, post: Post) -> Response {
    let (ctx, f) = (&post.ctx, &post.form);
    let account = f.get("account").to_string();
    let created = ctx
        .call(
            &state,
            "TresorAdmin.CreateUser",
            json!({ "Account": account, "UserName": f.get("name").trim() }),
        )
        .await;
    render_list(&state, ctx, &account, Some(created)).await
}

/// `GET /console/users/{name}?account=`.
pub(crate) async fn detail(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    ctx: Ctx,
    req: Request,
) -> Response {
    let q = Form::query(req.uri());
    let account = q
        .opt("account")
        .unwrap_or(&ctx.session.principal.account)
        .to_string();
    render_detail(&state, &ctx, &account, &name, None).await
}

async fn render_detail(
    state: &Arc<AppState>,
    ctx: &Ctx,
    account: &str,
    name: &str,
    created: Option<Result<Value, ApiError>>,
) -> Response {
    let sel = json!({ "Account": account, "UserName": name });
    let keys = match ctx
        .call(state, "TresorAdmin.ListAccessKeys", sel.clone())
        .await
    {
        Ok(v) => v,
        Err(e) => return error_page(ctx, "User", &e),
    };
    let policies = ctx
        .call(state, "TresorAdmin.ListUserPolicies", sel)
        .await
        .map(|v| {
            at(&v, "PolicyNames")
                .as_array()
                .cloned()
                .unwrap_or_default()
        });
    let action = format!("/console/users/{}?account={}", seg(name), seg(account));
    let list = at(&keys, "AccessKeyMetadata")
        .as_array()
        .cloned()
        .unwrap_or_default();
    let body = html! {
        p { a href={ "/console/users?account=" (seg(account)) } { "← Users" } }
        h1 { (name) }
        p.mono { (s(&keys, "Arn")) }
        @if let Some(c) = &created { (new_secret(c)) }
        h2 { "Access keys" }
        @if list.is_empty() { p.empty { "No access keys." } }
        @else {
            div.scroll { table #access-keys {
                thead { tr { th { "Access key ID" } th { "Status" } th { "Created" } th {} } }
                tbody { @for k in &list {
                    @let id = s(k, "AccessKeyId");
                    @let active = s(k, "Status") == "Active";
                    tr {
                        td.mono { (id) }
                        td { (s(k, "Status")) }
                        td { (date(k, "CreateDate")) }
                        td {
                            (key_form(ctx, &action, "UpdateAccessKey", id, if active { "Inactive" } else { "Active" },
                                if active { "Deactivate" } else { "Activate" }, if active { "Deactivate this access key? Its sessions end." } else { "" }))
                            (key_form(ctx, &action, "DeleteAccessKey", id, "", "Delete", "Delete this access key?"))
                        }
                    }
                } }
            } }
        }
        form.inline method="post" action=(action) {
            (csrf(ctx))
            input type="hidden" name="op" value="CreateAccessKey";
            button type="submit" id="create-access-key" { "Create access key" }
        }
        h2 { "Identity policies" }
        @match &policies {
            Err(e) => { (api_error(e)) }
            Ok(names) if names.is_empty() => { p.empty { "No identity policies: this user may do nothing a key policy does not allow it directly." } }
            Ok(names) => { ul #user-policies { @for n in names { li.mono { (n.as_str().unwrap_or_default()) } } } }
        }
        form.stack method="post" action=(action) id="user-policy-form" {
            (csrf(ctx))
            input type="hidden" name="op" value="PutUserPolicy";
            label for="policy-name" { "Policy name" }
            input #policy-name name="policy_name" required maxlength="128";
            label for="policy-document" { "Policy document (JSON; a policy of the same name is replaced)" }
            textarea #policy-document name="policy_document" rows="8" spellcheck="false" {}
            button type="submit" id="put-user-policy" { "Put policy" }
        }
        h2 { "Disable user" }
        form.inline method="post" action=(action) data-confirm="Disable this user? Its access keys stop working." {
            (csrf(ctx))
            input type="hidden" name="op" value="DisableUser";
            button type="submit" { "Disable user" }
        }
    };
    page("User", ctx, body)
}

fn key_form(
    ctx: &Ctx,
    action: &str,
    op: &str,
    id: &str,
    status: &str,
    label: &str,
    confirm: &str,
) -> Markup {
    html! {
        form.inline method="post" action=(action) data-confirm=[(!confirm.is_empty()).then_some(confirm)] {
            (csrf(ctx))
            input type="hidden" name="op" value=(op);
            input type="hidden" name="access_key_id" value=(id);
            @if !status.is_empty() { input type="hidden" name="status" value=(status); }
            button type="submit" { (label) }
        }
    }
}

/// `POST /console/users/{name}?account=`: the user page's actions.
pub(crate) async fn action(
    State(state): State<Arc<AppState>>,
    Path(name): Path<String>,
    req: Request,
) -> Response {
    let account = Form::query(req.uri()).get("account").to_string();
    let post = match <Post as axum::extract::FromRequest<Arc<AppState>>>::from_request(req, &state)
        .await
    {
        Ok(p) => p,
        Err(r) => return r,
    };
    let (ctx, f) = (&post.ctx, &post.form);
    let sel = json!({ "Account": account, "UserName": name });
    let with = |k: &str, v: &str| {
        let mut b = sel.clone();
        set(&mut b, k, v.into());
        b
    };
    match f.get("op") {
        "CreateAccessKey" => {
            let created = ctx
                .call(&state, "TresorAdmin.CreateAccessKey", sel.clone())
                .await;
            return render_detail(&state, ctx, &account, &name, Some(created)).await;
        }
        op @ ("UpdateAccessKey" | "DeleteAccessKey") => {
            let mut b = with("AccessKeyId", f.get("access_key_id"));
            if op == "UpdateAccessKey" {
                set(&mut b, "Status", f.get("status").into());
            }
            let r = ctx.call(&state, &format!("TresorAdmin.{op}"), b).await;
            done(&state, ctx, r, "The access key was updated.");
        }
        "PutUserPolicy" => {
            let mut b = with("PolicyName", f.get("policy_name").trim());
            set(&mut b, "PolicyDocument", f.get("policy_document").into());
            let r = ctx.call(&state, "TresorAdmin.PutUserPolicy", b).await;
            done(&state, ctx, r, "The policy was saved.");
        }
        "DisableUser" => {
            let r = ctx
                .call(&state, "TresorAdmin.DisableUser", sel.clone())
                .await;
            done(&state, ctx, r, "The user was disabled.");
        }
        _ => ctx.flash(&state, true, "Unknown user action."),
    }
    see_other(&format!(
        "/console/users/{}?account={}",
        seg(&name),
        seg(&account)
    ))
}

fn done(state: &AppState, ctx: &Ctx, r: Result<Value, ApiError>, ok: &str) {
    match r {
        Ok(_) => ctx.flash(state, false, ok),
        Err(e) => ctx.flash(state, true, e.to_string()),
    }
}
