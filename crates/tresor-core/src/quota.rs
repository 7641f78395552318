//! The request-quota point: per-account request rates by operation class, as AWS KMS
//! defines them, answered with `ThrottlingException` when exceeded.
//!
//! Cryptographic operations are charged to the class of the key they use (symmetric
//! and HMAC keys share one rate, RSA, ECC, ML-DSA and ML-KEM keys have their own), so
//! they are admitted once the key is resolved; every other operation is charged to its
//! own per-operation rate before it runs.

use crate::caller::Caller;
use crate::error::{KmsError, KmsResult};
use crate::model::KeySpec;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::Instant;

/// Decides whether a request fits within its account's request quota.
pub trait RequestQuota: Send + Sync {
    /// Called before `operation` runs. Operations whose class depends on the key are
    /// admitted later by [`RequestQuota::admit_key`].
    fn admit(&self, caller: &Caller, operation: &str) -> KmsResult<()>;
    /// Called once the first key of a cryptographic operation is resolved.
    fn admit_key(&self, caller: &Caller, operation: &str, spec: KeySpec) -> KmsResult<()>;
}

/// No quotas (the default of a self-hosted server).
#[derive(Debug, Default)]
pub struct Unlimited;

impl RequestQuota for Unlimited {
    fn admit(&self, _caller: &Caller, _operation: &str) -> KmsResult<()> {
        Ok(())
    }
    fn admit_key(&self, _caller: &Caller, _operation: &str, _spec: KeySpec) -> KmsResult<()> {
        Ok(())
    }
}

/// Operations charged to the class of their key.
const KEYED_CRYPTO: &[&str] = &[
    "Encrypt",
    "Decrypt",
    "ReEncrypt",
    "GenerateDataKey",
    "GenerateDataKeyWithoutPlaintext",
    "GenerateMac",
    "VerifyMac",
    "Sign",
    "Verify",
    "DeriveSharedSecret",
    "Encapsulate",
    "Decapsulate",
];

/// The quota class a key's cryptographic operations are charged to.
pub fn key_class(spec: KeySpec) -> &'static str {
    match spec {
        KeySpec::SymmetricDefault
        | KeySpec::Hmac224
        | KeySpec::Hmac256
        | KeySpec::Hmac384
        | KeySpec::Hmac512 => "symmetric",
        KeySpec::Rsa2048 | KeySpec::Rsa3072 | KeySpec::Rsa4096 => "rsa",
        KeySpec::MlDsa44 | KeySpec::MlDsa65 | KeySpec::MlDsa87 => "ml-dsa",
        KeySpec::MlKem512 | KeySpec::MlKem768 | KeySpec::MlKem1024 => "ml-kem",
        _ => "ecc",
    }
}

/// AWS's default request quotas (requests per second, per account and region).
pub const AWS_DEFAULTS: &[(&str, f64)] = &[
    ("symmetric", 10_000.0),
    ("rsa", 1_000.0),
    ("ecc", 1_000.0),
    ("ml-dsa", 1_000.0),
    ("ml-kem", 1_000.0),
    ("GenerateRandom", 10_000.0),
    ("DescribeKey", 2_000.0),
    ("GetPublicKey", 2_000.0),
    ("ListResourceTags", 2_000.0),
    ("GetKeyPolicy", 1_000.0),
    ("GetKeyRotationStatus", 1_000.0),
    ("ListKeys", 500.0),
    ("ListAliases", 500.0),
    ("ListGrants", 100.0),
    ("ListKeyPolicies", 100.0),
    ("ListRetirableGrants", 100.0),
    ("CreateGrant", 50.0),
    ("RetireGrant", 30.0),
    ("RevokeGrant", 30.0),
    ("DeleteAlias", 15.0),
    ("EnableKeyRotation", 15.0),
    ("PutKeyPolicy", 15.0),
    ("ScheduleKeyDeletion", 15.0),
    ("TagResource", 10.0),
    ("GetParametersForImport", 0.25),
    ("other", 5.0),
];

#[derive(Debug)]
struct Bucket {
    tokens: f64,
    last: Instant,
}

/// Token-bucket quotas: each (account, class) may make `rate` requests per second,
/// with a burst of one second's worth.
#[derive(Debug, Default)]
pub struct RateQuotas {
    rates: HashMap<String, f64>,
    buckets: Mutex<HashMap<(String, String), Bucket>>,
}

impl RateQuotas {
    /// No class limited yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// AWS's defaults ([`AWS_DEFAULTS`]).
    pub fn aws_defaults() -> Self {
        let mut q = Self::new();
        for (name, rate) in AWS_DEFAULTS {
            q.set(name, *rate);
        }
        q
    }

