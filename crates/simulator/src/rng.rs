//! Counter-based randomness: every value is a pure function of (seed, stream, index), so
//! record `i` is computed without generating records `0..i`.

/// The splitmix64 finaliser, a fast bijective mixer with good avalanche behaviour.
const fn mix(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// The mixer, for identifiers derived from several numbers.
pub(crate) const fn mix64(z: u64) -> u64 {
    mix(z)
}

/// Named streams keep the draws of different record kinds independent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u64)]
pub(crate) enum Stream {
    Project = 1,
    Block = 2,
    Piece = 3,
    Case = 4,
}

/// A small deterministic generator for one record.
#[derive(Debug, Clone)]
pub(crate) struct RecordRng {
    state: u64,
}

impl RecordRng {
    /// The generator of record `index` of `stream` in `namespace` (a registry tag).
    pub(crate) fn new(seed: u64, namespace: u64, stream: Stream, index: u64) -> Self {
        let state = mix(seed ^ mix(namespace.wrapping_mul(0x9e37_79b9_7f4a_7c15) ^ stream as u64))
            ^ mix(index.wrapping_add(0x632b_e59b_d9b4_e019));
        Self { state }
    }

    /// The next 64 random bits (splitmix64).
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        mix(self.state)
    }

    /// A value in `low..=high`.
    pub(crate) fn between(&mut self, low: u64, high: u64) -> u64 {
        debug_assert!(low <= high);
        low + self.next_u64() % (high - low + 1)
    }

    /// One element of a non-empty slice.
    pub(crate) fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[(self.next_u64() % items.len() as u64) as usize]
    }

    /// True with probability `percent`/100.
    pub(crate) fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_inputs_give_same_draws_and_indices_differ() {
        let a = RecordRng::new(7, 1, Stream::Block, 42).next_u64();
        let b = RecordRng::new(7, 1, Stream::Block, 42).next_u64();
        let c = RecordRng::new(7, 1, Stream::Block, 43).next_u64();
        let d = RecordRng::new(8, 1, Stream::Block, 42).next_u64();
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_ne!(a, d);
    }
}
