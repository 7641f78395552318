//! The key policy editor (saved with PutKeyPolicy, which validates it; its error is
//! shown as the API words it) and the explain panel: for a principal and an action,
//! which statements of the draft and of the principal's identity policies allow or
//! deny, and why.

use super::call::{at, s, set};
use super::key::key_nav;
use super::layout::{api_error, csrf, error_page, page, page_status, status_for};
use super::{see_other, seg, ApiError, Ctx, Form, Post};
use crate::AppState;
use axum::extract::{Path, State};
use axum::response::Response;
use maud::{html, Markup};
use serde_json::{json, Value};
use std::sync::Arc;
use tresor_policy::{ConditionValues, Decision, Explanation, Policy, RequestContext};

/// `GET /console/keys/{id}/policy`.
pub(crate) async fn show(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    ctx: Ctx,
) -> Response {
    let text = match ctx
        .call(
            &state,
            "GetKeyPolicy",
            json!({ "KeyId": id, "PolicyName": "default" }),
        )
        .await
    {
        Ok(v) => pretty(s(&v, "Policy")),
        Err(e) => return error_page(&ctx, "Key policy", &e),
    };
    let f = Form::default();
    page("Key policy", &ctx, editor(&ctx, &id, &text, &f, None, None))
}

/// `POST /console/keys/{id}/policy`: PutKeyPolicy with the edited text.
pub(crate) async fn save(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    post: Post,
) -> Response {
    let (ctx, f) = (&post.ctx, &post.form);
    let text = f.get("policy");
    let body = json!({ "KeyId": id, "PolicyName": "default", "Policy": text });
    match ctx.call(&state, "PutKeyPolicy", body).await {
        Ok(_) => {
            ctx.flash(&state, false, "The key policy was saved.");
            see_other(&format!("/console/keys/{}/policy", seg(&id)))
        }
        Err(e) => page_status(
            status_for(&e),
            "Key policy",
            ctx,
            editor(ctx, &id, text, f, Some(&e), None),
        ),
    }
}

/// `POST /console/keys/{id}/explain`: explains the draft in the editor.
pub(crate) async fn explain(
    State(state): State<Arc<AppState>>,
    Path(id): Path<String>,
    post: Post,
) -> Response {
    let (ctx, f) = (&post.ctx, &post.form);
    let text = f.get("policy");
    let result = run_explain(&state, ctx, &id, text, f).await;
    page(
        "Key policy",
        ctx,
        editor(ctx, &id, text, f, None, Some(result)),
    )
}

/// What the explain panel shows.
struct Explained {
    principal: String,
    action: String,
    explanation: Explanation,
    /// Why the principal's identity policies are not part of it, if they are not.
    identity_note: Option<String>,
}

async fn run_explain(
    state: &Arc<AppState>,
    ctx: &Ctx,
    id: &str,
    text: &str,
    f: &Form,
) -> Result<Explained, ApiError> {
    let principal = f.get("principal").trim().to_string();
    let action = f.get("action").trim().to_string();
    let principal_account = principal_account(&principal).ok_or_else(|| {
        ApiError::validation(
            "The principal must be an IAM ARN such as arn:aws:iam::111122223333:user/alice or arn:aws:iam::111122223333:root.",
        )
    })?;
    if !action.starts_with("kms:") || action.len() > 64 {
        return Err(ApiError::validation(
            "The action must be a KMS action such as kms:Encrypt.",
        ));
    }
    // The key's ARN and account, as the signed-in principal may see them.
    let meta = ctx
        .call(state, "DescribeKey", json!({ "KeyId": id }))
        .await?;
    let meta = &at(&meta, "KeyMetadata");
    let (key_arn, key_account) = (s(meta, "Arn").to_string(), s(meta, "AWSAccountId"));
    let key_policy = Policy::parse_key_policy(text).map_err(|e| ApiError {
        code: "MalformedPolicyDocumentException",
        message: e.to_string(),
    })?;
    let (identity, identity_note) = identity_policies(state, ctx, &principal).await;
    let cv = ConditionValues::new();
    let rc = RequestContext {
        principal_arn: &principal,
        principal_account: &principal_account,
        action: &action,
        resource: &key_arn,
        conditions: &cv,
    };
    let explanation = tresor_policy::explain(Some(&key_policy), &identity, key_account, &rc);
    Ok(Explained {
        principal,
        action,
        explanation,
        identity_note,
    })
}

/// The account of an IAM principal ARN.
fn principal_account(arn: &str) -> Option<String> {
    let mut it = arn.splitn(6, ':');
    let (Some("arn"), Some(_), Some("iam" | "sts"), Some(""), Some(acct), Some(rest)) = (
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
        it.next(),
    ) else {
        return None;
    };
    (tresor_core::ids::is_account(acct) && !rest.is_empty() && arn.len() <= 2048)
        .then(|| acct.to_string())
}