    /// Limits a class (`symmetric`, `rsa`, `ecc`, `ml-dsa`, `ml-kem`), an operation name,
    /// or `other` (every operation not named) to `rate` requests per second.
    pub fn set(&mut self, class: &str, rate: f64) {
        self.rates.insert(class.to_string(), rate);
    }

    /// Parses `CLASS=RATE`.
    pub fn parse_setting(s: &str) -> Result<(String, f64), String> {
        let (class, rate) = s
            .split_once('=')
            .ok_or_else(|| format!("expected CLASS=RATE, got '{s}'"))?;
        let rate: f64 = rate
            .parse()
            .map_err(|_| format!("'{rate}' is not a number"))?;
        if rate.is_nan() || rate <= 0.0 {
            return Err(format!("the rate for {class} must be positive"));
        }
        Ok((class.to_string(), rate))
    }

    fn take(&self, account: &str, class: &str, rate: f64) -> KmsResult<()> {
        let now = Instant::now();
        let mut buckets = self.buckets.lock();
        let b = buckets
            .entry((account.to_string(), class.to_string()))
            .or_insert(Bucket {
                tokens: rate.max(1.0),
                last: now,
            });
        let elapsed = now.duration_since(b.last).as_secs_f64();
        b.tokens = (b.tokens + elapsed * rate).min(rate.max(1.0));
        b.last = now;
        if b.tokens >= 1.0 {
            b.tokens -= 1.0;
            Ok(())
        } else {
            Err(KmsError::Throttling(format!(
                "Rate exceeded for {class} requests of account {account}."
            )))
        }
    }

    fn rate_of(&self, class: &str) -> Option<f64> {
        self.rates.get(class).copied()
    }
}

impl RequestQuota for RateQuotas {
    fn admit(&self, caller: &Caller, operation: &str) -> KmsResult<()> {
        if KEYED_CRYPTO.contains(&operation) {
            return Ok(());
        }
        let (class, rate) = match self.rate_of(operation) {
            Some(r) => (operation, r),
            None => match self.rate_of("other") {
                Some(r) => ("other", r),
                None => return Ok(()),
            },
        };
        self.take(&caller.account, class, rate)
    }

    fn admit_key(&self, caller: &Caller, operation: &str, spec: KeySpec) -> KmsResult<()> {
        if !KEYED_CRYPTO.contains(&operation) {
            return Ok(());
        }
        let class = key_class(spec);
        match self.rate_of(class) {
            Some(rate) => self.take(&caller.account, class, rate),
            None => Ok(()),
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn caller(account: &str) -> Caller {
        Caller {
            account: account.into(),
            principal_arn: String::new(),
            access_key_id: String::new(),
            operator: false,
            region: "us-east-1".into(),
            source_ip: String::new(),
            user_agent: String::new(),
            request_id: String::new(),
            secure_transport: false,
        }
    }

    #[test]
    fn throttles_per_account_and_class_then_recovers() {
        let mut q = RateQuotas::new();
        q.set("symmetric", 5.0);
        q.set("DescribeKey", 2.0);
        let a = caller("111122223333");
        for _ in 0..5 {
            q.admit_key(&a, "Encrypt", KeySpec::SymmetricDefault)
                .unwrap();
        }
        assert!(matches!(
            q.admit_key(&a, "Decrypt", KeySpec::SymmetricDefault),
            Err(KmsError::Throttling(_))
        ));
        // Other accounts and classes are not affected.
        q.admit_key(
            &caller("444455556666"),
            "Encrypt",
            KeySpec::SymmetricDefault,
        )
        .unwrap();
        q.admit_key(&a, "Sign", KeySpec::EccNistP256).unwrap();
        q.admit(&a, "DescribeKey").unwrap();
        q.admit(&a, "DescribeKey").unwrap();
        assert!(q.admit(&a, "DescribeKey").is_err());
        q.admit(&a, "ListKeys").unwrap();
        std::thread::sleep(std::time::Duration::from_millis(250));
        q.admit_key(&a, "Encrypt", KeySpec::SymmetricDefault)
            .unwrap();
    }

    #[test]
    fn parses_settings() {
        assert_eq!(
            RateQuotas::parse_setting("rsa=500").unwrap(),
            ("rsa".into(), 500.0)
        );
        assert!(RateQuotas::parse_setting("rsa").is_err());
        assert!(RateQuotas::parse_setting("rsa=0").is_err());
    }
}
