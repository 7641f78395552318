//! The one error type of the core, named after the AWS KMS API errors.
//!
//! Only the wire layer (tresor-server) maps a variant to its `__type` and HTTP status.

/// An error an operation returns to its caller. The message is what the caller sees.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum KmsError {
    /// `NotFoundException`: the key or alias does not exist (or the id is malformed).
    #[error("{0}")]
    NotFound(String),
    /// `InvalidArnException`.
    #[error("{0}")]
    InvalidArn(String),
    /// `DisabledException`: the key is disabled.
    #[error("{0}")]
    Disabled(String),
    /// `KMSInvalidStateException`: the key's state forbids the operation.
    #[error("{0}")]
    InvalidState(String),
    /// `InvalidCiphertextException`: every reason a decryption fails, alike (no oracle).
    #[error("{0}")]
    InvalidCiphertext(String),
    /// `IncorrectKeyException`: the ciphertext was not made by the key the caller named.
    #[error("{0}")]
    IncorrectKey(String),
    /// `InvalidKeyUsageException`.
    #[error("{0}")]
    InvalidKeyUsage(String),
    /// `KMSInvalidSignatureException`: Verify found the signature invalid.
    #[error("{0}")]
    KmsInvalidSignature(String),
    /// `KMSInvalidMacException`: VerifyMac found the MAC invalid.
    #[error("{0}")]
    KmsInvalidMac(String),
    /// `AccessDeniedException`.
    #[error("{0}")]
    AccessDenied(String),
    /// `NotAuthorizedException`: e.g. the reserved `alias/aws/` prefix.
    #[error("{0}")]
    NotAuthorized(String),
    /// `ValidationException`: a constraint of the model or the service.
    #[error("{0}")]
    Validation(String),
    /// `SerializationException`: the body is not the JSON the operation expects.
    #[error("{0}")]
    Serialization(String),
    /// `AlreadyExistsException`.
    #[error("{0}")]
    AlreadyExists(String),
    /// `IncorrectKeyMaterialException`: not the material imported before.
    #[error("{0}")]
    IncorrectKeyMaterial(String),
    /// `ExpiredImportTokenException`.
    #[error("{0}")]
    ExpiredImportToken(String),
    /// `InvalidImportTokenException`.
    #[error("{0}")]
    InvalidImportToken(String),
    /// `ConflictException`.
    #[error("{0}")]
    Conflict(String),
    /// `LimitExceededException`.
    #[error("{0}")]
    LimitExceeded(String),
    /// `InvalidMarkerException`.
    #[error("{0}")]
    InvalidMarker(String),
    /// `InvalidGrantTokenException`.
    #[error("{0}")]
    InvalidGrantToken(String),
    /// `TagException`.
    #[error("{0}")]
    Tag(String),
    /// `MalformedPolicyDocumentException`.
    #[error("{0}")]
    MalformedPolicyDocument(String),
    /// `CustomKeyStoreNotFoundException`.
    #[error("{0}")]
    CustomKeyStoreNotFound(String),
    /// `CustomKeyStoreInvalidStateException`: the store's connection state forbids it.
    #[error("{0}")]
    CustomKeyStoreInvalidState(String),
    /// `CustomKeyStoreHasCMKsException`: the store still holds keys.
    #[error("{0}")]
    CustomKeyStoreHasCmks(String),
    /// `CustomKeyStoreNameInUseException`.
    #[error("{0}")]
    CustomKeyStoreNameInUse(String),
    /// `CloudHsmClusterInUseException`: another custom key store uses the cluster.
    #[error("{0}")]
    CloudHsmClusterInUse(String),
    /// `CloudHsmClusterNotFoundException`: no such HSM cluster is configured.
    #[error("{0}")]
    CloudHsmClusterNotFound(String),
    /// `CloudHsmClusterNotRelatedException`: not the cluster the store was made on.
    #[error("{0}")]
    CloudHsmClusterNotRelated(String),
    /// `CloudHsmClusterInvalidConfigurationException`.
    #[error("{0}")]
    CloudHsmClusterInvalidConfiguration(String),
    /// `IncorrectTrustAnchorException`: not a PEM certificate.
    #[error("{0}")]
    IncorrectTrustAnchor(String),
    /// `XksKeyAlreadyInUseException`: another key of the store uses the external key.
    #[error("{0}")]
    XksKeyAlreadyInUse(String),
    /// `XksKeyInvalidConfigurationException`: the external key is not an enabled
    /// AES-256 key that encrypts and decrypts.
    #[error("{0}")]
    XksKeyInvalidConfiguration(String),
    /// `XksKeyNotFoundException`: the proxy does not know the external key.
    #[error("{0}")]
    XksKeyNotFound(String),
    /// `XksProxyUriInUseException`: another store uses the same endpoint and path.
    #[error("{0}")]
    XksProxyUriInUse(String),
    /// `XksProxyUriEndpointInUseException`: another store uses the same endpoint.
    #[error("{0}")]
    XksProxyUriEndpointInUse(String),
    /// `XksProxyUriUnreachableException`: the proxy did not answer (in time).
    #[error("{0}")]
    XksProxyUriUnreachable(String),
    /// `XksProxyIncorrectAuthenticationCredentialException`: the proxy refused the
    /// store's credential.
    #[error("{0}")]
    XksProxyIncorrectAuthenticationCredential(String),
    /// `XksProxyInvalidResponseException`: the proxy's answer is not the
    /// specification's.
    #[error("{0}")]
    XksProxyInvalidResponse(String),
    /// `XksProxyInvalidConfigurationException`: the proxy's URI path or connectivity
    /// is wrong.
    #[error("{0}")]
    XksProxyInvalidConfiguration(String),
    /// `DependencyTimeoutException` (HTTP 503): an external key store proxy did not
    /// answer within its 250 ms.
    #[error("{0}")]
    DependencyTimeout(String),
    /// `UnsupportedOperationException`: valid for AWS, not (yet) offered by Tresor.
    #[error("{0}")]
    UnsupportedOperation(String),
    /// `DryRunOperationException`: the request would have succeeded.
    #[error("{}", crate::messages::DRY_RUN)]
    DryRun,
    /// `UnknownOperationException`.
    #[error("{0}")]
    UnknownOperation(String),
    /// `ThrottlingException`.
    #[error("{0}")]
    Throttling(String),
    /// `MissingAuthenticationTokenException`.
    #[error("{0}")]
    MissingAuthenticationToken(String),
    /// `UnrecognizedClientException`: unknown or disabled access key.
    #[error("{0}")]
    UnrecognizedClient(String),
    /// `InvalidSignatureException`: bad signature or expired timestamp.
    #[error("{0}")]
    InvalidSignature(String),
    /// `IncompleteSignatureException`: the Authorization header is malformed.
    #[error("{0}")]
    IncompleteSignature(String),
    /// `KMSInternalException` (HTTP 503): the service is sealed.
    #[error("{0}")]
    Sealed(String),
    /// `KMSInternalException`. The detail is logged with the request id, never returned.
    #[error("An internal error has occurred.")]
    Internal(String),
    /// `KMSInternalException` with HTTP 503: no audit record can be written, so the
    /// request was refused before it changed anything. The detail is logged only.
    #[error("The audit log cannot be written; requests are refused until it can.")]
    AuditUnavailable(String),
    /// `DependencyTimeoutException` with HTTP 503: the database did not answer in
    /// time; nothing was acknowledged and the request may be retried. The detail is
    /// logged only.
    #[error(
        "The system timed out while trying to fulfill the request. You can retry the request."
    )]
    StoreUnavailable(String),
}

