//! A linear complaint model over hashed words, word pairs and word prefixes
//! (character n-grams at the start of each word): logistic regression
//! trained with AdaGrad, inference in a few hundred nanoseconds
//! with no allocation beyond one lower-cased copy of the text.

use std::io::{self, Read, Write};

use thiserror::Error;

use super::noise::{Noise, Xorshift};

/// Feature buckets: 2^18 keeps collisions rare for the vocabulary of short
/// posts while the sparse file stays small.
const BUCKET_BITS: u32 = 18;
const BUCKETS: usize = 1 << BUCKET_BITS;
const MAGIC: &[u8; 8] = b"ESHOTLM3";
/// Models of today's features with 16-bit weights, each after its bucket's
/// gap from the previous one: read still.
const MAGIC_16_BIT: &[u8; 8] = b"ESHOTLM2";
const NOISE_SEED: u64 = 0x6e6f_6973_7920;
/// Models of the first feature set (with character trigrams): their weights
/// mean nothing to today's features.
const MAGIC_TRIGRAMS: &[u8; 8] = b"ESHOTLM1";

#[derive(Debug, Clone, PartialEq)]
pub struct LinearModel {
    bias: f32,
    weights: Vec<f32>,
}

#[derive(Debug, Error)]
pub enum ModelError {
    #[error("model file: {0}")]
    Io(#[from] io::Error),
    #[error("not an Earshot model file")]
    NotAModel,
    #[error("model file is of an older feature set: run `earshot train` again")]
    Outdated,
    #[error("model file is damaged: {0}")]
    Damaged(&'static str),
}

/// FNV-1a over the bytes of one feature, seeded by its kind.
fn hash(seed: u64, bytes: &[u8]) -> usize {
    let mut hash = 0xcbf2_9ce4_8422_2325 ^ seed;
    for b in bytes {
        hash = (hash ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash as usize) & (BUCKETS - 1)
}

const WORD: u64 = 1;
const PAIR: u64 = 2;
const SKIP_PAIR: u64 = 3;
const PREFIX: u64 = 4;
const SIGNAL: u64 = 5;

/// The bucket of a named signal found in a post (`gas`, `child alone`): a
/// feature beside the words, so training weighs how much each signal counts.
pub fn signal_bucket(name: &str) -> usize {
    hash(SIGNAL, name.as_bytes())
}

/// Words longer than this also count by their first this-many characters,
/// so "refund", "refunded" and "refunds" share a feature.
const PREFIX_CHARS: usize = 5;

/// Calls `visit` with the bucket of every feature of `text`: words, pairs of
/// neighbouring words, pairs with one word between ("not even once" and
/// "not ever once" share "not _ once"), and the leading characters of longer
/// words. Character trigrams of every word were measured and dropped: they
/// fitted the training text's own spelling and generalised worse to other
/// people's posts.
pub fn for_each_feature(text: &str, visit: impl FnMut(usize)) {
    for_each_feature_lowered(&text.to_lowercase(), visit);
}

/// The buckets [`for_each_feature`] visits, collected.
fn buckets_of(text: &str) -> Vec<usize> {
    let mut buckets = Vec::new();
    for_each_feature(text, |b| buckets.push(b));
    buckets
}

/// As [`for_each_feature`], for text already in lower case.
pub fn for_each_feature_lowered(lowered: &str, mut visit: impl FnMut(usize)) {
    let mut previous: Option<&str> = None;
    let mut before_previous: Option<&str> = None;
    for raw in lowered.split(|c: char| c.is_whitespace()) {
        let word = normalise_token(raw);
        if word.is_empty() {
            continue;
        }
        visit(hash(WORD, word.as_bytes()));
        if word.len() > PREFIX_CHARS && word.is_char_boundary(PREFIX_CHARS) {
            visit(hash(PREFIX, &word.as_bytes()[..PREFIX_CHARS]));
        }
        if let Some(bucket) = previous.and_then(|p| pair_bucket(PAIR, p, word)) {
            visit(bucket);
        }
        if let Some(bucket) = before_previous.and_then(|p| pair_bucket(SKIP_PAIR, p, word)) {
            visit(bucket);
        }
        before_previous = previous;
        previous = Some(word);
    }
}

/// The bucket of two words joined by a space, without allocating; `None`
/// for pairs too long to be worth a feature.
fn pair_bucket(seed: u64, first: &str, second: &str) -> Option<usize> {
    let mut pair = [0u8; 64];
    let (a, b) = (first.as_bytes(), second.as_bytes());
    let len = a.len() + 1 + b.len();
    if len > pair.len() {
        return None;
    }
    pair[..a.len()].copy_from_slice(a);
    pair[a.len()] = b' ';
    pair[a.len() + 1..len].copy_from_slice(b);
    Some(hash(seed, &pair[..len]))
}

/// A word that is a web address.
pub(super) fn is_link(word: &str) -> bool {
    ["http://", "https://", "www."]
        .iter()
        .any(|start| word.starts_with(start))
}

/// Handles, links and numbers carry no meaning of their own: each becomes
/// one placeholder token. Punctuation at the edges is dropped except `!`
/// and `?`, which say a lot about tone.
fn normalise_token(raw: &str) -> &str {
    if raw.starts_with('@') {
        return "<user>";
    }
    if is_link(raw) {
        return "<url>";
    }
    let trimmed =
        raw.trim_matches(|c: char| !c.is_alphanumeric() && c != '!' && c != '?' && c != '\'');
    if trimmed.chars().any(|c| c.is_ascii_digit())
        && trimmed
            .chars()
            .all(|c| c.is_ascii_digit() || c == ':' || c == '.')
    {
        return "<num>";
    }
    trimmed
}

fn sigmoid(x: f32) -> f32 {
    1.0 / (1.0 + (-x).exp())
}

/// Training knobs; the defaults suit a few hundred to a few hundred thousand
/// short posts.
#[derive(Debug, Clone, Copy)]
pub struct TrainingOptions {
    pub epochs: usize,
    pub learning_rate: f32,
    pub l2: f32,
    /// Runs over differently shuffled orders, averaged into one model.
    pub shuffles: usize,
    /// Messier copies of each post trained on beside it (see `noise`).
    pub noisy_copies: usize,
}

impl Default for TrainingOptions {
    fn default() -> Self {
        Self {
            epochs: 12,
            learning_rate: 0.3,
            l2: 1e-6,
            shuffles: 5,
            noisy_copies: 2,
        }
    }
}

impl LinearModel {
    /// The probability that `text` is a complaint.
    pub fn complaint_probability(&self, text: &str) -> f32 {
        self.probability_of_lowered(&text.to_lowercase())
    }

    /// As [`Self::complaint_probability`], for text already in lower case.
    pub fn probability_of_lowered(&self, lowered: &str) -> f32 {
        self.probability_with_signals(lowered, std::iter::empty())
    }

    /// The probability of lower-cased text whose signals fell in `signals`
    /// (see [`signal_bucket`]) besides its words.
    pub fn probability_with_signals(
        &self,
        lowered: &str,
        signals: impl IntoIterator<Item = usize>,
    ) -> f32 {
        let mut sum = self.bias;
        for_each_feature_lowered(lowered, |bucket| sum += self.weights[bucket]);
        for bucket in signals {
            sum += self.weights[bucket];
        }
        sigmoid(sum)
    }

    /// Fits a model to `(text, is_complaint)` examples, each also seen as
    /// `options.noisy_copies` messier copies (see `noise`). Each run of
    /// AdaGrad leans towards the posts it happened to see last, so
    /// `options.shuffles` runs over differently shuffled orders are
    /// averaged (a linear model's average is still one linear model), then
    /// rounded to the steps the file keeps. Copies and shuffles are seeded:
    /// the same data gives the same model.
    pub fn train(examples: &[(String, bool)], options: TrainingOptions) -> Self {
        Self::train_with_signals(examples, options, |_| Vec::new())
    }

    /// As [`Self::train`], each post (and each messier copy) also counting
    /// by the signal buckets `signals_of` finds in its lower-cased text.
    pub fn train_with_signals(
        examples: &[(String, bool)],
        options: TrainingOptions,
        signals_of: impl Fn(&str) -> Vec<usize>,
    ) -> Self {
        let mut noise = Noise::new(NOISE_SEED);
        let features_of = |text: &str| {
            let mut buckets = buckets_of(text);
            buckets.extend(signals_of(&text.to_lowercase()));
            buckets
        };
        let mut features: Vec<(Vec<usize>, f32)> =
            Vec::with_capacity(examples.len() * (1 + options.noisy_copies));
        for (text, label) in examples {
            let label = if *label { 1.0 } else { 0.0 };
            features.push((features_of(text), label));
            for _ in 0..options.noisy_copies {
                let copy = noise.copy_of(text);
                if copy != *text {
                    features.push((features_of(&copy), label));
                }
            }
        }
        let runs = options.shuffles.max(1);
        let mut average = Self {
            bias: 0.0,
            weights: vec![0.0; BUCKETS],
        };
        for run in 0..runs {
            let fitted = Self::fit(&features, options, run as u64);
            average.bias += fitted.bias / runs as f32;
            for (sum, weight) in average.weights.iter_mut().zip(&fitted.weights) {
                *sum += weight / runs as f32;
            }
        }
        average.quantised()
    }

    /// One AdaGrad run over `features` in an order shuffled by `seed`.
    fn fit(features: &[(Vec<usize>, f32)], options: TrainingOptions, seed: u64) -> Self {
        let mut weights = vec![0.0f32; BUCKETS];
        let mut squared = vec![1e-8f32; BUCKETS];
        let mut bias = 0.0f32;
        let mut bias_squared = 1e-8f32;
        let mut order: Vec<usize> = (0..features.len()).collect();
        let mut random =
            Xorshift::new(0x2545_f491_4f6c_dd1d_u64 ^ seed.wrapping_mul(0x9e37_79b9_7f4a_7c15));
        for _ in 0..options.epochs {
            // Fisher-Yates with a xorshift generator: reproducible runs.
            for i in (1..order.len()).rev() {
                order.swap(i, random.below(i + 1));
            }
            for &index in &order {
                let (buckets, label) = &features[index];
                let score = bias + buckets.iter().map(|&b| weights[b]).sum::<f32>();
                let gradient = sigmoid(score) - label;
                bias_squared += gradient * gradient;
                bias -= options.learning_rate * gradient / bias_squared.sqrt();
                for &b in buckets {
                    let g = gradient + options.l2 * weights[b];
                    squared[b] += g * g;
                    weights[b] -= options.learning_rate * g / squared[b].sqrt();
                }
            }
        }
        Self { bias, weights }
    }

    /// Rounds every weight to one of the 255 steps of the largest (-127 to
    /// 127) the file keeps; done when training ends, so a model reads back
    /// exactly as it was trained and judges alike before and after. Steps
    /// this coarse judged as 16-bit ones did, to a post or two, on every
    /// held-out figure (benches/README.md, "Cold start and size"), in less
    /// than half the bytes.
    fn quantised(mut self) -> Self {
        let scale = self.scale();
        for weight in &mut self.weights {
            *weight = f32::from(quantum(*weight, scale)) * scale;
        }
        self
    }

    /// The size of one step of the stored weights.
    fn scale(&self) -> f32 {
        let largest = self.weights.iter().fold(0.0f32, |max, w| max.max(w.abs()));
        if largest > 0.0 {
            largest / f32::from(i8::MAX)
        } else {
            1.0
        }
    }

    /// Writes a bitmap of the buckets that have a weight (a bit each,
    /// 32 KiB), then those weights in bucket order, one signed byte of
    /// steps each: read back with no decompression, in well under a
    /// millisecond at every cold start.
    pub fn write(&self, mut out: impl Write) -> Result<(), ModelError> {
        let scale = self.scale();
        let mut bitmap = vec![0u8; BUCKETS / 8];
        let mut steps = Vec::new();
        for (bucket, weight) in self.weights.iter().enumerate() {
            let step = quantum(*weight, scale);
            if step != 0 {
                bitmap[bucket / 8] |= 1 << (bucket % 8);
                steps.extend(step.to_le_bytes());
            }
        }
        out.write_all(MAGIC)?;
        out.write_all(&BUCKET_BITS.to_le_bytes())?;
        out.write_all(&self.bias.to_le_bytes())?;
        out.write_all(&scale.to_le_bytes())?;
        out.write_all(&(steps.len() as u32).to_le_bytes())?;
        out.write_all(&bitmap)?;
        out.write_all(&steps)?;
        Ok(())
    }

    /// Reads a model [`write`](Self::write) wrote, or one of the 16-bit
    /// files earlier releases wrote.
    pub fn read(mut input: impl Read) -> Result<Self, ModelError> {
        let mut magic = [0u8; 8];
        input.read_exact(&mut magic)?;
        let sixteen_bit = match &magic {
            MAGIC => false,
            MAGIC_16_BIT => true,
            MAGIC_TRIGRAMS => return Err(ModelError::Outdated),
            _ => return Err(ModelError::NotAModel),
        };
        let mut word = [0u8; 4];
        let mut next = |input: &mut dyn Read| -> Result<[u8; 4], ModelError> {
            input.read_exact(&mut word)?;
            Ok(word)
        };
        if u32::from_le_bytes(next(&mut input)?) != BUCKET_BITS {
            return Err(ModelError::Damaged("feature space of another size"));
        }
        let bias = f32::from_le_bytes(next(&mut input)?);
        let scale = f32::from_le_bytes(next(&mut input)?);
        let count = u32::from_le_bytes(next(&mut input)?) as usize;
        if count > BUCKETS {
            return Err(ModelError::Damaged("more weights than buckets"));
        }
        let weights = if sixteen_bit {
            read_16_bit(input, count, scale)?
        } else {
            read_bitmap(input, count, scale)?
        };
        Ok(Self { bias, weights })
    }
}

/// The weights of a file [`LinearModel::write`] wrote, after its header.
fn read_bitmap(mut input: impl Read, count: usize, scale: f32) -> Result<Vec<f32>, ModelError> {
    let mut bitmap = vec![0u8; BUCKETS / 8];
    input.read_exact(&mut bitmap)?;
    let mut steps = Vec::with_capacity(count);
    input.read_to_end(&mut steps)?;
    let marked: u32 = bitmap.iter().map(|byte| byte.count_ones()).sum();
    if steps.len() != count || marked as usize != count {
        return Err(ModelError::Damaged("weights missing or left over"));
    }
    let mut weights = vec![0.0f32; BUCKETS];
    let mut steps = steps.into_iter();
    for (byte_index, byte) in bitmap.into_iter().enumerate() {
        let mut bits = byte;
        while bits != 0 {
            let bucket = byte_index * 8 + bits.trailing_zeros() as usize;
            bits &= bits - 1;
            // Counted above: one step for every marked bucket.
            let step = steps.next().unwrap_or_default();
            weights[bucket] = f32::from(step as i8) * scale;
        }
    }
    Ok(weights)
}

/// The weights of an earlier release's file, after its header: each a
/// bucket gap (LEB128) and two bytes of steps.
fn read_16_bit(mut input: impl Read, count: usize, scale: f32) -> Result<Vec<f32>, ModelError> {
    let mut weights = vec![0.0f32; BUCKETS];
    let mut index = 0usize;
    for n in 0..count {
        let gap = read_varint(&mut input)? as usize;
        if n > 0 && gap == 0 {
            return Err(ModelError::Damaged("the same bucket twice"));
        }
        index += gap;
        let mut steps = [0u8; 2];
        input.read_exact(&mut steps)?;
        *weights
            .get_mut(index)
            .ok_or(ModelError::Damaged("weight index out of range"))? =
            f32::from(i16::from_le_bytes(steps)) * scale;
    }
    Ok(weights)
}

/// `weight` in steps of `scale`, the nearest of -127 to 127.
fn quantum(weight: f32, scale: f32) -> i8 {
    (weight / scale)
        .round()
        .clamp(-f32::from(i8::MAX), f32::from(i8::MAX)) as i8
}

fn read_varint(input: &mut impl Read) -> Result<u32, ModelError> {
    let mut value = 0u32;
    for shift in (0..32).step_by(7) {
        let mut byte = [0u8; 1];
        input.read_exact(&mut byte)?;
        value |= u32::from(byte[0] & 0x7f) << shift;
        if byte[0] & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(ModelError::Damaged("bucket gap too long"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn corpus() -> Vec<(String, bool)> {
        let complaints = [
            "my order never arrived and nobody answers the phone",
            "still waiting for a refund after three weeks",
            "the app keeps crashing every time I log in",
            "worst service ever, cancelled without warning",
            "charged twice and support just ignores me",
            "the train is late again and no announcement",
        ];
        let others = [
            "thanks for the quick help today, great team",
            "what time does the store open on sunday?",
            "loving the new menu, the soup is lovely",
            "congrats on the award to the whole crew",
            "is the summer sale starting this week?",
            "had a lovely flight, friendly staff",
        ];
        complaints
            .iter()
            .map(|t| (t.to_string(), true))
            .chain(others.iter().map(|t| (t.to_string(), false)))
            .collect()
    }

    #[test]
    fn training_separates_complaints_from_the_rest() {
        let model = LinearModel::train(&corpus(), TrainingOptions::default());
        for (text, is_complaint) in corpus() {
            let p = model.complaint_probability(&text);
            assert_eq!(p > 0.5, is_complaint, "{p} for {text}");
        }
        assert!(model.complaint_probability("refund still not arrived, nobody answers") > 0.5);
        assert!(model.complaint_probability("thanks, lovely staff and great help") < 0.5);
    }

    #[test]
    fn a_written_model_reads_back_identically() {
        let model = LinearModel::train(&corpus(), TrainingOptions::default());
        let mut bytes = Vec::new();
        model.write(&mut bytes).unwrap();
        assert_eq!(LinearModel::read(bytes.as_slice()).unwrap(), model);
        let weights = model.weights.iter().filter(|w| **w != 0.0).count();
        assert_eq!(
            bytes.len(),
            24 + BUCKETS / 8 + weights,
            "a bit a bucket and a byte a weight"
        );
        let mut one_bit_more = bytes.clone();
        let unmarked = bytes[24..24 + BUCKETS / 8]
            .iter()
            .position(|byte| *byte != 0xff)
            .unwrap();
        one_bit_more[24 + unmarked] = 0xff;
        assert!(matches!(
            LinearModel::read(one_bit_more.as_slice()),
            Err(ModelError::Damaged(_))
        ));
        assert!(matches!(
            LinearModel::read(&b"not a model"[..]),
            Err(ModelError::NotAModel)
        ));
        let mut outdated = bytes.clone();
        outdated[..8].copy_from_slice(MAGIC_TRIGRAMS);
        assert!(matches!(
            LinearModel::read(outdated.as_slice()),
            Err(ModelError::Outdated)
        ));
        assert!(
            LinearModel::read(&bytes[..bytes.len() - 3]).is_err(),
            "a cut file is refused"
        );
    }

    #[test]
    fn a_16_bit_model_of_an_earlier_release_still_reads() {
        let mut file = MAGIC_16_BIT.to_vec();
        file.extend(BUCKET_BITS.to_le_bytes());
        file.extend(0.5f32.to_le_bytes()); // bias
        file.extend(0.25f32.to_le_bytes()); // scale
        file.extend(2u32.to_le_bytes()); // weights
        file.extend([0x03, 0x04, 0x00]); // bucket 3: 4 steps
        file.extend([0x82, 0x01, 0xfe, 0xff]); // bucket 3 + 130: -2 steps
        let model = LinearModel::read(file.as_slice()).unwrap();
        assert_eq!(model.bias, 0.5);
        assert_eq!((model.weights[3], model.weights[133]), (1.0, -0.5));
        assert_eq!(model.weights.iter().filter(|w| **w != 0.0).count(), 2);
        assert!(
            LinearModel::read(&file[..file.len() - 1]).is_err(),
            "a cut file is refused"
        );
    }

    #[test]
    fn handles_links_and_numbers_are_placeholders() {
        assert_eq!(normalise_token("@skyways"), "<user>");
        assert_eq!(normalise_token("https://t.co/x"), "<url>");
        assert_eq!(normalise_token("12:30"), "<num>");
        assert_eq!(normalise_token("\"late!\""), "late!");
        assert_eq!(
            buckets_of("@one waited 3 hours"),
            buckets_of("@two waited 5 hours")
        );
    }

    #[test]
    fn inflections_share_a_prefix_and_pairs_reach_over_one_word() {
        let shared = |a: &str, b: &str| {
            let b = buckets_of(b);
            buckets_of(a).into_iter().filter(|x| b.contains(x)).count()
        };
        assert_eq!(shared("refunded", "refunds"), 1, "the prefix \"refun\"");
        assert_eq!(shared("late", "later"), 0, "short words stand alone");
        // "not", "once", and "not _ once" one word apart in both.
        assert_eq!(shared("not even once", "not ever once"), 3);
        assert_eq!(
            buckets_of("never arrived").len(),
            4,
            "2 words, 1 prefix, 1 pair"
        );
    }
}
