//! The common data model of carbonmesh.
//!
//! Every registry's records are normalized into these plain types. They carry no I/O: connectors
//! produce them, the store persists them, the matcher and the API read them.
#![deny(missing_docs)]

#[macro_use]
mod macros;

pub mod alert;
pub mod apikey;
pub mod beneficiary;
pub mod credit;
pub mod error;
pub mod hash;
pub mod normalized;
pub mod notification;
pub mod ops;
pub mod project;
pub mod reference;
pub mod registry;
pub mod schema;
pub mod serial;
pub mod vocabulary;

pub use alert::{
    Alert, AlertEvent, AlertKind, AlertRecordRef, AlertStatus, Channel, Severity,
    registry_overdue_id,
};
pub use apikey::{ApiKey, ApiRole};
pub use beneficiary::{beneficiary_key, beneficiary_matches};
pub use credit::CreditRecord;
pub use error::ValidationError;
pub use hash::{content_hash, sha256_hex};
pub use normalized::Normalized;
pub use notification::{
    AlertNotification, DeliveryState, NotificationData, NotificationDelivery, NotificationType,
};
pub use ops::{
    ConnectorRun, DeliveryStatus, Provenance, RecordKind, RecordVersion, RejectedRecord, RunCounts,
    RunStatus, WebhookDelivery, WebhookKind,
};
pub use project::{CrossReference, Label, Location, Period, Project, project_id};
pub use registry::{InvalidRegistryId, MAX_REGISTRY_ID_LEN, RegistryId};
pub use serial::{MAX_UNIT_NUMBER, SerialRange};
pub use vocabulary::{ProjectStatus, TransactionType, UnitStatus};
