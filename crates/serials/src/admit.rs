//! A serial and the range stated beside it, held to each other: what a record sent in the
//! common format (which states both) must pass before it is stored.

use carbonmesh_model::{CreditRecord, SerialRange, ValidationError};

use crate::parse;

/// Derives `credit.serial_range` from `credit.serial` when the range is absent, and refuses a
/// stated range that contradicts the serial: another namespace, or units outside those the
/// serial names. A serial that no grammar of the record's registry reads is refused too,
/// unless a range is stated beside it (a CAD Trust block needs the publishing organisation,
/// which the serial does not carry).
pub fn reconcile_serial(credit: &mut CreditRecord) -> Result<(), ValidationError> {
    let Some(serial) = credit.serial.as_deref().filter(|s| !s.trim().is_empty()) else {
        return Ok(());
    };
    let parsed = match parse(serial, Some(credit.registry)) {
        Ok(parsed) => parsed,
        Err(_) if credit.serial_range.is_some() => return Ok(()),
        Err(error) => {
            return Err(ValidationError::new(
                "serial",
                format!(
                    "`{serial}` cannot be read as a {} serial: {error}",
                    credit.registry
                ),
            ));
        }
    };
    let Some(stated) = &credit.serial_range else {
        credit.serial_range = parsed.serial_range();
        return Ok(());
    };
    let within = |range: &SerialRange| match parsed.range {
        Some(own) => range.start >= own.start && range.end <= own.end,
        // A batch serial (Cercarbono) names the batch, not the units.
        None => true,
    };
    if stated.namespace != parsed.namespace || !within(stated) {
        let named = match parsed.range {
            Some(own) => format!("{} {}..={}", parsed.namespace, own.start, own.end),
            None => parsed.namespace.clone(),
        };
        return Err(ValidationError::new(
            "serial_range",
            format!(
                "{} {}..={} contradicts serial `{serial}`, which names {named}",
                stated.namespace, stated.start, stated.end
            ),
        ));
    }
    Ok(())
}
