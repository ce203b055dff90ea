//! The crate's top-level error, aggregating one enum per layer.
//!
//! Each layer's error says who is at fault: [`FrameError`] and [`DecodeError`]
//! (the peer's bytes), [`ConfigError`] (the configuration), [`IdError`] (a value
//! given for an identity).

use thiserror::Error;

pub use crate::codec::{DecodeError, FieldError, FrameError};
pub use crate::config::ConfigError;
pub use crate::engine::{EngineError, PutError};
pub use crate::id::IdError;
pub use crate::store::StoreError;

/// Any error fixengine returns.
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
}
