//! The request pipeline every operation passes through, in one place:
//! quota → decode → (resolve key → authorize → check state → execute) → audit → encode.
//!
//! Operations get keys only through [`Call::key`] and friends, which resolve *and*
//! authorize; an operation that answers without ever authorizing is refused as an
//! internal error, so adding an operation cannot forget authorization.

use crate::authz::Resource;
use crate::cache::CachedKey;
use crate::caller::Caller;
use crate::error::{KmsError, KmsResult};
use crate::ids::{self, KeyRef};
use crate::policy::{Facts, LazyFacts};
use crate::service::Kms;
use crate::validate::shape::Constrained;
use crate::validate::Validator;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::sync::Arc;

/// One API operation: its wire types and its behaviour.
pub trait Operation {
    /// The operation's name (`X-Amz-Target: TrentService.<NAME>`).
    const NAME: &'static str;
    /// True when the operation reads or writes storage (not only the cache), so the
    /// server runs it off the async threads.
    const USES_STORAGE: bool;
    /// True when the operation changes state (its audit record must be durable before
    /// the response; CloudTrail's `readOnly` is the opposite).
    const MUTATES: bool;
    /// The decoded request body.
    type Request: DeserializeOwned;
    /// The response body.
    type Response: Serialize;
    /// Runs the operation for an authenticated caller.
    fn execute(call: &mut Call<'_>, req: Self::Request) -> KmsResult<Self::Response>;
}

/// The context of one request as an operation sees it.
pub struct Call<'a> {
    /// The service.
    pub kms: &'a Kms,
    /// The operation's name.
    pub operation: &'static str,
    key_admitted: bool,
    /// The authenticated caller.
    pub caller: &'a Caller,
    authorized: bool,
    resources: Vec<String>,
    /// Members of the body the operation does not have (ignored, and left out of the
    /// audit record), as paths of member names and array indexes.
    unknown_members: Vec<Vec<String>>,
    /// What the operation adds to its audit record (algorithm and material used).
    crypto: crate::audit::CryptoDetails,
}

