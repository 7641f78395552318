//! The fields of a cached key that most keys leave unset, in one optional box.

use tresor_store::KeyRecord;

/// The fields most keys leave unset: deletion, rotation, imported material, multi-Region
/// and custom key store. A cached key holds them only when one is set.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Rare {
    /// When a key in `PendingDeletion` will be deleted.
    pub deletion_ms: Option<i64>,
    /// The pending window chosen at ScheduleKeyDeletion.
    pub pending_window_days: Option<i64>,
    /// Automatic rotation is on.
    pub rotation_enabled: bool,
    /// The automatic rotation period, when one was set.
    pub rotation_period_days: Option<i64>,
    /// When the next automatic rotation is due.
    pub next_rotation_ms: Option<i64>,
    /// How many on-demand rotations the key has had.
    pub on_demand_rotations: i64,
    /// When imported material expires.
    pub valid_to_ms: Option<i64>,
    /// KEY_MATERIAL_EXPIRES / KEY_MATERIAL_DOES_NOT_EXPIRE, once material was imported.
    pub expiration_model: Option<Box<str>>,
    /// The KeyMaterialId of the material imported into an EXTERNAL key.
    pub imported_material_id: Option<Box<str>>,
    /// The Region of a multi-Region key's primary.
    pub primary_region: Option<Box<str>>,
    /// The custom key store the key lives in.
    pub custom_key_store_id: Option<Box<str>>,
    /// The external key's id at the XKS proxy.
    pub xks_key_id: Option<Box<str>>,
    /// A stored public key that is not held parsed (kept as stored).
    pub public_key: Option<Box<[u8]>>,
    /// The stored id when it is not the public id (`mrk-…@REGION`).
    pub stored_id: Option<Box<str>>,
    /// A stored policy that is not the text of the key's shared parsed policy.
    pub policy: Option<Box<str>>,
}

/// The fields of a key that sets none of them.
pub(super) static NONE: Rare = Rare {
    deletion_ms: None,
    pending_window_days: None,
    rotation_enabled: false,
    rotation_period_days: None,
    next_rotation_ms: None,
    on_demand_rotations: 0,
    valid_to_ms: None,
    expiration_model: None,
    imported_material_id: None,
    primary_region: None,
    custom_key_store_id: None,
    xks_key_id: None,
    public_key: None,
    stored_id: None,
    policy: None,
};

fn boxed(s: &Option<String>) -> Option<Box<str>> {
    s.as_deref().map(Box::from)
}

fn unboxed(s: &Option<Box<str>>) -> Option<String> {
    s.as_deref().map(str::to_string)
}

fn len(s: &Option<Box<str>>) -> usize {
    s.as_ref().map_or(0, |s| s.len())
}

impl Rare {
    /// The rare fields of `r`, `None` when it sets none. `parsed_public` says whether its
    /// public key is held parsed (else it is kept here), `shared_policy` whether its
    /// stored policy is the shared parsed policy's text (else it is kept here).
    pub(super) fn of(r: &KeyRecord, parsed_public: bool, shared_policy: bool) -> Option<Box<Self>> {
        let public_id = crate::ids::public_id(&r.key_id);
        let rare = Self {
            deletion_ms: r.deletion_ms,
            pending_window_days: r.pending_window_days,
            rotation_enabled: r.rotation_enabled,
            rotation_period_days: r.rotation_period_days,
            next_rotation_ms: r.next_rotation_ms,
            on_demand_rotations: r.on_demand_rotations,
            valid_to_ms: r.valid_to_ms,
            expiration_model: boxed(&r.expiration_model),
            imported_material_id: boxed(&r.imported_material_id),
            primary_region: boxed(&r.primary_region),
            custom_key_store_id: boxed(&r.custom_key_store_id),
            xks_key_id: boxed(&r.xks_key_id),
            public_key: r
                .public_key
                .as_deref()
                .filter(|_| !parsed_public)
                .map(Box::from),
            stored_id: (public_id != r.key_id).then(|| r.key_id.as_str().into()),
            policy: r
                .policy
                .as_deref()
                .filter(|_| !shared_policy)
                .map(Box::from),
        };
        (rare != NONE).then(|| Box::new(rare))
    }

    /// Writes the rare fields back into `r`.
    pub(super) fn fill(&self, r: &mut KeyRecord) {
        r.deletion_ms = self.deletion_ms;
        r.pending_window_days = self.pending_window_days;
        r.rotation_enabled = self.rotation_enabled;
        r.rotation_period_days = self.rotation_period_days;
        r.next_rotation_ms = self.next_rotation_ms;
        r.on_demand_rotations = self.on_demand_rotations;
        r.valid_to_ms = self.valid_to_ms;
        r.expiration_model = unboxed(&self.expiration_model);
        r.imported_material_id = unboxed(&self.imported_material_id);
        r.primary_region = unboxed(&self.primary_region);
        r.custom_key_store_id = unboxed(&self.custom_key_store_id);
        r.xks_key_id = unboxed(&self.xks_key_id);
        if let Some(der) = &self.public_key {
            r.public_key = Some(der.to_vec());
        }
        if let Some(id) = &self.stored_id {
            r.key_id = id.to_string();
        }
        if let Some(p) = &self.policy {
            r.policy = Some(p.to_string());
        }
    }

    /// What the box owns on the heap, itself included.
    pub(super) fn heap_bytes(&self) -> usize {
        std::mem::size_of::<Self>()
            + len(&self.expiration_model)
            + len(&self.imported_material_id)
            + len(&self.primary_region)
            + len(&self.custom_key_store_id)
            + len(&self.xks_key_id)
            + self.public_key.as_ref().map_or(0, |k| k.len())
            + len(&self.stored_id)
            + len(&self.policy)
    }
}
