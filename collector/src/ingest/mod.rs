//! `POST /v1/traces` and `POST /v1/logs`: read the body within the limits, decode
//! (`collector-decode`), validate each span or log record, store the valid ones durably,
//! answer in the request's encoding. One path for both signals: what differs (decoding,
//! validating, the response message) is a [`Signal`].

pub mod budget;
mod intake;
pub mod logs;
pub mod respond;
pub mod source_maps;
pub mod traces;
pub mod validate;

use std::sync::Arc;
use std::time::Instant;

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::Response;

use collector_decode::{DecodeError, Format, gzip};

use crate::forward::Forwarder;
use crate::metrics::{ItemOutcome, Metrics, Outcome, Reason, SignalName};
use crate::store::{Batch, Store, StoreError, now_unix_nanos};
use budget::{Budget, InFlight, ReadError};
use intake::{Intake, Item};
use source_maps::SourceMaps;
use validate::Rules;

pub use logs::Logs;
pub use traces::Traces;

/// What differs between the signals the collector receives: how a body decodes, how
/// its items are grouped, and the answer. Everything else is [`prepare`]'s and
/// [`export`]'s, written once.
pub trait Signal: Send + Sync + 'static {
    /// Its name in metrics.
    const NAME: SignalName;
    /// A decoded request, borrowing the body.
    type Request<'a>;
    /// What a request carries: a span, a log record.
    type Item<'a>: Item;

    /// Decodes an (inflated) body within `limits`: pure, no I/O.
    fn decode<'a>(
        bytes: &'a [u8],
        format: Format,
        limits: &collector_decode::Limits,
    ) -> Result<Self::Request<'a>, DecodeError>;

    /// The request's resources, each with its schema URL and its scopes, each scope with
    /// its schema URL and items.
    fn resources<'r, 'a: 'r>(
        request: &'r Self::Request<'a>,
    ) -> impl Iterator<
        Item = (
            Option<&'r collector_decode::model::Resource<'a>>,
            &'r str,
            impl Iterator<Item = Scope<'r, 'a, Self::Item<'a>>>,
        ),
    >;

    /// The attribute lists of a request that may hold an exception's stack trace: those
    /// of span events named `exception`, of log records.
    fn exception_attributes<'r, 'a: 'r>(
        request: &'r mut Self::Request<'a>,
    ) -> impl Iterator<Item = &'r mut Vec<collector_decode::model::KeyValue<'a>>>;

    /// The 200 answer (the signal's `Export*ServiceResponse`), with `partialSuccess` when
    /// `rejected` is not zero, `message` saying which items and why.
    fn accepted(format: Format, rejected: u64, message: String) -> axum::response::Response;
}

/// One scope's part of a request: the scope, its schema URL, and its items.
pub type Scope<'r, 'a, I> = (
    Option<&'r collector_decode::model::Scope<'a>>,
    &'r str,
    &'r [I],
);

