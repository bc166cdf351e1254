//! The tracer: open spans, sampling at start, limits as data arrives, log records, the
//! bounded export queues and batching by size and by time. Free of I/O: the clock and the
//! transport are reached through [`Host`], so all of it is unit-tested natively.

use alloc::{boxed::Box, string::String, vec::Vec};

use crate::config::{BatchSettings, Config};
pub use crate::export_queue::Signal;
use crate::export_queue::{ExportQueue, Outlet, Pending, Queued};
use crate::ids::IdGenerator;
use crate::limits::{SpanLimits, truncate, truncate_value};
use crate::log_record::{LogRecord, MAX_SEVERITY};
use crate::model::{
    Attributes, Event, KeyValue, Link, SAMPLED, Scope, Span, SpanContext, SpanKind, Status,
    TraceId, Value,
};
use crate::msg::{concat, int};
use crate::sampler::Sampler;
use crate::span_map::SpanMap;

/// At most this many scopes can be registered (each costs memory for the component's life).
const MAX_SCOPES: usize = 256;

/// What the tracer needs from its environment.
pub trait Host {
    /// Now, in Unix nanoseconds.
    fn now(&mut self) -> u64;
    /// Hands one encoded OTLP/JSON request body of `signal` carrying `count` spans or log
    /// records to the transport; false when the transport is busy and did not take it
    /// (the tracer keeps the body and offers it again).
    fn send(&mut self, signal: Signal, body: &[u8], count: u32) -> bool;
}

/// Why an operation was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TracingError {
    /// No open span has this handle.
    UnknownSpan,
    /// `max_open_spans` reached.
    TooManyOpenSpans,
    /// The scope index was never registered.
    UnknownScope,
    /// The tracer was shut down.
    ShutDown,
    /// An argument is out of range.
    InvalidArgument(String),
}

impl TracingError {
    /// The refusal in words, for hosts that see no structured error (the recorder's
    /// `first-refusal`).
    pub fn message(self) -> String {
        match self {
            TracingError::UnknownSpan => "no open span has this ID".into(),
            TracingError::TooManyOpenSpans => "max-open-spans spans are open already".into(),
            TracingError::UnknownScope => "the scope index was never registered".into(),
            TracingError::ShutDown => "the tracer was shut down".into(),
            TracingError::InvalidArgument(why) => why,
        }
    }
}

/// Counters since start (mirrors the WIT `stats` record).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
#[allow(missing_docs)] // Each field is documented on the WIT record.
pub struct Stats {
    pub spans_started: u64,
    pub spans_unsampled: u64,
    pub spans_ended: u64,
    pub spans_exported: u64,
    pub spans_dropped_queue_full: u64,
    pub spans_refused_open_limit: u64,
    pub truncated_values: u64,
    pub payloads_sent: u64,
    pub rejected_operations: u64,
    pub logs_emitted: u64,
    pub logs_exported: u64,
    pub logs_dropped_queue_full: u64,
}

/// Where a new span hangs.
#[derive(Clone, Debug, Default, PartialEq)]
pub enum Parent {
    /// A new trace.
    #[default]
    None,
    /// An open span of this tracer.
    Span(u64),
    /// A context from elsewhere; an invalid one starts a new trace.
    Context(SpanContext),
}

/// Everything a span can be started with.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct StartOptions {
    /// Span kind.
    pub kind: SpanKind,
    /// Parent.
    pub parent: Parent,
    /// Initial attributes.
    pub attributes: Vec<KeyValue>,
    /// Links, each with its attributes.
    pub links: Vec<(SpanContext, Vec<KeyValue>)>,
    /// Unix nanoseconds; `None` = now.
    pub start_time: Option<u64>,
    /// Scope index.
    pub scope: u32,
}

/// A span the tracer tracks until it ends. Unsampled spans only carry their context.
///
/// Spans are boxed: a span moves from its start into the open-span map, out of it at its
/// end and into the queue, and moving a pointer is cheaper than copying its ~150 bytes
/// each time (the component's part of a span in Chromium went from 0.37 to 0.33 µs).
struct OpenSpan {
    span: Box<Span>,
    recording: bool,
}

/// The parts of a [`Config`] that the tracer consults after applying it (the resource
/// and the default scope are moved into their bounded forms instead of kept twice).
struct Settings {
    sampler: Sampler,
    limits: SpanLimits,
    batch: BatchSettings,
}

/// The tracing pipeline's state.
pub struct Tracer {
    ids: IdGenerator,
    config: Settings,
    resource: Attributes,
    scopes: Vec<Scope>,
    /// Open spans by ID.
    open: SpanMap<OpenSpan>,
    /// Ended spans waiting for export.
    spans: ExportQueue<Span>,
    /// Log records waiting for export.
    logs: ExportQueue<LogRecord>,
    stats: Stats,
    shut_down: bool,
    /// The transport refused the last payload: only `tick` and flushes try again.
    transport_busy: bool,
    /// Nanoseconds added to every time as it is encoded (`set_clock_correction`).
    clock_correction: i64,
    /// Spans entered and not yet ended, innermost last ([`Tracer::current_context`]).
    /// Changed only with methods that cannot panic with a formatted message (`Vec::remove`
    /// and `VecDeque` would bring core's number formatting, or half a KB to the browser
    /// build, which keeps this field empty).
    entered: Vec<Entered>,
}

/// A log record as a host hands it over, before limits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LogInput {
    /// When it happened (`None`: now).
    pub time: Option<u64>,
    /// OTLP `SeverityNumber`, 0 to 24.
    pub severity_number: u8,
    /// The severity as its source names it.
    pub severity_text: String,
    /// The body (a string, but from `wasi:otel`).
    pub body: Value,
    /// Its attributes.
    pub attributes: Vec<KeyValue>,
    /// Attributes its source dropped already (counted with those the limits drop).
    pub dropped_attributes: u32,
    /// The span it belongs to (a valid context), if any.
    pub context: Option<SpanContext>,
    /// Index of its instrumentation scope.
    pub scope: u32,
}

/// A span entered and not yet ended, and who entered it.
enum Entered {
    /// Started through the direct API (the host): its handle, its context read from the
    /// open spans when asked (no copy on the direct API's path).
    Host(u64),
    /// Announced by a guest's SDK (`on-start`).
    Guest(SpanContext),
}

impl Entered {
    fn span_id(&self) -> u64 {
        match self {
            Entered::Host(handle) => *handle,
            Entered::Guest(context) => context.span_id,
        }
    }
}

/// A span that another SDK recorded and ended (`wasi:otel`'s `on-end`), before the
/// tracer's sampler and limits.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct FinishedSpan {
    /// The span's context, as its SDK made it (`sampled` unset: it is not exported).
    pub context: SpanContext,
    /// Parent span ID, 0 for a root span.
    pub parent_span_id: u64,
    /// Span name.
    pub name: String,
    /// Span kind.
    pub kind: SpanKind,
    /// Unix nanoseconds.
    pub start_time: u64,
    /// Unix nanoseconds (never before the start once recorded).
    pub end_time: u64,
    /// Its attributes, with what its SDK (or reading them) dropped.
    pub attributes: Attributes,
    /// Events, oldest first.
    pub events: Vec<Event>,
    /// Events its SDK dropped.
    pub dropped_events: u32,
    /// Links.
    pub links: Vec<Link>,
    /// Links its SDK dropped.
    pub dropped_links: u32,
    /// Status.
    pub status: Status,
    /// The scope that recorded it, found among the registered scopes by name and
    /// version or registered on first sight.
    pub scope: Scope,
}

