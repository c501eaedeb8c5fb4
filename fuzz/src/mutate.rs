//! Mutations: how a new input is made from the corpus.
//!
//! One to four mutations are stacked on a corpus input. Text inputs get
//! structure-aware ones — replace a number by an extreme one, insert a word of
//! the format, duplicate, delete or swap a line, splice in a line of another
//! input, change line endings — as well as byte-level ones; binary inputs (the
//! native plugin's tape) get byte-level ones only. Everything is drawn from one
//! seeded generator, so a run is the same sequence of inputs for the same seed,
//! corpus and outcomes.

/// Numbers at and past the edges of what the formats accept.
pub const NUMBERS: &[&str] = &[
    "0",
    "-0",
    "1",
    "-1",
    "2",
    "7",
    "99",
    "100",
    "101",
    "255",
    "256",
    "-256",
    "65535",
    "65536",
    "2147483647",
    "2147483648",
    "-2147483648",
    "-2147483649",
    "4294967295",
    "4294967296",
    "1000000000",
    "9223372036854775807",
    "9223372036854775808",
    "-9223372036854775808",
    "-9223372036854775809",
    "18446744073709551615",
    "18446744073709551616",
    "1e308",
    "1e309",
    "-1e308",
    "1e-320",
    "0.5",
    "1.5",
    "-0.5",
    "NaN",
    ".nan",
    ".inf",
    "-.inf",
    "inf",
    "0x10",
    "0o17",
    "1_000",
    "+5",
    "00",
    "1.",
    ".5",
    "1e3",
];

/// Bytes worth putting anywhere in a text format.
const SPECIAL_BYTES: &[u8] = b"\0\n\r\t :-{}[]\"',;=#&*!|>%@`\\\x7f\xff";

/// A seeded mutator for one target.
pub struct Mutator {
    rng: fastrand::Rng,
    dictionary: Vec<Vec<u8>>,
    binary: bool,
    max_len: usize,
}

impl Mutator {
    /// A mutator drawing from `seed`, inserting words of `dictionary`.
    pub fn new(seed: u64, dictionary: &[&str], binary: bool, max_len: usize) -> Mutator {
        let mut words: Vec<Vec<u8>> = dictionary.iter().map(|w| w.as_bytes().to_vec()).collect();
        if !binary {
            words.extend(NUMBERS.iter().map(|n| n.as_bytes().to_vec()));
        }
        Mutator { rng: fastrand::Rng::with_seed(seed), dictionary: words, binary, max_len }
    }

