//! Content hashes: how the store tells a changed record from an unchanged one.

use serde::Serialize;
use sha2::{Digest, Sha256};

/// sha256 (lowercase hex) of a value's canonical JSON.
///
/// The JSON is canonical because the model's types serialize their fields in declaration
/// order and skip empty optional fields, so equal records always hash equal.
pub fn content_hash<T: Serialize>(value: &T) -> Result<String, serde_json::Error> {
    let json = serde_json::to_vec(value)?;
    Ok(sha256_hex(&json))
}

/// sha256 (lowercase hex) of raw bytes.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