type Result<T> = core::result::Result<T, TracingError>;

impl Tracer {
    /// A tracer with the default configuration and IDs from `ids`.
    pub fn new(ids: IdGenerator) -> Self {
        let mut tracer = Tracer {
            ids,
            config: Settings {
                sampler: Sampler::default(),
                limits: SpanLimits::default(),
                batch: BatchSettings::default(),
            },
            resource: Attributes::default(),
            scopes: Vec::new(),
            open: SpanMap::new(),
            spans: ExportQueue::default(),
            logs: ExportQueue::default(),
            stats: Stats::default(),
            shut_down: false,
            transport_busy: false,
            clock_correction: 0,
            entered: Vec::new(),
        };
        tracer.apply_config(Config::default());
        tracer
    }

    /// Replaces the configuration after exporting what is queued under the old one.
    pub fn configure(&mut self, host: &mut impl Host, config: Config) -> Result<()> {
        let checked = config.validate().map_err(TracingError::InvalidArgument);
        self.tally(checked)?;
        self.force_flush(host);
        self.apply_config(config);
        Ok(())
    }

    fn apply_config(&mut self, config: Config) {
        let Config {
            resource,
            default_scope,
            sampler,
            limits,
            batch,
        } = config;
        // The new limits apply to the resource and the default scope alike.
        self.config = Settings {
            sampler,
            limits,
            batch,
        };
        let (resource, truncated) =
            Attributes::bounded(resource, limits.max_attributes, limits.max_value_length);
        self.resource = resource;
        self.stats.truncated_values += truncated;
        let default_scope = self.bounded_scope(
            default_scope.name,
            default_scope.version,
            default_scope.attributes,
        );
        if self.scopes.is_empty() {
            self.scopes.push(default_scope);
        } else {
            self.scopes[0] = default_scope;
        }
    }

    fn bounded_scope(
        &mut self,
        mut name: String,
        mut version: String,
        attributes: Vec<KeyValue>,
    ) -> Scope {
        let limits = self.config.limits;
        let (attributes, truncated) =
            Attributes::bounded(attributes, limits.max_attributes, limits.max_value_length);
        self.stats.truncated_values += truncated
            + u64::from(truncate(&mut name, limits.max_value_length))
            + u64::from(truncate(&mut version, limits.max_value_length));
        Scope {
            name,
            version,
            attributes,
        }
    }

    /// Registers another instrumentation scope and returns its index.
    pub fn register_scope(
        &mut self,
        name: String,
        version: String,
        attributes: Vec<KeyValue>,
    ) -> Result<u32> {
        if self.scopes.len() >= MAX_SCOPES {
            let refused = Err(TracingError::InvalidArgument(concat(&[
                "at most ",
                &int(MAX_SCOPES),
                " scopes can be registered",
            ])));
            return self.tally(refused);
        }
        let scope = self.bounded_scope(name, version, attributes);
        self.scopes.push(scope);
        Ok(self.scopes.len() as u32 - 1)
    }

    /// Starts a span: new IDs, the parent's trace, the sampler's decision.
    pub fn start_span(
        &mut self,
        host: &mut impl Host,
        name: String,
        options: StartOptions,
    ) -> Result<u64> {
        let parent = match options.parent {
            Parent::None => None,
            Parent::Span(handle) => match self.open.get(handle) {
                Some(open) => Some(open.span.context.clone()),
                None => return self.tally(Err(TracingError::UnknownSpan)),
            },
            Parent::Context(ctx) => Some(ctx).filter(SpanContext::is_valid),
        };
        let trace_id = parent
            .as_ref()
            .map_or_else(|| self.ids.trace_id(), |p| p.trace_id);
        let sampled = self.config.sampler.should_sample(trace_id, parent.as_ref());
        let (parent_span_id, parent_is_remote, inherited_flags, trace_state) = match parent {
            Some(p) => (p.span_id, p.is_remote, p.trace_flags, p.trace_state),
            None => (0, false, 0, String::new()),
        };
        let mut span_id = self.ids.span_id();
        while self.open.contains_key(span_id) {
            span_id = self.ids.span_id();
        }
        let trace_flags = if sampled {
            inherited_flags | SAMPLED
        } else {
            inherited_flags & !SAMPLED
        };
        let context = SpanContext {
            trace_id,
            span_id,
            trace_flags,
            trace_state,
            is_remote: false,
        };
        let start_time = match options.start_time {
            Some(t) => t,
            None => host.now(),
        };
        let span = self.new_span(
            context,
            parent_span_id,
            parent_is_remote,
            name,
            options.kind,
            options.scope,
            start_time,
        );
        self.open_span(span)?;
        if sampled {
            let limits = self.config.limits;
            let open = self.open.get_mut(span_id).expect("just opened");
            let mut truncated = 0;
            for kv in options.attributes {
                truncated +=
                    open.span
                        .attributes
                        .set(kv, limits.max_attributes, limits.max_value_length);
            }
            for (ctx, attributes) in options.links {
                truncated += push_link(&mut open.span, link(ctx, attributes), &limits);
            }
            self.stats.truncated_values += truncated;
        }
        self.push_entered(Entered::Host(span_id));
        Ok(span_id)
    }

    /// A fresh span record (limits applied to the name).
    #[allow(clippy::too_many_arguments)] // Every field of a span's identity is needed here.
    fn new_span(
        &mut self,
        context: SpanContext,
        parent_span_id: u64,
        parent_is_remote: bool,
        mut name: String,
        kind: SpanKind,
        scope: u32,
        start_time: u64,
    ) -> Box<Span> {
        self.stats.truncated_values +=
            u64::from(truncate(&mut name, self.config.limits.max_value_length));
        Box::new(Span {
            context,
            parent_span_id,
            parent_is_remote,
            name,
            kind,
            scope,
            start_time,
            end_time: 0,
            attributes: Attributes::default(),
            events: Vec::new(),
            dropped_events: 0,
            links: Vec::new(),
            dropped_links: 0,
            status: Status::Unset,
        })
    }

    /// Opens a span whose IDs and sampling were decided by the caller (the recorder path:
    /// the host got them from [`Tracer::reserve_root`] / [`Tracer::reserve_span_id`]).
    #[allow(clippy::too_many_arguments)] // Mirrors the recorder's START operation.
    pub fn open_recorded(
        &mut self,
        context: SpanContext,
        parent_span_id: u64,
        parent_is_remote: bool,
        name: String,
        kind: SpanKind,
        scope: u32,
        start_time: u64,
    ) -> Result<()> {
        if !context.is_valid() || self.open.contains_key(context.span_id) {
            let refused = Err(TracingError::InvalidArgument(
                "span IDs must be non-zero and not in use".into(),
            ));
            return self.tally(refused);
        }
        let span = self.new_span(
            context,
            parent_span_id,
            parent_is_remote,
            name,
            kind,
            scope,
            start_time,
        );
        self.open_span(span)
    }

