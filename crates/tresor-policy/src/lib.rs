//! The AWS IAM policy language as AWS KMS uses it: key policies (resource-based) and
//! identity policies. Parsing with validation ([`Policy::parse`],
//! [`Policy::parse_key_policy`], [`Policy::parse_identity_policy`]), evaluation of one
//! policy ([`Policy::evaluate_resource`], [`Policy::evaluate_identity`]) and KMS's
//! combined decision ([`authorize`], [`authorize_identity`]).
//!
//! The crate is self-contained: it knows nothing of Tresor's store, callers or errors.
//! The caller builds a [`RequestContext`] (principal, action, resource and the request's
//! condition keys in a [`ConditionValues`]) and maps the [`Decision`] to its own errors.
#![deny(missing_docs)]

mod condition;
mod decide;
mod explain;
mod matching;

pub use decide::{authorize, authorize_identity};
pub use explain::{explain, Explanation, StatementExplanation};

use std::collections::BTreeMap;
use std::fmt;

use serde_json::{Map, Value};

use condition::{parse_conditions, Condition};
use matching::{
    assumed_role, glob, glob_ignore_case, is_account_id, parse_arn, role_name, root_account,
};

/// Why a policy document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PolicyError {
    /// The document is not a valid policy; the message names the statement, the element
    /// and the problem (suitable for KMS's `MalformedPolicyDocumentException`).
    #[error("{0}")]
    Malformed(String),
}

/// The result of evaluating policies for one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Decision {
    /// Allowed.
    Allow,
    /// Explicitly denied by a `Deny` statement.
    Deny,
    /// Nothing allowed the request (an implicit deny).
    NotApplicable,
}

/// Condition keys and their (possibly multiple) values for one request. Key names are
/// case-insensitive, as in IAM; values are kept as given.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ConditionValues {
    map: BTreeMap<String, Vec<String>>,
}

impl ConditionValues {
    /// No condition keys.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` to `values`, replacing any previous values of the key.
    pub fn insert<I, V>(&mut self, key: &str, values: I)
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.map.insert(
            key.to_lowercase(),
            values.into_iter().map(Into::into).collect(),
        );
    }

    /// Appends one value to `key`.
    pub fn push(&mut self, key: &str, value: impl Into<String>) {
        self.map
            .entry(key.to_lowercase())
            .or_default()
            .push(value.into());
    }

    /// Builder form of [`ConditionValues::insert`].
    #[must_use]
    pub fn with<I, V>(mut self, key: &str, values: I) -> Self
    where
        I: IntoIterator<Item = V>,
        V: Into<String>,
    {
        self.insert(key, values);
        self
    }

    /// The values of `key` (case-insensitive), if present.
    pub fn get(&self, key: &str) -> Option<&[String]> {
        self.map.get(&key.to_lowercase()).map(Vec::as_slice)
    }

    /// Number of keys.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when no key is present.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

impl<K: AsRef<str>, V: Into<String>> FromIterator<(K, Vec<V>)> for ConditionValues {
    fn from_iter<T: IntoIterator<Item = (K, Vec<V>)>>(iter: T) -> Self {
        let mut cv = ConditionValues::new();
        for (k, vs) in iter {
            cv.insert(k.as_ref(), vs);
        }
        cv
    }
}

/// One request, as the policy evaluator sees it.
#[derive(Debug, Clone, Copy)]
pub struct RequestContext<'a> {
    /// The caller's ARN, e.g. `arn:aws:iam::111122223333:user/alice`, or
    /// `arn:aws:iam::111122223333:root` for the account root.
    pub principal_arn: &'a str,
    /// The caller's 12-digit account id.
    pub principal_account: &'a str,
    /// The action, e.g. `kms:Encrypt`.
    pub action: &'a str,
    /// The key ARN, or `*` for account-level actions such as `kms:CreateKey`.
    pub resource: &'a str,
    /// The request's condition keys. `aws:PrincipalArn`, `aws:PrincipalAccount` and
    /// `kms:CallerAccount` default to the principal fields when not given here.
    pub conditions: &'a ConditionValues,
}

