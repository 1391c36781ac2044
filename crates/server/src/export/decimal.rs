//! Exact quantities in Parquet: `DECIMAL(38, 18)` in a 16-byte fixed-length array.
//!
//! The store keeps quantities as integer kilograms (three decimals of a tonne) or, when
//! kilograms cannot hold one, as its exact decimal text; the finest a connector produces is
//! 10^-18 tonne (an ERC-20 token amount of Toucan's TCO2). Scale 18 holds every one of those
//! exactly, and precision 38, the most a 16-byte decimal holds and the widest DuckDB and
//! pyarrow's `decimal128` read natively, leaves 20 digits before the point: up to 10^20
//! tonnes, beyond any registry's total. A quantity outside that is refused, never rounded.

use rust_decimal::Decimal;

/// Digits after the decimal point.
pub const SCALE: u32 = 18;
/// Digits in all.
pub const PRECISION: u32 = 38;
/// Digits before the decimal point.
pub const INTEGER_DIGITS: u32 = PRECISION - SCALE;
/// Bytes of the fixed-length array: a big-endian two's complement `i128`.
pub const BYTES: usize = 16;

/// Why a quantity has no exact `DECIMAL(38, 18)`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecimalError {
    /// More than 18 digits after the point.
    #[error("{0} has more than {SCALE} digits after the decimal point")]
    TooFine(Decimal),
    /// 10^20 or more.
    #[error("{0} has more than {INTEGER_DIGITS} digits before the decimal point")]
    TooLarge(Decimal),
}

/// The unscaled value of `quantity` in units of 10^-18.
pub fn unscaled(quantity: Decimal) -> Result<i128, DecimalError> {
    let q = quantity.normalize();
    if q.scale() > SCALE {
        return Err(DecimalError::TooFine(quantity));
    }
    let limit = 10i128.pow(PRECISION);
    q.mantissa()
        .checked_mul(10i128.pow(SCALE - q.scale()))
        .filter(|v| v.unsigned_abs() < limit.unsigned_abs())
        .ok_or(DecimalError::TooLarge(quantity))
}

/// The 16 bytes Parquet stores for `quantity`.
pub fn encode(quantity: Decimal) -> Result<[u8; BYTES], DecimalError> {
    unscaled(quantity).map(i128::to_be_bytes)
}

/// The quantity of 16 stored bytes, when a `Decimal` can hold it (every quantity [`encode`]
/// took can); for readers and tests.
pub fn decode(bytes: [u8; BYTES]) -> Option<Decimal> {
    let mut unscaled = i128::from_be_bytes(bytes);
    let mut scale = SCALE;
    // Trailing zeros first, so that a large whole quantity fits the 96 bits of a Decimal.
    while scale > 0 && unscaled % 10 == 0 {
        unscaled /= 10;
        scale -= 1;
    }
    Decimal::try_from_i128_with_scale(unscaled, scale).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(text: &str) -> Decimal {
        text.parse().expect("decimal")
    }

    fn round_trip(text: &str) -> Option<Decimal> {
        decode(encode(d(text)).expect("encodes"))
    }

    #[test]
    fn whole_tonnes_and_kilograms_are_exact() {
        assert_eq!(unscaled(d("1")), Ok(1_000_000_000_000_000_000));
        assert_eq!(unscaled(d("425")), Ok(425 * 10i128.pow(18)));
        assert_eq!(unscaled(d("0.001")), Ok(1_000_000_000_000_000));
        assert_eq!(unscaled(d("12.345")), Ok(12_345 * 10i128.pow(15)));
        assert_eq!(unscaled(d("0")), Ok(0));
        assert_eq!(round_trip("12.345"), Some(d("12.345")));
        assert_eq!(round_trip("425"), Some(d("425")));
    }

    #[test]
    fn trailing_zeros_do_not_count_as_digits() {
        // 1.5000…0 with 25 zeros is 1.5: normalized before its scale is checked.
        let padded = Decimal::from_i128_with_scale(15 * 10i128.pow(25), 26);
        assert_eq!(unscaled(padded), Ok(15 * 10i128.pow(17)));
    }

    #[test]
    fn the_smallest_token_amount_is_exact() {
        // One base unit of an 18-decimal ERC-20 token: 10^-18 tonne.
        let wei = Decimal::from_i128_with_scale(1, 18);
        assert_eq!(unscaled(wei), Ok(1));
        assert_eq!(encode(wei).expect("encodes")[BYTES - 1], 1);
        assert_eq!(decode(encode(wei).expect("encodes")), Some(wei));
        // 230432.746766008123456789 tonnes: every digit kept.
        assert_eq!(
            round_trip("230432.746766008123456789"),
            Some(d("230432.746766008123456789"))
        );
    }

    #[test]
    fn negative_quantities_are_twos_complement() {
        assert_eq!(
            encode(d("-1")).expect("encodes"),
            (-1_000_000_000_000_000_000i128).to_be_bytes()
        );
        assert_eq!(
            round_trip("-0.000000000000000001"),
            Some(d("-0.000000000000000001"))
        );
    }

    #[test]
    fn large_quantities_up_to_twenty_integer_digits_are_exact() {
        // A trillion tonnes and more is what the store keeps as text.
        assert_eq!(round_trip("1000000000000"), Some(d("1000000000000")));
        // The largest a token amount reaches: 2^96 - 1 base units.
        let largest_token = Decimal::from_i128_with_scale((1i128 << 96) - 1, 18);
        assert_eq!(
            decode(encode(largest_token).expect("encodes")),
            Some(largest_token)
        );
        // 20 integer digits: with 18 decimals, 38 digits, the most there is room for.
        assert_eq!(
            round_trip("99999999999999999999"),
            Some(d("99999999999999999999"))
        );
        assert_eq!(
            unscaled(d("99999999999999999999")),
            Ok((10i128.pow(20) - 1) * 10i128.pow(18))
        );
    }

    #[test]
    fn what_does_not_fit_is_refused_not_rounded() {
        assert_eq!(
            unscaled(d("100000000000000000000")),
            Err(DecimalError::TooLarge(d("100000000000000000000")))
        );
        assert!(matches!(
            unscaled(Decimal::MAX),
            Err(DecimalError::TooLarge(_))
        ));
        let too_fine = Decimal::from_i128_with_scale(1, 19);
        assert_eq!(unscaled(too_fine), Err(DecimalError::TooFine(too_fine)));
    }
}
