//! A key's audit trail: the audit log's records about the key, filtered by time,
//! principal, operation and outcome. The audit log is not a KMS resource, so only the
//! key's account root and the operator may read it (after DescribeKey shows the key
//! to them), and every lookup is itself audited (`LookupEvents`).

use super::call::{at, s};
use super::key::key_nav;
use super::layout::{api_error, error_page, page, select};
use super::{ApiError, Ctx, Form};
use crate::AppState;
use axum::extract::{Path, Request, State};
use axum::response::Response;
use maud::html;
use serde_json::{json, Value};
use std::collections::VecDeque;
use std::sync::Arc;

/// Most records shown (the newest that match).
const MAX_SHOWN: usize = 200;

/// `GET /console/keys/{id}/audit?since=&until=&principal=&operation=&outcome=`.
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ctx: Ctx,
    req: Request,
) -> Response {
    let q = Form::query(req.uri());
    let meta = match ctx
        .call(&state, "DescribeKey", json!({ "KeyId": id }))
        .await
    {
        Ok(v) => at(&v, "KeyMetadata").clone(),
        Err(e) => return error_page(&ctx, "Audit trail", &e),
    };
    let (key_id, key_arn) = (s(&meta, "KeyId").to_string(), s(&meta, "Arn").to_string());
    let p = &ctx.session.principal;
    let root = tresor_core::ids::account_root_arn(s(&meta, "AWSAccountId"));
    if !(p.operator || p.principal_arn == root) {
        let e = ApiError {
            code: "AccessDeniedException",
            message:
                "Only the key's account root or the service operator may read its audit trail."
                    .into(),
        };
        return error_page(&ctx, "Audit trail", &e);
    }
    let result = lookup(&state, &ctx, &key_arn, &q).await;
    let outcome = q.get("outcome");
    let body = html! {
        (key_nav(&key_id, "audit"))
        h1 { "Audit trail" }
        form.filters method="get" action={ "/console/keys/" (super::seg(&key_id)) "/audit" } {
            label { "Since" input name="since" value=(q.get("since")) placeholder="2h, 7d or 2026-12-01"; }
            label { "Until" input name="until" value=(q.get("until")) placeholder="RFC 3339 or date"; }
            label { "Principal ARN" input name="principal" value=(q.get("principal")); }
            label { "Operation" input name="operation" value=(q.get("operation")) placeholder="Decrypt"; }
            label { "Outcome" (select("outcome", "outcome", &["", "ok", "error"], outcome)) }
            button type="submit" { "Filter" }
        }
        @match &result {
            Err(e) => { (api_error(e)) }
            Ok(records) if records.is_empty() => { p.empty { "No record matches." } }
            Ok(records) => {
                p.muted { "Newest first; at most " (MAX_SHOWN) " records." }
                div.scroll { table #audit {
                    thead { tr { th { "Time" } th { "Operation" } th { "Principal" } th { "Source" } th { "Outcome" } th { "Request ID" } } }
                    tbody { @for r in records { tr {
                        td { (s(r, "eventTime")) }
                        td { (s(r, "eventName")) }
                        td.mono { (at(at(r, "userIdentity"), "arn").as_str().unwrap_or_default()) }
                        td { (s(r, "sourceIPAddress")) " · " (s(r, "userAgent")) }
                        td { @if let Some(code) = r.get("errorCode").and_then(Value::as_str) { span.state.Disabled { (code) } } @else { "ok" } }
                        td.mono { (s(r, "requestID")) }
                    } } }
                } }
            }
        }
    };
    page("Audit trail", &ctx, body)
}

/// The newest records about `key_arn` that pass the form's filters.
async fn lookup(
    state: &Arc<AppState>,
    ctx: &Ctx,
    key_arn: &str,
    q: &Form,
) -> Result<Vec<Value>, ApiError> {
    let Some(dir) = state
        .console
        .as_ref()
        .and_then(|c| c.config.audit_dir.clone())
    else {
        return Err(ApiError::validation(
            "The audit log is not kept in files here (--audit-sink file keeps it).",
        ));
    };
    let now = time::OffsetDateTime::now_utc();
    let time_of = |field: &str| -> Result<Option<i64>, ApiError> {
        q.opt(field)
            .map(|t| tresor_audit::query::parse_time(t, now))
            .transpose()
            .map_err(ApiError::validation)
    };
    let outcome = q.get("outcome").to_string();
    let filter = tresor_audit::query::Filter {
        since: time_of("since")?,
        until: time_of("until")?,
        event_name: q.opt("operation").map(String::from),
        key: Some(key_arn.to_string()),
        principal: q.opt("principal").map(String::from),
        errors_only: outcome == "error",
        node: None,
    };
    // The lookup is on the record before anything is read.
    state
        .kms
        .audit_call("LookupEvents", &ctx.caller())
        .map_err(|e| ApiError::from(&e))?;
    let found = tokio::task::spawn_blocking(move || {
        let mut kept = VecDeque::new();
        tresor_audit::files::for_each_record(&dir, |_, _, v| {
            if filter.matches(v) && !(outcome == "ok" && v.get("errorCode").is_some()) {
                kept.push_back(v.clone());
                if kept.len() > MAX_SHOWN {
                    kept.pop_front();
                }
            }
            true
        })
        .map(|()| kept)
    })
    .await;
    match found {
        Ok(Ok(kept)) => Ok(kept.into_iter().rev().collect()),
        Ok(Err(e)) => {
            tracing::error!("console audit lookup: {e}");
            Err(ApiError::validation("The audit log could not be read."))
        }
        Err(e) => {
            tracing::error!("console audit lookup task: {e}");
            Err(ApiError::validation("The audit log could not be read."))
        }
    }
}