/// The identity policies of `principal`, read through the admin API as the signed-in
/// principal (so only what it may read), with a note when they could not be.
async fn identity_policies(
    state: &Arc<AppState>,
    ctx: &Ctx,
    principal: &str,
) -> (Vec<Policy>, Option<String>) {
    let user = principal
        .split_once(":user/")
        .map(|(head, name)| (head.rsplit(':').next().unwrap_or_default(), name));
    if principal.ends_with(":root") {
        // The account root has every permission its key policy delegates: no identity
        // policy is involved.
        return (Vec::new(), None);
    }
    let Some((account, name)) = user else {
        return (
            Vec::new(),
            Some("Only users have identity policies here; none were considered.".into()),
        );
    };
    let sel = json!({ "Account": account, "UserName": name });
    let names = match ctx
        .call(state, "TresorAdmin.ListUserPolicies", sel.clone())
        .await
    {
        Ok(v) => v,
        Err(e) => {
            return (
                Vec::new(),
                Some(format!(
                    "The user's identity policies could not be read ({e}); only the key policy was considered."
                )),
            )
        }
    };
    let mut out = Vec::new();
    for n in at(&names, "PolicyNames")
        .as_array()
        .into_iter()
        .flatten()
        .take(20)
    {
        let mut body = sel.clone();
        set(&mut body, "PolicyName", n.clone());
        if let Ok(v) = ctx.call(state, "TresorAdmin.GetUserPolicy", body).await {
            if let Ok(p) = Policy::parse_identity_policy(s(&v, "PolicyDocument")) {
                out.push(p);
            }
        }
    }
    (out, None)
}

fn editor(
    ctx: &Ctx,
    id: &str,
    text: &str,
    f: &Form,
    error: Option<&ApiError>,
    explained: Option<Result<Explained, ApiError>>,
) -> Markup {
    let base = format!("/console/keys/{}", seg(id));
    let principal = f
        .opt("principal")
        .unwrap_or(&ctx.session.principal.principal_arn)
        .to_string();
    let action = f.opt("action").unwrap_or("kms:Encrypt");
    html! {
        (key_nav(id, "policy"))
        h1 { "Key policy" }
        @if let Some(e) = error { (api_error(e)) }
        form.stack method="post" action={ (base) "/policy" } id="policy-form" {
            (csrf(ctx))
            label for="policy" { "Policy document (JSON)" }
            textarea #policy name="policy" rows="22" spellcheck="false" { (text) }
            button type="submit" id="save-policy" { "Save policy" }
            fieldset #explain {
                legend { "Explain" }
                p.muted { "Which statements of the policy above (saved or not) and of the principal's identity policies allow or deny an action, and why. Request conditions (encryption context, grants) are not known here." }
                label for="explain-principal" { "Principal ARN" }
                input #explain-principal name="principal" value=(principal);
                label for="explain-action" { "Action" }
                select #explain-action name="action" {
                    @for a in actions() { option value=(a) selected[a == action] { (a) } }
                }
                button type="submit" formaction={ (base) "/explain" } id="explain-button" { "Explain" }
            }
        }
        @if let Some(x) = explained { (explanation(x)) }
    }
}

fn explanation(x: Result<Explained, ApiError>) -> Markup {
    let x = match x {
        Ok(x) => x,
        Err(e) => return html! { section #explanation { (api_error(&e)) } },
    };
    let e = &x.explanation;
    let (word, class) = match e.decision {
        Decision::Allow => ("ALLOWED", "ok"),
        Decision::Deny => ("DENIED (explicit)", "error"),
        Decision::NotApplicable => ("DENIED (implicit)", "error"),
    };
    html! {
        section #explanation {
            h2 { "Explanation" }
            p { span.mono { (x.principal) } " → " span.mono { (x.action) } }
            p #decision class={ "alert " (class) } { strong { (word) } " · " (e.summary) }
            @if let Some(n) = &x.identity_note { p.muted { (n) } }
            h3 { "Key policy" }
            (statements(&e.key_policy))
            @for (i, p) in e.identity_policies.iter().enumerate() {
                h3 { "Identity policy " (i + 1) }
                (statements(p))
            }
        }
    }
}

fn statements(list: &[tresor_policy::StatementExplanation]) -> Markup {
    html! {
        ol.statements {
            @for st in list {
                @let class = if st.applies { "applies" } else if st.delegates_to_iam { "delegates" } else { "skipped" };
                li class=(class) {
                    strong { (st.label()) " · " @if st.allow { "Allow" } @else { "Deny" } }
                    " — "
                    @if st.applies { "applies" } @else if st.delegates_to_iam { "delegates to identity policies" } @else { "does not apply" }
                    ul { @for r in &st.reasons { li { (r) } } }
                }
            }
        }
    }
}

/// Every KMS action, for the explain panel.
fn actions() -> Vec<String> {
    let mut v: Vec<String> = tresor_core::ops::ALL
        .iter()
        .flat_map(|e| match e.name {
            "ReEncrypt" => vec!["kms:ReEncryptFrom".into(), "kms:ReEncryptTo".into()],
            n => vec![format!("kms:{n}")],
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

/// The policy as stored, indented when it is JSON.
fn pretty(text: &str) -> String {
    serde_json::from_str::<Value>(text)
        .ok()
        .and_then(|v| serde_json::to_string_pretty(&v).ok())
        .unwrap_or_else(|| text.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn principal_accounts() {
        assert_eq!(
            principal_account("arn:aws:iam::111122223333:user/a").as_deref(),
            Some("111122223333")
        );
        assert_eq!(
            principal_account("arn:aws:iam::111122223333:root").as_deref(),
            Some("111122223333")
        );
        assert_eq!(principal_account("arn:aws:iam::1111:user/a"), None);
        assert_eq!(principal_account("arn:aws:kms::111122223333:key/x"), None);
        assert_eq!(principal_account("bob"), None);
    }
}
