//! Errors of the simulator.

use std::path::PathBuf;

use carbonmesh_model::RegistryId;

/// What can go wrong generating, serving or writing simulated data.
#[derive(Debug, thiserror::Error)]
pub enum SimulatorError {
    /// The configuration cannot produce the requested data set.
    #[error("invalid configuration: {0}")]
    InvalidConfig(String),
    /// The simulator does not serve this feed for this registry.
    #[error("{registry} has no {feed:?} feed in the simulator")]
    NoSuchFeed {
        /// The registry asked for.
        registry: RegistryId,
        /// The feed asked for.
        feed: crate::FeedKind,
    },
    /// Binding or serving the HTTP listener failed.
    #[error("cannot serve on {addr}: {source}")]
    Bind {
        /// The address.
        addr: std::net::SocketAddr,
        /// The cause.
        source: std::io::Error,
    },
    /// Writing an export file failed.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}
