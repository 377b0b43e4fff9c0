//! A small seeded PRNG (splitmix64): the simulator's only source of chance,
//! so a seed fully determines a run.

/// Characters Kubernetes uses for generated name suffixes and template hashes
/// (no vowels, no easily confused digits).
pub const K8S_ALPHABET: &[u8] = b"bcdfghjklmnpqrstvwxz2456789";

/// splitmix64: tiny, fast and good enough for a simulation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rng {
    state: u64,
}

impl Rng {
    pub fn new(seed: u64) -> Self {
        Self { state: seed }
    }

    pub fn next_u64(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in `[0, 1)`.
    pub fn next_f64(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// Uniform in `[lo, hi)` (returns `lo` when the range is empty).
    pub fn range(&mut self, lo: u64, hi: u64) -> u64 {
        if hi <= lo {
            return lo;
        }
        lo + self.next_u64() % (hi - lo)
    }

    /// Uniform float in `[lo, hi)`.
    pub fn uniform(&mut self, lo: f64, hi: f64) -> f64 {
        lo + (hi - lo) * self.next_f64()
    }

    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        self.next_f64() < p
    }

    /// One element of a non-empty slice (the first when it is empty-safe).
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> Option<&'a T> {
        if items.is_empty() {
            return None;
        }
        let i = self.range(0, items.len() as u64) as usize;
        items.get(i)
    }

    /// `n` characters from the Kubernetes name alphabet (`x2x9k`).
    pub fn k8s_suffix(&mut self, n: usize) -> String {
        (0..n)
            .map(|_| K8S_ALPHABET[self.range(0, K8S_ALPHABET.len() as u64) as usize] as char)
            .collect()
    }

    /// `n` lowercase hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        const HEX: &[u8] = b"0123456789abcdef";
        (0..n)
            .map(|_| HEX[self.range(0, 16) as usize] as char)
            .collect()
    }

    /// A version-4-shaped UUID.
    pub fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!(
            "{}-{}-4{}-a{}-{}",
            &h[0..8],
            &h[8..12],
            &h[13..16],
            &h[17..20],
            &h[20..32]
        )
    }
}

/// FNV-1a, for stable hashes (pod template hashes) independent of std's hasher.
pub fn fnv1a(data: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in data.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// Encode a hash with the Kubernetes alphabet (`7d9f8c6b5`), as pod-template-hash does.
pub fn k8s_hash(data: &str, len: usize) -> String {
    let mut h = fnv1a(data);
    let mut out = String::with_capacity(len);
    for _ in 0..len {
        out.push(K8S_ALPHABET[(h % K8S_ALPHABET.len() as u64) as usize] as char);
        h /= K8S_ALPHABET.len() as u64;
        if h == 0 {
            h = fnv1a(&out);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence() {
        let mut a = Rng::new(7);
        let mut b = Rng::new(7);
        for _ in 0..100 {
            assert_eq!(a.next_u64(), b.next_u64());
        }
        let f = a.next_f64();
        assert!((0.0..1.0).contains(&f));
        assert_eq!(a.k8s_suffix(5).len(), 5);
        assert_eq!(a.uuid().len(), 36);
    }

    #[test]
    fn hashes_are_stable() {
        assert_eq!(k8s_hash("api:1.8.2", 10), k8s_hash("api:1.8.2", 10));
        assert_ne!(k8s_hash("api:1.8.2", 10), k8s_hash("api:1.9.0", 10));
        assert_eq!(k8s_hash("x", 10).len(), 10);
    }
}