impl<'a> Call<'a> {
    /// The `requestMetadata` of an XKS proxy call made for this request.
    pub fn xks_who<'k>(
        &'k self,
        key_arn: Option<&'k str>,
    ) -> crate::custom_key_stores::xks::Who<'k> {
        crate::custom_key_stores::xks::Who {
            principal_arn: &self.caller.principal_arn,
            operation: self.operation,
            request_id: &self.caller.request_id,
            key_arn,
        }
    }

    fn new(kms: &'a Kms, caller: &'a Caller, operation: &'static str) -> Self {
        Self {
            operation,
            key_admitted: false,
            kms,
            caller,
            authorized: false,
            resources: Vec::new(),
            unknown_members: Vec::new(),
            crypto: crate::audit::CryptoDetails::default(),
        }
    }

    /// Notes the encryption algorithm used, for the audit record.
    pub fn audit_algorithm(&mut self, algorithm: &'static str) {
        self.crypto.encryption_algorithm = Some(algorithm);
    }

    /// Notes the key material used (its KeyMaterialId), for the audit record.
    pub fn audit_material(&mut self, material_id: Option<String>) {
        self.crypto.key_material_id = material_id;
    }

    /// The facts of one authorization: the caller's, plus `facts` taken from the typed
    /// request, plus `kms:RequestAlias` from `key_id` (the member naming the key used).
    pub fn facts<'f>(&'f self, facts: Facts<'f>, key_id: Option<&'f str>) -> LazyFacts<'f> {
        LazyFacts::new(self.caller, self.kms.now_ms(), facts, key_id)
    }

    /// The service clock.
    pub fn now_ms(&self) -> i64 {
        self.kms.now_ms()
    }

    /// Resolves a `KeyId` (id, key ARN, alias name or alias ARN) and authorizes `action`
    /// (e.g. `kms:Encrypt`) on it, with the members of the typed request in `facts`.
    pub fn key(
        &mut self,
        key_id: &str,
        action: &str,
        facts: Facts<'_>,
    ) -> KmsResult<Arc<CachedKey>> {
        let key = self.resolve(key_id)?;
        self.authorize_named(&key, action, facts, Some(key_id))?;
        Ok(key)
    }

    /// Like [`Call::key`] but refuses aliases, for members that take only a key id or ARN.
    pub fn key_no_alias(
        &mut self,
        key_id: &str,
        action: &str,
        facts: Facts<'_>,
    ) -> KmsResult<Arc<CachedKey>> {
        if KeyRef::parse(key_id)?.is_alias() {
            return Err(KmsError::NotFound(format!(
                "Invalid keyId '{key_id}': an alias is not accepted here"
            )));
        }
        self.key(key_id, action, facts)
    }

    /// A key found by UUID inside a ciphertext, in the caller's region; `None` when no
    /// such key exists there.
    pub fn key_from_ciphertext(
        &mut self,
        key_id: &str,
        action: &str,
        facts: Facts<'_>,
    ) -> KmsResult<Option<Arc<CachedKey>>> {
        let stored = ids::storage_id(key_id, &self.caller.region);
        let Some(key) = self.kms.key_by_id(&stored)? else {
            return Ok(None);
        };
        if key.region() != self.caller.region {
            return Ok(None);
        }
        self.authorize_named(&key, action, facts, None)?;
        Ok(Some(key))
    }

    /// Authorizes an action that is not on a key (CreateKey, ListKeys, GenerateRandom…).
    pub fn authorize_account(&mut self, action: &str, facts: Facts<'_>) -> KmsResult<()> {
        let lazy = self.facts(facts, None);
        crate::authz::authorize(self.kms, self.caller, &lazy, action, Resource::Account)?;
        self.authorized = true;
        Ok(())
    }

    /// Authorizes account-level `action` as if the caller made the request in `region`
    /// (`aws:RequestedRegion` is `region`): ReplicateKey needs `kms:CreateKey` in the
    /// replica Region, from the caller's identity policies.
    pub fn authorize_account_in(
        &mut self,
        region: &str,
        action: &str,
        facts: Facts<'_>,
    ) -> KmsResult<()> {
        let mut there = self.caller.clone();
        there.region = region.to_string();
        let lazy = LazyFacts::new(&there, self.kms.now_ms(), facts, None);
        crate::authz::authorize(self.kms, &there, &lazy, action, Resource::Account)
    }

    /// Authorizes an administration action on `account` (see [`crate::authz::authorize_admin`]).
    pub fn authorize_admin(&mut self, account: &str) -> KmsResult<()> {
        crate::authz::authorize_admin(self.caller, account)?;
        self.authorized = true;
        Ok(())
    }

    /// Names a key the request created (CreateKey, authorized on the account) in its
    /// audit record.
    pub fn created(&mut self, key_arn: &str) {
        if !self.resources.iter().any(|r| r == key_arn) {
            self.resources.push(key_arn.to_string());
        }
    }

    /// Marks the request authorized by an operation-specific rule that is not a policy
    /// (RetireGrant: the grant's retiring principal or grantee). `why` is for the log.
    pub fn authorize_by_rule(&mut self, why: &str) {
        tracing::debug!(request_id = %self.caller.request_id, "authorized by rule: {why}");
        self.authorized = true;
    }

    /// Authorizes `action` on an already resolved key and records it for the audit.
    pub fn authorize_key(
        &mut self,
        key: &CachedKey,
        action: &str,
        facts: Facts<'_>,
    ) -> KmsResult<()> {
        self.authorize_named(key, action, facts, None)
    }

    /// [`Call::authorize_key`] for a key the request named as `key_id`.
    fn authorize_named(
        &mut self,
        key: &CachedKey,
        action: &str,
        facts: Facts<'_>,
        key_id: Option<&str>,
    ) -> KmsResult<()> {
        if !self.resources.contains(&key.arn) {
            self.resources.push(key.arn.clone());
        }
        let lazy = self.facts(facts, key_id);
        crate::authz::authorize(self.kms, self.caller, &lazy, action, Resource::Key(key))?;
        self.authorized = true;
        if !self.key_admitted {
            // Cryptographic operations are charged to their (first) key's quota class.
            self.key_admitted = true;
            self.kms
                .quota
                .admit_key(self.caller, self.operation, key.spec)?;
        }
        Ok(())
    }

    /// Resolves without authorizing (internal use by the methods above).
    fn resolve(&self, key_id: &str) -> KmsResult<Arc<CachedKey>> {
        let caller = self.caller;
        // Ids from the request are public ids; alias targets are stored ids already.
        let (account, id) = match KeyRef::parse(key_id)? {
            KeyRef::Id(id) => (caller.account.clone(), ids::storage_id(&id, &caller.region)),
            KeyRef::KeyArn {
                region,
                account,
                id,
            } => {
                if region != caller.region {
                    return Err(not_found_key(&ids::key_arn(&region, &account, &id)));
                }
                (account, ids::storage_id(&id, &caller.region))
            }
            KeyRef::Alias(name) => {
                let target = self
                    .kms
                    .alias_target(&caller.account, &caller.region, &name)?;
                let Some(id) = target else {
                    return Err(not_found_alias(&ids::alias_arn(
                        &caller.region,
                        &caller.account,
                        &name,
                    )));
                };
                (caller.account.clone(), id)
            }
            KeyRef::AliasArn {
                region,
                account,
                name,
            } => {
                let target = if region == caller.region {
                    self.kms.alias_target(&account, &region, &name)?
                } else {
                    None
                };
                let Some(id) = target else {
                    return Err(not_found_alias(&ids::alias_arn(&region, &account, &name)));
                };
                (account, id)
            }
        };
        match self.kms.key_by_id(&id)? {
            Some(k) if k.account() == account && k.region() == caller.region => Ok(k),
            // The ARN is built only for the error (the found key has its own).
            _ => Err(not_found_key(&ids::stored_key_arn(
                &caller.region,
                &account,
                &id,
            ))),
        }
    }
}

