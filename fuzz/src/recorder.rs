//! The `recorder` target: bytes -> op batches -> `recorder::apply` -> ticks, flushes and a
//! shutdown, so that the tracer's limits, batching and OTLP/JSON encoder run on whatever
//! was decoded. Nothing may panic, and every payload must be JSON with the span count the
//! tracer claims ([`crate::host::check_payload`]).
//!
//! The first byte of an input picks one of two readings of the rest:
//! - bit 0 clear, *raw*: the rest is one batch as bytes ([`raw_batch`]). The committed
//!   seeds are valid batches in this form, so libFuzzer's mutations mostly keep span IDs
//!   and lengths consistent while they explore the decoder's edges (a wrong length, an
//!   unknown tag, an early end). Bits 1-2 pick the time origin, bit 3 a busy transport.
//! - bit 0 set, *structured*: the rest drives [`Unstructured`] to write mostly valid
//!   operations with [`Writer`] (span IDs from a small pool, lengths that match their
//!   strings, now and then a corrupted word), over several batches with clock ticks,
//!   flushes and a transport that comes and goes in between: tracer states that mutated
//!   raw batches seldom reach.

use arbitrary::{Result, Unstructured};
use wasm_otlp_component::ids::IdGenerator;
use wasm_otlp_component::recorder::ops::{self, value_type};
use wasm_otlp_component::recorder::{OpBatch, apply};
use wasm_otlp_component::tracer::Tracer;

use crate::host::FuzzHost;

/// Time origins an input can choose (bits 1-2 of a raw input's first byte): a realistic
/// one, and both ends of the range that times saturate to.
const ORIGINS: [u64; 4] = [
    1_700_000_000_000_000_000,
    0,
    u64::MAX,
    1_700_000_000_000_000_000,
];

/// Runs one input (the target's whole body).
pub fn run(data: &[u8]) {
    let Some((&control, rest)) = data.split_first() else {
        return;
    };
    let mut tracer = Tracer::new(IdGenerator::from_seed_bytes(&[42; 32]));
    if control & 1 == 0 {
        let origin = ORIGINS[usize::from(control >> 1 & 3)];
        let mut host = FuzzHost {
            now: origin,
            busy: control & 8 != 0,
        };
        let (words, numbers, text) = raw_batch(rest);
        let batch = OpBatch {
            words: &words,
            numbers: &numbers,
            text,
            time_origin_unix_nanos: origin,
        };
        apply(&mut tracer, &mut host, &batch);
        finish(&mut tracer, &mut host);
    } else {
        let mut u = Unstructured::new(rest);
        let mut host = FuzzHost::default();
        // Running out of input ends the run early (`Err`); what ran still finishes.
        let _ = structured(&mut u, &mut tracer, &mut host);
        finish(&mut tracer, &mut host);
    }
}

/// Lets time pass, retries with the transport back, flushes, checks that nothing stayed
/// queued, and shuts down: every queued span is encoded and checked.
fn finish(tracer: &mut Tracer, host: &mut FuzzHost) {
    host.now = host.now.saturating_add(3_600_000_000_000);
    tracer.tick(host);
    host.busy = false;
    tracer.tick(host);
    tracer.force_flush(host);
    assert_eq!(
        tracer.next_deadline(),
        None,
        "a flush to a free transport leaves no queue"
    );
    tracer.shutdown(host);
}

/// A raw input's batch: a u16 word count, the words (u32), a u8 count of numbers, the
/// numbers (f64), then the text; all little-endian. Input that ends early gives what it
/// has; the text ends before its first invalid UTF-8 byte.
pub fn raw_batch(bytes: &[u8]) -> (Vec<u32>, Vec<f64>, &str) {
    let (count, rest) = split(bytes, 2);
    let count = usize::from(u16::from_le_bytes([
        count.first().copied().unwrap_or(0),
        count.get(1).copied().unwrap_or(0),
    ]));
    let (words, rest) = split(rest, count * 4);
    let words = words
        .chunks_exact(4)
        .map(|w| u32::from_le_bytes(w.try_into().unwrap()))
        .collect();
    let (count, rest) = split(rest, 1);
    let count = usize::from(count.first().copied().unwrap_or(0));
    let (numbers, text) = split(rest, count * 8);
    let numbers = numbers
        .chunks_exact(8)
        .map(|n| f64::from_le_bytes(n.try_into().unwrap()))
        .collect();
    let text = match std::str::from_utf8(text) {
        Ok(text) => text,
        Err(e) => std::str::from_utf8(&text[..e.valid_up_to()]).unwrap(),
    };
    (words, numbers, text)
}

