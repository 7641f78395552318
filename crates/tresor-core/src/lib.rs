//! Tresor's core: AWS KMS semantics over a store and a crypto provider.
//!
//! The core knows nothing of HTTP. The server authenticates a request, builds a
//! [`Caller`], looks the operation up with [`operation`] and hands the JSON body to
//! [`Kms::handle`], which runs the pipeline (quota, decode, resolve, authorize, state
//! checks, execute, audit) and returns the JSON answer or a [`KmsError`].
#![deny(missing_docs)]

pub mod admin;
pub mod audit;
pub mod authz;
pub mod cache;
pub mod caller;
pub mod clock;
pub mod custom_key_stores;
pub mod error;
pub mod ids;
pub mod imported;
pub mod messages;
pub mod model;
pub mod multi_region;
pub mod ops;
pub mod pipeline;
pub mod policy;
pub mod quota;
pub mod root_follow;
pub mod root_rotation;
pub mod seal;
pub mod service;
pub mod states;
pub mod transitions;
pub mod usage;
pub mod validate;
pub mod wire;
pub mod xks;

pub use caller::{Caller, Credential};
pub use clock::{Clock, SystemClock};
pub use error::{KmsError, KmsResult};
pub use pipeline::{error_name, operation, OperationEntry};
pub use service::{Kms, KmsConfig};
pub use tresor_crypto::SecretBytes;
