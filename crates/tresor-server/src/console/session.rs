//! Console sessions: a random cookie mapped server-side to the principal it signed in
//! as, with an idle timeout, an absolute lifetime and a CSRF token.

use aws_lc_rs::digest;
use parking_lot::Mutex;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// The session cookie's name.
pub const COOKIE: &str = "tresor_console";
/// The pre-sign-in cookie carrying the sign-in form's CSRF token (double submit).
pub const PRE_COOKIE: &str = "tresor_console_pre";
/// Most sessions held at once; sign-in is refused past it.
const MAX_SESSIONS: usize = 10_000;

/// Who a session signed in as.
#[derive(Debug, Clone)]
pub struct Principal {
    /// The access key that signed in (checked again on every request).
    pub access_key_id: String,
    /// The principal's account.
    pub account: String,
    /// The principal's ARN.
    pub principal_arn: String,
    /// The service operator.
    pub operator: bool,
    /// The region the console addresses.
    pub region: String,
}

/// A message shown once on the next page.
#[derive(Debug, Clone)]
pub struct Flash {
    /// An error rather than a confirmation.
    pub error: bool,
    /// The text.
    pub text: String,
}

/// One live session.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who.
    pub principal: Principal,
    /// The CSRF token every form of this session carries.
    pub csrf: String,
    created: Instant,
    last_seen: Instant,
    flash: Option<Flash>,
}

/// Why a session could not be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// No such session (never existed, signed out).
    Unknown,
    /// It timed out and is gone.
    Expired,
}

/// All sessions, keyed by the SHA-256 of their cookie (the map never holds a usable
/// cookie value).
#[derive(Debug)]
pub struct Sessions {
    idle: Duration,
    lifetime: Duration,
    map: Mutex<HashMap<[u8; 32], Session>>,
}

impl Sessions {
    /// Sessions that end after `idle` without a request, or `lifetime` after sign-in.
    pub fn new(idle: Duration, lifetime: Duration) -> Self {
        Self {
            idle,
            lifetime,
            map: Mutex::new(HashMap::new()),
        }
    }

    /// Starts a session for `principal`: returns its cookie value, or `None` when too
    /// many sessions are live.
    pub fn create(&self, principal: Principal) -> Option<String> {
        let token = random_token()?;
        let csrf = random_token()?;
        let now = Instant::now();
        let mut map = self.map.lock();
        if map.len() >= MAX_SESSIONS {
            map.retain(|_, s| !self.expired(s, now));
            if map.len() >= MAX_SESSIONS {
                return None;
            }
        }
        map.insert(
            hash(&token),
            Session {
                principal,
                csrf,
                created: now,
                last_seen: now,
                flash: None,
            },
        );
        Some(token)
    }

    /// The session behind `token`, marked as used now.
    pub fn touch(&self, token: &str) -> Result<Session, Lookup> {
        let now = Instant::now();
        let key = hash(token);
        let mut map = self.map.lock();
        let Some(s) = map.get_mut(&key) else {
            return Err(Lookup::Unknown);
        };
        if self.expired(s, now) {
            map.remove(&key);
            return Err(Lookup::Expired);
        }
        s.last_seen = now;
        Ok(s.clone())
    }

    /// Ends the session behind `token`.
    pub fn end(&self, token: &str) {
        self.map.lock().remove(&hash(token));
    }

    /// Ends every session of `access_key_id` (its key was disabled or deleted).
    pub fn end_for_key(&self, access_key_id: &str) {
        self.map
            .lock()
            .retain(|_, s| s.principal.access_key_id != access_key_id);
    }

    /// Leaves a message for the session's next page.
    pub fn set_flash(&self, token: &str, flash: Flash) {
        if let Some(s) = self.map.lock().get_mut(&hash(token)) {
            s.flash = Some(flash);
        }
    }

    /// Takes the message left for this page, if any.
    pub fn take_flash(&self, token: &str) -> Option<Flash> {
        self.map
            .lock()
            .get_mut(&hash(token))
            .and_then(|s| s.flash.take())
    }

    fn expired(&self, s: &Session, now: Instant) -> bool {
        now.duration_since(s.last_seen) > self.idle || now.duration_since(s.created) > self.lifetime
    }
}

/// 32 random bytes, hex.
pub fn random_token() -> Option<String> {
    let mut b = [0u8; 32];
    tresor_crypto::random::fill(&mut b).ok()?;
    Some(hex::encode(b))
}

/// Equal in constant time (for equal lengths).
pub fn same(a: &str, b: &str) -> bool {
    aws_lc_rs::constant_time::verify_slices_are_equal(a.as_bytes(), b.as_bytes()).is_ok()
}

fn hash(token: &str) -> [u8; 32] {
    let d = digest::digest(&digest::SHA256, token.as_bytes());
    let mut out = [0u8; 32];
    out.copy_from_slice(d.as_ref());
    out
}

/// The value of cookie `name` in a `Cookie` header.
pub fn cookie<'a>(headers: &'a axum::http::HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all("cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn who() -> Principal {
        Principal {
            access_key_id: "AKIA".into(),
            account: "111122223333".into(),
            principal_arn: "arn:aws:iam::111122223333:user/a".into(),
            operator: false,
            region: "us-east-1".into(),
        }
    }

    #[test]
    fn a_session_expires_when_idle() {
        let s = Sessions::new(Duration::from_millis(50), Duration::from_secs(60));
        let t = s.create(who()).unwrap();
        assert!(s.touch(&t).is_ok());
        std::thread::sleep(Duration::from_millis(120));
        assert_eq!(s.touch(&t).unwrap_err(), Lookup::Expired);
        assert_eq!(s.touch(&t).unwrap_err(), Lookup::Unknown);
    }

    #[test]
    fn tokens_are_distinct_and_unguessable_by_prefix() {
        let s = Sessions::new(Duration::from_secs(60), Duration::from_secs(60));
        let a = s.create(who()).unwrap();
        let b = s.create(who()).unwrap();
        assert_ne!(a, b);
        assert_eq!(a.len(), 64);
        assert!(s.touch(&a[..63]).is_err());
        s.end(&a);
        assert!(s.touch(&a).is_err());
        assert!(s.touch(&b).is_ok());
    }

    #[test]
    fn cookies_are_found_by_exact_name() {
        let mut h = axum::http::HeaderMap::new();
        h.insert(
            "cookie",
            "x_tresor_console=bad; tresor_console=good".parse().unwrap(),
        );
        assert_eq!(cookie(&h, COOKIE), Some("good"));
        assert_eq!(cookie(&h, PRE_COOKIE), None);
    }
}