impl RequestContext<'_> {
    /// True when the caller is the root user of its own account.
    pub fn caller_is_root(&self) -> bool {
        root_account(self.principal_arn) == Some(self.principal_account)
    }

    fn lookup(&self, key_lc: &str) -> Option<Vec<&str>> {
        if let Some(v) = self.conditions.map.get(key_lc) {
            return Some(v.iter().map(String::as_str).collect());
        }
        match key_lc {
            "aws:principalarn" => Some(vec![self.principal_arn]),
            "aws:principalaccount" | "kms:calleraccount" => Some(vec![self.principal_account]),
            _ => None,
        }
    }
}

/// What kind of document is being parsed; decides which elements are required or refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PolicyKind {
    /// No kind-specific checks (Principal optional, Resource optional).
    Any,
    /// A key policy: every statement needs `Principal` or `NotPrincipal`.
    Key,
    /// An identity policy: no `Principal`/`NotPrincipal`; `Resource` or `NotResource`
    /// required.
    Identity,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Effect {
    Allow,
    Deny,
}

/// One entry of `{"AWS": ...}`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum AwsPrincipal {
    /// `*`.
    Any,
    /// A 12-digit account id or `arn:PARTITION:iam::ACCOUNT:root`.
    Account(String),
    /// A user, role, assumed-role session or other principal ARN.
    Arn(String),
}

#[derive(Debug, Clone, Default)]
struct Principals {
    /// `"Principal": "*"`.
    any: bool,
    aws: Vec<AwsPrincipal>,
    /// `Service`, `Federated` and `CanonicalUser` entries: kept, never match an IAM caller.
    #[allow(dead_code)]
    others: Vec<(String, String)>,
}

#[derive(Debug, Clone)]
enum PrincipalSpec {
    Principal(Principals),
    NotPrincipal(Principals),
}

/// How a statement's principal relates to the caller.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum PrincipalMatch {
    None,
    /// Only through the caller's account (account id or root ARN) — IAM delegation.
    Account,
    /// The caller itself, `*`, or (for the root caller) its account.
    Direct,
}

#[derive(Debug, Clone)]
struct Patterns {
    negated: bool,
    patterns: Vec<String>,
}

#[derive(Debug, Clone)]
struct Statement {
    sid: Option<String>,
    effect: Effect,
    principal: Option<PrincipalSpec>,
    action: Patterns,
    resource: Option<Patterns>,
    conditions: Vec<Condition>,
}

/// A parsed, validated policy document.
#[derive(Debug, Clone)]
pub struct Policy {
    version: Option<String>,
    id: Option<String>,
    kind: PolicyKind,
    statements: Vec<Statement>,
}

const TOP_LEVEL: &[&str] = &["Version", "Id", "Statement"];
const STATEMENT_ELEMENTS: &[&str] = &[
    "Sid",
    "Effect",
    "Principal",
    "NotPrincipal",
    "Action",
    "NotAction",
    "Resource",
    "NotResource",
    "Condition",
];

fn malformed(msg: impl Into<String>) -> PolicyError {
    PolicyError::Malformed(msg.into())
}

fn string_list(v: &Value, what: &str) -> Result<Vec<String>, String> {
    let items: Vec<&Value> = match v {
        Value::Array(a) => a.iter().collect(),
        other => vec![other],
    };
    if items.is_empty() {
        return Err(format!("{what} must not be an empty list"));
    }
    items
        .into_iter()
        .map(|i| match i {
            Value::String(s) if !s.is_empty() => Ok(s.clone()),
            Value::String(_) => Err(format!("{what} contains an empty string")),
            other => Err(format!(
                "{what} must be a string or a list of strings, found {other}"
            )),
        })
        .collect()
}

