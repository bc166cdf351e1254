//! Builds recorder op batches in the wire format of `component/src/recorder/ops.rs`.

use wasmtime_host::{AttributeValue, Config, InstrumentationScope, KeyValue, OpBatch, Sampler};

use wasm_otlp_component::recorder::ops::value_type;
pub use wasm_otlp_component::recorder::ops::{
    ATTR, CONFIGURE, END, EVENT, LINK, LOG, NAME, SCOPE, START, STATUS,
};

/// A span's identity as the recorder sees it (from `reserve-roots` or `reserve-span-ids`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct RecordedIds {
    /// The trace ID, big-endian.
    pub trace_id: u128,
    /// The span ID.
    pub span_id: u64,
    /// W3C trace flags.
    pub flags: u32,
}

impl RecordedIds {
    /// Whether the sampled flag is set.
    pub fn sampled(&self) -> bool {
        self.flags & 1 == 1
    }

    /// A child in the same trace with another span ID.
    pub fn child(&self, span_id: u64) -> Self {
        Self { span_id, ..*self }
    }

    /// The trace ID as OTLP bytes.
    pub fn trace_id_bytes(&self) -> Vec<u8> {
        self.trace_id.to_be_bytes().to_vec()
    }

    /// The span ID as OTLP bytes.
    pub fn span_id_bytes(&self) -> Vec<u8> {
        self.span_id.to_be_bytes().to_vec()
    }
}

/// Splits the words of `reserve-roots` (7 per root).
pub fn parse_roots(words: &[u32]) -> Vec<RecordedIds> {
    assert_eq!(
        words.len() % 7,
        0,
        "reserve-roots returned {} words",
        words.len()
    );
    words
        .chunks_exact(7)
        .map(|root| RecordedIds {
            trace_id: root[..4]
                .iter()
                .fold(0u128, |id, &word| (id << 32) | u128::from(word)),
            span_id: join(root[4], root[5]),
            flags: root[6],
        })
        .collect()
}

/// Splits the words of `reserve-span-ids` (2 per span ID).
pub fn parse_span_ids(words: &[u32]) -> Vec<u64> {
    assert_eq!(
        words.len() % 2,
        0,
        "reserve-span-ids returned {} words",
        words.len()
    );
    words
        .chunks_exact(2)
        .map(|pair| join(pair[0], pair[1]))
        .collect()
}

/// A double as the recorder takes it: its text (Rust's `{:?}` gives a JSON number for
/// finite doubles, `NaN` and `inf` for the rest, which the component drops as non-finite).
fn decimal(number: f64) -> String {
    format!("{number:?}")
}

fn join(hi: u32, lo: u32) -> u64 {
    (u64::from(hi) << 32) | u64::from(lo)
}

fn split(value: u64) -> [u32; 2] {
    [(value >> 32) as u32, value as u32]
}

fn trace_words(trace_id: u128) -> [u32; 4] {
    [
        (trace_id >> 96) as u32,
        (trace_id >> 64) as u32,
        (trace_id >> 32) as u32,
        trace_id as u32,
    ]
}

/// Everything `START` takes.
#[derive(Clone, Debug)]
pub struct Start<'a> {
    /// The span's IDs and flags.
    pub ids: RecordedIds,
    /// The parent span ID (0 = root).
    pub parent: u64,
    /// Whether the parent came from another process (flag bit 8).
    pub parent_is_remote: bool,
    /// 0 internal .. 4 consumer.
    pub kind: u32,
    /// Registered scope index.
    pub scope: u32,
    /// Span name.
    pub name: &'a str,
    /// W3C tracestate.
    pub trace_state: &'a str,
    /// Milliseconds after the time origin.
    pub start_ms: f64,
}

impl<'a> Start<'a> {
    /// An internal root span of the default scope.
    pub fn root(ids: RecordedIds, name: &'a str, start_ms: f64) -> Self {
        Self {
            ids,
            parent: 0,
            parent_is_remote: false,
            kind: 0,
            scope: 0,
            name,
            trace_state: "",
            start_ms,
        }
    }

