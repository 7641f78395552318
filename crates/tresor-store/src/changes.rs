//! What a committed batch changed, as other nodes' caches need to hear it.
//!
//! A store shared by several nodes (PostgreSQL) tells every other node which records a
//! batch touched, so that each drops what it cached about them. The single-node SQLite
//! store has nobody to tell.

use crate::{WrappedRef, Write};
use std::sync::Arc;

/// One cached fact another node changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// A key record, its materials or its tags.
    Key(String),
    /// A key was deleted (with its aliases and grants).
    KeyDeleted(String),
    /// An alias.
    Alias {
        /// Account.
        account: String,
        /// Region.
        region: String,
        /// Alias name.
        name: String,
    },
    /// The grants of a key.
    Grants(String),
    /// An access key.
    AccessKey(String),
    /// A principal, its access keys or its identity policies.
    Principal(String),
    /// Something every cache depends on (root generations), or an unknown change:
    /// drop everything.
    All,
}

/// Receives the changes other nodes made. Called from the store's listener task:
/// implementations must be quick and must not block on the store.
pub trait ChangeSink: Send + Sync {
    /// `changes` were committed by another node.
    fn changed(&self, changes: &[Change]);
}

/// A shared [`ChangeSink`].
pub type SharedSink = Arc<dyn ChangeSink>;

/// The changes a batch makes, one entry per fact (duplicates removed, order kept).
pub fn changes_of(batch: &[Write]) -> Vec<Change> {
    let mut out: Vec<Change> = Vec::new();
    for c in batch.iter().filter_map(change_of) {
        push_change(&mut out, c);
    }
    out
}

/// Adds `c` to `out` unless it is there already.
pub fn push_change(out: &mut Vec<Change>, c: Change) {
    if !out.contains(&c) {
        out.push(c);
    }
}

/// The cached fact one write changes, if any. A [`Write::DeleteGrant`] names no key:
/// it is [`Change::All`] unless the store looks the key up (PostgreSQL does).
pub fn change_of(w: &Write) -> Option<Change> {
    Some(match w {
        Write::InsertKey(k) | Write::UpdateKey(k) => Change::Key(k.key_id.clone()),
        Write::DeleteKey { key_id } => Change::KeyDeleted(key_id.clone()),
        Write::DeleteMaterials { key_id } | Write::SetTags { key_id, .. } => {
            Change::Key(key_id.clone())
        }
        Write::InsertMaterial(m) | Write::UpdateMaterial(m) => Change::Key(m.key_id.clone()),
        // Cached keys hold their custom key store's link (connection, cluster id): a
        // store change drops them all (such changes are rare).
        Write::InsertCustomKeyStore(_)
        | Write::UpdateCustomKeyStore(_)
        | Write::DeleteCustomKeyStore { .. } => Change::All,
        // Import tokens are read from the store on use, never cached; the seal is read
        // at start and unseal; a limit check changes nothing.
        Write::PutImportToken(_) | Write::InsertSeal(_) | Write::CheckLimit { .. } => return None,
        // Key usage is read from the store (merged with the node's memory), never cached.
        Write::PutKeyUsage(_) | Write::StartUsageTracking { .. } => return None,
        Write::InsertAlias(a) | Write::UpdateAlias(a) => Change::Alias {
            account: a.account.clone(),
            region: a.region.clone(),
            name: a.name.clone(),
        },
        Write::DeleteAlias {
            account,
            region,
            name,
        } => Change::Alias {
            account: account.clone(),
            region: region.clone(),
            name: name.clone(),
        },
        Write::PutAccessKey(a) => Change::AccessKey(a.access_key_id.clone()),
        Write::DeleteAccessKey { access_key_id } => Change::AccessKey(access_key_id.clone()),
        Write::DisableAccessKeys { principal_arn } => Change::Principal(principal_arn.clone()),
        Write::PutPrincipal(p) => Change::Principal(p.arn.clone()),
        Write::PutPrincipalPolicy(p) => Change::Principal(p.principal_arn.clone()),
        Write::DeletePrincipalPolicy { principal_arn, .. } => {
            Change::Principal(principal_arn.clone())
        }
        Write::InsertGrant(g) => Change::Grants(g.key_id.clone()),
        Write::DeleteGrant { .. } => Change::All,
        Write::PutRootGeneration(_) | Write::DeleteRootGeneration { .. } => Change::All,
        Write::Rewrap { target, .. } => match target {
            WrappedRef::Material { key_id, .. } => Change::Key(key_id.clone()),
            WrappedRef::AccessKey { access_key_id } => Change::AccessKey(access_key_id.clone()),
            // Import tokens are never cached; a store's secret is read on each connect.
            WrappedRef::ImportToken { .. } | WrappedRef::CustomKeyStore { .. } => return None,
        },
    })
}

const SEP: char = '\u{1f}';

/// Encodes changes as the text of one notification (at most `limit` bytes; longer
/// lists become [`Change::All`]).
pub fn encode(changes: &[Change], limit: usize) -> String {
    let mut out = String::new();
    for c in changes {
        let line = match c {
            Change::Key(id) => format!("k{SEP}{id}"),
            Change::KeyDeleted(id) => format!("d{SEP}{id}"),
            Change::Alias {
                account,
                region,
                name,
            } => format!("a{SEP}{account}{SEP}{region}{SEP}{name}"),
            Change::Grants(id) => format!("g{SEP}{id}"),
            Change::AccessKey(id) => format!("c{SEP}{id}"),
            Change::Principal(arn) => format!("p{SEP}{arn}"),
            Change::All => "*".to_string(),
        };
        if !out.is_empty() {
            out.push('\n');
        }
        out.push_str(&line);
    }
    if out.len() > limit {
        return "*".into();
    }
    out
}

/// Decodes [`encode`]'s text; anything it does not understand becomes [`Change::All`].
pub fn decode(text: &str) -> Vec<Change> {
    let mut out = Vec::new();
    for line in text.split('\n').filter(|l| !l.is_empty()) {
        let parts: Vec<&str> = line.split(SEP).collect();
        let c = match parts.as_slice() {
            ["k", id] => Change::Key((*id).to_string()),
            ["d", id] => Change::KeyDeleted((*id).to_string()),
            ["a", account, region, name] => Change::Alias {
                account: (*account).to_string(),
                region: (*region).to_string(),
                name: (*name).to_string(),
            },
            ["g", id] => Change::Grants((*id).to_string()),
            ["c", id] => Change::AccessKey((*id).to_string()),
            ["p", arn] => Change::Principal((*arn).to_string()),
            _ => Change::All,
        };
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_degrades_to_all() {
        let c = vec![
            Change::Key("k1".into()),
            Change::Alias {
                account: "1".into(),
                region: "r".into(),
                name: "alias/x".into(),
            },
            Change::Principal("arn:aws:iam::1:user/a".into()),
        ];
        assert_eq!(decode(&encode(&c, 8000)), c);
        assert_eq!(decode(&encode(&c, 10)), vec![Change::All]);
        assert_eq!(decode("zz\u{1f}1"), vec![Change::All]);
    }
}