/// `NotFoundException` for a key ARN.
pub fn not_found_key(arn: &str) -> KmsError {
    KmsError::NotFound(crate::messages::key_not_found(arn))
}

/// `NotFoundException` for an alias ARN.
pub fn not_found_alias(arn: &str) -> KmsError {
    KmsError::NotFound(format!("Alias {arn} is not found."))
}

/// How the pipeline invokes one operation.
#[derive(Clone, Copy)]
pub struct OperationEntry {
    /// The operation's name.
    pub name: &'static str,
    /// See [`Operation::USES_STORAGE`].
    pub uses_storage: bool,
    /// See [`Operation::MUTATES`].
    pub mutates: bool,
    run: fn(&mut Call<'_>, &[u8]) -> KmsResult<Vec<u8>>,
}

impl std::fmt::Debug for OperationEntry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

/// The table entry of operation `O` (its model constraints are in the generated
/// [`crate::validate::model`]).
pub const fn entry<O: Constrained>() -> OperationEntry {
    OperationEntry {
        name: O::NAME,
        uses_storage: O::USES_STORAGE,
        mutates: O::MUTATES,
        run: run_op::<O>,
    }
}

/// The table entry of an operation outside the KMS model (`TresorAdmin.*`, the XKS
/// proxy API), which checks its members itself.
pub const fn unmodeled_entry<O: Operation>() -> OperationEntry {
    OperationEntry {
        name: O::NAME,
        uses_storage: O::USES_STORAGE,
        mutates: O::MUTATES,
        run: run_unmodeled_op::<O>,
    }
}

fn run_unmodeled_op<O: Operation>(call: &mut Call<'_>, body: &[u8]) -> KmsResult<Vec<u8>> {
    let req = decode::<O>(call, body)?;
    let resp = O::execute(call, req)?;
    reply(&resp)
}

fn run_op<O: Constrained>(call: &mut Call<'_>, body: &[u8]) -> KmsResult<Vec<u8>> {
    let req = decode::<O>(call, body)?;
    // The model's constraints, from the one generated table, before the operation runs.
    let mut v = Validator::new();
    O::check(&req, &mut v);
    v.finish()?;
    let resp = O::execute(call, req)?;
    reply(&resp)
}

/// The JSON body of a reply. Most (a ciphertext blob, a key ARN) fit the first buffer:
/// no regrowing while serializing.
fn reply<R: serde::Serialize>(resp: &R) -> KmsResult<Vec<u8>> {
    let mut out = Vec::with_capacity(512);
    serde_json::to_writer(&mut out, resp).map_err(KmsError::internal)?;
    Ok(out)
}

/// Decodes the request body of `O`, noting the members it does not have.
fn decode<O: Operation>(call: &mut Call<'_>, body: &[u8]) -> KmsResult<O::Request> {
    let body = match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => b"{}".as_slice(),
        // AWS's JSON protocol takes only an object; serde would also accept a struct in
        // its sequence form (`[32, null]`).
        Some(b'{') => body,
        Some(_) => {
            return Err(KmsError::Serialization(
                "The request body must be a JSON object".into(),
            ))
        }
    };
    // Unknown members are ignored, as AWS's JSON protocol ignores them (forward
    // compatibility); authorization reads only the typed request, so they never
    // influence a decision, and the audit record leaves them out.
    let mut unknown = Vec::new();
    let mut de = serde_json::Deserializer::from_slice(body);
    let req: O::Request = serde_ignored::deserialize(&mut de, |path| unknown.push(segments(&path)))
        .and_then(|req| de.end().map(|()| req))
        .map_err(|e| KmsError::Serialization(serde_message(&e)))?;
    call.unknown_members = unknown;
    Ok(req)
}

