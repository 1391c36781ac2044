//! Errors as clients see them: a message and `extensions.code`. Store failures are logged and
//! reported as `INTERNAL_SERVER_ERROR` without their details.

use async_graphql::{Error, ErrorExtensions};

/// `extensions.code` values.
pub mod code {
    /// No or an unknown API key where one is required.
    pub const UNAUTHENTICATED: &str = "UNAUTHENTICATED";
    /// The caller's role does not allow this.
    pub const FORBIDDEN: &str = "FORBIDDEN";
    /// An argument is out of range or malformed.
    pub const BAD_USER_INPUT: &str = "BAD_USER_INPUT";
    /// The thing asked for does not exist.
    pub const NOT_FOUND: &str = "NOT_FOUND";
    /// A review step not allowed from the alert's status, or a lost race.
    pub const CONFLICT: &str = "CONFLICT";
    /// Too many requests for this key.
    pub const RATE_LIMITED: &str = "RATE_LIMITED";
    /// Too many expensive operations (statistics, totals) are running on this instance.
    pub const BUSY: &str = "BUSY";
    /// An expensive operation ran past its time limit and was stopped.
    pub const TIMEOUT: &str = "TIMEOUT";
    /// The query was refused before running: syntax, depth, complexity, batch size.
    pub const GRAPHQL_VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";
    /// The request body is too large.
    pub const PAYLOAD_TOO_LARGE: &str = "PAYLOAD_TOO_LARGE";
    /// Something failed inside carbonmesh.
    pub const INTERNAL_SERVER_ERROR: &str = "INTERNAL_SERVER_ERROR";
}

/// An error with a code.
pub fn coded(code: &'static str, message: impl Into<String>) -> Error {
    Error::new(message).extend_with(|_, e| e.set("code", code))
}

/// A malformed or out-of-range argument.
pub fn bad_input(message: impl Into<String>) -> Error {
    coded(code::BAD_USER_INPUT, message)
}

/// A store or internal failure: logged, reported without details.
pub fn internal(error: impl std::fmt::Display) -> Error {
    tracing::error!(%error, "GraphQL resolver failed");
    coded(code::INTERNAL_SERVER_ERROR, "internal error")
}