    fn open_span(&mut self, span: Box<Span>) -> Result<()> {
        if self.shut_down {
            return self.tally(Err(TracingError::ShutDown));
        }
        if span.scope as usize >= self.scopes.len() {
            return self.tally(Err(TracingError::UnknownScope));
        }
        if self.open.len() >= self.config.batch.max_open_spans as usize {
            self.stats.spans_refused_open_limit += 1;
            return self.tally(Err(TracingError::TooManyOpenSpans));
        }
        let recording = span.context.is_sampled();
        self.stats.spans_started += 1;
        if !recording {
            self.stats.spans_unsampled += 1;
        }
        self.open
            .insert(span.context.span_id, OpenSpan { span, recording });
        Ok(())
    }

    /// A new root context with the sampler's decision in its flags.
    pub fn reserve_root(&mut self) -> SpanContext {
        let trace_id = self.ids.trace_id();
        let sampled = self.config.sampler.should_sample(trace_id, None);
        SpanContext {
            trace_id,
            span_id: self.ids.span_id(),
            trace_flags: if sampled { SAMPLED } else { 0 },
            ..Default::default()
        }
    }

    /// A new span ID for a child span.
    pub fn reserve_span_id(&mut self) -> u64 {
        self.ids.span_id()
    }

    /// The context of an open span.
    pub fn span_context(&mut self, handle: u64) -> Result<SpanContext> {
        let found = self
            .open
            .get(handle)
            .map(|open| open.span.context.clone())
            .ok_or(TracingError::UnknownSpan);
        self.tally(found)
    }

    /// Whether an open span records.
    pub fn is_recording(&mut self, handle: u64) -> Result<bool> {
        let found = self
            .open
            .get(handle)
            .map(|open| open.recording)
            .ok_or(TracingError::UnknownSpan);
        self.tally(found)
    }

    /// Sets attributes on an open span.
    pub fn set_attributes(
        &mut self,
        handle: u64,
        attributes: impl IntoIterator<Item = KeyValue>,
    ) -> Result<()> {
        let limits = self.config.limits;
        self.with_recording(handle, |span| {
            attributes
                .into_iter()
                .map(|kv| {
                    span.attributes
                        .set(kv, limits.max_attributes, limits.max_value_length)
                })
                .sum()
        })
    }

    /// Adds an event at `time` (`None` = now).
    pub fn add_event(
        &mut self,
        host: &mut impl Host,
        handle: u64,
        name: String,
        attributes: Vec<KeyValue>,
        time: Option<u64>,
    ) -> Result<()> {
        let limits = self.config.limits;
        let time = match time {
            Some(t) => t,
            None if self.open.get(handle).is_some_and(|o| o.recording) => host.now(),
            None => 0,
        };
        self.with_recording(handle, |span| {
            let event = Event {
                name,
                time,
                attributes: Attributes {
                    items: attributes,
                    dropped: 0,
                },
            };
            push_event(span, event, &limits)
        })
    }

    /// Records an exception as an `exception` event (semantic conventions).
    pub fn record_exception(
        &mut self,
        host: &mut impl Host,
        handle: u64,
        exception_type: String,
        message: String,
        stacktrace: String,
        time: Option<u64>,
    ) -> Result<()> {
        let attributes = [
            ("exception.type", exception_type),
            ("exception.message", message),
            ("exception.stacktrace", stacktrace),
        ]
        .into_iter()
        .filter(|(_, value)| !value.is_empty())
        .map(|(key, value)| KeyValue {
            key: key.into(),
            value: Value::String(value),
        })
        .collect();
        self.add_event(host, handle, "exception".into(), attributes, time)
    }

    /// Adds a link after the start.
    pub fn add_link(
        &mut self,
        handle: u64,
        context: SpanContext,
        attributes: Vec<KeyValue>,
    ) -> Result<()> {
        let limits = self.config.limits;
        self.with_recording(handle, |span| {
            push_link(span, link(context, attributes), &limits)
        })
    }

    /// Sets the status: `Ok` is final, `Unset` is ignored.
    pub fn set_status(&mut self, handle: u64, status: Status) -> Result<()> {
        let max_len = self.config.limits.max_value_length;
        self.with_recording(handle, |span| match (&span.status, status) {
            (Status::Ok, _) | (_, Status::Unset) => 0,
            (_, Status::Error(mut message)) => {
                let cut = truncate(&mut message, max_len);
                span.status = Status::Error(message);
                u64::from(cut)
            }
            (_, Status::Ok) => {
                span.status = Status::Ok;
                0
            }
        })
    }

    /// Renames an open span.
    pub fn update_name(&mut self, handle: u64, mut name: String) -> Result<()> {
        let max_len = self.config.limits.max_value_length;
        self.with_recording(handle, |span| {
            let cut = truncate(&mut name, max_len);
            span.name = name;
            u64::from(cut)
        })
    }

    /// Ends a span the direct API started (it leaves the entered spans) at `time` (`None`
    /// = now), as [`Tracer::end_recorded`] does.
    pub fn end_span(&mut self, host: &mut impl Host, handle: u64, time: Option<u64>) -> Result<()> {
        self.exit(handle);
        self.end_recorded(host, handle, time)
    }

    /// Ends a span at `time` (`None` = now; never before its start), queues it for export
    /// and exports a full batch, or a partial one whose delay has passed. The recorder's
    /// spans (never entered: the browser has no `current-span-context`) end here, without
    /// the entered spans' bookkeeping and its code in the browser build.
    pub fn end_recorded(
        &mut self,
        host: &mut impl Host,
        handle: u64,
        time: Option<u64>,
    ) -> Result<()> {
        let Some(open) = self.open.remove(handle) else {
            return self.tally(Err(TracingError::UnknownSpan));
        };
        self.stats.spans_ended += 1;
        if !open.recording {
            return Ok(());
        }
        let mut span = open.span;
        let now = match time {
            Some(t) => t,
            None => host.now(),
        };
        span.end_time = now.max(span.start_time);
        if !self.spans.push(span, self.config.batch.max_queue_size) {
            self.stats.spans_dropped_queue_full += 1;
        }
        self.queued(host, now);
        Ok(())
    }

