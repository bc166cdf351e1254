//! The browser's hot path: applies a batch of span operations that the host recorded
//! without crossing into the component (format in [`ops`]), settings included. Malformed
//! input stops the batch at that point with a message; refused operations (unknown span,
//! limits, invalid settings) are counted, the first one's reason kept, and the rest still
//! apply. Nothing here can trap.

pub mod ops;
mod text;

use alloc::{borrow::ToOwned, string::String, vec::Vec};

use crate::config::{BatchSettings, Config, ScopeConfig};
use crate::limits::SpanLimits;
use crate::model::{Decimal, KeyValue, SpanContext, SpanKind, Status, TraceId, Value};
use crate::msg::{concat, int};
use crate::propagation::validate_tracestate;
use crate::sampler::Sampler;
use crate::tracer::{Host, LogInput, Tracer, TracingError};
use text::TextCursor;

/// One recorded batch.
pub struct OpBatch<'a> {
    /// Opcodes and integer operands.
    pub words: &'a [u32],
    /// Times and float values.
    pub numbers: &'a [f64],
    /// Every string of the batch, concatenated.
    pub text: &'a str,
    /// Unix nanoseconds that times in `numbers` count from (in milliseconds).
    pub time_origin_unix_nanos: u64,
}

/// What [`apply`] did.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Outcome {
    /// Operations applied.
    pub applied: u32,
    /// Operations refused one by one.
    pub refused: u32,
    /// Why the first refused operation was refused.
    pub first_refusal: Option<String>,
    /// Why decoding stopped early, if it did.
    pub malformed: Option<String>,
}

/// Applies `batch` to `tracer`.
pub fn apply(tracer: &mut Tracer, host: &mut impl Host, batch: &OpBatch<'_>) -> Outcome {
    let mut reader = Reader {
        words: batch.words,
        numbers: batch.numbers,
        text: TextCursor::new(batch.text),
        origin: batch.time_origin_unix_nanos,
    };
    let mut outcome = Outcome::default();
    while !reader.words.is_empty() {
        match reader.op(tracer, host) {
            Ok(Ok(())) => outcome.applied += 1,
            Ok(Err(refusal)) => {
                outcome.refused += 1;
                outcome
                    .first_refusal
                    .get_or_insert_with(|| refusal.message());
            }
            Err(why) => {
                let offset = batch.words.len() - reader.words.len();
                outcome.malformed = Some(concat(&[&why, " (near word ", &int(offset), ")"]));
                tracer.count_rejected();
                break;
            }
        }
    }
    outcome
}

/// `x` rounded to the nearest integer, halves away from zero: `f64::round`, which needs
/// std (`x` is finite).
fn round(x: f64) -> f64 {
    // From 2^52 on, every double is an integer.
    if x.abs() >= 4_503_599_627_370_496.0 {
        return x;
    }
    let whole = x as i64 as f64;
    // Exact below 2^52.
    let fraction = x - whole;
    let rounded = if fraction >= 0.5 {
        whole + 1.0
    } else if fraction <= -0.5 {
        whole - 1.0
    } else {
        whole
    };
    rounded.copysign(x)
}

/// Sequential reader over the three streams.
struct Reader<'a> {
    words: &'a [u32],
    numbers: &'a [f64],
    text: TextCursor<'a>,
    origin: u64,
}

type Decoded<T> = Result<T, String>;

impl<'a> Reader<'a> {
    /// Decodes one operation and applies it: the outer error says the batch is malformed
    /// (nothing of this operation applied), the inner one that the tracer refused it.
    fn op(
        &mut self,
        tracer: &mut Tracer,
        host: &mut impl Host,
    ) -> Decoded<Result<(), TracingError>> {
        let opcode = self.word()?;
        Ok(match opcode {
            ops::CONFIGURE => {
                let config = self.config()?;
                tracer.configure(host, config)
            }
            ops::SCOPE => {
                let ScopeConfig {
                    name,
                    version,
                    attributes,
                } = self.scope()?;
                tracer.register_scope(name, version, attributes).map(drop)
            }
            ops::CLOCK => {
                let ms = self.number()?;
                if !ms.is_finite() {
                    return Err("a clock correction is not a finite number".into());
                }
                // Saturating: a correction beyond ±292 years is no clock's.
                tracer.set_clock_correction(round(ms * 1e6) as i64);
                Ok(())
            }
            ops::LOG => {
                let log = self.log()?;
                tracer.emit_log(host, log)
            }
            _ => {
                let span = self.u64()?;
                self.span_op(opcode, span, tracer, host)?
            }
        })
    }