/// Result alias for the core.
pub type KmsResult<T> = Result<T, KmsError>;

impl From<tresor_store::StoreError> for KmsError {
    fn from(e: tresor_store::StoreError) -> Self {
        match e {
            tresor_store::StoreError::Unavailable(d) => KmsError::StoreUnavailable(d),
            // The refusal text is the operation's, carried by the write's check.
            tresor_store::StoreError::LimitExceeded(m) => KmsError::LimitExceeded(m),
            other => KmsError::Internal(format!("store: {other}")),
        }
    }
}

impl From<tresor_crypto::CryptoError> for KmsError {
    /// Provider errors as the operations report them; callers that must not leak a
    /// reason (decryption) map errors themselves.
    fn from(e: tresor_crypto::CryptoError) -> Self {
        use tresor_crypto::CryptoError;
        match e {
            CryptoError::Unsupported => KmsError::UnsupportedOperation(
                "This algorithm or key spec is not supported by Tresor's crypto provider.".into(),
            ),
            CryptoError::InvalidInput(m) => KmsError::Validation(m),
            CryptoError::InvalidKey(m) => KmsError::Validation(m),
            CryptoError::Unauthentic => KmsError::InvalidCiphertext(crate::messages::NONE),
            other => KmsError::internal(other),
        }
    }
}

impl KmsError {
    /// An internal error with a detail for the log.
    pub fn internal(detail: impl std::fmt::Display) -> Self {
        KmsError::Internal(detail.to_string())
    }
}