    /// Queues a span another SDK recorded and ended (`wasi:otel`'s `on-end`): its
    /// `sampled` flag and then this tracer's sampler decide (see the rule inside), and its
    /// attributes, events, links and strings are bounded by this tracer's limits on top of
    /// what its SDK dropped. It leaves the entered spans, if `on-start` entered it.
    pub fn record_finished(&mut self, host: &mut impl Host, finished: FinishedSpan) -> Result<()> {
        if self.shut_down {
            return self.tally(Err(TracingError::ShutDown));
        }
        let FinishedSpan {
            context,
            parent_span_id,
            name,
            kind,
            start_time,
            end_time,
            attributes,
            events,
            dropped_events,
            links,
            dropped_links,
            status,
            scope,
        } = finished;
        self.exit(context.span_id);
        if !context.is_valid() {
            let refused = Err(TracingError::InvalidArgument(
                "a span needs a valid trace ID and span ID".into(),
            ));
            return self.tally(refused);
        }
        self.stats.spans_started += 1;
        self.stats.spans_ended += 1;
        // In a trace the host started or joined, the guest's SDK copied the host span's
        // decision into the flags; any other trace (the guest's own, or one it joined
        // itself) is decided by its trace ID alone, so that all its spans agree (a guest's
        // parent spans are not known here, and their flags are the guest SDK's decision).
        let sampler_keeps = self.host_is_in(context.trace_id)
            || self.config.sampler.should_sample(context.trace_id, None);
        if !context.is_sampled() || !sampler_keeps {
            self.stats.spans_unsampled += 1;
            return Ok(());
        }
        let scope = self.scope_index(scope);
        let limits = self.config.limits;
        let mut span = self.new_span(
            context,
            parent_span_id,
            false,
            name,
            kind,
            scope,
            start_time,
        );
        span.end_time = end_time.max(start_time);
        let (bounded, mut truncated) =
            Attributes::bounded_from(attributes, limits.max_attributes, limits.max_value_length);
        span.attributes = bounded;
        for event in events {
            truncated += push_event(&mut span, event, &limits);
        }
        span.dropped_events = span.dropped_events.saturating_add(dropped_events);
        for link in links {
            truncated += push_link(&mut span, link, &limits);
        }
        span.dropped_links = span.dropped_links.saturating_add(dropped_links);
        span.status = match status {
            Status::Error(mut message) => {
                truncated += u64::from(truncate(&mut message, limits.max_value_length));
                Status::Error(message)
            }
            other => other,
        };
        self.stats.truncated_values += truncated;
        if !self.spans.push(span, self.config.batch.max_queue_size) {
            self.stats.spans_dropped_queue_full += 1;
        }
        let now = host.now();
        self.queued(host, now);
        Ok(())
    }

    /// The index of the registered scope with `scope`'s name and version (cut to the value
    /// length, as registered scopes are), registering it if there is none; the default
    /// scope (0) once [`MAX_SCOPES`] are registered.
    pub fn scope_index(&mut self, scope: Scope) -> u32 {
        let Scope {
            mut name,
            mut version,
            attributes,
        } = scope;
        let max = self.config.limits.max_value_length;
        let cut = u64::from(truncate(&mut name, max)) + u64::from(truncate(&mut version, max));
        let same = |s: &Scope| s.name == name && s.version == version;
        if let Some(index) = self.scopes.iter().position(same) {
            return index as u32;
        }
        self.stats.truncated_values += cut;
        self.register_scope(name, version, attributes.items)
            .unwrap_or(0)
    }

    /// Marks a span a guest's SDK started as entered (`wasi:otel`'s `on-start`; spans the
    /// direct API starts are entered too): it is the current span until it ends or another
    /// is entered. Ignored once shut down.
    pub fn enter(&mut self, context: SpanContext) {
        if !self.shut_down {
            self.push_entered(Entered::Guest(context));
        }
    }

    /// Keeps at most `max-open-spans` entered spans; beyond, the outermost are forgotten.
    fn push_entered(&mut self, entered: Entered) {
        let max = (self.config.batch.max_open_spans as usize).max(1);
        if self.entered.len() >= max {
            let excess = self.entered.len() + 1 - max;
            let mut index = 0;
            self.entered.retain(|_| {
                index += 1;
                index > excess
            });
        }
        self.entered.push(entered);
    }

    /// Forgets the entered span with this ID, if any (IDs of entered spans are unique).
    fn exit(&mut self, span_id: u64) {
        self.entered.retain(|e| e.span_id() != span_id);
    }

    /// The context of an entered span (a host span's from the open spans).
    fn entered_context(&self, entered: &Entered) -> Option<SpanContext> {
        match entered {
            Entered::Host(handle) => self.open.get(*handle).map(|o| o.span.context.clone()),
            Entered::Guest(context) => Some(context.clone()),
        }
    }

    /// The innermost entered span's context (`wasi:otel`'s `current-span-context`), or the
    /// invalid context when none is entered.
    pub fn current_context(&self) -> SpanContext {
        self.entered
            .last()
            .and_then(|e| self.entered_context(e))
            .unwrap_or_default()
    }

    /// The innermost span the host entered through the direct API (the tag text of
    /// `wasi:otel`'s `outer-span-context`: "the span context of the host"), or the invalid
    /// context.
    pub fn host_context(&self) -> SpanContext {
        self.entered
            .iter()
            .rev()
            .find(|e| matches!(e, Entered::Host(_)))
            .and_then(|e| self.entered_context(e))
            .unwrap_or_default()
    }

    /// Whether one of the host's entered spans is in `trace`: a guest's span in such a
    /// trace carries the host's sampling decision in its flags.
    fn host_is_in(&self, trace: TraceId) -> bool {
        self.entered.iter().any(|e| match e {
            Entered::Host(handle) => self
                .open
                .get(*handle)
                .is_some_and(|o| o.span.context.trace_id == trace),
            Entered::Guest(_) => false,
        })
    }

    /// Records a log record (limits applied: attributes as a span's, strings cut at the
    /// value length), queues it for export and exports as [`Tracer::end_span`] does.
    pub fn emit_log(&mut self, host: &mut impl Host, log: LogInput) -> Result<()> {
        if self.shut_down {
            return self.tally(Err(TracingError::ShutDown));
        }
        if log.severity_number > MAX_SEVERITY {
            let refused = Err(TracingError::InvalidArgument(
                "a severity number is 0 to 24".into(),
            ));
            return self.tally(refused);
        }
        if log.scope as usize >= self.scopes.len() {
            return self.tally(Err(TracingError::UnknownScope));
        }
        let limits = self.config.limits;
        let source = Attributes {
            items: log.attributes,
            dropped: log.dropped_attributes,
        };
        let (attributes, mut truncated) =
            Attributes::bounded_from(source, limits.max_attributes, limits.max_value_length);
        let (mut body, mut severity_text) = (log.body, log.severity_text);
        truncated += truncate_value(&mut body, limits.max_value_length)
            + u64::from(truncate(&mut severity_text, limits.max_value_length));
        self.stats.truncated_values += truncated;
        self.stats.logs_emitted += 1;
        let now = host.now();
        let context = log
            .context
            .filter(SpanContext::is_valid)
            .unwrap_or_default();
        let record = Box::new(LogRecord {
            time: log.time.unwrap_or(now),
            observed_time: now,
            severity_number: log.severity_number,
            severity_text,
            body,
            attributes,
            trace_id: context.trace_id,
            span_id: context.span_id,
            trace_flags: context.trace_flags,
            scope: log.scope,
        });
        if !self.logs.push(record, self.config.batch.max_queue_size) {
            self.stats.logs_dropped_queue_full += 1;
        }
        self.queued(host, now);
        Ok(())
    }