    /// Decodes and applies one operation on `span` (errors as in [`Self::op`]).
    fn span_op(
        &mut self,
        opcode: u32,
        span: u64,
        tracer: &mut Tracer,
        host: &mut impl Host,
    ) -> Decoded<Result<(), TracingError>> {
        Ok(match opcode {
            ops::START => {
                let trace_id = self.trace_id()?;
                let parent = self.u64()?;
                let flags = self.word()?;
                let kind = self.kind()?;
                let scope = self.word()?;
                let name = self.string()?;
                let trace_state = self.trace_state()?;
                let time = self.time()?;
                let context = SpanContext {
                    trace_id,
                    span_id: span,
                    trace_flags: flags as u8,
                    trace_state,
                    is_remote: false,
                };
                if !context.is_sampled() {
                    return Ok(Ok(()));
                }
                let parent_is_remote = flags & 0x100 != 0;
                tracer.open_recorded(
                    context,
                    parent,
                    parent_is_remote,
                    name.into(),
                    kind,
                    scope,
                    time,
                )
            }
            ops::ATTR => {
                let attribute = self.attribute()?;
                tracer.set_attributes(span, [attribute])
            }
            ops::EVENT => {
                let name = self.string()?;
                let time = self.time()?;
                let attributes = self.attributes()?;
                tracer.add_event(host, span, name.into(), attributes, Some(time))
            }
            ops::LINK => {
                let trace_id = self.trace_id()?;
                let span_id = self.u64()?;
                let trace_flags = self.word()? as u8;
                let trace_state = self.trace_state()?;
                let context = SpanContext {
                    trace_id,
                    span_id,
                    trace_flags,
                    trace_state,
                    is_remote: false,
                };
                let attributes = self.attributes()?;
                tracer.add_link(span, context, attributes)
            }
            ops::STATUS => {
                let code = self.word()?;
                let message = self.string()?;
                let status = match code {
                    0 => Status::Unset,
                    1 => Status::Ok,
                    2 => Status::Error(message.into()),
                    _ => return Err(concat(&["status code ", &int(code), " is not 0, 1 or 2"])),
                };
                tracer.set_status(span, status)
            }
            ops::END => {
                let time = self.time()?;
                tracer.end_recorded(host, span, Some(time))
            }
            ops::NAME => {
                let name = self.string()?;
                tracer.update_name(span, name.into())
            }
            _ => return Err(concat(&["unknown opcode ", &int(opcode)])),
        })
    }

    fn config(&mut self) -> Decoded<Config> {
        let sampler = self.word()?;
        let ratio = self.number()?;
        let sampler = match sampler {
            0 => Sampler::AlwaysOn,
            1 => Sampler::AlwaysOff,
            2 => Sampler::TraceIdRatio(ratio),
            3 => Sampler::ParentBasedRatio(ratio),
            other => return Err(concat(&["sampler ", &int(other), " is not 0-3"])),
        };
        let limits = SpanLimits {
            max_attributes: self.word()?,
            max_value_length: self.word()?,
            max_events: self.word()?,
            max_links: self.word()?,
            max_attributes_per_item: self.word()?,
        };
        let batch = BatchSettings {
            max_export_batch_size: self.word()?,
            max_export_batch_bytes: self.word()?,
            max_queue_size: self.word()?,
            scheduled_delay_ms: self.word()?,
            max_open_spans: self.word()?,
        };
        Ok(Config {
            resource: self.attributes()?,
            default_scope: self.scope()?,
            sampler,
            limits,
            batch,
        })
    }

    fn log(&mut self) -> Decoded<LogInput> {
        let context = SpanContext {
            trace_id: self.trace_id()?,
            span_id: self.u64()?,
            trace_flags: self.word()? as u8,
            ..SpanContext::default()
        };
        let severity_number = self.word()?;
        let scope = self.word()?;
        let severity_text = self.string()?.into();
        let body = Value::String(self.string()?.into());
        let attributes = self.attributes()?;
        let time = self.time()?;
        Ok(LogInput {
            time: Some(time),
            // Out of range stays out of range (the tracer refuses it) rather than wrapping.
            severity_number: severity_number.min(255) as u8,
            severity_text,
            body,
            attributes,
            dropped_attributes: 0,
            context: Some(context),
            scope,
        })
    }

    fn scope(&mut self) -> Decoded<ScopeConfig> {
        Ok(ScopeConfig {
            name: self.string()?.into(),
            version: self.string()?.into(),
            attributes: self.attributes()?,
        })
    }

    fn word(&mut self) -> Decoded<u32> {
        let (&first, rest) = self
            .words
            .split_first()
            .ok_or("the words end inside an operation")?;
        self.words = rest;
        Ok(first)
    }