/// Decodes an (inflated) body, taking at most `max_decoded_bytes` of memory for it, maps
/// its exception stack traces through `source_maps` if given (reading map files: the
/// only I/O), and validates it against `limits` and the clock `now_unix_nanos`.
pub fn prepare<S: Signal>(
    bytes: &[u8],
    format: Format,
    limits: &Limits,
    max_decoded_bytes: usize,
    now_unix_nanos: u64,
    source_maps: Option<&SourceMaps>,
) -> Result<Prepared, DecodeError> {
    let decode_limits = collector_decode::Limits {
        max_spans: limits.max_spans,
        max_decoded_bytes,
    };
    let mut request = S::decode(bytes, format, &decode_limits)?;
    if let Some(source_maps) = source_maps {
        let mapping = source_maps::RequestLimits {
            max_value: limits.rules.max_attribute_value,
            max_added: bytes.len(),
        };
        source_maps.map_request(S::exception_attributes(&mut request), mapping);
    }
    let items = S::resources(&request)
        .flat_map(|(_, _, scopes)| scopes)
        .map(|(_, _, items)| items.len())
        .sum();
    let batch = S::Item::batch(encoded_size(bytes.len(), format), items);
    let mut intake = Intake::new(&limits.rules, now_unix_nanos, batch);
    for (resource, schema_url, scopes) in S::resources(&request) {
        intake.resource(resource, schema_url, scopes);
    }
    Ok(intake.finish::<S::Item<'_>>())
}

/// About how many bytes a body's items take encoded for the store: a protobuf body's
/// size, under half a JSON body's (the batch is allocated once at about that size; the
/// head keeps it).
fn encoded_size(body_len: usize, format: Format) -> usize {
    match format {
        Format::Json => body_len / 2,
        Format::Protobuf => body_len,
    }
}

/// A decoded and validated request.
#[derive(Debug)]
pub struct Prepared {
    /// The valid spans or log records, ready for the store.
    pub batch: Batch,
    /// How many were rejected, by kind of problem.
    pub rejected: Rejected,
    /// Which were rejected and why (empty when none was).
    pub message: String,
}

/// The items of a request rejected by validation, counted by kind of problem
/// ([`validate::Problem::kind`]).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Rejected(Vec<(&'static str, u64)>);

impl Rejected {
    /// Counts one more of `kind`.
    fn add(&mut self, kind: &'static str) {
        match self.0.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => self.0.push((kind, 1)),
        }
    }

    /// How many were rejected.
    pub fn total(&self) -> u64 {
        self.0.iter().map(|(_, n)| n).sum()
    }

    /// Each kind of problem found, with how many items it rejected.
    pub fn by_kind(&self) -> &[(&'static str, u64)] {
        &self.0
    }
}

/// The limits an export request must respect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Body bytes as sent.
    pub max_body: usize,
    /// Body bytes after gzip decompression.
    pub max_decompressed: usize,
    /// Spans, or log records, in one request.
    pub max_spans: usize,
    /// What each span or log record must respect.
    pub rules: Rules,
}

/// Where accepted items go: the store, forwarding, or both (at least one).
pub struct Destinations {
    /// The store, unless `--no-store`.
    pub store: Option<Arc<Store>>,
    /// The forwarding queue, with `--forward`.
    pub forward: Option<Arc<Forwarder>>,
}

/// What the export handler needs.
pub struct Ingest {
    limits: Limits,
    budget: Budget,
    destinations: Destinations,
    metrics: Arc<Metrics>,
    source_maps: Option<Arc<SourceMaps>>,
}

impl Ingest {
    /// Requests within `limits`, holding memory from `budget`, kept in `destinations`,
    /// counted in `metrics`.
    pub fn new(
        limits: Limits,
        budget: Budget,
        destinations: Destinations,
        metrics: Arc<Metrics>,
    ) -> Self {
        Ingest {
            limits,
            budget,
            destinations,
            metrics,
            source_maps: None,
        }
    }

    /// The same, mapping exception stack traces through `source_maps`.
    pub fn with_source_maps(self, source_maps: Option<SourceMaps>) -> Self {
        Ingest {
            source_maps: source_maps.map(Arc::new),
            ..self
        }
    }

    /// What export requests hold of the budget now.
    pub fn in_flight(&self) -> InFlight {
        self.budget.in_flight()
    }
}

/// An answer and what it says became of the request (for the metrics).
type Answer = (Outcome, Response);

/// The handler of `POST /v1/traces` (`S` = [`Traces`]) and `POST /v1/logs`: answers,
/// and counts the request, its latency and its items in [`Metrics`].
pub async fn export<S: Signal>(
    State(ingest): State<Arc<Ingest>>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let started = Instant::now();
    let (outcome, response) = receive::<S>(&ingest, &headers, body).await;
    ingest.metrics.request(S::NAME, outcome, started.elapsed());
    response
}