    /// An internal child of `parent` in the same trace.
    pub fn child(ids: RecordedIds, parent: u64, name: &'a str, start_ms: f64) -> Self {
        Self {
            parent,
            ..Self::root(ids, name, start_ms)
        }
    }
}

/// An op batch under construction.
#[derive(Clone, Debug, Default)]
pub struct Ops {
    words: Vec<u32>,
    numbers: Vec<f64>,
    text: String,
    time_origin_unix_nanos: u64,
}

impl Ops {
    /// An empty batch whose times count from `time_origin_unix_nanos`.
    pub fn new(time_origin_unix_nanos: u64) -> Self {
        Self {
            time_origin_unix_nanos,
            ..Self::default()
        }
    }

    fn string(&mut self, text: &str) {
        self.words.push(text.encode_utf16().count() as u32);
        self.text.push_str(text);
    }

    fn span(&mut self, span_id: u64) {
        self.words.extend(split(span_id));
    }

    fn attribute(&mut self, attribute: &KeyValue) {
        self.string(&attribute.key);
        match &attribute.value {
            AttributeValue::String(text) => {
                self.words.push(value_type::STRING);
                self.string(text);
            }
            AttributeValue::Bool(flag) => self.words.extend([value_type::BOOL, u32::from(*flag)]),
            AttributeValue::S64(number) => {
                self.words.push(value_type::S64);
                self.words.extend(split(*number as u64));
            }
            AttributeValue::F64(number) => {
                self.words.push(value_type::F64);
                self.string(&decimal(*number));
            }
            AttributeValue::StringArray(texts) => {
                self.words
                    .extend([value_type::STRING_ARRAY, texts.len() as u32]);
                for text in texts {
                    self.string(text);
                }
            }
            AttributeValue::BoolArray(flags) => {
                self.words
                    .extend([value_type::BOOL_ARRAY, flags.len() as u32]);
                self.words.extend(flags.iter().map(|&flag| u32::from(flag)));
            }
            AttributeValue::S64Array(numbers) => {
                self.words
                    .extend([value_type::S64_ARRAY, numbers.len() as u32]);
                for &number in numbers {
                    self.words.extend(split(number as u64));
                }
            }
            AttributeValue::F64Array(numbers) => {
                self.words
                    .extend([value_type::F64_ARRAY, numbers.len() as u32]);
                for &number in numbers {
                    self.string(&decimal(number));
                }
            }
        }
    }

    /// `START`.
    pub fn start(&mut self, start: &Start<'_>) -> &mut Self {
        self.words.push(START);
        self.span(start.ids.span_id);
        self.words.extend(trace_words(start.ids.trace_id));
        self.span(start.parent);
        let remote = if start.parent_is_remote { 1 << 8 } else { 0 };
        self.words.push((start.ids.flags & 0xff) | remote);
        self.words.extend([start.kind, start.scope]);
        self.string(start.name);
        self.string(start.trace_state);
        self.numbers.push(start.start_ms);
        self
    }

    /// `ATTR`.
    pub fn attr(&mut self, span_id: u64, attribute: &KeyValue) -> &mut Self {
        self.words.push(ATTR);
        self.span(span_id);
        self.attribute(attribute);
        self
    }

    /// `EVENT`.
    pub fn event(
        &mut self,
        span_id: u64,
        name: &str,
        time_ms: f64,
        attributes: &[KeyValue],
    ) -> &mut Self {
        self.words.push(EVENT);
        self.span(span_id);
        self.string(name);
        self.numbers.push(time_ms);
        self.attributes(attributes);
        self
    }

    /// `LINK` from `span_id` to `linked`.
    pub fn link(
        &mut self,
        span_id: u64,
        linked: RecordedIds,
        trace_state: &str,
        attributes: &[KeyValue],
    ) -> &mut Self {
        self.words.push(LINK);
        self.span(span_id);
        self.words.extend(trace_words(linked.trace_id));
        self.span(linked.span_id);
        self.words.push(linked.flags);
        self.string(trace_state);
        self.attributes(attributes);
        self
    }

