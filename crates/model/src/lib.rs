//! The common data model of carbonmesh.
//!
//! Every registry's records are normalized into these plain types. They carry no I/O: connectors
//! produce them, the store persists them, the matcher and the API read them.
#![deny(missing_docs)]

pub mod registry;
pub mod serial;

pub use registry::{RegistryId, UnknownRegistry};
pub use serial::{MAX_UNIT_NUMBER, SerialRange};