/// `bytes` split after `n` bytes, or all of it and nothing.
fn split(bytes: &[u8], n: usize) -> (&[u8], &[u8]) {
    bytes.split_at(n.min(bytes.len()))
}

/// Writes operations the way the browser SDK's writer does (format in the component's
/// `recorder/ops.rs`).
#[derive(Clone, Debug, Default)]
pub struct Writer {
    /// Opcodes and integer operands.
    pub words: Vec<u32>,
    /// Times and the sampler's ratio.
    pub numbers: Vec<f64>,
    /// The strings, concatenated.
    pub text: String,
}

impl Writer {
    /// A 64-bit operand as two words, high first.
    pub fn u64(&mut self, x: u64) {
        self.words.extend([(x >> 32) as u32, x as u32]);
    }

    /// A string operand: its UTF-16 length, and the string into the text.
    pub fn string(&mut self, s: &str) {
        self.words.push(s.encode_utf16().count() as u32);
        self.text.push_str(s);
    }

    /// An opcode and the span it names.
    pub fn op(&mut self, opcode: u32, span: u64) {
        self.words.push(opcode);
        self.u64(span);
    }

    /// The batch as a raw input (see [`run`]) whose first byte is `control`.
    pub fn raw_input(&self, control: u8) -> Vec<u8> {
        let words = u16::try_from(self.words.len()).expect("at most 65,535 words");
        let numbers = u8::try_from(self.numbers.len()).expect("at most 255 numbers");
        let mut bytes = vec![control & !1];
        bytes.extend(words.to_le_bytes());
        bytes.extend(self.words.iter().flat_map(|w| w.to_le_bytes()));
        bytes.push(numbers);
        bytes.extend(self.numbers.iter().flat_map(|n| n.to_le_bytes()));
        bytes.extend(self.text.as_bytes());
        bytes
    }
}

/// Span IDs of the structured reading: a few, so that operations meet the spans that
/// earlier ones started (0 is invalid).
const SPAN_IDS: [u64; 8] = [
    0x1111_1111_1111_1111,
    0x2222_2222_2222_2222,
    0x3333_3333_3333_3333,
    1,
    u64::MAX,
    0x8000_0000_0000_0000,
    0xffff_ffff,
    0,
];

/// Strings that test the encoder's escaping and the UTF-16 lengths, numbers' texts, and
/// `tracestate` values.
const STRINGS: [&str; 20] = [
    "",
    "GET /api/items?id=1",
    "é€",
    "😀",
    "a😀b",
    "\"\\/\u{0}\u{8}\u{c}\n\r\t\u{1f}\u{7f}",
    "\u{2028}\u{2029}\u{fffd}",
    "0",
    "-0",
    "0.25",
    "-1.5E-7",
    "1e400",
    "NaN",
    "Infinity",
    "01",
    "1.",
    "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE",
    "a=b,,c=d",
    "key=value with space",
    "http.response.status_code",
];

/// Ratios and times: ordinary, out of range, not finite.
const NUMBERS: [f64; 12] = [
    0.0,
    -0.0,
    0.5,
    1.0,
    1.5,
    -1.0,
    1e300,
    -1e300,
    f64::NAN,
    f64::INFINITY,
    4_503_599_627_370_495.5,
    f64::MIN_POSITIVE,
];

/// Limits and batch settings: zero, small, the defaults' sizes, the largest.
const SETTINGS: [u32; 8] = [0, 1, 2, 3, 8, 128, 4096, u32::MAX];