/// The member names and array indexes leading to an ignored member.
fn segments(path: &serde_ignored::Path<'_>) -> Vec<String> {
    use serde_ignored::Path;
    let mut out = Vec::new();
    let mut at = path;
    loop {
        at = match at {
            Path::Root => break,
            Path::Seq { parent, index } => {
                out.push(index.to_string());
                parent
            }
            Path::Map { parent, key } => {
                out.push(key.clone());
                parent
            }
            Path::Some { parent }
            | Path::NewtypeStruct { parent }
            | Path::NewtypeVariant { parent } => parent,
        };
    }
    out.reverse();
    out
}

fn serde_message(e: &serde_json::Error) -> String {
    // serde's messages name Rust types; keep the part a client can act on.
    let msg = e.to_string();
    match e.classify() {
        serde_json::error::Category::Syntax | serde_json::error::Category::Eof => {
            format!("Malformed JSON request body: {msg}")
        }
        _ => format!("Could not deserialize the request: {msg}"),
    }
}

/// The operation named `name`, if Tresor has it.
pub fn operation(name: &str) -> Option<OperationEntry> {
    crate::ops::ALL.iter().find(|e| e.name == name).copied()
}

impl Kms {
    /// Runs one request through the whole pipeline and audits it. `body` is the JSON
    /// request; the result is the JSON response or the error to send.
    pub fn handle(&self, op: OperationEntry, body: &[u8], caller: &Caller) -> KmsResult<Vec<u8>> {
        if self.is_sealed() {
            return Err(KmsError::Sealed(crate::seal::SEALED_MESSAGE.into()));
        }
        // Fail closed: nothing runs unless its record can be kept.
        let admitted = crate::audit::record_size_bound(body.len(), caller);
        if let Err(e) = self.audit.admit(admitted) {
            tracing::debug!(request_id = %caller.request_id, operation = op.name, "refused: {e}");
            return Err(KmsError::AuditUnavailable(e.to_string()));
        }
        let mut call = Call::new(self, caller, op.name);
        let result = self
            .quota
            .admit(caller, op.name)
            .and_then(|()| (op.run)(&mut call, body))
            .and_then(|out| {
                if call.authorized {
                    Ok(out)
                } else {
                    Err(KmsError::internal(format!(
                        "operation {} answered without authorizing",
                        op.name
                    )))
                }
            });
        match &result {
            Err(KmsError::Internal(detail)) => {
                tracing::error!(request_id = %caller.request_id, operation = op.name, "internal error: {detail}");
            }
            Err(KmsError::StoreUnavailable(detail)) => {
                tracing::warn!(request_id = %caller.request_id, operation = op.name, "database unavailable: {detail}");
            }
            _ => {}
        }
        let (code, message) = match &result {
            Ok(_) => (None, None),
            Err(e) => (Some(error_name(e)), Some(e.to_string())),
        };
        let response = match &result {
            Ok(out) if op.mutates => Some(out.as_slice()),
            _ => None,
        };
        // A successful cryptographic use is remembered with its record's event id.
        let tracked = result.is_ok() && crate::usage::TRACKED.contains(&op.name);
        let event_uuid = tracked.then(uuid::Uuid::new_v4);
        let mut event_buf = uuid::Uuid::encode_buffer();
        let event_id = event_uuid.map(|u| &*u.hyphenated().encode_lower(&mut event_buf));
        let event_time_ms = self.now_ms();
        let crypto = std::mem::take(&mut call.crypto);
        let request_parameters = crate::audit::loggable_json(
            body,
            &call.unknown_members,
            crypto
                .encryption_algorithm
                .map(|a| ("encryptionAlgorithm", a)),
        );
        let key_material_id = crypto.key_material_id;
        let record = crate::audit::AuditRecord {
            event_name: op.name,
            caller,
            resources: &call.resources,
            error_code: code,
            error_message: message,
            event_time_ms,
            request_parameters,
            response_elements: response.and_then(|r| crate::audit::loggable_json(r, &[], None)),
            additional_event_data: None,
            key_material_id,
            read_only: !op.mutates,
            service_event: false,
            admitted_bytes: admitted,
            event_id,
        };
        // For a mutation this waits (bounded) until the record is durable.
        if let Err(e) = self.audit.record(&record) {
            // A request whose record could not be kept must not be acknowledged.
            tracing::error!(request_id = %caller.request_id, operation = op.name, "audit failed: {e}");
            return Err(KmsError::AuditUnavailable(e.to_string()));
        }
        if let Some(event_uuid) = event_uuid {
            let event_id = crate::ids::CompactId::of_uuid(event_uuid);
            let request_id = crate::ids::CompactId::new(&caller.request_id);
            for arn in &call.resources {
                if let Some(key_id) = crate::usage::store_id_of_arn(arn) {
                    let (op, t) = (op.name, event_time_ms);
                    self.last_uses
                        .record_compact(&key_id, op, t, &event_id, &request_id);
                }
            }
        }
        result
    }
}

