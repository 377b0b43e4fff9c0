//! The key sequences of one mode indexed by their prefixes, so that the
//! bindings a new sequence conflicts with (it starts with them, or they
//! start with it) are found in time proportional to its length, not to the
//! number of bindings: a keymap file is read in linear time.

use std::collections::{HashMap, HashSet};

use super::chord::KeyChord;

/// For each proper prefix of a sequence added, the sequences under it.
#[derive(Debug, Default)]
pub(super) struct Extensions {
    under: HashMap<Vec<KeyChord>, HashSet<Vec<KeyChord>>>,
}

impl Extensions {
    /// An index of `seqs`.
    pub fn of<'a>(seqs: impl Iterator<Item = &'a Vec<KeyChord>>) -> Self {
        let mut index = Self::default();
        for seq in seqs {
            index.add(seq);
        }
        index
    }

    pub fn add(&mut self, seq: &[KeyChord]) {
        for n in 1..seq.len() {
            self.under
                .entry(seq[..n].to_vec())
                .or_default()
                .insert(seq.to_vec());
        }
    }

    pub fn remove(&mut self, seq: &[KeyChord]) {
        for n in 1..seq.len() {
            if let Some(set) = self.under.get_mut(&seq[..n]) {
                set.remove(seq);
                if set.is_empty() {
                    self.under.remove(&seq[..n]);
                }
            }
        }
    }

    /// The sequences added that start with `seq` and are longer.
    pub fn longer(&self, seq: &[KeyChord]) -> Vec<Vec<KeyChord>> {
        self.under
            .get(seq)
            .map(|set| set.iter().cloned().collect())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keymap::parse_seq;

    #[test]
    fn finds_longer_sequences_until_removed() {
        let gg = parse_seq("g g").unwrap();
        let gge = parse_seq("g g e").unwrap();
        let mut x = Extensions::of([gg.clone(), gge.clone()].iter());
        let g = parse_seq("g").unwrap();
        let mut found = x.longer(&g);
        found.sort_by_key(Vec::len);
        assert_eq!(found, vec![gg.clone(), gge.clone()]);
        assert_eq!(x.longer(&gg), vec![gge.clone()]);
        x.remove(&gge);
        assert_eq!(x.longer(&gg), Vec::<Vec<KeyChord>>::new());
        assert_eq!(x.longer(&g), vec![gg]);
    }
}
