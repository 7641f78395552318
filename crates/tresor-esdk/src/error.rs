//! Errors of encryption and decryption.

/// What went wrong with a message.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// Reading the input or writing the output failed.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The input ended before the message did.
    #[error("truncated message: it ends inside the {0}")]
    Truncated(&'static str),
    /// The bytes are not a well-formed message.
    #[error("malformed message: {0}")]
    Malformed(String),
    /// A well-formed message this implementation refuses (old format, unknown suite, ...).
    #[error("unsupported message: {0}")]
    Unsupported(String),
    /// A tag, the key commitment or the signature does not check: the message was
    /// tampered with, or the data key is not the one it was encrypted with.
    #[error("authentication failed: {0}")]
    Authentication(&'static str),
    /// The caller asked for something the format cannot express.
    #[error("{0}")]
    Invalid(String),
    /// The cryptographic library failed.
    #[error("cryptographic failure: {0}")]
    Crypto(&'static str),
}

impl Error {
    /// Maps an I/O error while reading `what`: an early end of input is a truncation.
    pub(crate) fn reading(what: &'static str) -> impl Fn(std::io::Error) -> Error {
        move |e| {
            if e.kind() == std::io::ErrorKind::UnexpectedEof {
                Error::Truncated(what)
            } else {
                Error::Io(e)
            }
        }
    }
}

impl From<Error> for std::io::Error {
    fn from(e: Error) -> Self {
        match e {
            Error::Io(e) => e,
            other => std::io::Error::other(other),
        }
    }
}
