//! Credit records: one row per issuance, retirement, cancellation, buffer, conversion or transfer block.

use chrono::NaiveDate;
use rust_decimal::Decimal;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

use crate::{
    Normalized, Period, RegistryId, SerialRange, TransactionType, UnitStatus, ValidationError,
    project_id,
};

/// A block of units and what happened to it, as one registry reports it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, JsonSchema)]
pub struct CreditRecord {
    /// The registry that reports the block.
    pub registry: RegistryId,
    /// The registry-native key of the record (a transaction id, or the block's serial where the
    /// registry has no other stable id). Unique within the registry.
    pub record_key: String,
    /// The registry's own id of the project the units belong to.
    pub registry_project_id: String,
    /// What happened to the units.
    pub transaction_type: Normalized<TransactionType>,
    /// Number of units (tonnes CO2e). A decimal: some registries issue fractional tonnes.
    #[schemars(with = "String")]
    pub quantity: Decimal,
    /// The serial number exactly as published.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<String>,
    /// The serial parsed into an integer range.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial_range: Option<SerialRange>,
    /// Vintage year.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vintage: Option<i32>,
    /// Monitoring period the units were issued for, where the registry publishes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub monitoring_period: Option<Period>,
    /// Date of the transaction (issuance, retirement or cancellation date).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub event_date: Option<NaiveDate>,
    /// State of the units.
    pub status: Normalized<UnitStatus>,
    /// Account or account holder.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub account: Option<String>,
    /// Beneficiary of a retirement.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub beneficiary: Option<String>,
    /// Reason for a retirement or cancellation.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Free-text note or retirement details.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

impl CreditRecord {
    /// The project id of the units, `<registry>:<registry project id>`.
    pub fn project_id(&self) -> String {
        project_id(self.registry, &self.registry_project_id)
    }

    /// Refuses an event date more than a day after `today`: a registry reports what happened,
    /// and a day covers every time zone.
    pub fn check_event_date(&self, today: NaiveDate) -> Result<(), ValidationError> {
        match self.event_date {
            Some(date) if date > today + chrono::Days::new(1) => Err(ValidationError::new(
                "event_date",
                format!("is {date}, more than a day in the future"),
            )),
            _ => Ok(()),
        }
    }

    /// Checks the invariants the store relies on. A serial count that differs from the quantity
    /// is not an invariant violation: it is evidence, and the matcher reports it.
    pub fn validate(&self) -> Result<(), ValidationError> {
        if self.record_key.trim().is_empty() {
            return Err(ValidationError::new("record_key", "is empty"));
        }
        if self.registry_project_id.trim().is_empty() {
            return Err(ValidationError::new("registry_project_id", "is empty"));
        }
        if self.quantity.is_sign_negative() {
            return Err(ValidationError::new(
                "quantity",
                format!("is negative ({})", self.quantity),
            ));
        }
        if let Some(range) = &self.serial_range {
            if range.start > range.end {
                return Err(ValidationError::new(
                    "serial_range",
                    format!("starts ({}) after it ends ({})", range.start, range.end),
                ));
            }
            if range.end > crate::MAX_UNIT_NUMBER {
                return Err(ValidationError::new(
                    "serial_range",
                    format!("end {} exceeds the 63-bit unit number limit", range.end),
                ));
            }
        }
        if let Some(period) = &self.monitoring_period {
            period
                .validate()
                .map_err(|reason| ValidationError::new("monitoring_period", reason))?;
        }
        Ok(())
    }
}
