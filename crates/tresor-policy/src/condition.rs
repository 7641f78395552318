//! The `Condition` element: operators, set qualifiers, `IfExists`, and their evaluation.

use std::net::IpAddr;

use serde_json::Value;

use crate::matching::{arn_like, glob, parse_date, Cidr};

/// How policy values are compared with a request value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmp {
    Eq,
    Lt,
    Le,
    Gt,
    Ge,
}

impl Cmp {
    fn holds<T: PartialOrd>(self, request: &T, policy: &T) -> bool {
        match self {
            Cmp::Eq => request == policy,
            Cmp::Lt => request < policy,
            Cmp::Le => request <= policy,
            Cmp::Gt => request > policy,
            Cmp::Ge => request >= policy,
        }
    }
}

/// The positive form of an operator; negated operators (`StringNotEquals`,
/// `NotIpAddress`, ...) are a base plus `negated = true`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Base {
    StringEquals,
    StringEqualsIgnoreCase,
    StringLike,
    Numeric(Cmp),
    Date(Cmp),
    Bool,
    Binary,
    IpAddress,
    Arn,
    Null,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum SetQualifier {
    ForAllValues,
    ForAnyValue,
}

/// A policy value, pre-parsed for its operator.
#[derive(Debug, Clone)]
enum PolicyValue {
    Str(String),
    Num(f64),
    Date(i128),
    Bool(bool),
    Cidr(Cidr),
}

/// One (operator, condition key, values) triple of a `Condition` block.
#[derive(Debug, Clone)]
pub(crate) struct Condition {
    base: Base,
    negated: bool,
    if_exists: bool,
    qualifier: Option<SetQualifier>,
    /// Condition key, lower-cased (condition key names are case-insensitive).
    key: String,
    values: Vec<PolicyValue>,
}

fn operator(name: &str) -> Option<(Base, bool)> {
    use Cmp::*;
    Some(match name {
        "StringEquals" => (Base::StringEquals, false),
        "StringNotEquals" => (Base::StringEquals, true),
        "StringEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, false),
        "StringNotEqualsIgnoreCase" => (Base::StringEqualsIgnoreCase, true),
        "StringLike" => (Base::StringLike, false),
        "StringNotLike" => (Base::StringLike, true),
        "NumericEquals" => (Base::Numeric(Eq), false),
        "NumericNotEquals" => (Base::Numeric(Eq), true),
        "NumericLessThan" => (Base::Numeric(Lt), false),
        "NumericLessThanEquals" => (Base::Numeric(Le), false),
        "NumericGreaterThan" => (Base::Numeric(Gt), false),
        "NumericGreaterThanEquals" => (Base::Numeric(Ge), false),
        "DateEquals" => (Base::Date(Eq), false),
        "DateNotEquals" => (Base::Date(Eq), true),
        "DateLessThan" => (Base::Date(Lt), false),
        "DateLessThanEquals" => (Base::Date(Le), false),
        "DateGreaterThan" => (Base::Date(Gt), false),
        "DateGreaterThanEquals" => (Base::Date(Ge), false),
        "Bool" => (Base::Bool, false),
        "BinaryEquals" => (Base::Binary, false),
        "IpAddress" => (Base::IpAddress, false),
        "NotIpAddress" => (Base::IpAddress, true),
        "ArnEquals" | "ArnLike" => (Base::Arn, false),
        "ArnNotEquals" | "ArnNotLike" => (Base::Arn, true),
        "Null" => (Base::Null, false),
        _ => return None,
    })
}