/// Reads, decodes, validates and stores one export request.
async fn receive<S: Signal>(ingest: &Ingest, headers: &HeaderMap, body: Body) -> Answer {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
    let Some(format) = content_type.as_deref().and_then(Format::from_content_type) else {
        let got = content_type.map_or_else(
            || "no Content-Type".to_owned(),
            |t| format!("Content-Type {t:?}"),
        );
        return refuse(
            Reason::UnsupportedMediaType,
            Format::Json,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!(
                "{got} is not supported: send application/json (OTLP JSON) or application/x-protobuf (OTLP protobuf)"
            ),
        );
    };
    let gzip = match headers.get(header::CONTENT_ENCODING).map(|v| v.to_str()) {
        None => false,
        Some(Ok(v)) if v.trim().eq_ignore_ascii_case("identity") => false,
        Some(Ok(v)) if v.trim().eq_ignore_ascii_case("gzip") => true,
        Some(v) => {
            return refuse(
                Reason::UnsupportedMediaType,
                format,
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                format!(
                    "Content-Encoding {:?} is not supported: send gzip, identity or none",
                    v.unwrap_or("(not text)")
                ),
            );
        }
    };
    let limits = ingest.limits;
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    if let Some(length) = declared
        && length > limits.max_body as u64
    {
        return too_large_body(format, limits.max_body);
    }

    // From here until the store has acknowledged, memory is held (see `budget`).
    let _export = match ingest.budget.enter() {
        Ok(export) => export,
        Err(refusal) => return busy(format, &refusal),
    };
    let expected = declared.map(|length| length as usize);
    let mut body_bytes = match ingest
        .budget
        .reserve_body(expected.unwrap_or(limits.max_body))
        .await
    {
        Ok(permit) => permit,
        Err(refusal) => return busy(format, &refusal),
    };
    let bytes = match ingest
        .budget
        .read_body(body, limits.max_body, expected)
        .await
    {
        Ok(bytes) => bytes,
        Err(ReadError::TooSlow { received, elapsed }) => {
            return refuse(
                Reason::TooSlow,
                format,
                StatusCode::REQUEST_TIMEOUT,
                ingest.budget.too_slow_message(received, elapsed),
            );
        }
        Err(ReadError::TooLarge) => return too_large_body(format, limits.max_body),
        Err(ReadError::Failed(error)) => {
            return refuse(
                Reason::ReadFailed,
                format,
                StatusCode::BAD_REQUEST,
                format!("could not read the body: {error}"),
            );
        }
    };
    budget::keep(&mut body_bytes, bytes.len());
    let shutting_down = || {
        refuse(
            Reason::Unavailable,
            format,
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting down",
        )
    };
    let bytes = if gzip {
        // Inflating holds at most --max-decompressed; what it inflated to is then
        // reserved again below, with the rest (never two reservations at once, so a
        // request never waits for room it holds itself).
        let Some(_inflating) = ingest
            .budget
            .reserve_decoding(limits.max_decompressed)
            .await
        else {
            return shutting_down();
        };
        let max = limits.max_decompressed;
        match tokio::task::spawn_blocking(move || gzip::gunzip(&bytes, max)).await {
            Ok(Ok(inflated)) => inflated,
            Ok(Err(error)) => return refused(format, &error),
            Err(_) => return internal_error(format),
        }
    } else {
        bytes
    };
    // The inflated body (when gzip), the decoded request, the batch for the store (about
    // the inflated size), and the body to forward (about as large).
    let forwarding = ingest.destinations.forward.is_some();
    let held = 1 + usize::from(gzip) + usize::from(forwarding);
    let wanted = format
        .decoded_bytes_for(bytes.len())
        .saturating_add(held * bytes.len());
    let Some(decoding_bytes) = ingest.budget.reserve_decoding(wanted).await else {
        return shutting_down();
    };
    let max_decoded = decoding_bytes
        .num_permits()
        .saturating_sub(held * bytes.len());
    let now = u64::try_from(now_unix_nanos()).unwrap_or(0);
    let source_maps = ingest.source_maps.clone();
    let prepared = tokio::task::spawn_blocking(move || {
        let prepared = prepare::<S>(
            &bytes,
            format,
            &limits,
            max_decoded,
            now,
            source_maps.as_deref(),
        )?;
        let forward =
            (forwarding && !prepared.batch.is_empty()).then(|| prepared.batch.export_request());
        Ok((prepared, forward))
    })
    .await;

    let (prepared, forward_body) = match prepared {
        Ok(Ok(prepared)) => prepared,
        Ok(Err(error)) => return refused(format, &error),
        Err(_) => return internal_error(format),
    };
    let metrics = &ingest.metrics;
    for &(kind, count) in prepared.rejected.by_kind() {
        metrics.item(S::NAME, ItemOutcome::Rejected(kind), count);
    }
    let accepted = prepared.batch.len() as u64;
    if accepted > 0
        && let Err(error) = keep::<S>(&ingest.destinations, prepared.batch, forward_body).await
    {
        // Exporters retry a 503 (after Retry-After), not a 500: 503 when a retry may
        // succeed (shutting down, disk full, I/O error, database locked).
        let (reason, status) = match error.retry_after() {
            Some(_) => (Reason::Unavailable, StatusCode::SERVICE_UNAVAILABLE),
            None => (Reason::Internal, StatusCode::INTERNAL_SERVER_ERROR),
        };
        metrics.item(S::NAME, ItemOutcome::Rejected(reason.as_str()), accepted);
        let (outcome, mut response) = refuse(reason, format, status, error.to_string());
        if let Some(after) = error.retry_after() {
            response
                .headers_mut()
                .insert(header::RETRY_AFTER, after.as_secs().into());
        }
        return (outcome, response);
    }
    metrics.item(S::NAME, ItemOutcome::Accepted, accepted);
    let rejected = prepared.rejected.total();
    tracing::debug!(accepted, rejected, "export stored");
    let outcome = if rejected == 0 {
        Outcome::Accepted
    } else {
        Outcome::PartiallyAccepted
    };
    (outcome, S::accepted(format, rejected, prepared.message))
}