/// The structured reading: batches of operations, with ticks, flushes, a transport that
/// comes and goes and now and then a shutdown in between.
fn structured(u: &mut Unstructured, tracer: &mut Tracer, host: &mut FuzzHost) -> Result<()> {
    let origin = ORIGINS[u.choose_index(ORIGINS.len())?];
    host.now = origin;
    for _ in 0..64 {
        if u.is_empty() {
            break;
        }
        match u.int_in_range(0..=15u8)? {
            0..=9 => {
                let mut w = Writer::default();
                for _ in 0..u.int_in_range(1..=16)? {
                    op(u, &mut w)?;
                }
                let batch = OpBatch {
                    words: &w.words,
                    numbers: &w.numbers,
                    text: &w.text,
                    time_origin_unix_nanos: origin,
                };
                apply(tracer, host, &batch);
            }
            10 | 11 => {
                host.now = host.now.saturating_add(u.int_in_range(0..=10_000_000_000)?);
                tracer.tick(host);
            }
            12 | 13 => host.busy = !host.busy,
            14 => tracer.force_flush(host),
            _ => {
                if u.ratio(1, 8)? {
                    tracer.shutdown(host);
                }
            }
        }
    }
    Ok(())
}

/// Writes one operation, nearly always a well-formed one.
fn op(u: &mut Unstructured, w: &mut Writer) -> Result<()> {
    match u.int_in_range(0..=31u8)? {
        0..=5 => {
            w.op(ops::START, span_id(u)?);
            trace_id(u, w)?;
            let parent = if u.arbitrary()? { 0 } else { span_id(u)? };
            w.u64(parent);
            // Sampled, sampled with a remote parent, unsampled, or anything.
            let flags = [1, 0x101, 0, u.arbitrary()?];
            w.words.push(flags[u.choose_index(flags.len())?]);
            w.words.push(mostly(u, 0..=4)?);
            w.words.push(mostly(u, 0..=2)?);
            string(u, w)?;
            string(u, w)?;
            time(u, w)?;
        }
        6..=11 => {
            w.op(ops::ATTR, span_id(u)?);
            attribute(u, w)?;
        }
        12..=14 => {
            w.op(ops::EVENT, span_id(u)?);
            string(u, w)?;
            time(u, w)?;
            attributes(u, w)?;
        }
        15..=16 => {
            w.op(ops::LINK, span_id(u)?);
            trace_id(u, w)?;
            w.u64(span_id(u)?);
            w.words.push(u.arbitrary()?);
            string(u, w)?;
            attributes(u, w)?;
        }
        17..=19 => {
            w.op(ops::STATUS, span_id(u)?);
            w.words.push(mostly(u, 0..=2)?);
            string(u, w)?;
        }
        20..=25 => {
            w.op(ops::END, span_id(u)?);
            time(u, w)?;
        }
        26 => {
            w.op(ops::NAME, span_id(u)?);
            string(u, w)?;
        }
        27..=28 => {
            w.words.push(ops::CONFIGURE);
            w.words.push(mostly(u, 0..=3)?);
            let ratio = [0.0, 0.25, 1.0, u.arbitrary()?];
            w.numbers.push(ratio[u.choose_index(ratio.len())?]);
            for _ in 0..9 {
                let setting = if u.ratio(1, 8)? {
                    u.arbitrary()?
                } else {
                    SETTINGS[u.choose_index(SETTINGS.len())?]
                };
                w.words.push(setting);
            }
            attributes(u, w)?;
            scope(u, w)?;
        }
        29..=30 => {
            w.words.push(ops::SCOPE);
            scope(u, w)?;
        }
        // A corrupted word: anything, an opcode out of place, say.
        _ => w.words.push(u.arbitrary()?),
    }
    Ok(())
}

/// A word in `range` 31 times in 32, else any word.
fn mostly(u: &mut Unstructured, range: std::ops::RangeInclusive<u32>) -> Result<u32> {
    if u.ratio(1, 32)? {
        u.arbitrary()
    } else {
        u.int_in_range(range)
    }
}

/// A span ID from [`SPAN_IDS`], now and then any.
fn span_id(u: &mut Unstructured) -> Result<u64> {
    if u.ratio(1, 16)? {
        u.arbitrary()
    } else {
        Ok(SPAN_IDS[u.choose_index(SPAN_IDS.len())?])
    }
}