fn scalar_to_string(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn parse_bool(s: &str) -> Option<bool> {
    if s.eq_ignore_ascii_case("true") {
        Some(true)
    } else if s.eq_ignore_ascii_case("false") {
        Some(false)
    } else {
        None
    }
}

fn parse_number(s: &str) -> Option<f64> {
    let s = s.trim();
    // Rust accepts "inf", "NaN", "1e5"; IAM numbers are plain decimals.
    if s.is_empty()
        || !s
            .bytes()
            .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-' || b == b'+')
    {
        return None;
    }
    s.parse::<f64>().ok()
}

/// Parses a whole `Condition` element. `ctx` names the statement in error messages.
pub(crate) fn parse_conditions(v: &Value, ctx: &str) -> Result<Vec<Condition>, String> {
    let Value::Object(block) = v else {
        return Err(format!("{ctx}: Condition must be a JSON object"));
    };
    let mut out = Vec::new();
    for (op_name, keys) in block {
        let (qualifier, rest) = if let Some(r) = op_name.strip_prefix("ForAllValues:") {
            (Some(SetQualifier::ForAllValues), r)
        } else if let Some(r) = op_name.strip_prefix("ForAnyValue:") {
            (Some(SetQualifier::ForAnyValue), r)
        } else {
            (None, op_name.as_str())
        };
        let (name, if_exists) = match rest.strip_suffix("IfExists") {
            Some(n) => (n, true),
            None => (rest, false),
        };
        let Some((base, negated)) = operator(name) else {
            return Err(format!(
                "{ctx}: Condition operator \"{op_name}\" is not a supported condition operator"
            ));
        };
        if base == Base::Null && if_exists {
            return Err(format!(
                "{ctx}: Condition operator \"{op_name}\" is invalid: Null cannot take the IfExists suffix"
            ));
        }
        let Value::Object(keys) = keys else {
            return Err(format!(
                "{ctx}: Condition operator \"{op_name}\" must map condition keys to values (a JSON object)"
            ));
        };
        if keys.is_empty() {
            return Err(format!(
                "{ctx}: Condition operator \"{op_name}\" names no condition key"
            ));
        }
        for (key, raw) in keys {
            if key.is_empty() {
                return Err(format!(
                    "{ctx}: Condition operator \"{op_name}\" has an empty condition key"
                ));
            }
            let raw_values: Vec<&Value> = match raw {
                Value::Array(a) => a.iter().collect(),
                other => vec![other],
            };
            if raw_values.is_empty() {
                return Err(format!(
                    "{ctx}: Condition \"{op_name}\" on \"{key}\" has an empty list of values"
                ));
            }
            let mut values = Vec::with_capacity(raw_values.len());
            for rv in raw_values {
                let Some(s) = scalar_to_string(rv) else {
                    return Err(format!(
                        "{ctx}: Condition \"{op_name}\" on \"{key}\": values must be strings, numbers or booleans, found {rv}"
                    ));
                };
                let bad = |what: &str| {
                    format!("{ctx}: Condition \"{op_name}\" on \"{key}\": \"{s}\" is not {what}")
                };
                let pv = match base {
                    Base::StringEquals
                    | Base::StringEqualsIgnoreCase
                    | Base::StringLike
                    | Base::Binary
                    | Base::Arn => PolicyValue::Str(s),
                    Base::Numeric(_) => {
                        PolicyValue::Num(parse_number(&s).ok_or_else(|| bad("a number"))?)
                    }
                    Base::Date(_) => PolicyValue::Date(
                        parse_date(&s).ok_or_else(|| bad("a date (ISO 8601 or epoch seconds)"))?,
                    ),
                    Base::Bool | Base::Null => {
                        PolicyValue::Bool(parse_bool(&s).ok_or_else(|| bad("true or false"))?)
                    }
                    Base::IpAddress => PolicyValue::Cidr(
                        Cidr::parse(&s).ok_or_else(|| bad("an IP address or CIDR block"))?,
                    ),
                };
                values.push(pv);
            }
            out.push(Condition {
                base,
                negated,
                if_exists,
                qualifier,
                key: key.to_lowercase(),
                values,
            });
        }
    }
    Ok(out)
}

impl Condition {
    /// The lower-cased condition key this condition reads.
    pub(crate) fn key(&self) -> &str {
        &self.key
    }

    /// True when one request value matches one policy value under the positive operator.
    fn matches(&self, request: &str, policy: &PolicyValue) -> bool {
        match (self.base, policy) {
            (Base::StringEquals | Base::Binary, PolicyValue::Str(p)) => request == p,
            (Base::StringEqualsIgnoreCase, PolicyValue::Str(p)) => {
                request.to_lowercase() == p.to_lowercase()
            }
            (Base::StringLike, PolicyValue::Str(p)) => glob(p, request),
            (Base::Arn, PolicyValue::Str(p)) => arn_like(p, request),
            (Base::Numeric(cmp), PolicyValue::Num(p)) => {
                parse_number(request).is_some_and(|r| cmp.holds(&r, p))
            }
            (Base::Date(cmp), PolicyValue::Date(p)) => {
                parse_date(request).is_some_and(|r| cmp.holds(&r, p))
            }
            (Base::Bool, PolicyValue::Bool(p)) => parse_bool(request) == Some(*p),
            (Base::IpAddress, PolicyValue::Cidr(c)) => request
                .trim()
                .parse::<IpAddr>()
                .is_ok_and(|ip| c.contains(ip)),
            _ => false,
        }
    }

    /// The operator applied to a single request value: policy values are OR'ed; a
    /// negated operator is true when the value matches none of them.
    fn single(&self, request: &str) -> bool {
        let any = self.values.iter().any(|p| self.matches(request, p));
        any != self.negated
    }

    /// Evaluates against the request values of this condition's key (`None` or empty
    /// when the key is absent from the request context).
    pub(crate) fn evaluate(&self, request: Option<&[&str]>) -> bool {
        let request = request.filter(|r| !r.is_empty());
        if self.base == Base::Null {
            let missing = request.is_none();
            return self
                .values
                .iter()
                .any(|p| matches!(p, PolicyValue::Bool(b) if *b == missing));
        }
        match (self.qualifier, request) {
            // ForAllValues is vacuously true when there are no values.
            (Some(SetQualifier::ForAllValues), None) => true,
            (Some(SetQualifier::ForAllValues), Some(vals)) => vals.iter().all(|v| self.single(v)),
            (Some(SetQualifier::ForAnyValue), None) => self.if_exists,
            (Some(SetQualifier::ForAnyValue), Some(vals)) => vals.iter().any(|v| self.single(v)),
            // A missing key: IfExists → true; negated operators → true; otherwise false.
            (None, None) => self.if_exists || self.negated,
            // Without a set qualifier: a positive operator needs some value to match; a
            // negated one needs no value to match.
            (None, Some(vals)) => {
                let any = vals
                    .iter()
                    .any(|v| self.values.iter().any(|p| self.matches(v, p)));
                any != self.negated
            }
        }
    }
}