impl Kms {
    /// Audits a request that never reached an operation: failed authentication, an
    /// unknown operation, an oversized body. `caller` carries what is known (source IP,
    /// user agent, request id, and the access key and region when they could be read).
    pub fn audit_rejected(&self, event_name: &str, caller: &Caller, error: &KmsError) {
        self.audit_refusal(
            event_name,
            caller,
            error_name(error),
            error.to_string(),
            None,
        );
    }

    /// Audits, in one record, `count` requests from one source refused before an
    /// operation (failed authentication, throttled) whose individual records were
    /// suppressed. `caller` and `error_code` are those of the first of them;
    /// `summary` goes to `additionalEventData`.
    pub fn audit_rejected_summary(
        &self,
        event_name: &str,
        caller: &Caller,
        error_code: &str,
        error_message: String,
        summary: serde_json::Value,
    ) {
        self.audit_refusal(event_name, caller, error_code, error_message, Some(summary));
    }

    /// Audits a successful call that is not a KMS operation (STS GetCallerIdentity):
    /// refused, like every request, when its record cannot be kept.
    pub fn audit_call(&self, event_name: &str, caller: &Caller) -> KmsResult<()> {
        let admitted = crate::audit::record_size_bound(0, caller);
        self.audit
            .admit(admitted)
            .map_err(|e| KmsError::AuditUnavailable(e.to_string()))?;
        let record = crate::audit::AuditRecord {
            event_name,
            caller,
            resources: &[],
            error_code: None,
            error_message: None,
            event_time_ms: self.now_ms(),
            request_parameters: None,
            response_elements: None,
            additional_event_data: None,
            key_material_id: None,
            read_only: true,
            service_event: false,
            admitted_bytes: admitted,
            event_id: None,
        };
        self.audit
            .record(&record)
            .map_err(|e| KmsError::internal(format!("audit: {e}")))
    }