fn parse_aws_principal(s: &str) -> Result<AwsPrincipal, String> {
    if s == "*" {
        return Ok(AwsPrincipal::Any);
    }
    if s.contains(['*', '?']) {
        return Err(format!(
            "invalid principal \"{s}\": wildcards are only allowed as the whole principal \"*\""
        ));
    }
    if is_account_id(s) {
        return Ok(AwsPrincipal::Account(s.to_owned()));
    }
    if let Some(acct) = root_account(s) {
        return Ok(AwsPrincipal::Account(acct.to_owned()));
    }
    match parse_arn(s) {
        Some(arn)
            if (arn.service == "iam" || arn.service == "sts")
                && is_account_id(arn.account)
                && !arn.resource.is_empty() =>
        {
            Ok(AwsPrincipal::Arn(s.to_owned()))
        }
        _ => Err(format!(
            "invalid principal \"{s}\": expected \"*\", a 12-digit account id or an IAM/STS principal ARN"
        )),
    }
}

fn parse_principal(v: &Value, element: &str) -> Result<Principals, String> {
    match v {
        Value::String(s) if s == "*" => Ok(Principals {
            any: true,
            ..Principals::default()
        }),
        Value::String(s) => Err(format!(
            "{element} must be \"*\" or an object such as {{\"AWS\": ...}}, found \"{s}\""
        )),
        Value::Object(map) => {
            if map.is_empty() {
                return Err(format!("{element} must name at least one principal"));
            }
            let mut p = Principals::default();
            for (kind, val) in map {
                let what = format!("{element}.{kind}");
                let values = string_list(val, &what)?;
                match kind.as_str() {
                    "AWS" => {
                        for s in values {
                            p.aws
                                .push(parse_aws_principal(&s).map_err(|e| format!("{what}: {e}"))?);
                        }
                    }
                    "Service" | "Federated" | "CanonicalUser" => {
                        p.others
                            .extend(values.into_iter().map(|s| (kind.clone(), s)));
                    }
                    _ => {
                        return Err(format!(
                            "{element} has unknown principal type \"{kind}\" (expected AWS, Service, Federated or CanonicalUser)"
                        ))
                    }
                }
            }
            Ok(p)
        }
        other => Err(format!(
            "{element} must be \"*\" or a JSON object, found {other}"
        )),
    }
}