    fn u64(&mut self) -> Decoded<u64> {
        Ok(u64::from(self.word()?) << 32 | u64::from(self.word()?))
    }

    fn trace_id(&mut self) -> Decoded<TraceId> {
        Ok(TraceId {
            hi: self.u64()?,
            lo: self.u64()?,
        })
    }

    fn number(&mut self) -> Decoded<f64> {
        let (&first, rest) = self
            .numbers
            .split_first()
            .ok_or("the numbers end inside an operation")?;
        self.numbers = rest;
        Ok(first)
    }

    /// Milliseconds after the origin, as Unix nanoseconds.
    fn time(&mut self) -> Decoded<u64> {
        let ms = self.number()?;
        if !ms.is_finite() {
            return Err("a time is not a finite number".into());
        }
        // Whole nanoseconds from the origin, clamped to 0..=u64::MAX: `as` saturates (and
        // `ms * 1e6` may be infinite), so no wider integer arithmetic is needed.
        let ns = round(ms * 1e6);
        Ok(if ns >= 0.0 {
            self.origin.saturating_add(ns as u64)
        } else {
            self.origin.saturating_sub(-ns as u64)
        })
    }

    fn string(&mut self) -> Decoded<&'a str> {
        let units = self.word()?;
        self.text.take(units).ok_or_else(|| {
            concat(&[
                "the text ends before a string of ",
                &int(units),
                " UTF-16 units",
            ])
        })
    }

    /// A double given as its text (not a JSON number: not finite, so dropped later).
    fn decimal(&mut self) -> Decoded<Decimal> {
        Ok(Decimal::parse(self.string()?))
    }

    /// A `tracestate`; an invalid one is dropped, as in header extraction.
    fn trace_state(&mut self) -> Decoded<String> {
        Ok(validate_tracestate(self.string()?).unwrap_or_default())
    }

    fn kind(&mut self) -> Decoded<SpanKind> {
        Ok(match self.word()? {
            0 => SpanKind::Internal,
            1 => SpanKind::Server,
            2 => SpanKind::Client,
            3 => SpanKind::Producer,
            4 => SpanKind::Consumer,
            other => return Err(concat(&["span kind ", &int(other), " is not 0-4"])),
        })
    }

    fn attributes(&mut self) -> Decoded<Vec<KeyValue>> {
        let count = self.word()?;
        // Never trust a count for allocation: each attribute takes at least two words.
        let mut attributes = Vec::with_capacity((count as usize).min(self.words.len() / 2));
        for _ in 0..count {
            attributes.push(self.attribute()?);
        }
        Ok(attributes)
    }

    fn attribute(&mut self) -> Decoded<KeyValue> {
        let key = self.string()?.to_owned();
        let value = match self.word()? {
            ops::value_type::STRING => Value::String(self.string()?.into()),
            ops::value_type::BOOL => Value::Bool(self.word()? != 0),
            ops::value_type::S64 => Value::Int(self.u64()? as i64),
            ops::value_type::F64 => Value::Double(self.decimal()?),
            ops::value_type::STRING_ARRAY => {
                Value::StringArray(self.array(|r| Ok(r.string()?.to_owned()))?)
            }
            ops::value_type::BOOL_ARRAY => Value::BoolArray(self.array(|r| Ok(r.word()? != 0))?),
            ops::value_type::S64_ARRAY => Value::IntArray(self.array(|r| Ok(r.u64()? as i64))?),
            ops::value_type::F64_ARRAY => Value::DoubleArray(self.array(Reader::decimal)?),
            other => return Err(concat(&["attribute type ", &int(other), " is not 0-7"])),
        };
        Ok(KeyValue { key, value })
    }

    fn array<T>(&mut self, mut item: impl FnMut(&mut Self) -> Decoded<T>) -> Decoded<Vec<T>> {
        let count = self.word()?;
        let mut items =
            Vec::with_capacity((count as usize).min(self.words.len() + self.numbers.len()));
        for _ in 0..count {
            items.push(item(self)?);
        }
        Ok(items)
    }
}

#[cfg(test)]
mod tests {
    use super::ops::{self, value_type};
    use super::*;
    use crate::test_host::{TestHost, tracer};
    use proptest::prelude::*;

