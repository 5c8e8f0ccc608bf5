//! Messier copies of training posts. Text written to train on is tidier
//! than what people post: training also on copies without the apostrophes,
//! punctuation and spelling people skip, and with the handles and links that
//! surround real posts, teaches the model to lean on none of them.

/// A xorshift generator: small, fast and seeded, so the same corpus always
/// trains the same model.
pub(crate) struct Xorshift {
    state: u64,
}

impl Xorshift {
    /// `state` must not be zero: xorshift would stay there.
    pub(crate) fn new(state: u64) -> Self {
        Self { state }
    }

    pub(crate) fn next(&mut self) -> u64 {
        self.state ^= self.state << 13;
        self.state ^= self.state >> 7;
        self.state ^= self.state << 17;
        self.state
    }

    /// A number below `n`.
    pub(crate) fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
}

pub(crate) struct Noise {
    random: Xorshift,
}

impl Noise {
    pub(crate) fn new(seed: u64) -> Self {
        Self {
            random: Xorshift::new(seed | 1),
        }
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.random.next() % 100 < percent
    }

    /// A copy of `text` as someone in a hurry might have typed it.
    pub(crate) fn copy_of(&mut self, text: &str) -> String {
        let mut text = text.to_owned();
        if self.chance(50) {
            text.retain(|c| c != '\'' && c != '’');
        }
        if self.chance(30) {
            text.retain(|c| !matches!(c, '.' | ',' | '!'));
        }
        let mut copy = String::with_capacity(text.len() + 24);
        if self.chance(15) && !text.starts_with('@') {
            copy.push_str("@support ");
        }
        for (n, word) in text.split_whitespace().enumerate() {
            if n > 0 {
                copy.push(' ');
            }
            if self.chance(8) {
                copy.push_str(&self.typo(word));
            } else {
                copy.push_str(word);
            }
        }
        if self.chance(20) {
            copy.push_str(" https://t.co/photo");
        }
        copy
    }

    /// One letter dropped, swapped with the next or doubled, never the
    /// first or last; words of fewer than four letters are left alone.
    fn typo(&mut self, word: &str) -> String {
        if word.len() < 4 || !word.bytes().all(|b| b.is_ascii_alphabetic()) {
            return word.to_owned();
        }
        let mut letters = word.as_bytes().to_vec();
        // Between the first and the last two, so a swap spares the last.
        let at = 1 + self.random.below(letters.len() - 3);
        match self.random.below(3) {
            0 => {
                letters.remove(at);
            }
            1 => letters.swap(at, at + 1),
            _ => letters.insert(at, letters[at]),
        }
        String::from_utf8(letters).expect("ASCII letters stay ASCII")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn copies_vary_but_keep_the_words_and_repeat_with_the_seed() {
        let text = "@skyways we've been stuck at the gate for two hours, nobody answers!";
        let copies: Vec<String> = {
            let mut noise = Noise::new(42);
            (0..50).map(|_| noise.copy_of(text)).collect()
        };
        let again: Vec<String> = {
            let mut noise = Noise::new(42);
            (0..50).map(|_| noise.copy_of(text)).collect()
        };
        assert_eq!(copies, again, "the same seed gives the same copies");
        assert!(
            copies.iter().any(|c| c.contains("weve")),
            "apostrophes dropped"
        );
        assert!(copies.iter().any(|c| c.ends_with("https://t.co/photo")));
        assert!(copies.iter().any(|c| c != text));
        for copy in &copies {
            // A typo touches at most one letter in most words: most words survive.
            let kept = copy.split(' ').filter(|w| text.contains(w)).count();
            assert!(kept >= 8, "{copy}");
        }
    }

    #[test]
    fn typos_keep_the_first_and_last_letter_and_skip_short_words() {
        let mut noise = Noise::new(7);
        for _ in 0..100 {
            let typo = noise.typo("refund");
            assert!(typo.starts_with('r') && typo.ends_with('d'), "{typo}");
            assert!((5..=7).contains(&typo.len()), "{typo}");
        }
        assert_eq!(noise.typo("bag"), "bag");
        assert_eq!(noise.typo("café!"), "café!");
    }
}
