//! The crate's top-level error, aggregating one enum per layer.
//!
//! Each layer's error says who is at fault: [`FrameError`], [`DecodeError`] and
//! [`FieldError`] (the peer's bytes, or a message's fields), [`ConfigError`] (the
//! configuration), [`IdError`] (a value given for an identity),
//! [`DictionaryError`] (a data dictionary file), [`StoreError`] (the disk),
//! [`SendError`] and [`ResetError`] (what the session layer could not do),
//! [`EngineError`] and [`PutError`] (what a handle could not do).

use thiserror::Error;

pub use crate::codec::{DecodeError, FieldError, FrameError};
pub use crate::config::ConfigError;
pub use crate::dictionary::DictionaryError;
pub use crate::engine::{EngineError, PutError};
pub use crate::id::IdError;
pub use crate::session::{ResetError, SendError};
pub use crate::store::StoreError;

/// Any error fixengine returns: every layer's error converts into it with `?`.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum Error {
    /// A frame could not be delimited.
    #[error(transparent)]
    Frame(#[from] FrameError),
    /// A frame could not be decoded into fields.
    #[error(transparent)]
    Decode(#[from] DecodeError),
    /// A field's value is missing or malformed.
    #[error(transparent)]
    Field(#[from] FieldError),
    /// The configuration is invalid.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// An identity value is invalid.
    #[error(transparent)]
    Id(#[from] IdError),
    /// A session's store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The engine or a session handle failed.
    #[error(transparent)]
    Engine(#[from] EngineError),
    /// A data dictionary could not be loaded.
    #[error(transparent)]
    Dictionary(#[from] DictionaryError),
    /// The session layer could not send an application message.
    #[error(transparent)]
    Send(#[from] SendError),
    /// Sequence numbers could not be reset.
    #[error(transparent)]
    Reset(#[from] ResetError),
    /// [`Session::put`](crate::Session::put) did not take a message (boxed: it
    /// holds the message).
    #[error(transparent)]
    Put(Box<PutError>),
}

impl From<PutError> for Error {
    fn from(e: PutError) -> Self {
        Self::Put(Box::new(e))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every layer's error converts into [`Error`], so one `?` serves them all.
    #[test]
    fn every_layer_error_converts_into_the_crate_error() {
        fn converts<E: Into<Error>>() {}
        converts::<FrameError>();
        converts::<DecodeError>();
        converts::<FieldError>();
        converts::<ConfigError>();
        converts::<IdError>();
        converts::<StoreError>();
        converts::<EngineError>();
        converts::<DictionaryError>();
        converts::<SendError>();
        converts::<ResetError>();
        converts::<PutError>();
        let e: Error = crate::SessionId::new("", "X").unwrap_err().into();
        assert!(matches!(e, Error::Id(_)), "{e}");
    }
}
