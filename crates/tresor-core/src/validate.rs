//! AWS-style validation: every constraint violation of a request in one message,
//! `N validation error(s) detected: Value … at 'field' failed to satisfy constraint: …`.
//! The model's constraints come from the generated [`model`] table (checked by the
//! pipeline for every KMS operation); the builder methods below serve the checks that
//! are not model constraints (service limits, the admin and XKS proxy APIs).

use crate::error::{KmsError, KmsResult};

#[rustfmt::skip]
pub mod model;
#[rustfmt::skip]
mod model_checks;
pub mod shape;

/// Collects constraint violations of one request.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<String>,
    /// A grant token that is not one of ours (reported after the constraint errors).
    bad_grant_token: bool,
}

impl Validator {
    /// An empty validator.
    pub fn new() -> Self {
        Self::default()
    }

    fn push(&mut self, msg: String) {
        self.errors.push(msg);
    }

    /// A required member must be present.
    pub fn required<T>(mut self, field: &str, value: &Option<T>) -> Self {
        if value.is_none() {
            self.push(format!(
                "Value null at '{field}' failed to satisfy constraint: Member must not be null"
            ));
        }
        self
    }

    /// String length (in characters) within `min..=max`.
    pub fn len(mut self, field: &str, value: &str, min: usize, max: usize) -> Self {
        let n = value.chars().count();
        let shown = if n > 64 {
            "value".to_string()
        } else {
            format!("'{value}'")
        };
        if n < min {
            self.push(format!(
                "Value {shown} at '{field}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
            ));
        } else if n > max {
            self.push(format!(
                "Value {shown} at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            ));
        }
        self
    }

    /// A sensitive string's length and pattern, never echoing the value (AWS does not
    /// show sensitive members).
    pub fn secret(
        mut self,
        field: &str,
        value: &str,
        (min, max): (usize, usize),
        pattern: &str,
        ok: bool,
    ) -> Self {
        let n = value.chars().count();
        if n < min {
            self.push(format!(
                "Value at '{field}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
            ));
        } else if n > max {
            self.push(format!(
                "Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            ));
        } else if !ok {
            self.push(format!(
                "Value at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
            ));
        }
        self
    }

    /// Optional string length.
    pub fn opt_len(self, field: &str, value: &Option<String>, min: usize, max: usize) -> Self {
        match value {
            Some(v) => self.len(field, v, min, max),
            None => self,
        }
    }

    /// Blob length (in bytes) within `min..=max`; the value itself is never shown.
    pub fn blob_len(mut self, field: &str, len: usize, min: usize, max: usize) -> Self {
        if len < min {
            self.push(format!(
                "Value at '{field}' failed to satisfy constraint: Member must have length greater than or equal to {min}"
            ));
        } else if len > max {
            self.push(format!(
                "Value at '{field}' failed to satisfy constraint: Member must have length less than or equal to {max}"
            ));
        }
        self
    }

    /// Integer within `min..=max`.
    pub fn range(mut self, field: &str, value: Option<i64>, min: i64, max: i64) -> Self {
        if let Some(v) = value {
            if v < min {
                self.push(format!(
                    "Value '{v}' at '{field}' failed to satisfy constraint: Member must have value greater than or equal to {min}"
                ));
            } else if v > max {
                self.push(format!(
                    "Value '{v}' at '{field}' failed to satisfy constraint: Member must have value less than or equal to {max}"
                ));
            }
        }
        self
    }

    /// A regular-expression constraint, already evaluated by the caller as `ok`.
    pub fn pattern(mut self, field: &str, value: &str, pattern: &str, ok: bool) -> Self {
        if !ok {
            let shown = if value.chars().count() > 64 {
                "value".to_string()
            } else {
                format!("'{value}'")
            };
            self.push(format!(
                "Value {shown} at '{field}' failed to satisfy constraint: Member must satisfy regular expression pattern: {pattern}"
            ));
        }
        self
    }

    /// Grant tokens must be Tresor's (a semantic check, reported after the model's).
    pub fn known_grant_tokens(&mut self, tokens: Option<&[String]>) {
        for t in tokens.unwrap_or_default() {
            // Grants are usable at once here, so a token only has to be one of ours.
            self.bad_grant_token |= crate::ops::create_grant::token_grant_id(t).is_err();
        }
    }

    /// `Ok` when nothing was violated, else one `ValidationException` listing everything.
    pub fn finish(self) -> KmsResult<()> {
        match self.errors.len() {
            0 if self.bad_grant_token => Err(KmsError::InvalidGrantToken(
                "The grant token is not valid.".into(),
            )),
            0 => Ok(()),
            1 => Err(KmsError::Validation(format!(
                "1 validation error detected: {}",
                self.errors.join("; ")
            ))),
            n => Err(KmsError::Validation(format!(
                "{n} validation errors detected: {}",
                self.errors.join("; ")
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregates_messages() {
        let r = Validator::new()
            .required::<u8>("keyId", &None)
            .range("limit", Some(0), 1, 10)
            .finish();
        let Err(KmsError::Validation(m)) = r else {
            unreachable!()
        };
        assert!(
            m.starts_with("2 validation errors detected: Value null at 'keyId'"),
            "{m}"
        );
        assert!(m.contains("greater than or equal to 1"), "{m}");
        assert!(Validator::new().len("d", "abc", 0, 3).finish().is_ok());
    }
}