    /// After an item joined a queue: exports whole batches, and everything if the oldest
    /// item's delay has passed; while the transport is busy, only encodes whole batches.
    fn queued(&mut self, host: &mut impl Host, now: u64) {
        if self.transport_busy {
            let outlet = Outlet {
                resource: &self.resource,
                scopes: &self.scopes,
                batch: self.config.batch,
                clock_correction: self.clock_correction,
            };
            self.spans.encode_if_full(&outlet);
            self.logs.encode_if_full(&outlet);
            return;
        }
        self.export(host, Pending::FullBatches);
        if self.next_deadline().is_some_and(|deadline| deadline <= now) {
            self.export(host, Pending::All);
        }
    }

    /// Exports what a flush left owed, full batches, and everything queued if the oldest
    /// queued span has waited the scheduled delay. After the transport refused a payload,
    /// this is what retries (hosts call it when the transport has room again).
    pub fn tick(&mut self, host: &mut impl Host) {
        self.transport_busy = false;
        self.export(host, Pending::Owed);
        self.export(host, Pending::FullBatches);
        if let Some(deadline) = self.next_deadline()
            && deadline <= host.now()
        {
            self.export(host, Pending::All);
        }
    }

    /// When the oldest queued span's or log record's delay runs out (a span waits from
    /// its end time, a log record from when it was emitted). A flush the transport could
    /// not take is not a deadline: the host ticks when the transport has room again.
    pub fn next_deadline(&self) -> Option<u64> {
        let delay_ns = u64::from(self.config.batch.scheduled_delay_ms) * 1_000_000;
        match (
            self.spans.next_deadline(delay_ns),
            self.logs.next_deadline(delay_ns),
        ) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Exports everything queued, in batches. Whatever the transport cannot take now stays
    /// owed: the next `tick` (hosts call it when the transport has room) goes on with it.
    pub fn force_flush(&mut self, host: &mut impl Host) {
        self.transport_busy = false;
        self.spans.owe_all();
        self.logs.owe_all();
        self.export(host, Pending::All);
    }

    /// Flushes, discards open spans and refuses new ones.
    pub fn shutdown(&mut self, host: &mut impl Host) {
        self.force_flush(host);
        self.open.clear();
        self.entered.clear();
        self.shut_down = true;
    }

    /// Counters since start.
    pub fn stats(&self) -> Stats {
        self.stats.clone()
    }

    /// Offers the waiting batches `what` selects, spans first, until the transport
    /// refuses one.
    fn export(&mut self, host: &mut impl Host, what: Pending) {
        let outlet = Outlet {
            resource: &self.resource,
            scopes: &self.scopes,
            batch: self.config.batch,
            clock_correction: self.clock_correction,
        };
        let busy = &mut self.transport_busy;
        let (spans, payloads) = drain(&mut self.spans, &outlet, host, what, busy);
        self.stats.spans_exported += spans;
        self.stats.payloads_sent += payloads;
        let (logs, payloads) = drain(&mut self.logs, &outlet, host, what, busy);
        self.stats.logs_exported += logs;
        self.stats.payloads_sent += payloads;
    }

    /// Runs `apply` on a recording span (returns how many strings it truncated); a
    /// non-recording span accepts and ignores the operation.
    fn with_recording(&mut self, handle: u64, apply: impl FnOnce(&mut Span) -> u64) -> Result<()> {
        match self.open.get_mut(handle) {
            Some(open) if open.recording => {
                self.stats.truncated_values += apply(&mut open.span);
                Ok(())
            }
            Some(_) => Ok(()),
            None => self.tally(Err(TracingError::UnknownSpan)),
        }
    }

    /// Moves every time encoded from now on by `nanos` (spans and log records already
    /// queued included: they were timed by the same clock), for a host that found its
    /// clock off; each payload's resource then says by how much.
    pub fn set_clock_correction(&mut self, nanos: i64) {
        self.clock_correction = nanos;
    }

    /// Counts an operation refused outside the tracer (a malformed recorder batch).
    pub fn count_rejected(&mut self) {
        self.stats.rejected_operations += 1;
    }

    /// Counts refusals.
    fn tally<T>(&mut self, result: Result<T>) -> Result<T> {
        if result.is_err() {
            self.stats.rejected_operations += 1;
        }
        result
    }
}

/// Offers `queue`'s batches that `what` selects until none is left or the transport
/// refuses one (then `busy` is set); returns the items and payloads sent.
fn drain<T: Queued>(
    queue: &mut ExportQueue<T>,
    outlet: &Outlet<'_>,
    host: &mut impl Host,
    what: Pending,
    busy: &mut bool,
) -> (u64, u64) {
    let (mut items, mut payloads) = (0, 0);
    while !*busy && queue.has(what, &outlet.batch) {
        match queue.offer(outlet, |signal, body, n| host.send(signal, body, n)) {
            Some(0) => break,
            Some(n) => {
                items += n as u64;
                payloads += 1;
            }
            None => *busy = true,
        }
    }
    (items, payloads)
}

/// Adds a link under the limits; returns how many strings were truncated.
/// Adds `event` to `span` under the limits (its attributes bounded, what it dropped
/// already kept in the count); returns how many strings were truncated.
fn push_event(span: &mut Span, event: Event, limits: &SpanLimits) -> u64 {
    if span.events.len() >= limits.max_events as usize {
        span.dropped_events = span.dropped_events.saturating_add(1);
        return 0;
    }
    let Event {
        mut name,
        time,
        attributes,
    } = event;
    let (bounded, truncated) = Attributes::bounded_from(
        attributes,
        limits.max_attributes_per_item,
        limits.max_value_length,
    );
    let name_cut = u64::from(truncate(&mut name, limits.max_value_length));
    span.events.push(Event {
        name,
        time,
        attributes: bounded,
    });
    truncated + name_cut
}

/// Adds `link` to `span` under the limits (a link to an invalid context is dropped; its
/// attributes bounded, what it dropped already kept in the count); returns how many
/// strings were truncated.
fn push_link(span: &mut Span, link: Link, limits: &SpanLimits) -> u64 {
    if span.links.len() >= limits.max_links as usize || !link.context.is_valid() {
        span.dropped_links = span.dropped_links.saturating_add(1);
        return 0;
    }
    let (attributes, truncated) = Attributes::bounded_from(
        link.attributes,
        limits.max_attributes_per_item,
        limits.max_value_length,
    );
    span.links.push(Link {
        context: link.context,
        attributes,
    });
    truncated
}

/// A link with attributes as given (none dropped yet).
fn link(context: SpanContext, attributes: Vec<KeyValue>) -> Link {
    Link {
        context,
        attributes: Attributes {
            items: attributes,
            dropped: 0,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::BatchSettings;
    use crate::test_host::{TestHost, tracer};

    fn configured(batch: BatchSettings) -> (Tracer, TestHost) {
        let (mut t, mut host) = (tracer(), TestHost::default());
        t.configure(
            &mut host,
            Config {
                batch,
                ..Config::default()
            },
        )
        .unwrap();
        (t, host)
    }

    fn start(t: &mut Tracer, host: &mut TestHost, parent: Parent) -> u64 {
        t.start_span(
            host,
            "s".into(),
            StartOptions {
                parent,
                ..Default::default()
            },
        )
        .unwrap()
    }

    fn finished(trace: u64, span: u64, parent: u64, flags: u8) -> FinishedSpan {
        FinishedSpan {
            context: SpanContext {
                trace_id: TraceId { hi: 1, lo: trace },
                span_id: span,
                trace_flags: flags,
                ..SpanContext::default()
            },
            parent_span_id: parent,
            name: "guest-span".into(),
            start_time: 10,
            end_time: 20,
            scope: Scope {
                name: "guest-sdk".into(),
                version: "0.1".into(),
                ..Scope::default()
            },
            ..FinishedSpan::default()
        }
    }

    fn attribute(key: &str, value: i64) -> KeyValue {
        KeyValue {
            key: key.into(),
            value: Value::Int(value),
        }
    }

    #[test]
    fn a_finished_span_is_bounded_by_the_limits_and_keeps_what_its_sdk_dropped() {
        let (mut t, mut host) = configured(BatchSettings {
            max_export_batch_size: 1,
            ..BatchSettings::default()
        });
        t.config.limits.max_attributes = 2;
        t.config.limits.max_events = 1;
        t.config.limits.max_value_length = 8;
        let mut span = finished(7, 8, 9, SAMPLED);
        span.kind = SpanKind::Client;
        span.attributes = Attributes {
            items: (0..3)
                .map(|i| attribute(&alloc::format!("a{i}"), i))
                .collect(),
            dropped: 4,
        };
        span.events = (0..2)
            .map(|i| Event {
                name: "an event name".into(),
                time: 15 + i,
                attributes: Attributes {
                    items: alloc::vec![attribute("e", 1)],
                    dropped: 1,
                },
            })
            .collect();
        span.dropped_events = 5;
        let linked = finished(3, 4, 0, SAMPLED).context;
        span.links = [linked, SpanContext::default()]
            .into_iter()
            .map(|context| Link {
                context,
                attributes: Attributes {
                    items: Vec::new(),
                    dropped: 2,
                },
            })
            .collect();
        span.dropped_links = 1;
        span.status = Status::Error("a long error message".into());
        span.end_time = 5; // Before its start: ends at its start.
        t.record_finished(&mut host, span).unwrap();

        let spans = host.spans();
        assert_eq!(spans.len(), 1);
        let json = &spans[0];
        assert_eq!(json["name"], "guest-sp");
        assert_eq!(json["kind"], 3);
        assert_eq!(json["parentSpanId"], "0000000000000009");
        assert_eq!(json["endTimeUnixNano"], "10");
        assert_eq!(json["attributes"].as_array().unwrap().len(), 2);
        assert_eq!(json["droppedAttributesCount"], 5);
        assert_eq!(json["events"].as_array().unwrap().len(), 1);
        assert_eq!(json["events"][0]["name"], "an event");
        assert_eq!(json["events"][0]["droppedAttributesCount"], 1);
        assert_eq!(json["droppedEventsCount"], 6);
        assert_eq!(json["links"].as_array().unwrap().len(), 1);
        assert_eq!(json["links"][0]["droppedAttributesCount"], 2);
        assert_eq!(
            json["droppedLinksCount"], 2,
            "the invalid link and the SDK's one"
        );
        assert_eq!(json["status"]["message"], "a long e");
        let scope = &host.sent[0].0["resourceSpans"][0]["scopeSpans"][0]["scope"];
        assert_eq!(
            (&scope["name"], &scope["version"]),
            (&"guest-sd".into(), &"0.1".into())
        );
        let stats = t.stats();
        assert_eq!(
            (stats.spans_started, stats.spans_ended, stats.spans_exported),
            (1, 1, 1)
        );
    }

    #[test]
    fn finished_spans_share_a_scope_by_name_and_version() {
        let (mut t, mut host) = configured(BatchSettings::default());
        let scopes_before = t.scopes.len();
        for span in 1..=3 {
            t.record_finished(&mut host, finished(7, span, 0, SAMPLED))
                .unwrap();
        }
        let mut other = finished(7, 4, 0, SAMPLED);
        other.scope.version = "0.2".into();
        t.record_finished(&mut host, other).unwrap();
        assert_eq!(t.scopes.len(), scopes_before + 2);
    }

    #[test]
    fn a_guest_trace_is_kept_or_dropped_whole_and_one_the_host_is_in_follows_its_flags() {
        let (mut t, mut host) = configured(BatchSettings::default());
        t.config.sampler = Sampler::ParentBasedRatio(0.5);
        let mut kept = 0;
        for trace in 1..=64u64 {
            // The trace ID's low half decides the ratio: spread them over the range.
            let trace = trace * (u64::MAX / 64);
            let root = finished(trace, 1, 0, SAMPLED);
            let child = finished(trace, 2, 1, SAMPLED);
            let before = t.stats().spans_unsampled;
            t.record_finished(&mut host, child).unwrap();
            t.record_finished(&mut host, root).unwrap();
            let dropped = t.stats().spans_unsampled - before;
            assert!(
                dropped == 0 || dropped == 2,
                "trace {trace:x}: {dropped} of 2 dropped"
            );
            kept += u32::from(dropped == 0);
        }
        assert!((16..=48).contains(&kept), "{kept} of 64 traces kept at 0.5");

        // Under a host span, the guest's flags carry the host's decision.
        t.config.sampler = Sampler::ParentBasedRatio(0.0);
        let host_span = start(
            &mut t,
            &mut host,
            Parent::Context(finished(5, 9, 0, SAMPLED).context),
        );
        let before = t.stats().spans_unsampled;
        t.record_finished(&mut host, finished(5, 10, host_span, SAMPLED))
            .unwrap();
        assert_eq!(
            t.stats().spans_unsampled,
            before,
            "kept under the host's sampled span"
        );
        t.record_finished(&mut host, finished(6, 11, 0, SAMPLED))
            .unwrap();
        assert_eq!(
            t.stats().spans_unsampled,
            before + 1,
            "a trace of its own: ratio 0"
        );
    }

    #[test]
    fn a_scope_name_over_the_value_length_is_registered_once() {
        let (mut t, mut host) = configured(BatchSettings::default());
        t.config.limits.max_value_length = 4;
        let scopes = t.scopes.len();
        for span in 1..=3 {
            t.record_finished(&mut host, finished(7, span, 0, SAMPLED))
                .unwrap();
        }
        assert_eq!(t.scopes.len(), scopes + 1);
        assert_eq!(t.scopes[scopes].name, "gues");
        assert_eq!(t.stats().rejected_operations, 0);
    }

    #[test]
    fn finished_spans_its_sdk_or_the_sampler_did_not_sample_are_not_exported() {
        let (mut t, mut host) = configured(BatchSettings::default());
        t.record_finished(&mut host, finished(7, 8, 0, 0)).unwrap();
        t.config.sampler = Sampler::AlwaysOff;
        t.record_finished(&mut host, finished(7, 9, 0, SAMPLED))
            .unwrap();
        t.force_flush(&mut host);
        assert!(host.spans().is_empty());
        assert_eq!(t.stats().spans_unsampled, 2);
        assert_eq!(
            t.record_finished(&mut host, finished(7, 0, 0, SAMPLED)),
            Err(TracingError::InvalidArgument(
                "a span needs a valid trace ID and span ID".into()
            ))
        );
        t.shutdown(&mut host);
        assert_eq!(
            t.record_finished(&mut host, finished(7, 10, 0, SAMPLED)),
            Err(TracingError::ShutDown)
        );
    }

    #[test]
    fn the_current_span_is_the_innermost_entered_one_not_yet_ended() {
        let (mut t, mut host) = configured(BatchSettings::default());
        assert!(!t.current_context().is_valid());
        let outer = start(&mut t, &mut host, Parent::None);
        assert_eq!(t.current_context().span_id, outer);
        let guest = finished(7, 100, outer, SAMPLED);
        t.enter(guest.context.clone());
        assert_eq!(t.current_context().span_id, 100);
        assert_eq!(
            t.host_context().span_id,
            outer,
            "the host's span is the outer one"
        );
        t.record_finished(&mut host, guest).unwrap();
        assert_eq!(t.current_context().span_id, outer);
        t.end_span(&mut host, outer, None).unwrap();
        assert!(!t.current_context().is_valid());
        assert!(!t.host_context().is_valid());

        t.config.batch.max_open_spans = 2;
        for span in 1..=3 {
            t.enter(finished(7, span, 0, SAMPLED).context);
        }
        assert_eq!(
            t.entered.iter().map(Entered::span_id).collect::<Vec<_>>(),
            [2, 3]
        );
        t.shutdown(&mut host);
        assert!(!t.current_context().is_valid());
    }

    #[test]
    fn configure_cuts_the_default_scope_and_the_resource_to_the_new_limits() {
        let (mut t, mut host) = (tracer(), TestHost::default());
        let mut config = Config::default();
        config.limits.max_value_length = 4;
        config.default_scope.name = "my-library".into();
        config.default_scope.version = "1.2.3".into();
        config.resource = alloc::vec![KeyValue {
            key: "service.name".into(),
            value: Value::String("checkout".into()),
        }];
        t.configure(&mut host, config).unwrap();
        assert_eq!(
            (&*t.scopes[0].name, &*t.scopes[0].version),
            ("my-l", "1.2.")
        );
        assert_eq!(t.resource.items[0].key, "serv");
        assert_eq!(t.resource.items[0].value, Value::String("chec".into()));
        assert_eq!(t.stats.truncated_values, 4);
    }

    #[test]
    fn children_share_the_trace_and_name_their_parent() {
        let (mut t, mut host) = (tracer(), TestHost::default());
        let root = start(&mut t, &mut host, Parent::None);
        let child = start(&mut t, &mut host, Parent::Span(root));
        let (root_ctx, child_ctx) = (
            t.span_context(root).unwrap(),
            t.span_context(child).unwrap(),
        );
        assert_eq!(child_ctx.trace_id, root_ctx.trace_id);
        t.end_span(&mut host, child, Some(5)).unwrap();
        t.end_span(&mut host, root, Some(6)).unwrap();
        t.force_flush(&mut host);
        let spans = host.spans();
        assert_eq!(
            spans[0]["parentSpanId"],
            format!("{:016x}", root_ctx.span_id)
        );
        assert!(spans[1].get("parentSpanId").is_none());
    }

    #[test]
    fn unknown_handles_are_refused_and_counted() {
        let (mut t, mut host) = (tracer(), TestHost::default());
        assert_eq!(
            t.end_span(&mut host, 7, None),
            Err(TracingError::UnknownSpan)
        );
        assert_eq!(t.set_status(7, Status::Ok), Err(TracingError::UnknownSpan));
        assert_eq!(t.stats().rejected_operations, 2);
    }

    #[test]
    fn a_full_batch_is_exported_at_once_and_a_partial_one_after_the_delay() {
        let batch = BatchSettings {
            max_export_batch_size: 2,
            scheduled_delay_ms: 10,
            ..Default::default()
        };
        let (mut t, mut host) = configured(batch);
        for end in [100, 101, 102] {
            let s = start(&mut t, &mut host, Parent::None);
            t.end_span(&mut host, s, Some(end)).unwrap();
        }
        assert_eq!(host.sent.len(), 1);
        assert_eq!(host.sent[0].1, 2);
        assert_eq!(t.next_deadline(), Some(102 + 10_000_000));
        host.now = 102 + 9_999_999;
        t.tick(&mut host);
        assert_eq!(host.sent.len(), 1);
        host.now += 1;
        t.tick(&mut host);
        assert_eq!(host.sent.len(), 2);
        assert_eq!(t.next_deadline(), None);
    }

    #[test]
    fn a_byte_bound_splits_batches_and_a_flush_still_sends_every_span() {
        let batch = BatchSettings {
            max_export_batch_size: 10,
            max_export_batch_bytes: 1000,
            ..Default::default()
        };
        let (mut t, mut host) = configured(batch);
        for end in 0..25 {
            let s = start(&mut t, &mut host, Parent::None);
            t.end_span(&mut host, s, Some(end)).unwrap();
        }
        t.force_flush(&mut host);
        let counts: Vec<u32> = host.sent.iter().map(|(_, n)| *n).collect();
        assert_eq!(counts.iter().sum::<u32>(), 25, "{counts:?}");
        assert!(
            counts.len() > 3,
            "a bound of 1,000 bytes splits 10-span batches: {counts:?}"
        );
        for (body, n) in &host.sent {
            assert!(
                body.to_string().len() <= 1000 || *n == 1,
                "{n} spans: {body}"
            );
        }
    }

    #[test]
    fn a_busy_transport_keeps_spans_until_the_queue_is_full_then_drops_and_counts() {
        let batch = BatchSettings {
            max_export_batch_size: 2,
            max_queue_size: 3,
            ..Default::default()
        };
        let (mut t, mut host) = configured(batch);
        host.busy = true;
        for _ in 0..5 {
            let s = start(&mut t, &mut host, Parent::None);
            t.end_span(&mut host, s, Some(1)).unwrap();
        }
        assert!(host.sent.is_empty());
        assert_eq!(t.stats().spans_dropped_queue_full, 2);
        host.busy = false;
        t.tick(&mut host);
        assert_eq!(
            host.sent.iter().map(|(_, n)| n).collect::<Vec<_>>(),
            [&2],
            "full batches at once"
        );
        host.now = 1 + 5_000_000_000;
        t.tick(&mut host);
        assert_eq!(
            host.sent.iter().map(|(_, n)| n).collect::<Vec<_>>(),
            [&2, &1],
            "the rest after the delay"
        );
        assert_eq!(t.stats().spans_exported, 3);
    }

    #[test]
    fn a_flush_the_transport_cannot_take_at_once_goes_on_at_each_tick() {
        let batch = BatchSettings {
            max_export_batch_size: 2,
            scheduled_delay_ms: 60_000,
            ..Default::default()
        };
        let (mut t, mut host) = configured(batch);
        host.busy = true;
        for _ in 0..5 {
            let s = start(&mut t, &mut host, Parent::None);
            t.end_span(&mut host, s, Some(1)).unwrap();
        }
        t.force_flush(&mut host);
        assert!(host.sent.is_empty());
        host.busy = false;
        t.tick(&mut host);
        assert_eq!(
            host.sent.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
            [2, 2, 1],
            "the partial batch too, long before the delay"
        );
        let s = start(&mut t, &mut host, Parent::None);
        t.end_span(&mut host, s, Some(2)).unwrap();
        t.tick(&mut host);
        assert_eq!(
            host.sent.len(),
            3,
            "a span ended after the flush waits for its delay"
        );
    }

    #[test]
    fn batches_fill_and_encode_while_the_transport_is_busy_and_a_refused_body_is_kept() {
        let batch = BatchSettings {
            max_export_batch_size: 2,
            max_queue_size: 5,
            scheduled_delay_ms: 60_000,
            ..Default::default()
        };
        let (mut t, mut host) = configured(batch);
        host.busy = true;
        let s = start(&mut t, &mut host, Parent::None);
        t.end_span(&mut host, s, Some(1)).unwrap();
        t.force_flush(&mut host);
        assert_eq!(
            t.spans.counts(),
            (1, 0),
            "the refused partial batch stays encoded"
        );
        for end in 2..8 {
            let s = start(&mut t, &mut host, Parent::None);
            t.end_span(&mut host, s, Some(end)).unwrap();
        }
        assert_eq!(
            t.spans.counts(),
            (5, 0),
            "full batches encoded as they filled"
        );
        assert_eq!(
            t.stats().spans_dropped_queue_full,
            2,
            "encoded spans count against the bound"
        );
        host.busy = false;
        t.tick(&mut host);
        assert_eq!(
            host.sent.iter().map(|(_, n)| *n).collect::<Vec<_>>(),
            [1, 2, 2],
            "oldest first, the kept body as it was"
        );
        assert_eq!(t.stats().spans_exported, 5);
    }

    #[test]
    fn log_records_batch_apart_from_spans_with_their_context_and_limits() {
        let batch = BatchSettings {
            max_export_batch_size: 2,
            scheduled_delay_ms: 1,
            ..Default::default()
        };
        let (mut t, mut host) = configured(batch);
        let span = start(&mut t, &mut host, Parent::None);
        let context = t.span_context(span).unwrap();
        let log = |body: &str, context: Option<SpanContext>| LogInput {
            severity_number: 17,
            severity_text: "error".into(),
            body: Value::String(body.into()),
            attributes: alloc::vec![KeyValue {
                key: "session.id".into(),
                value: Value::String("s1".into()),
            }],
            context,
            ..Default::default()
        };
        host.now = 10;
        t.emit_log(&mut host, log("boom", Some(context.clone())))
            .unwrap();
        assert!(host.sent_logs.is_empty(), "a partial batch waits its delay");
        assert_eq!(t.next_deadline(), Some(10 + 1_000_000));
        t.emit_log(&mut host, log(&"x".repeat(5000), None)).unwrap();
        assert_eq!(host.sent_logs.len(), 1, "a full batch leaves at once");
        assert!(host.sent.is_empty(), "no spans payload");
        let (json, count) = &host.sent_logs[0];
        assert_eq!(*count, 2);
        let records = &json["resourceLogs"][0]["scopeLogs"][0]["logRecords"];
        assert_eq!(records[0]["body"]["stringValue"], "boom");
        assert_eq!(records[0]["severityNumber"], 17);
        assert_eq!(records[0]["timeUnixNano"], "10");
        assert_eq!(
            records[0]["traceId"],
            alloc::format!("{:016x}{:016x}", context.trace_id.hi, context.trace_id.lo)
        );
        assert_eq!(
            records[0]["spanId"],
            alloc::format!("{:016x}", context.span_id)
        );
        assert_eq!(records[0]["attributes"][0]["key"], "session.id");
        assert!(records[1].get("traceId").is_none(), "no context, no IDs");
        assert_eq!(
            records[1]["body"]["stringValue"].as_str().unwrap().len(),
            4096,
            "bodies are cut at the value length"
        );
        assert_eq!(t.stats().logs_exported, 2);
        let bad = LogInput {
            severity_number: 25,
            ..Default::default()
        };
        assert!(t.emit_log(&mut host, bad).is_err());
        assert_eq!(t.stats().rejected_operations, 1);
    }

    #[test]
    fn unsampled_spans_propagate_but_record_nothing() {
        let (mut t, mut host) = (tracer(), TestHost::default());
        t.configure(
            &mut host,
            Config {
                sampler: crate::sampler::Sampler::AlwaysOff,
                ..Config::default()
            },
        )
        .unwrap();
        let s = start(&mut t, &mut host, Parent::None);
        let ctx = t.span_context(s).unwrap();
        assert!(ctx.is_valid() && !ctx.is_sampled());
        assert_eq!(t.is_recording(s), Ok(false));
        t.set_attributes(
            s,
            [KeyValue {
                key: "k".into(),
                value: Value::Bool(true),
            }],
        )
        .unwrap();
        t.end_span(&mut host, s, None).unwrap();
        t.force_flush(&mut host);
        assert!(host.sent.is_empty());
        assert_eq!(t.stats().spans_unsampled, 1);
    }

    #[test]
    fn ok_status_is_final_and_end_never_precedes_start() {
        let (mut t, mut host) = (tracer(), TestHost::default());
        let s = t
            .start_span(
                &mut host,
                "s".into(),
                StartOptions {
                    start_time: Some(50),
                    ..Default::default()
                },
            )
            .unwrap();
        t.set_status(s, Status::Ok).unwrap();
        t.set_status(s, Status::Error("late".into())).unwrap();
        t.end_span(&mut host, s, Some(10)).unwrap();
        t.force_flush(&mut host);
        let span = &host.spans()[0];
        assert_eq!(span["status"]["code"], 1);
        assert_eq!(span["endTimeUnixNano"], "50");
    }

    #[test]
    fn the_open_span_limit_refuses_starts() {
        let batch = BatchSettings {
            max_open_spans: 2,
            ..Default::default()
        };
        let (mut t, mut host) = configured(batch);
        start(&mut t, &mut host, Parent::None);
        start(&mut t, &mut host, Parent::None);
        let third = t.start_span(&mut host, "s".into(), StartOptions::default());
        assert_eq!(third, Err(TracingError::TooManyOpenSpans));
        assert_eq!(t.stats().spans_refused_open_limit, 1);
    }

    #[test]
    fn shutdown_flushes_and_refuses() {
        let (mut t, mut host) = (tracer(), TestHost::default());
        let s = start(&mut t, &mut host, Parent::None);
        t.end_span(&mut host, s, Some(1)).unwrap();
        t.shutdown(&mut host);
        assert_eq!(host.sent.len(), 1);
        assert_eq!(
            t.start_span(&mut host, "s".into(), StartOptions::default()),
            Err(TracingError::ShutDown)
        );
    }
}
