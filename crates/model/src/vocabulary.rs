//! Controlled vocabularies of the common model. Every normalized value is stored beside the
//! registry's raw value (see [`crate::Normalized`]), so `unknown` loses nothing.

vocabulary_enum! {
    /// What a credit record says happened to a block of units.
    TransactionType {
        /// Units created by the registry.
        Issuance => "issuance",
        /// Units retired against a claim.
        Retirement => "retirement",
        /// Units cancelled without a claim (compliance use, reversal compensation, corrections).
        Cancellation => "cancellation",
        /// Units set aside in a buffer or pooled reserve.
        Buffer => "buffer",
        /// Units cancelled here to be reissued in another registry or program.
        Conversion => "conversion",
        /// Units moved between accounts.
        Transfer => "transfer",
        /// A value no mapping knows yet; the raw value says what it is.
        Unknown => "unknown",
    }
}

vocabulary_enum! {
    /// The state of the units in a credit record.
    UnitStatus {
        /// Issued and held in an account; can still be transferred or retired.
        Active => "active",
        /// Retired against a claim; terminal.
        Retired => "retired",
        /// Cancelled; terminal.
        Cancelled => "cancelled",
        /// Held in a buffer pool or reserve.
        Buffer => "buffer",
        /// Converted or exported to another registry or program.
        Converted => "converted",
        /// Awaiting issuance, export or another registry action.
        Pending => "pending",
        /// Suspended, locked or on hold by the registry.
        Suspended => "suspended",
        /// Withdrawn from circulation by the registry (Puro withdrawal labels).
        Withdrawn => "withdrawn",
        /// Past its validity (CAD Trust `Expired`).
        Expired => "expired",
        /// A value no mapping knows yet; the raw value says what it is.
        Unknown => "unknown",
    }
}

vocabulary_enum! {
    /// Where a project stands in its registry's life cycle.
    ProjectStatus {
        /// Listed or submitted; not yet under validation.
        Listed => "listed",
        /// Under development or under validation.
        UnderDevelopment => "under_development",
        /// Validated (design certified) but not yet registered.
        Validated => "validated",
        /// Registered; may issue credits.
        Registered => "registered",
        /// Has completed at least one verification or certification.
        Verified => "verified",
        /// Completed its crediting period.
        Completed => "completed",
        /// Inactive or dormant, without having been rejected.
        Inactive => "inactive",
        /// Moved to another program (CAR projects transitioned to ARB compliance).
        Transitioned => "transitioned",
        /// On hold or suspended by the registry.
        Suspended => "suspended",
        /// Withdrawn by its developer.
        Withdrawn => "withdrawn",
        /// Rejected, deregistered or terminated by the registry.
        Rejected => "rejected",
        /// A value no mapping knows yet; the raw value says what it is.
        Unknown => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for t in TransactionType::ALL {
            assert_eq!(TransactionType::from_name(t.as_str()), Some(*t));
            assert_eq!(
                serde_json::to_value(t).expect("serialize"),
                serde_json::Value::String(t.as_str().into())
            );
        }
        for s in UnitStatus::ALL {
            assert_eq!(UnitStatus::from_name(s.as_str()), Some(*s));
        }
        for s in ProjectStatus::ALL {
            assert_eq!(ProjectStatus::from_name(s.as_str()), Some(*s));
        }
        assert_eq!(TransactionType::from_name("Issuance"), None);
    }
}
