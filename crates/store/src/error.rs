//! Storage errors.

/// What can go wrong in the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The database URL is not one carbonmesh understands.
    #[error("invalid database URL: {0}")]
    InvalidUrl(String),
    /// The database server could not be reached.
    #[error("database unreachable: {0}")]
    Unreachable(String),
    /// The database reported an error.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// SQLite's batch writer reported an error.
    #[error("database error: {0}")]
    Sqlite(#[from] rusqlite::Error),
    /// The thread writing a batch stopped before it finished (it panicked or was cancelled).
    #[error("the database writer stopped before the batch was written")]
    WriterStopped,
    /// Applying migrations failed.
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored payload or a record could not be (de)serialized.
    #[error("could not encode or decode a stored record: {0}")]
    Codec(#[from] serde_json::Error),
    /// A stored value is not what the schema promises (e.g. an unknown enum name).
    #[error("corrupt stored value in {column}: {value}")]
    Corrupt {
        /// The column.
        column: &'static str,
        /// The offending value.
        value: String,
    },
    /// A page cursor that the store did not make (or that was altered).
    #[error("invalid cursor: {0}")]
    InvalidCursor(String),
}
