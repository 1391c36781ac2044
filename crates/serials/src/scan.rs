//! Byte-level scanning shared by every grammar. No regex: each grammar walks its fields once.

use carbonmesh_model::MAX_UNIT_NUMBER;

use crate::{Grammar, SerialError};

/// Trims ASCII whitespace and rejects empty and non-ASCII input before any grammar runs, so the
/// grammars can index bytes freely.
pub(crate) fn prepare(input: &str) -> Result<&str, SerialError> {
    let s = input.trim_matches(|c: char| c.is_ascii_whitespace());
    if s.is_empty() {
        return Err(SerialError::Empty);
    }
    if !s.is_ascii() {
        let (at, ch) = s
            .char_indices()
            .find(|(_, c)| !c.is_ascii())
            .unwrap_or((0, '\u{fffd}'));
        return Err(if ch.is_numeric() {
            SerialError::NonAsciiDigit { at, ch }
        } else {
            SerialError::NonAscii { at, ch }
        });
    }
    Ok(s)
}

/// A forward cursor over one serial. `field` counts the grammar's fields from 1 for errors.
pub(crate) struct Cursor<'a> {
    pub b: &'a [u8],
    pub i: usize,
    pub g: Grammar,
    /// False once a number with a leading zero or other non-canonical spelling is seen, so the
    /// caller knows it cannot reuse the input bytes as the canonical namespace.
    pub canonical: bool,
}

/// A run of ASCII digits and its value.
#[derive(Clone, Copy)]
pub(crate) struct Num {
    pub value: u64,
    pub width: u8,
}

impl<'a> Cursor<'a> {
    pub fn new(s: &'a str, g: Grammar) -> Self {
        Cursor {
            b: s.as_bytes(),
            i: 0,
            g,
            canonical: true,
        }
    }

    #[inline]
    pub fn peek(&self) -> Option<u8> {
        self.b.get(self.i).copied()
    }

    #[inline]
    pub fn at_end(&self) -> bool {
        self.i >= self.b.len()
    }

    pub fn bad(&self, field: u8, name: &'static str, expected: &'static str) -> SerialError {
        if self.at_end() {
            SerialError::Truncated {
                grammar: self.g,
                field,
                name,
            }
        } else {
            SerialError::bad_field(self.g, field, name, expected)
        }
    }

    /// Consumes `lit` exactly.
    #[inline]
    pub fn lit(&mut self, lit: &[u8], field: u8, name: &'static str) -> Result<(), SerialError> {
        if self.b[self.i.min(self.b.len())..].starts_with(lit) {
            self.i += lit.len();
            Ok(())
        } else {
            Err(self.bad(field, name, "a fixed literal"))
        }
    }

    /// Consumes one separator byte that ends field `field`.
    #[inline]
    pub fn sep(&mut self, c: u8, field: u8, name: &'static str) -> Result<(), SerialError> {
        if self.peek() == Some(c) {
            self.i += 1;
            Ok(())
        } else {
            Err(self.bad(field, name, "a separator after the field"))
        }
    }

    /// Reads a run of digits as a number no larger than [`MAX_UNIT_NUMBER`].
    #[inline]
    pub fn num(&mut self, field: u8, name: &'static str) -> Result<Num, SerialError> {
        let start = self.i;
        let mut v: u64 = 0;
        let mut overflow = false;
        while let Some(&c) = self.b.get(self.i) {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                break;
            }
            match v.checked_mul(10).and_then(|x| x.checked_add(u64::from(d))) {
                Some(x) => v = x,
                None => overflow = true,
            }
            self.i += 1;
        }
        let width = self.i - start;
        if width == 0 {
            return Err(self.bad(field, name, "ASCII digits"));
        }
        if overflow || v > MAX_UNIT_NUMBER {
            return Err(SerialError::NumberTooLarge {
                grammar: self.g,
                field,
            });
        }
        if width > 1 && self.b[start] == b'0' {
            self.canonical = false;
        }
        Ok(Num {
            value: v,
            width: u8::try_from(width).unwrap_or(u8::MAX),
        })
    }

    /// Reads a number with exactly `n` digits (dates, years, fixed-width codes).
    #[inline]
    pub fn fixed(&mut self, n: usize, field: u8, name: &'static str) -> Result<u32, SerialError> {
        let end = self.i + n;
        let Some(digits) = self.b.get(self.i..end) else {
            return Err(self.bad(field, name, "a fixed number of digits"));
        };
        let mut v: u32 = 0;
        for &c in digits {
            let d = c.wrapping_sub(b'0');
            if d > 9 {
                return Err(self.bad(field, name, "a fixed number of digits"));
            }
            v = v * 10 + u32::from(d);
        }
        // A longer digit run means the field is wider than the grammar allows.
        if self.b.get(end).is_some_and(u8::is_ascii_digit) {
            return Err(self.bad(field, name, "a fixed number of digits"));
        }
        self.i = end;
        Ok(v)
    }

    /// Reads two uppercase ASCII letters (ISO 3166 country or state code).
    #[inline]
    pub fn upper2(&mut self, field: u8, name: &'static str) -> Result<Code2, SerialError> {
        match self.b.get(self.i..self.i + 2) {
            Some(&[a, b]) if a.is_ascii_uppercase() && b.is_ascii_uppercase() => {
                if self
                    .b
                    .get(self.i + 2)
                    .is_some_and(|c| c.is_ascii_alphanumeric())
                {
                    return Err(self.bad(field, name, "two uppercase letters"));
                }
                self.i += 2;
                Ok(Code2([a, b]))
            }
            _ => Err(self.bad(field, name, "two uppercase letters")),
        }
    }

    /// Fails unless the whole input has been consumed.
    #[inline]
    pub fn finish(&self) -> Result<(), SerialError> {
        if self.at_end() {
            Ok(())
        } else {
            Err(SerialError::TrailingJunk {
                grammar: self.g,
                at: self.i,
            })
        }
    }
}

/// A two-letter code (ISO 3166-1 alpha-2 country, US/MX state). Always ASCII uppercase.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Code2(pub(crate) [u8; 2]);

impl Code2 {
    /// The code as text.
    pub fn as_str(&self) -> &str {
        // Both bytes are checked ASCII uppercase on construction.
        std::str::from_utf8(&self.0).unwrap_or("??")
    }
}

impl std::fmt::Display for Code2 {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Range numbers must run forwards.
#[inline]
pub(crate) fn ordered(g: Grammar, start: u64, end: u64) -> Result<(), SerialError> {
    if start > end {
        Err(SerialError::StartAfterEnd {
            grammar: g,
            start,
            end,
        })
    } else {
        Ok(())
    }
}

/// Appends a decimal number to a string without going through `fmt`.
#[inline]
pub(crate) fn push_u64(s: &mut String, mut v: u64) {
    let mut buf = [0u8; 20];
    let mut i = buf.len();
    loop {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    // Only ASCII digits were written.
    s.push_str(std::str::from_utf8(&buf[i..]).unwrap_or(""));
}
