//! A submitted form (or query string): its fields in order, repeated names kept.

use axum::body::Body;
use axum::http::StatusCode;
use axum::response::Response;

/// The largest form accepted (a key policy is at most 32 KiB; with escaping, well below).
const MAX_FORM_BYTES: usize = 256 * 1024;
/// Most fields in one form.
const MAX_FIELDS: usize = 200;

/// The fields of a form.
#[derive(Debug, Default)]
pub(crate) struct Form(Vec<(String, String)>);

impl Form {
    /// Fields of an `application/x-www-form-urlencoded` body or query string.
    pub fn parse(bytes: &[u8]) -> Form {
        Form(
            form_urlencoded::parse(bytes)
                .take(MAX_FIELDS)
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        )
    }

    /// Reads and parses a request body, bounded.
    pub async fn read(body: Body) -> Result<Form, Response> {
        match axum::body::to_bytes(body, MAX_FORM_BYTES).await {
            Ok(b) => Ok(Form::parse(&b)),
            Err(_) => Err(super::layout::message_page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Form too large",
                "The form is larger than the console accepts.",
            )),
        }
    }

    /// The query string of `uri`.
    pub fn query(uri: &axum::http::Uri) -> Form {
        Form::parse(uri.query().unwrap_or_default().as_bytes())
    }

    /// The first value of `name`, or `""`.
    pub fn get(&self, name: &str) -> &str {
        self.0
            .iter()
            .find(|(k, _)| k == name)
            .map_or("", |(_, v)| v.as_str())
    }

    /// The first value of `name`, trimmed, or `None` when empty.
    pub fn opt(&self, name: &str) -> Option<&str> {
        Some(self.get(name).trim()).filter(|v| !v.is_empty())
    }

    /// Every value of `name`.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.0
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}

/// `k=v` lines (an encryption context) as a JSON object; an error names the bad line.
pub(crate) fn pairs(text: &str) -> Result<serde_json::Map<String, serde_json::Value>, String> {
    let mut out = serde_json::Map::new();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let Some((k, v)) = line.split_once('=') else {
            return Err(format!("\"{line}\" is not of the form key=value"));
        };
        out.insert(k.trim().to_string(), serde_json::Value::from(v.trim()));
    }
    Ok(out)
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::indexing_slicing)]
mod tests {
    use super::*;

    #[test]
    fn repeated_fields_and_decoding() {
        let f = Form::parse(b"a=1&op=Encrypt&op=Decrypt&t=%3Cb%3E+x");
        assert_eq!(f.get("a"), "1");
        assert_eq!(f.all("op"), ["Encrypt", "Decrypt"]);
        assert_eq!(f.get("t"), "<b> x");
        assert_eq!(f.get("missing"), "");
        assert_eq!(f.opt("missing"), None);
    }

    #[test]
    fn context_lines() {
        let m = pairs("app=x\n\n b = y \n").unwrap();
        assert_eq!(m.len(), 2);
        assert_eq!(m["b"], "y");
        assert!(pairs("novalue").is_err());
    }
}