    #[test]
    fn rounds_like_std() {
        let mut values = vec![
            0.0,
            -0.0,
            0.5,
            -0.5,
            1.5,
            2.5,
            -2.5,
            0.49999999999999994,
            -0.49999999999999994,
            4_503_599_627_370_495.5,
            -4_503_599_627_370_495.5,
            4_503_599_627_370_496.0,
            9_007_199_254_740_993.0,
            1e300,
            -1e300,
            f64::MAX,
            f64::MIN,
            f64::MIN_POSITIVE,
        ];
        for i in -20_000..20_000 {
            let v = f64::from(i) / 8.0;
            values.extend([v, v + 1e-9, v - 1e-9, v * 1e9 + 0.5, v * 1.000_000_1e6]);
        }
        for v in values {
            assert_eq!(round(v).to_bits(), v.round().to_bits(), "{v}");
        }
    }

    #[test]
    fn times_clamp_to_the_u64_range() {
        let time = |origin: u64, ms: f64| {
            let numbers = [ms];
            let mut reader = Reader {
                words: &[],
                numbers: &numbers,
                text: TextCursor::new(""),
                origin,
            };
            reader.time().unwrap()
        };
        // What the time was before: i128 arithmetic, clamped.
        let wide = |origin: u64, ms: f64| {
            let ns = i128::from(origin).saturating_add(round(ms * 1e6) as i128);
            ns.clamp(0, i128::from(u64::MAX)) as u64
        };
        for origin in [0, 1, 1_700_000_000_000_000_000, u64::MAX - 1, u64::MAX] {
            for ms in [
                0.0,
                -0.0,
                0.4e-6,
                -0.6e-6,
                1.5,
                -1.5,
                1.7e12,
                -1.7e12,
                1.8e13,
                -1.8e13,
                1e300,
                -1e300,
                f64::MAX,
                f64::MIN,
            ] {
                assert_eq!(time(origin, ms), wide(origin, ms), "{origin} {ms}");
            }
        }
    }

    /// Builds op batches the way the browser glue does.
    #[derive(Default)]
    struct Builder {
        words: Vec<u32>,
        numbers: Vec<f64>,
        text: String,
    }

    impl Builder {
        fn string(&mut self, s: &str) {
            self.words.push(s.encode_utf16().count() as u32);
            self.text.push_str(s);
        }
        fn configure(&mut self, sampler: u32, ratio: f64, limits: [u32; 5], batch: [u32; 5]) {
            self.words.push(ops::CONFIGURE);
            self.words.push(sampler);
            self.numbers.push(ratio);
            self.words.extend(limits);
            self.words.extend(batch);
            self.words.push(1);
            self.string("service.name");
            self.words.push(value_type::STRING);
            self.string("checkout-web-frontend");
            self.scope("web", "1.0");
        }
        fn scope(&mut self, name: &str, version: &str) {
            self.string(name);
            self.string(version);
            self.words.push(0);
        }
        fn op(&mut self, opcode: u32, span: u64) {
            self.words
                .extend([opcode, (span >> 32) as u32, span as u32]);
        }
        fn apply(&self, t: &mut Tracer, host: &mut TestHost) -> Outcome {
            let batch = OpBatch {
                words: &self.words,
                numbers: &self.numbers,
                text: &self.text,
                time_origin_unix_nanos: 1_700_000_000_000_000_000,
            };
            apply(t, host, &batch)
        }
    }

    #[test]
    fn recorded_spans_reach_the_payload() {
        let (mut t, mut host) = (tracer(), TestHost::default());
        let root = t.reserve_root();
        let child = t.reserve_span_id();
        let mut b = Builder::default();
        let id = root.trace_id;
        for (span, parent, name) in [
            (root.span_id, 0, "page"),
            (child, root.span_id, "fetch é😀"),
        ] {
            b.op(ops::START, span);
            b.words.extend([
                (id.hi >> 32) as u32,
                id.hi as u32,
                (id.lo >> 32) as u32,
                id.lo as u32,
            ]);
            b.words
                .extend([(parent >> 32) as u32, parent as u32, 1, 2, 0]);
            b.string(name);
            b.string("");
            b.numbers.push(1.5);
        }
        b.op(ops::ATTR, child);
        b.string("http.response.status_code");
        b.words.extend([value_type::S64, u32::MAX, u32::MAX]);
        b.op(ops::EVENT, child);
        b.string("ttfb");
        b.numbers.push(2.0);
        b.words.push(1);
        b.string("ratio");
        b.words.push(value_type::F64_ARRAY);
        b.words.push(2);
        b.string("0.25");
        b.string("5e-1");
        // Not a JSON number: a non-finite double, dropped and counted.
        b.op(ops::ATTR, child);
        b.string("ratio");
        b.words.push(value_type::F64);
        b.string("NaN");
        b.op(ops::STATUS, child);
        b.words.push(2);
        b.string("HTTP 500");
        for span in [child, root.span_id] {
            b.op(ops::END, span);
            b.numbers.push(3.000001);
        }
        let outcome = b.apply(&mut t, &mut host);
        assert_eq!(
            outcome,
            Outcome {
                applied: 8,
                refused: 0,
                first_refusal: None,
                malformed: None
            }
        );
        t.force_flush(&mut host);
        let spans = host.spans();
        assert_eq!(spans.len(), 2);
        let fetch = &spans[0];
        assert_eq!(fetch["name"], "fetch é😀");
        assert_eq!(fetch["kind"], 3);
        assert_eq!(fetch["parentSpanId"], format!("{:016x}", root.span_id));
        assert_eq!(fetch["startTimeUnixNano"], "1700000000001500000");
        assert_eq!(fetch["endTimeUnixNano"], "1700000000003000001");
        assert_eq!(fetch["attributes"][0]["value"]["intValue"], "-1");
        assert_eq!(fetch["droppedAttributesCount"], 1);
        assert_eq!(
            fetch["events"][0]["attributes"][0]["value"]["arrayValue"]["values"][1]["doubleValue"],
            0.5
        );
        assert_eq!(fetch["status"]["message"], "HTTP 500");
    }

