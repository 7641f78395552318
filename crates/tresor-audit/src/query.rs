//! Filtering records, and printing them as a table.

use serde_json::Value;

/// Which records to keep. Empty members match everything.
#[derive(Debug, Default, Clone)]
pub struct Filter {
    /// Keep records at or after this time (seconds since the epoch).
    pub since: Option<i64>,
    /// Keep records at or before this time (seconds since the epoch).
    pub until: Option<i64>,
    /// Keep records of this operation.
    pub event_name: Option<String>,
    /// Keep records about this key: a key ARN, a key id, or what the request named
    /// (`keyId` as given, such as an alias).
    pub key: Option<String>,
    /// Keep records of this principal ARN.
    pub principal: Option<String>,
    /// Keep failed requests only.
    pub errors_only: bool,
    /// Keep records written by this node (`tresor.node`).
    pub node: Option<String>,
}

/// Parses a time for `--since`/`--until`: RFC 3339 (`2026-11-28T12:00:00Z`), a date
/// (`2026-11-28`, midnight UTC), or an age (`90s`, `15m`, `2h`, `7d`) before `now`.
pub fn parse_time(s: &str, now: time::OffsetDateTime) -> Result<i64, String> {
    let s = s.trim();
    if let Ok(t) = time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339) {
        return Ok(t.unix_timestamp());
    }
    if let Ok(d) = time::Date::parse(s, time::macros::format_description!("[year]-[month]-[day]")) {
        return Ok(d.midnight().assume_utc().unix_timestamp());
    }
    let unit = s.chars().last().unwrap_or(' ');
    let n = s
        .get(..s.len().saturating_sub(1))
        .and_then(|n| n.parse::<i64>().ok());
    let mult = match unit {
        's' => Some(1),
        'm' => Some(60),
        'h' => Some(3600),
        'd' => Some(86400),
        _ => None,
    };
    match (n, mult) {
        (Some(n), Some(m)) => Ok(now.unix_timestamp().saturating_sub(n.saturating_mul(m))),
        _ => Err(format!(
            "cannot read time {s:?}: use 2026-11-28T12:00:00Z, 2026-11-28 or an age such as 15m, 2h, 7d"
        )),
    }
}

fn event_seconds(v: &Value) -> Option<i64> {
    let t = v.get("eventTime")?.as_str()?;
    time::OffsetDateTime::parse(t, &time::format_description::well_known::Rfc3339)
        .ok()
        .map(time::OffsetDateTime::unix_timestamp)
}

fn str_at<'a>(v: &'a Value, path: &[&str]) -> &'a str {
    let mut cur = v;
    for p in path {
        match cur.get(p) {
            Some(next) => cur = next,
            None => return "",
        }
    }
    cur.as_str().unwrap_or("")
}

fn resource_arns(v: &Value) -> impl Iterator<Item = &str> {
    v.get("resources")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|r| r.get("ARN").and_then(Value::as_str))
}

impl Filter {
    /// True when `v` passes.
    pub fn matches(&self, v: &Value) -> bool {
        if self.since.is_some() || self.until.is_some() {
            let Some(t) = event_seconds(v) else {
                return false;
            };
            if self.since.is_some_and(|s| t < s) || self.until.is_some_and(|u| t > u) {
                return false;
            }
        }
        if let Some(n) = &self.event_name {
            if str_at(v, &["eventName"]) != n {
                return false;
            }
        }
        if let Some(p) = &self.principal {
            if str_at(v, &["userIdentity", "arn"]) != p {
                return false;
            }
        }
        if self.errors_only && v.get("errorCode").is_none() {
            return false;
        }
        if let Some(n) = &self.node {
            if crate::files::node_of(v) != Some(n.as_str()) {
                return false;
            }
        }
        if let Some(k) = &self.key {
            let suffix = format!("/{k}");
            let by_resource =
                resource_arns(v).any(|arn| arn == k || arn.ends_with(suffix.as_str()));
            let by_request = str_at(v, &["requestParameters", "keyId"]) == k;
            if !by_resource && !by_request {
                return false;
            }
        }
        true
    }
}

/// The table header matching [`table_row`].
pub fn table_header() -> String {
    format!(
        "{:<20}  {:<17}  {:<24}  {:<40}  {:<36}  {:<28}  {}",
        "TIME", "NODE", "EVENT", "PRINCIPAL", "KEY", "ERROR", "REQUEST ID"
    )
}

/// One record as a table row.
pub fn table_row(v: &Value) -> String {
    let key = resource_arns(v)
        .next()
        .map(|a| a.rsplit('/').next().unwrap_or(a).to_string())
        .unwrap_or_else(|| str_at(v, &["requestParameters", "keyId"]).to_string());
    let principal = match (
        str_at(v, &["userIdentity", "arn"]),
        str_at(v, &["userIdentity", "accessKeyId"]),
    ) {
        ("", "") => "-".to_string(),
        ("", akid) => format!("({akid})"),
        (arn, _) => arn.to_string(),
    };
    let error = str_at(v, &["errorCode"]);
    format!(
        "{:<20}  {:<17}  {:<24}  {:<40}  {:<36}  {:<28}  {}",
        str_at(v, &["eventTime"]),
        crate::files::node_of(v).unwrap_or("-"),
        str_at(v, &["eventName"]),
        principal,
        key,
        if error.is_empty() { "-" } else { error },
        str_at(v, &["requestID"]),
    )
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn filters() {
        let v = serde_json::json!({
            "eventTime": "2026-11-28T12:00:00Z",
            "eventName": "Encrypt",
            "userIdentity": {"arn": "arn:aws:iam::111122223333:root"},
            "requestParameters": {"keyId": "alias/a"},
            "resources": [{"ARN": "arn:aws:kms:us-east-1:111122223333:key/k1"}],
            "errorCode": "NotFoundException"
        });
        let now = time::OffsetDateTime::now_utc();
        let t = parse_time("2026-11-28T12:00:00Z", now).unwrap();
        let f = Filter {
            since: Some(t),
            until: Some(t),
            event_name: Some("Encrypt".into()),
            key: Some("k1".into()),
            principal: Some("arn:aws:iam::111122223333:root".into()),
            errors_only: true,
            node: None,
        };
        assert!(f.matches(&v));
        assert!(Filter {
            key: Some("alias/a".into()),
            ..Default::default()
        }
        .matches(&v));
        assert!(!Filter {
            key: Some("k2".into()),
            ..Default::default()
        }
        .matches(&v));
        assert!(!Filter {
            since: Some(t + 1),
            ..Default::default()
        }
        .matches(&v));
        assert_eq!(parse_time("2026-11-28", now).unwrap(), t - 12 * 3600);
        assert_eq!(parse_time("1h", now).unwrap(), now.unix_timestamp() - 3600);
        assert!(parse_time("yesterday", now).is_err());
        let mut on_a = v.clone();
        on_a["tresor"] = serde_json::json!({"node": "a", "sequence": 1});
        let by_node = |n: &str| Filter {
            node: Some(n.into()),
            ..Default::default()
        };
        assert!(by_node("a").matches(&on_a));
        assert!(!by_node("b").matches(&on_a));
        assert!(!by_node("a").matches(&v));
    }
}