/// Stores `batch` and queues `forward_body` (its export request) for the upstreams, at
/// once; returns when both are durable, or the first failure. (If one fails after the
/// other succeeded, the client's retry repeats it: the store drops spans and records
/// sent twice, and upstreams receive at least once.)
async fn keep<S: Signal>(
    destinations: &Destinations,
    batch: Batch,
    forward_body: Option<Vec<u8>>,
) -> Result<(), StoreError> {
    let items = batch.len();
    let stored = async {
        match &destinations.store {
            Some(store) => store.write(batch).await,
            None => Ok(()),
        }
    };
    let queued = async {
        match (&destinations.forward, forward_body) {
            (Some(forward), Some(body)) => forward.enqueue(S::NAME, items, body).await,
            _ => Ok(()),
        }
    };
    let (stored, queued) = tokio::join!(stored, queued);
    stored.and(queued)
}

/// A refusal for `reason`: an error status with a `google.rpc.Status` body.
fn refuse(
    reason: Reason,
    format: Format,
    status: StatusCode,
    message: impl Into<String>,
) -> Answer {
    (
        Outcome::Rejected(reason),
        respond::failure(format, status, message),
    )
}

/// The answer to a body that could not be inflated or decoded.
fn refused(format: Format, error: &DecodeError) -> Answer {
    let (reason, status) = match error {
        DecodeError::Malformed(_) => (Reason::Malformed, StatusCode::BAD_REQUEST),
        DecodeError::TooLargeDecompressed(_) => (Reason::TooLarge, StatusCode::PAYLOAD_TOO_LARGE),
        DecodeError::TooManySpans(_) | DecodeError::TooManyLogRecords(_) => {
            (Reason::TooManyItems, StatusCode::PAYLOAD_TOO_LARGE)
        }
        DecodeError::TooComplex(..) => (Reason::TooComplex, StatusCode::PAYLOAD_TOO_LARGE),
    };
    tracing::debug!(%error, "export refused");
    refuse(reason, format, status, error.to_string())
}

/// The answer when inflating or decoding panicked (a bug: logged).
fn internal_error(format: Format) -> Answer {
    tracing::error!("inflating or decoding an export request panicked");
    refuse(
        Reason::Internal,
        format,
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal error while decoding",
    )
}

fn busy(format: Format, refusal: &budget::Refusal) -> Answer {
    tracing::debug!(%refusal, "export refused");
    refuse(
        Reason::Busy,
        format,
        StatusCode::SERVICE_UNAVAILABLE,
        refusal.to_string(),
    )
}

fn too_large_body(format: Format, limit: usize) -> Answer {
    refuse(
        Reason::TooLarge,
        format,
        StatusCode::PAYLOAD_TOO_LARGE,
        format!("the body is larger than {limit} bytes (--max-body); send smaller batches"),
    )
}