    #[test]
    fn settings_travel_as_operations() {
        let (mut t, mut host) = (tracer(), TestHost::default());
        let mut b = Builder::default();
        // Strings cut at 12 bytes, every span exported as soon as it ends.
        b.configure(0, 0.0, [128, 12, 128, 128, 128], [1, 0, 4, 1000, 8]);
        b.words.push(ops::SCOPE);
        b.scope("fetch", "2.0");
        // Refused, with its reason: a batch larger than the queue.
        b.configure(0, 0.0, [128, 8, 128, 128, 128], [8, 0, 4, 1000, 8]);
        let root = t.reserve_root();
        let id = root.trace_id;
        b.op(ops::START, root.span_id);
        b.words.extend([
            (id.hi >> 32) as u32,
            id.hi as u32,
            (id.lo >> 32) as u32,
            id.lo as u32,
            0,
            0,
            1,
            0,
            1,
        ]);
        b.string("GET");
        b.string("");
        b.numbers.push(0.0);
        b.op(ops::END, root.span_id);
        b.numbers.push(1.0);
        let outcome = b.apply(&mut t, &mut host);
        assert_eq!((outcome.applied, outcome.refused), (4, 1));
        assert!(
            outcome.first_refusal.unwrap().contains("max-queue-size"),
            "the reason of the refused configure"
        );
        assert_eq!(outcome.malformed, None);

        assert_eq!(host.sent.len(), 1, "a batch of one leaves at once");
        let resource_spans = &host.sent[0].0["resourceSpans"][0];
        let service = &resource_spans["resource"]["attributes"][0];
        assert_eq!(service["key"], "service.name");
        assert_eq!(service["value"]["stringValue"], "checkout-web");
        let scope = &resource_spans["scopeSpans"][0]["scope"];
        assert_eq!(
            (&scope["name"], &scope["version"]),
            (&"fetch".into(), &"2.0".into())
        );

        // An unknown sampler is malformed input, not a refusal.
        let mut b = Builder::default();
        b.configure(9, 0.0, [1; 5], [1; 5]);
        let outcome = b.apply(&mut t, &mut host);
        assert!(outcome.malformed.unwrap().contains("sampler 9 is not 0-3"));
    }

    #[test]
    fn malformed_input_stops_with_a_reason_and_keeps_what_came_before() {
        let (mut t, mut host) = (tracer(), TestHost::default());
        let mut b = Builder::default();
        b.op(ops::END, 99); // unknown span: refused, not malformed
        b.numbers.push(0.0);
        b.op(42, 1);
        let outcome = b.apply(&mut t, &mut host);
        assert_eq!(outcome.applied, 0);
        assert_eq!(outcome.refused, 1);
        assert_eq!(outcome.first_refusal.unwrap(), "no open span has this ID");
        assert!(outcome.malformed.unwrap().contains("unknown opcode 42"));
    }

    proptest! {
        #[test]
        fn arbitrary_input_never_panics(
            words in proptest::collection::vec(prop_oneof![0u32..10, any::<u32>()], 0..200),
            numbers in proptest::collection::vec(any::<f64>(), 0..20),
            text in ".{0,40}",
        ) {
            let (mut t, mut host) = (tracer(), TestHost::default());
            let batch = OpBatch { words: &words, numbers: &numbers, text: &text, time_origin_unix_nanos: u64::MAX };
            apply(&mut t, &mut host, &batch);
            t.force_flush(&mut host);
        }
    }
}