    /// `STATUS`.
    pub fn status(&mut self, span_id: u64, code: u32, message: &str) -> &mut Self {
        self.words.push(STATUS);
        self.span(span_id);
        self.words.push(code);
        self.string(message);
        self
    }

    /// `END`.
    pub fn end(&mut self, span_id: u64, end_ms: f64) -> &mut Self {
        self.words.push(END);
        self.span(span_id);
        self.numbers.push(end_ms);
        self
    }

    /// `LOG`: a record in `span`'s trace (`None`: in none).
    pub fn log(
        &mut self,
        span: Option<RecordedIds>,
        severity: u32,
        severity_text: &str,
        body: &str,
        time_ms: f64,
        attributes: &[KeyValue],
    ) -> &mut Self {
        self.words.push(LOG);
        match span {
            Some(ids) => {
                self.words.extend(trace_words(ids.trace_id));
                self.span(ids.span_id);
                self.words.push(ids.flags);
            }
            None => self.words.extend([0; 7]),
        }
        self.words.extend([severity, 0]);
        self.string(severity_text);
        self.string(body);
        self.attributes(attributes);
        self.numbers.push(time_ms);
        self
    }

    /// `NAME`.
    pub fn name(&mut self, span_id: u64, name: &str) -> &mut Self {
        self.words.push(NAME);
        self.span(span_id);
        self.string(name);
        self
    }

    /// `CONFIGURE`: the same settings as `setup.configure(config)`.
    pub fn configure(&mut self, config: &Config) -> &mut Self {
        let (sampler, ratio) = match config.sampler {
            Sampler::AlwaysOn => (0, 0.0),
            Sampler::AlwaysOff => (1, 0.0),
            Sampler::TraceIdRatio(ratio) => (2, ratio),
            Sampler::ParentBasedRatio(ratio) => (3, ratio),
        };
        let (l, b) = (&config.limits, &config.batch);
        self.words.extend([
            CONFIGURE,
            sampler,
            l.max_attributes,
            l.max_value_length,
            l.max_events,
            l.max_links,
            l.max_attributes_per_item,
            b.max_export_batch_size,
            b.max_export_batch_bytes,
            b.max_queue_size,
            b.scheduled_delay_ms,
            b.max_open_spans,
        ]);
        self.numbers.push(ratio);
        self.attributes(&config.resource);
        self.scope_fields(&config.default_scope);
        self
    }

    /// `SCOPE`: registers `scope` as the next scope index.
    pub fn scope(&mut self, scope: &InstrumentationScope) -> &mut Self {
        self.words.push(SCOPE);
        self.scope_fields(scope);
        self
    }

    fn scope_fields(&mut self, scope: &InstrumentationScope) {
        self.string(&scope.name);
        self.string(&scope.version);
        self.attributes(&scope.attributes);
    }

    fn attributes(&mut self, attributes: &[KeyValue]) {
        self.words.push(attributes.len() as u32);
        for attribute in attributes {
            self.attribute(attribute);
        }
    }

    /// Appends raw words (for malformed input).
    pub fn raw_words(&mut self, words: &[u32]) -> &mut Self {
        self.words.extend_from_slice(words);
        self
    }

    /// How many words the batch holds so far.
    pub fn word_count(&self) -> usize {
        self.words.len()
    }

    /// The batch to hand to `recorder.apply`.
    pub fn batch(&self) -> OpBatch {
        OpBatch {
            words: self.words.clone(),
            numbers: self.numbers.clone(),
            text: self.text.clone(),
            time_origin_unix_nanos: self.time_origin_unix_nanos,
        }
    }

    /// Empties the batch, keeping its time origin and its buffers' capacity.
    pub fn clear(&mut self) {
        self.words.clear();
        self.numbers.clear();
        self.text.clear();
    }
}