/// Writes a trace ID: one of three (the last invalid), now and then any.
fn trace_id(u: &mut Unstructured, w: &mut Writer) -> Result<()> {
    let (hi, lo) = match u.int_in_range(0..=15u8)? {
        0..=9 => (0x4bf9_2f35_77b3_4da6, 0xa3ce_929d_0e0e_4736),
        10..=12 => (0, 1),
        13 => (0, 0),
        _ => (u.arbitrary()?, u.arbitrary()?),
    };
    w.u64(hi);
    w.u64(lo);
    Ok(())
}

/// Writes a string: one of [`STRINGS`], a run of one character, or any; its length is
/// wrong one time in 64.
fn string(u: &mut Unstructured, w: &mut Writer) -> Result<()> {
    let s = match u.int_in_range(0..=7u8)? {
        0..=3 => STRINGS[u.choose_index(STRINGS.len())?].to_owned(),
        4 => {
            // Mostly short; one in 16 about as long as the default `max-value-length`
            // (4096 bytes), to cut it in the middle of a character.
            let c = ['x', 'é', '€', '😀', '"'][u.choose_index(5)?];
            let n = if u.ratio(1, 16)? {
                u.int_in_range(1020..=4100)?
            } else {
                u.int_in_range(0..=100)?
            };
            std::iter::repeat_n(c, n).collect()
        }
        _ => u.arbitrary::<&str>()?.to_owned(),
    };
    if u.ratio(1, 64)? {
        w.words.push(u.int_in_range(0..=s.len() as u32 + 2)?);
        w.text.push_str(&s);
    } else {
        w.string(&s);
    }
    Ok(())
}

/// Writes a time: mostly milliseconds within a few minutes, else one of [`NUMBERS`] or any.
fn time(u: &mut Unstructured, w: &mut Writer) -> Result<()> {
    let ms = match u.int_in_range(0..=7u8)? {
        0..=5 => f64::from(u.int_in_range(0..=1_000_000u32)?) / 4.0,
        6 => NUMBERS[u.choose_index(NUMBERS.len())?],
        _ => u.arbitrary()?,
    };
    w.numbers.push(ms);
    Ok(())
}

/// Writes a scope: name, version, attributes.
fn scope(u: &mut Unstructured, w: &mut Writer) -> Result<()> {
    string(u, w)?;
    string(u, w)?;
    attributes(u, w)
}

/// Writes a count (0-4; any, one time in 64) and that many attributes.
fn attributes(u: &mut Unstructured, w: &mut Writer) -> Result<()> {
    let count = if u.ratio(1, 64)? {
        u.arbitrary()?
    } else {
        u.int_in_range(0..=4)?
    };
    w.words.push(count);
    for _ in 0..count.min(4) {
        attribute(u, w)?;
    }
    Ok(())
}

/// Writes an attribute: key, type (one of the eight, nearly always) and its payload.
fn attribute(u: &mut Unstructured, w: &mut Writer) -> Result<()> {
    string(u, w)?;
    let kind = mostly(u, 0..=7)?;
    w.words.push(kind);
    let scalar = |u: &mut Unstructured, w: &mut Writer, kind| -> Result<()> {
        match kind {
            value_type::STRING | value_type::F64 => string(u, w)?,
            value_type::BOOL => w.words.push(mostly(u, 0..=1)?),
            value_type::S64 => w.u64(u.arbitrary()?),
            _ => {}
        }
        Ok(())
    };
    if (value_type::STRING_ARRAY..=value_type::F64_ARRAY).contains(&kind) {
        let n = u.int_in_range(0..=4)?;
        w.words.push(n);
        for _ in 0..n {
            scalar(u, w, kind - value_type::STRING_ARRAY)?;
        }
    } else {
        scalar(u, w, kind)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_raw_batch_reads_back() {
        let mut w = Writer::default();
        w.op(ops::END, 7);
        w.numbers.push(1.5);
        w.string("é😀");
        let bytes = w.raw_input(0);
        let (words, numbers, text) = raw_batch(&bytes[1..]);
        assert_eq!(
            (words, numbers, text),
            (w.words, w.numbers, w.text.as_str())
        );
        // Early ends and invalid UTF-8 give what came before.
        assert_eq!(raw_batch(&[2, 0, 1, 0, 0]), (vec![], vec![], ""));
        assert_eq!(raw_batch(&[0, 0, 0, b'a', 0xff]), (vec![], vec![], "a"));
    }
}
