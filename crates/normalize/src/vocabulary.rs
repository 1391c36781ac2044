//! Transaction types, unit statuses and project statuses, mapped from each registry's words.
//!
//! The same word means different things in different registries (CAR's cancellation reason
//! `ARB` is a conversion to California compliance offsets; Verra's `Cancel/Export` sub-account
//! is an export; GS's `Certified Design` is a validation), so every mapping takes the
//! [`RegistryId`]. A value no table knows maps to `Unknown`, never to an error: the caller keeps
//! the raw value beside the normalized one.

use carbonmesh_model::RegistryId;

pub use carbonmesh_model::{ProjectStatus, TransactionType, UnitStatus};

/// Folds a raw value to a lookup key: lower case, runs of non-alphanumerics to one space.
fn key(raw: &str) -> String {
    raw.chars()
        .map(|c| {
            if c.is_alphanumeric() {
                c.to_lowercase().next().unwrap_or(c)
            } else {
                ' '
            }
        })
        .collect::<String>()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Maps a registry's transaction word (ledger name, credit status, cancellation reason or type)
/// to a [`TransactionType`].
pub fn transaction_type(registry: RegistryId, raw: &str) -> TransactionType {
    use TransactionType as T;
    let k = key(raw);
    let specific = match registry {
        // Cancellation reasons that mean "reissued as compliance offsets".
        RegistryId::CAR => match k.as_str() {
            "arb" | "wa eco" | "ecology" => Some(T::Conversion),
            "offset credits converted to vcus" => Some(T::Conversion),
            _ => None,
        },
        RegistryId::ACR | RegistryId::ART => {
            if k.starts_with("convert to") {
                Some(T::Conversion)
            } else {
                match k.as_str() {
                    "removal of credits from the registry" | "removal from registry" => {
                        Some(T::Cancellation)
                    }
                    "compensation for intentional reversal"
                    | "compensation for unintentional reversal" => Some(T::Cancellation),
                    "corsia compliance" => Some(T::Cancellation),
                    "credits issued to buffer pool"
                    | "credits transferred to buffer pool"
                    | "credits deposited in buffer" => Some(T::Buffer),
                    _ => None,
                }
            }
        }
        // Platts cancellation sub-accounts named `Cancel/Export - <n>` export the units.
        RegistryId::VERRA if k.starts_with("cancel export") || k.contains("export") => {
            Some(T::Conversion)
        }
        RegistryId::BIOCARBON => match k.as_str() {
            "reserva" | "reserved" | "backup" => Some(T::Buffer),
            "retiro" | "retreat" | "retreats" => Some(T::Retirement),
            "cancelacion" | "cancelación" | "dropout" | "dropouts" => Some(T::Cancellation),
            "emision" | "emisión" => Some(T::Issuance),
            _ => None,
        },
        _ => None,
    };
    specific.unwrap_or_else(|| generic_transaction_type(&k))
}

fn generic_transaction_type(k: &str) -> TransactionType {
    use TransactionType as T;
    match k {
        "issuance" | "issuances" | "issued" | "issue" | "issued credits" => T::Issuance,
        "retirement" | "retirements" | "retired" | "retire" | "retired credits" => T::Retirement,
        "cancellation" | "cancellations" | "cancelled" | "canceled" | "cancel"
        | "cancelled credits" | "canceled credits" => T::Cancellation,
        "buffer" | "buffer pool" | "buffer contribution" | "reserve" | "buffer pool deposit" => {
            T::Buffer
        }
        "conversion" | "converted" | "convert" | "export" | "exported" => T::Conversion,
        "transfer" | "transfers" | "transferred" | "transference" | "transferences" => T::Transfer,
        _ => T::Unknown,
    }
}

/// Maps a registry's unit or holding status to a [`UnitStatus`].
pub fn unit_status(registry: RegistryId, raw: &str) -> UnitStatus {
    use UnitStatus as U;
    let k = key(raw);
    let specific = match registry {
        RegistryId::PURO => match k.as_str() {
            "fully withdrawn" | "partially withdrawn" | "withdrawn" => Some(U::Withdrawn),
            _ => None,
        },
        RegistryId::BIOCARBON => match k.as_str() {
            "reserva" | "reserved" | "backup" => Some(U::Buffer),
            "active" | "activo" => Some(U::Active),
            _ => None,
        },
        RegistryId::CADT => match k.as_str() {
            "held" => Some(U::Active),
            "exported" | "transferred" => Some(U::Converted),
            "pending export" => Some(U::Pending),
            _ => None,
        },
        _ => None,
    };
    specific.unwrap_or_else(|| generic_unit_status(&k))
}

fn generic_unit_status(k: &str) -> UnitStatus {
    use UnitStatus as U;
    match k {
        "issued" | "active" | "held" | "available" | "open" => U::Active,
        "retired" | "retirement" => U::Retired,
        "cancelled" | "canceled" | "cancellation" => U::Cancelled,
        "buffer" | "buffer pool" | "reserve" | "risk mitigation" => U::Buffer,
        "converted" | "exported" | "transferred out" => U::Converted,
        "pending" | "pending issuance" | "pending export" | "requested" => U::Pending,
        "suspended" | "locked" | "on hold" | "frozen" => U::Suspended,
        "withdrawn" => U::Withdrawn,
        "expired" => U::Expired,
        _ => U::Unknown,
    }
}

/// Maps a registry's project status or stage to a [`ProjectStatus`].
pub fn project_status(registry: RegistryId, raw: &str) -> ProjectStatus {
    use ProjectStatus as P;
    let k = key(raw);
    let specific = match registry {
        RegistryId::VERRA => match k.as_str() {
            "under validation" => Some(P::UnderDevelopment),
            "registration requested"
            | "registration and verification approval requested"
            | "verification approval requested"
            | "crediting period renewal requested"
            | "crediting period renewal and verification approval requested" => Some(P::Validated),
            "rejected by administrator" => Some(P::Rejected),
            "units transferred from approved ghg program" => Some(P::Transitioned),
            "late to verify" => Some(P::Registered),
            _ => None,
        },
        // GS certifies the design at validation and the project at its first verification.
        RegistryId::GOLD_STANDARD => match k.as_str() {
            "gold standard certified design" | "certified design" => Some(P::Validated),
            "gold standard certified project" | "certified project" => Some(P::Verified),
            "under development" | "under validation" => Some(P::UnderDevelopment),
            _ => None,
        },
        RegistryId::ACR | RegistryId::CAR | RegistryId::ART => match k.as_str() {
            "proposed project" => Some(P::Listed),
            "active arb project" | "active registry project" | "active" => Some(P::Registered),
            "listed active ecology project" => Some(P::Registered),
            "arb completed" | "ecology completed" => Some(P::Completed),
            "arb inactive" | "ecology inactive" => Some(P::Inactive),
            "terminated" => Some(P::Rejected),
            "transitioned" => Some(P::Transitioned),
            _ => None,
        },
        // EcoRegistry stages: the project's step in Cercarbono's cycle.
        RegistryId::CERCARBONO => match k.as_str() {
            "formulation" | "public comments" | "validation" => Some(P::UnderDevelopment),
            "registration" | "verification" => Some(P::Registered),
            "certified" => Some(P::Verified),
            "finished" => Some(P::Completed),
            _ => None,
        },
        RegistryId::ISOMETRIC => match k.as_str() {
            "under validation" | "under development" => Some(P::UnderDevelopment),
            "validation unsuccessful" => Some(P::Rejected),
            _ => None,
        },
        RegistryId::CADT => match k.as_str() {
            "de registered" | "deregistered" => Some(P::Rejected),
            "authorized" | "approved" => Some(P::Registered),
            _ => None,
        },
        _ => None,
    };
    specific.unwrap_or_else(|| generic_project_status(&k))
}

fn generic_project_status(k: &str) -> ProjectStatus {
    use ProjectStatus as P;
    match k {
        "listed" | "submitted" | "pipeline" => P::Listed,
        "under development" | "under validation" | "in development" | "draft" => {
            P::UnderDevelopment
        }
        "validated" | "validation approved" => P::Validated,
        "registered" | "active" => P::Registered,
        "verified" | "certified" => P::Verified,
        "completed" | "complete" | "finished" | "crediting period ended" => P::Completed,
        "inactive" | "dormant" => P::Inactive,
        "transitioned" => P::Transitioned,
        "on hold" | "suspended" => P::Suspended,
        "withdrawn" => P::Withdrawn,
        "rejected" | "terminated" | "deregistered" | "de registered" | "cancelled" | "canceled" => {
            P::Rejected
        }
        _ => P::Unknown,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn serde_names_are_snake_case() {
        for t in TransactionType::ALL {
            assert_eq!(
                serde_json::to_value(t).ok(),
                Some(serde_json::Value::String(t.as_str().into()))
            );
        }
        for s in UnitStatus::ALL {
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::Value::String(s.as_str().into()))
            );
        }
        for s in ProjectStatus::ALL {
            assert_eq!(
                serde_json::to_value(s).ok(),
                Some(serde_json::Value::String(s.as_str().into()))
            );
        }
        assert_eq!(
            ProjectStatus::UnderDevelopment.as_str(),
            "under_development"
        );
    }

    #[test]
    fn same_word_differs_by_registry() {
        assert_eq!(
            transaction_type(RegistryId::CAR, "ARB"),
            TransactionType::Conversion
        );
        assert_eq!(
            transaction_type(RegistryId::VERRA, "ARB"),
            TransactionType::Unknown
        );
        assert_eq!(
            project_status(RegistryId::CERCARBONO, "Verification"),
            ProjectStatus::Registered
        );
        assert_eq!(
            project_status(RegistryId::VERRA, "Verified"),
            ProjectStatus::Verified
        );
        assert_eq!(
            unit_status(RegistryId::BIOCARBON, "Reserva"),
            UnitStatus::Buffer
        );
        assert_eq!(
            unit_status(RegistryId::VERRA, "Reserva"),
            UnitStatus::Unknown
        );
    }

    #[test]
    fn unknown_values_are_not_errors() {
        assert_eq!(
            transaction_type(RegistryId::VERRA, "teleported"),
            TransactionType::Unknown
        );
        assert_eq!(unit_status(RegistryId::ACR, ""), UnitStatus::Unknown);
        assert_eq!(
            project_status(RegistryId::CAR, "Not ARB or WA ECO Eligible"),
            ProjectStatus::Unknown
        );
    }
}