    /// A number below `n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        self.rng.usize(..n.max(1))
    }

    /// A new input from `input`, with `other` (another corpus input) to splice from.
    pub fn mutate(&mut self, input: &[u8], other: &[u8]) -> Vec<u8> {
        let mut out = input.to_vec();
        let rounds = 1 + self.rng.usize(..4);
        for _ in 0..rounds {
            if self.binary {
                self.byte_mutation(&mut out, other);
            } else {
                match self.rng.usize(..10) {
                    0..=2 => self.byte_mutation(&mut out, other),
                    _ => self.text_mutation(&mut out, other),
                }
            }
        }
        out.truncate(self.max_len);
        out
    }

    fn pos(&mut self, len: usize) -> usize {
        self.rng.usize(..=len)
    }

    fn byte_mutation(&mut self, v: &mut Vec<u8>, other: &[u8]) {
        let len = v.len();
        match self.rng.usize(..9) {
            0 if len > 0 => {
                let i = self.rng.usize(..len);
                v[i] ^= 1 << self.rng.u8(..8);
            }
            1 if len > 0 => {
                let i = self.rng.usize(..len);
                v[i] = if self.binary { self.rng.u8(..) } else { SPECIAL_BYTES[self.rng.usize(..SPECIAL_BYTES.len())] };
            }
            2 if len > 0 => {
                let at = self.rng.usize(..len);
                let n = 1 + self.rng.usize(..16.min(len - at));
                v.drain(at..at + n);
            }
            3 => {
                let at = self.pos(len);
                let n = 1 + self.rng.usize(..8);
                let bytes: Vec<u8> = (0..n).map(|_| self.rng.u8(..)).collect();
                v.splice(at..at, bytes);
            }
            4 if len > 0 => {
                // Copy a chunk elsewhere.
                let from = self.rng.usize(..len);
                let n = 1 + self.rng.usize(..64.min(len - from));
                let chunk = v[from..from + n].to_vec();
                let at = self.pos(len);
                v.splice(at..at, chunk);
            }
            5 => {
                // An interesting integer, little-endian, at a random place.
                let values: [u64; 8] = [0, 1, 0x7f, 0x80, 0xff, u64::from(u32::MAX), u64::MAX, 1 << 63];
                let value = values[self.rng.usize(..values.len())];
                let width = [1, 2, 4, 8][self.rng.usize(..4)];
                let at = self.pos(len.saturating_sub(width));
                for (k, b) in value.to_le_bytes().iter().take(width).enumerate() {
                    if at + k < v.len() {
                        v[at + k] = *b;
                    } else {
                        v.push(*b);
                    }
                }
            }
            6 if len > 0 => {
                let at = self.rng.usize(..len);
                v.truncate(at);
            }
            7 if !other.is_empty() => {
                // Crossover: a prefix of this one and a suffix of the other.
                let cut = self.pos(len);
                let from = self.rng.usize(..other.len());
                v.truncate(cut);
                v.extend_from_slice(&other[from..]);
            }
            _ => {
                let at = self.pos(len);
                v.insert(at, self.rng.u8(..));
            }
        }
    }

    fn text_mutation(&mut self, v: &mut Vec<u8>, other: &[u8]) {
        match self.rng.usize(..11) {
            0 | 1 => self.replace_number(v),
            2 | 3 => {
                let word = self.word();
                let at = self.pos(v.len());
                v.splice(at..at, word);
            }
            4 => self.replace_token(v),
            5 => self.lines(v, |lines, rng| {
                if !lines.is_empty() {
                    let i = rng.usize(..lines.len());
                    let line = lines[i].clone();
                    lines.insert(i, line);
                }
            }),
            6 => self.lines(v, |lines, rng| {
                if !lines.is_empty() {
                    lines.remove(rng.usize(..lines.len()));
                }
            }),
            7 => self.lines(v, |lines, rng| {
                if lines.len() > 1 {
                    let (a, b) = (rng.usize(..lines.len()), rng.usize(..lines.len()));
                    lines.swap(a, b);
                }
            }),
            8 => {
                // A line of another input, spliced in.
                let theirs: Vec<&[u8]> = other.split(|&b| b == b'\n').collect();
                let line = theirs[self.rng.usize(..theirs.len())].to_vec();
                self.lines(v, move |lines, rng| {
                    let at = rng.usize(..=lines.len());
                    lines.insert(at, line);
                });
            }
            9 => {
                // Line endings: CRLF, CR only, or none at the end.
                let which = self.rng.usize(..3);
                let mut out = Vec::with_capacity(v.len() + v.len() / 8);
                for &b in v.iter() {
                    match (which, b) {
                        (0, b'\n') => out.extend_from_slice(b"\r\n"),
                        (1, b'\n') => out.push(b'\r'),
                        _ => out.push(b),
                    }
                }
                if which == 2 {
                    while out.last().is_some_and(|b| b.is_ascii_whitespace()) {
                        out.pop();
                    }
                }
                *v = out;
            }
            _ => {
                // Indentation: YAML's structure is in it.
                self.lines(v, |lines, rng| {
                    if !lines.is_empty() {
                        let i = rng.usize(..lines.len());
                        if rng.bool() {
                            lines[i].splice(0..0, b"  ".iter().copied());
                        } else if lines[i].starts_with(b"  ") {
                            lines[i].drain(..2);
                        }
                    }
                })
            }
        }
    }

    fn word(&mut self) -> Vec<u8> {
        if self.dictionary.is_empty() {
            return vec![self.rng.u8(..)];
        }
        self.dictionary[self.rng.usize(..self.dictionary.len())].clone()
    }

    /// Replaces a run of digits (with its sign) by an extreme number or a
    /// neighbour of itself.
    fn replace_number(&mut self, v: &mut Vec<u8>) {
        let starts: Vec<usize> =
            (0..v.len()).filter(|&i| v[i].is_ascii_digit() && (i == 0 || !v[i - 1].is_ascii_digit())).collect();
        if starts.is_empty() {
            let at = self.pos(v.len());
            let n = NUMBERS[self.rng.usize(..NUMBERS.len())].as_bytes().to_vec();
            v.splice(at..at, n);
            return;
        }
        let mut start = starts[self.rng.usize(..starts.len())];
        let mut end = start;
        while end < v.len() && (v[end].is_ascii_digit() || v[end] == b'.') {
            end += 1;
        }
        if start > 0 && v[start - 1] == b'-' {
            start -= 1;
        }
        let current: i128 = std::str::from_utf8(&v[start..end]).ok().and_then(|s| s.parse().ok()).unwrap_or(0);
        let new = match self.rng.usize(..4) {
            0 => (current + 1).to_string(),
            1 => (current - 1).to_string(),
            2 => (-current).to_string(),
            _ => NUMBERS[self.rng.usize(..NUMBERS.len())].to_owned(),
        };
        v.splice(start..end, new.into_bytes());
    }

    /// Replaces a word (letters, digits, `_`, `-`, `.`) by a dictionary word.
    fn replace_token(&mut self, v: &mut Vec<u8>) {
        let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.';
        let starts: Vec<usize> = (0..v.len()).filter(|&i| is_word(v[i]) && (i == 0 || !is_word(v[i - 1]))).collect();
        if starts.is_empty() {
            return;
        }
        let start = starts[self.rng.usize(..starts.len())];
        let mut end = start;
        while end < v.len() && is_word(v[end]) {
            end += 1;
        }
        let word = self.word();
        v.splice(start..end, word);
    }

    /// Applies `f` to the input's lines (split on `\n`, which `f` may not see
    /// in a line) and joins them again.
    fn lines(&mut self, v: &mut Vec<u8>, f: impl FnOnce(&mut Vec<Vec<u8>>, &mut fastrand::Rng)) {
        let mut lines: Vec<Vec<u8>> = v.split(|&b| b == b'\n').map(<[u8]>::to_vec).collect();
        f(&mut lines, &mut self.rng);
        *v = lines.join(&b'\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_seed_gives_one_sequence_of_inputs() {
        let run = |seed| {
            let mut m = Mutator::new(seed, &["name:", "fit"], false, 4096);
            let mut input = b"name: x\nscore:\n  - plugin: best-fit\n    weight: 2\n".to_vec();
            let mut seen = Vec::new();
            for _ in 0..50 {
                input = m.mutate(&input, b"order: [ { plugin: fifo } ]\n");
                seen.push(input.clone());
            }
            seen
        };
        assert_eq!(run(7), run(7));
        assert_ne!(run(7), run(8));
    }

    #[test]
    fn an_input_never_grows_past_the_limit() {
        let mut m = Mutator::new(1, &["a long word to insert again and again"], false, 64);
        let mut input = vec![b'x'; 60];
        for _ in 0..500 {
            input = m.mutate(&input, &input.clone());
            assert!(input.len() <= 64);
        }
    }

    #[test]
    fn a_binary_input_is_mutated_bytewise_only() {
        let mut m = Mutator::new(3, &[], true, 256);
        let out = m.mutate(&[1, 2, 3, 4], &[5, 6]);
        assert!(out.len() <= 256);
    }
}
