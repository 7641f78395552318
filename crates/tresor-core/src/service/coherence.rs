//! Cache coherence across nodes that share one database: the store tells each node
//! what the others changed and the node drops what it cached about it. The next
//! request reads the record anew; requests in between are served from what is left.

use super::{alias_cache_key, Kms};
use crate::ids::CompactId;
use std::sync::{Arc, Weak};
use tresor_store::{Change, ChangeSink};

struct Watcher(Weak<Kms>);

impl ChangeSink for Watcher {
    fn changed(&self, changes: &[Change]) {
        if let Some(kms) = self.0.upgrade() {
            kms.forget_changed(changes);
        }
    }
}

impl Kms {
    /// Subscribes this service to the changes other nodes commit to its store (a
    /// no-op for a store only this process uses).
    pub fn watch_store(self: &Arc<Self>) {
        self.store
            .subscribe(Arc::new(Watcher(Arc::downgrade(self))));
    }

    /// Drops what is cached about records another node changed.
    pub fn forget_changed(&self, changes: &[Change]) {
        for change in changes {
            match change {
                Change::Key(id) => self.keys.remove(&CompactId::new(id)),
                Change::KeyDeleted(id) => {
                    self.keys.remove(&CompactId::new(id));
                    self.grants.remove(id);
                    self.aliases.remove_where(|target| target == id);
                }
                Change::Alias {
                    account,
                    region,
                    name,
                } => self.aliases.remove(&alias_cache_key(account, region, name)),
                Change::Grants(id) => self.grants.remove(id),
                Change::AccessKey(id) => self.access_key_changed(id),
                Change::Principal(arn) => {
                    self.forget_credentials_of(arn);
                    self.forget_identity_policies(arn);
                    self.refused_keys.clear();
                }
                Change::All => {
                    self.drop_decrypted_caches();
                    // Root generations are such a change: another node may have rotated.
                    self.wake_root_follower();
                }
            }
        }
    }
}