fn parse_statement(
    obj: &Map<String, Value>,
    index: usize,
    kind: PolicyKind,
) -> Result<Statement, PolicyError> {
    let sid = match obj.get("Sid") {
        None => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(other) => {
            return Err(malformed(format!(
                "statement {}: Sid must be a string, found {other}",
                index + 1
            )))
        }
    };
    let ctx = match &sid {
        Some(s) => format!("statement {} (Sid \"{s}\")", index + 1),
        None => format!("statement {}", index + 1),
    };
    let err = |msg: String| malformed(format!("{ctx}: {msg}"));

    if let Some(k) = obj
        .keys()
        .find(|k| !STATEMENT_ELEMENTS.contains(&k.as_str()))
    {
        return Err(err(format!("unknown element \"{k}\"")));
    }

    let effect = match obj.get("Effect") {
        None => return Err(err("Effect is missing".into())),
        Some(Value::String(s)) if s == "Allow" => Effect::Allow,
        Some(Value::String(s)) if s == "Deny" => Effect::Deny,
        Some(other) => {
            return Err(err(format!(
                "Effect must be \"Allow\" or \"Deny\", found {other}"
            )))
        }
    };

    let principal = match (obj.get("Principal"), obj.get("NotPrincipal")) {
        (Some(_), Some(_)) => {
            return Err(err(
                "Principal and NotPrincipal cannot both be present".into()
            ))
        }
        (Some(p), None) => Some(PrincipalSpec::Principal(
            parse_principal(p, "Principal").map_err(&err)?,
        )),
        (None, Some(p)) => {
            if effect == Effect::Allow {
                return Err(err(
                    "NotPrincipal can only be used with \"Effect\": \"Deny\"".into(),
                ));
            }
            Some(PrincipalSpec::NotPrincipal(
                parse_principal(p, "NotPrincipal").map_err(&err)?,
            ))
        }
        (None, None) => None,
    };
    match (kind, &principal) {
        (PolicyKind::Key, None) => {
            return Err(err(
                "a key policy statement must have a Principal or NotPrincipal".into(),
            ))
        }
        (PolicyKind::Identity, Some(_)) => {
            return Err(err(
                "an identity policy must not have a Principal or NotPrincipal element".into(),
            ))
        }
        _ => {}
    }

    let action = match (obj.get("Action"), obj.get("NotAction")) {
        (Some(_), Some(_)) => {
            return Err(err("Action and NotAction cannot both be present".into()))
        }
        (None, None) => return Err(err("Action or NotAction is required".into())),
        (Some(a), None) => Patterns {
            negated: false,
            patterns: string_list(a, "Action").map_err(&err)?,
        },
        (None, Some(a)) => Patterns {
            negated: true,
            patterns: string_list(a, "NotAction").map_err(&err)?,
        },
    };
    for a in &action.patterns {
        let valid = a == "*"
            || a.split_once(':')
                .is_some_and(|(svc, name)| !svc.is_empty() && !name.is_empty());
        if !valid {
            let el = if action.negated {
                "NotAction"
            } else {
                "Action"
            };
            return Err(err(format!(
                "{el} \"{a}\" is not valid: expected \"service:action\" (e.g. \"kms:Encrypt\") or \"*\""
            )));
        }
    }

    let resource = match (obj.get("Resource"), obj.get("NotResource")) {
        (Some(_), Some(_)) => {
            return Err(err("Resource and NotResource cannot both be present".into()))
        }
        (None, None) => None,
        (Some(r), None) => Some(Patterns {
            negated: false,
            patterns: string_list(r, "Resource").map_err(&err)?,
        }),
        (None, Some(r)) => Some(Patterns {
            negated: true,
            patterns: string_list(r, "NotResource").map_err(&err)?,
        }),
    };
    if kind == PolicyKind::Identity && resource.is_none() {
        return Err(err(
            "an identity policy statement must have a Resource or NotResource".into(),
        ));
    }

    let conditions = match obj.get("Condition") {
        None => Vec::new(),
        Some(c) => parse_conditions(c, &ctx).map_err(malformed)?,
    };

    Ok(Statement {
        sid,
        effect,
        principal,
        action,
        resource,
        conditions,
    })
}

impl Policy {
    /// Parses and validates a policy document without kind-specific checks: `Principal`
    /// and `Resource` are both optional. Prefer [`Policy::parse_key_policy`] and
    /// [`Policy::parse_identity_policy`] when the kind is known.
    pub fn parse(doc: &str) -> Result<Policy, PolicyError> {
        Self::parse_as(doc, PolicyKind::Any)
    }

    /// Parses a key policy: every statement must name a `Principal` or `NotPrincipal`.
    pub fn parse_key_policy(doc: &str) -> Result<Policy, PolicyError> {
        Self::parse_as(doc, PolicyKind::Key)
    }

    /// Parses an identity policy: no `Principal`/`NotPrincipal`; each statement needs a
    /// `Resource` or `NotResource`.
    pub fn parse_identity_policy(doc: &str) -> Result<Policy, PolicyError> {
        Self::parse_as(doc, PolicyKind::Identity)
    }