    /// The one record of a request (or a summary of requests) refused before any
    /// operation ran; nothing is recorded while the log cannot be written (the request
    /// is refused anyway).
    fn audit_refusal(
        &self,
        event_name: &str,
        caller: &Caller,
        error_code: &str,
        error_message: String,
        additional_event_data: Option<serde_json::Value>,
    ) {
        let admitted = crate::audit::record_size_bound(0, caller);
        if self.audit.admit(admitted).is_err() {
            return;
        }
        let record = crate::audit::AuditRecord {
            event_name,
            caller,
            resources: &[],
            error_code: Some(error_code),
            error_message: Some(error_message),
            event_time_ms: self.now_ms(),
            request_parameters: None,
            response_elements: None,
            additional_event_data,
            key_material_id: None,
            read_only: true,
            service_event: false,
            admitted_bytes: admitted,
            event_id: None,
        };
        if let Err(e) = self.audit.record(&record) {
            tracing::error!(request_id = %caller.request_id, "audit failed: {e}");
        }
    }
}

impl Kms {
    /// Runs an operator call outside the operation table (`TresorOperator.Seal`,
    /// `.Rekey`, `.RotateRoot`, `.Backup`) under the pipeline's fail-closed audit: it runs
    /// only if its record can be kept, and fails if the record cannot be made durable.
    /// The record logs `body` scrubbed like any request (shares are never logged) and
    /// `details` of the answer as `additionalEventData`; never the answer itself, which
    /// may hold new shares or a backup.
    pub fn audited_operator_call(
        &self,
        event_name: &str,
        caller: &Caller,
        body: &[u8],
        run: impl FnOnce() -> KmsResult<serde_json::Value>,
        details: impl FnOnce(&serde_json::Value) -> Option<serde_json::Value>,
    ) -> KmsResult<serde_json::Value> {
        let admitted = crate::audit::record_size_bound(body.len(), caller);
        if let Err(e) = self.audit.admit(admitted) {
            return Err(KmsError::AuditUnavailable(e.to_string()));
        }
        let result = run();
        let (code, message) = match &result {
            Ok(_) => (None, None),
            Err(e) => (Some(error_name(e)), Some(e.to_string())),
        };
        let record = crate::audit::AuditRecord {
            event_name,
            caller,
            resources: &[],
            error_code: code,
            error_message: message,
            event_time_ms: self.now_ms(),
            request_parameters: Some(
                crate::audit::loggable_json(body, &[], None).unwrap_or_default(),
            ),
            response_elements: None,
            additional_event_data: result.as_ref().ok().and_then(details),
            key_material_id: None,
            // Durable before the answer leaves, like a mutation's.
            read_only: false,
            service_event: false,
            admitted_bytes: admitted,
            event_id: None,
        };
        if let Err(e) = self.audit.record(&record) {
            tracing::error!(request_id = %caller.request_id, operation = event_name, "audit failed: {e}");
            return Err(KmsError::AuditUnavailable(e.to_string()));
        }
        result
    }
}

impl Kms {
    /// Records something the service did by itself to a key (`DeleteKey`, `RotateKey`,
    /// `DeleteExpiredKeyMaterial`) as a CloudTrail service event. Failures are logged:
    /// there is no request to fail.
    pub(crate) fn audit_service_event(&self, event_name: &str, record: &tresor_store::KeyRecord) {
        let caller = Caller {
            account: record.account.clone(),
            principal_arn: String::new(),
            access_key_id: String::new(),
            operator: false,
            region: record.region.clone(),
            source_ip: "AWS Internal".into(),
            user_agent: "AWS Internal".into(),
            request_id: uuid::Uuid::new_v4().to_string(),
            secure_transport: false,
        };
        let resources = [crate::ids::stored_key_arn(
            &record.region,
            &record.account,
            &record.key_id,
        )];
        let audit = crate::audit::AuditRecord {
            event_name,
            caller: &caller,
            resources: &resources,
            error_code: None,
            error_message: None,
            event_time_ms: self.now_ms(),
            request_parameters: None,
            response_elements: None,
            additional_event_data: None,
            key_material_id: None,
            read_only: false,
            service_event: true,
            admitted_bytes: 0,
            event_id: None,
        };
        if let Err(e) = self.audit.record(&audit) {
            tracing::error!(event_name, key_id = %record.key_id, "audit of a service event failed: {e}");
        }
    }
}

