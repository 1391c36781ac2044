//! A short inline ASCII token, so common fields need no heap allocation.

use std::fmt;

/// Up to 15 ASCII bytes stored inline.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Short {
    len: u8,
    bytes: [u8; 15],
}

impl Short {
    /// Copies `b` if it is 1 to 15 ASCII bytes.
    pub(crate) fn new(b: &[u8]) -> Option<Short> {
        if b.is_empty() || b.len() > 15 || !b.is_ascii() {
            return None;
        }
        let mut bytes = [0u8; 15];
        bytes[..b.len()].copy_from_slice(b);
        Some(Short {
            len: u8::try_from(b.len()).ok()?,
            bytes,
        })
    }

    /// The token as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.bytes[..usize::from(self.len)]).unwrap_or("")
    }
}

impl fmt::Debug for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl fmt::Display for Short {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}