    /// Parses a document of the given kind.
    pub fn parse_as(doc: &str, kind: PolicyKind) -> Result<Policy, PolicyError> {
        let value: Value = serde_json::from_str(doc)
            .map_err(|e| malformed(format!("the policy is not valid JSON: {e}")))?;
        let Value::Object(top) = value else {
            return Err(malformed("the policy must be a JSON object"));
        };
        if let Some(k) = top.keys().find(|k| !TOP_LEVEL.contains(&k.as_str())) {
            return Err(malformed(format!(
                "unknown top-level element \"{k}\" (expected Version, Id, Statement)"
            )));
        }
        let version = match top.get("Version") {
            None => None,
            Some(Value::String(v)) if v == "2012-10-17" || v == "2008-10-17" => Some(v.clone()),
            Some(other) => {
                return Err(malformed(format!(
                    "Version must be \"2012-10-17\" or \"2008-10-17\", found {other}"
                )))
            }
        };
        let id = match top.get("Id") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(other) => return Err(malformed(format!("Id must be a string, found {other}"))),
        };
        let raw: Vec<&Value> = match top.get("Statement") {
            None => return Err(malformed("the Statement element is missing")),
            Some(Value::Array(a)) => a.iter().collect(),
            Some(v @ Value::Object(_)) => vec![v],
            Some(other) => {
                return Err(malformed(format!(
                    "Statement must be an object or a list of objects, found {other}"
                )))
            }
        };
        if raw.is_empty() {
            return Err(malformed("Statement must contain at least one statement"));
        }
        let mut statements = Vec::with_capacity(raw.len());
        for (i, s) in raw.into_iter().enumerate() {
            let Value::Object(obj) = s else {
                return Err(malformed(format!(
                    "statement {}: must be a JSON object, found {s}",
                    i + 1
                )));
            };
            statements.push(parse_statement(obj, i, kind)?);
        }
        let mut sids: Vec<&str> = statements.iter().filter_map(|s| s.sid.as_deref()).collect();
        sids.sort_unstable();
        if let Some(w) = sids.windows(2).find(|w| w.first() == w.get(1)) {
            return Err(malformed(format!(
                "Sid \"{}\" is used by more than one statement; statement ids must be unique",
                w.first().copied().unwrap_or_default()
            )));
        }
        Ok(Policy {
            version,
            id,
            kind,
            statements,
        })
    }

    /// The `Version` element, if present.
    pub fn version(&self) -> Option<&str> {
        self.version.as_deref()
    }

    /// The `Id` element, if present.
    pub fn id(&self) -> Option<&str> {
        self.id.as_deref()
    }

    /// The kind the document was validated as.
    pub fn kind(&self) -> PolicyKind {
        self.kind
    }

    /// Number of statements.
    pub fn statement_count(&self) -> usize {
        self.statements.len()
    }

    /// As a resource-based (key) policy: `Principal`/`NotPrincipal` must match the
    /// caller. `Allow` is returned only when a statement allows the caller *directly* (its
    /// ARN, `*`, or — for the account root caller — its account). A statement allowing
    /// only the caller's account (root ARN or account id) delegates to IAM and does not
    /// count here; see [`Policy::allows_account_root`]. A `Deny` naming the caller's
    /// account applies to every principal in it.
    pub fn evaluate_resource(&self, ctx: &RequestContext) -> Decision {
        self.evaluate(ctx, true)
    }

    /// As an identity policy attached to the caller. Statements carrying a `Principal`
    /// (only possible in documents parsed with [`Policy::parse`]) are matched against the
    /// caller as in a resource policy.
    pub fn evaluate_identity(&self, ctx: &RequestContext) -> Decision {
        self.evaluate(ctx, false)
    }

    /// True when an `Allow` statement whose principal lists `account`'s root
    /// (`arn:aws:iam::ACCOUNT:root` or the bare account id) applies to this request
    /// (action, resource and conditions match) — AWS's "delegate to IAM" pattern. Does
    /// not look at `Deny` statements.
    pub fn allows_account_root(&self, account: &str, ctx: &RequestContext) -> bool {
        self.statements.iter().any(|st| {
            st.effect == Effect::Allow
                && matches!(&st.principal, Some(PrincipalSpec::Principal(p))
                    if p.aws.iter().any(|a| matches!(a, AwsPrincipal::Account(acct) if acct == account)))
                && st.applies_ignoring_principal(ctx)
        })
    }

    fn evaluate(&self, ctx: &RequestContext, resource_based: bool) -> Decision {
        let mut allowed = false;
        for st in &self.statements {
            let pm = match (&st.principal, resource_based) {
                (Some(spec), _) => spec.matches(ctx),
                // Identity policies apply to their caller.
                (None, false) => PrincipalMatch::Direct,
                // A resource-policy statement without a principal grants nothing, but a
                // Deny without one is applied to everyone (fail closed).
                (None, true) => match st.effect {
                    Effect::Deny => PrincipalMatch::Direct,
                    Effect::Allow => PrincipalMatch::None,
                },
            };
            let relevant = match st.effect {
                Effect::Deny => pm != PrincipalMatch::None,
                Effect::Allow if resource_based => pm == PrincipalMatch::Direct,
                Effect::Allow => pm != PrincipalMatch::None,
            };
            if !relevant || !st.applies_ignoring_principal(ctx) {
                continue;
            }
            match st.effect {
                Effect::Deny => return Decision::Deny,
                Effect::Allow => allowed = true,
            }
        }
        if allowed {
            Decision::Allow
        } else {
            Decision::NotApplicable
        }
    }
}