/// The wire name (`__type`) of an error.
pub fn error_name(e: &KmsError) -> &'static str {
    match e {
        KmsError::NotFound(_) => "NotFoundException",
        KmsError::InvalidArn(_) => "InvalidArnException",
        KmsError::Disabled(_) => "DisabledException",
        KmsError::InvalidState(_) => "KMSInvalidStateException",
        KmsError::InvalidCiphertext(_) => "InvalidCiphertextException",
        KmsError::IncorrectKey(_) => "IncorrectKeyException",
        KmsError::InvalidKeyUsage(_) => "InvalidKeyUsageException",
        KmsError::KmsInvalidSignature(_) => "KMSInvalidSignatureException",
        KmsError::KmsInvalidMac(_) => "KMSInvalidMacException",
        KmsError::AccessDenied(_) => "AccessDeniedException",
        KmsError::NotAuthorized(_) => "NotAuthorizedException",
        KmsError::Validation(_) => "ValidationException",
        KmsError::Serialization(_) => "SerializationException",
        KmsError::AlreadyExists(_) => "AlreadyExistsException",
        KmsError::Conflict(_) => "ConflictException",
        KmsError::IncorrectKeyMaterial(_) => "IncorrectKeyMaterialException",
        KmsError::ExpiredImportToken(_) => "ExpiredImportTokenException",
        KmsError::InvalidImportToken(_) => "InvalidImportTokenException",
        KmsError::LimitExceeded(_) => "LimitExceededException",
        KmsError::InvalidMarker(_) => "InvalidMarkerException",
        KmsError::InvalidGrantToken(_) => "InvalidGrantTokenException",
        KmsError::Tag(_) => "TagException",
        KmsError::MalformedPolicyDocument(_) => "MalformedPolicyDocumentException",
        KmsError::CustomKeyStoreNotFound(_) => "CustomKeyStoreNotFoundException",
        KmsError::CustomKeyStoreInvalidState(_) => "CustomKeyStoreInvalidStateException",
        KmsError::CustomKeyStoreHasCmks(_) => "CustomKeyStoreHasCMKsException",
        KmsError::CustomKeyStoreNameInUse(_) => "CustomKeyStoreNameInUseException",
        KmsError::CloudHsmClusterInUse(_) => "CloudHsmClusterInUseException",
        KmsError::CloudHsmClusterNotFound(_) => "CloudHsmClusterNotFoundException",
        KmsError::CloudHsmClusterNotRelated(_) => "CloudHsmClusterNotRelatedException",
        KmsError::CloudHsmClusterInvalidConfiguration(_) => {
            "CloudHsmClusterInvalidConfigurationException"
        }
        KmsError::IncorrectTrustAnchor(_) => "IncorrectTrustAnchorException",
        KmsError::XksKeyAlreadyInUse(_) => "XksKeyAlreadyInUseException",
        KmsError::XksKeyInvalidConfiguration(_) => "XksKeyInvalidConfigurationException",
        KmsError::XksKeyNotFound(_) => "XksKeyNotFoundException",
        KmsError::XksProxyUriInUse(_) => "XksProxyUriInUseException",
        KmsError::XksProxyUriEndpointInUse(_) => "XksProxyUriEndpointInUseException",
        KmsError::XksProxyUriUnreachable(_) => "XksProxyUriUnreachableException",
        KmsError::XksProxyIncorrectAuthenticationCredential(_) => {
            "XksProxyIncorrectAuthenticationCredentialException"
        }
        KmsError::XksProxyInvalidResponse(_) => "XksProxyInvalidResponseException",
        KmsError::XksProxyInvalidConfiguration(_) => "XksProxyInvalidConfigurationException",
        KmsError::DependencyTimeout(_) => "DependencyTimeoutException",
        KmsError::UnsupportedOperation(_) => "UnsupportedOperationException",
        KmsError::DryRun => "DryRunOperationException",
        KmsError::UnknownOperation(_) => "UnknownOperationException",
        KmsError::Throttling(_) => "ThrottlingException",
        KmsError::MissingAuthenticationToken(_) => "MissingAuthenticationTokenException",
        KmsError::UnrecognizedClient(_) => "UnrecognizedClientException",
        KmsError::InvalidSignature(_) => "InvalidSignatureException",
        KmsError::IncompleteSignature(_) => "IncompleteSignatureException",
        KmsError::Internal(_) | KmsError::AuditUnavailable(_) | KmsError::Sealed(_) => {
            "KMSInternalException"
        }
        KmsError::StoreUnavailable(_) => "DependencyTimeoutException",
    }
}