impl fmt::Display for PolicyKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            PolicyKind::Any => "policy",
            PolicyKind::Key => "key policy",
            PolicyKind::Identity => "identity policy",
        })
    }
}

impl Statement {
    fn applies_ignoring_principal(&self, ctx: &RequestContext) -> bool {
        let action = self
            .action
            .patterns
            .iter()
            .any(|p| glob_ignore_case(p, ctx.action));
        if action == self.action.negated {
            return false;
        }
        if let Some(r) = &self.resource {
            let hit = r.patterns.iter().any(|p| glob(p, ctx.resource));
            if hit == r.negated {
                return false;
            }
        }
        self.conditions
            .iter()
            .all(|c| c.evaluate(ctx.lookup(c.key()).as_deref()))
    }
}

impl PrincipalSpec {
    fn matches(&self, ctx: &RequestContext) -> PrincipalMatch {
        match self {
            PrincipalSpec::Principal(p) => p.matches(ctx),
            PrincipalSpec::NotPrincipal(p) => {
                if p.excludes(ctx) {
                    PrincipalMatch::None
                } else {
                    PrincipalMatch::Direct
                }
            }
        }
    }
}

impl Principals {
    /// True when `arn` (from the policy) names the caller itself.
    fn names_caller(arn: &str, ctx: &RequestContext) -> bool {
        if arn == ctx.principal_arn {
            return true;
        }
        // A role ARN matches the sessions of that role.
        match (assumed_role(ctx.principal_arn), role_name(arn)) {
            (Some(session), Some(role)) => session == role,
            _ => false,
        }
    }

    fn matches(&self, ctx: &RequestContext) -> PrincipalMatch {
        if self.any {
            return PrincipalMatch::Direct;
        }
        let is_root = ctx.caller_is_root();
        self.aws
            .iter()
            .map(|a| match a {
                AwsPrincipal::Any => PrincipalMatch::Direct,
                AwsPrincipal::Arn(arn) if Self::names_caller(arn, ctx) => PrincipalMatch::Direct,
                AwsPrincipal::Account(acct) if acct == ctx.principal_account => {
                    if is_root {
                        PrincipalMatch::Direct
                    } else {
                        PrincipalMatch::Account
                    }
                }
                _ => PrincipalMatch::None,
            })
            .max()
            .unwrap_or(PrincipalMatch::None)
    }

    /// For `NotPrincipal`: the caller is excluded only when both its account and (unless
    /// it is the root) the caller itself are listed, as IAM checks the account and then
    /// the principal.
    fn excludes(&self, ctx: &RequestContext) -> bool {
        if self.any || self.aws.contains(&AwsPrincipal::Any) {
            return true;
        }
        let account_listed = self
            .aws
            .iter()
            .any(|a| matches!(a, AwsPrincipal::Account(acct) if acct == ctx.principal_account));
        if ctx.caller_is_root() {
            return account_listed;
        }
        let caller_listed = self
            .aws
            .iter()
            .any(|a| matches!(a, AwsPrincipal::Arn(arn) if Self::names_caller(arn, ctx)));
        account_listed && caller_listed
    }
}
