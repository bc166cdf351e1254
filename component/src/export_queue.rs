//! One signal's way out: items waiting for export, and batches already encoded that the
//! transport has not taken yet. The tracer keeps one for spans and one for log records;
//! both share the transport and the batch settings.

use alloc::{boxed::Box, collections::VecDeque, vec::Vec};

use crate::config::BatchSettings;
use crate::log_record::LogRecord;
use crate::model::{Attributes, Scope, Span};
use crate::otlp_json::{Item, encode_request};

/// Which OTLP signal a payload carries (the transport posts it to `/v1/traces` or
/// `/v1/logs`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Signal {
    /// An `ExportTraceServiceRequest`.
    Traces,
    /// An `ExportLogsServiceRequest`.
    Logs,
}

/// Something that waits in an [`ExportQueue`].
pub trait Queued: Item {
    /// The signal its payloads carry.
    const SIGNAL: Signal;
    /// When it joined the queue (Unix nanoseconds): a partial batch waits the scheduled
    /// delay from its oldest item's time.
    fn queued_at(&self) -> u64;
}

impl Queued for Span {
    const SIGNAL: Signal = Signal::Traces;
    fn queued_at(&self) -> u64 {
        self.end_time
    }
}

impl Queued for LogRecord {
    const SIGNAL: Signal = Signal::Logs;
    fn queued_at(&self) -> u64 {
        self.observed_time
    }
}

/// Which waiting items an export should send.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pending {
    /// What a flush asked for and the transport has not taken yet.
    Owed,
    /// Whole batches only.
    FullBatches,
    /// Everything.
    All,
}

/// What encoding a batch needs besides its items.
pub struct Outlet<'a> {
    /// The resource every payload carries.
    pub resource: &'a Attributes,
    /// The registered scopes, by index.
    pub scopes: &'a [Scope],
    /// Batch size and byte bounds.
    pub batch: BatchSettings,
    /// Nanoseconds added to every time (the host's clock correction).
    pub clock_correction: i64,
}

/// Items of one signal waiting for export, oldest first.
pub struct ExportQueue<T> {
    queue: VecDeque<Box<T>>,
    /// Batches encoded but not yet taken by the transport (oldest first), with their item
    /// counts. A batch is encoded as soon as it is full even while the transport is busy:
    /// its items are freed while still hot in cache, and a refused body is offered again
    /// as it is, not encoded anew (holding 200,000 spans through a busy burst cost 0.4-0.5
    /// µs per span more in Chromium than encoding them as they filled batches).
    encoded: VecDeque<(Vec<u8>, u32)>,
    /// Items inside `encoded`; they count against the queue bound.
    encoded_items: usize,
    /// Items at the front that a flush asked to export and that are still waiting (the
    /// transport was busy): `tick` sends them without waiting for the delay.
    flush_owed: usize,
}

impl<T> Default for ExportQueue<T> {
    fn default() -> Self {
        ExportQueue {
            queue: VecDeque::new(),
            encoded: VecDeque::new(),
            encoded_items: 0,
            flush_owed: 0,
        }
    }
}

impl<T: Queued> ExportQueue<T> {
    /// Queues `item` unless `max` items wait already (then it is dropped: false).
    pub fn push(&mut self, item: Box<T>, max: u32) -> bool {
        if self.queue.len() + self.encoded_items >= max as usize {
            return false;
        }
        self.queue.push_back(item);
        true
    }

    /// Whether items of this kind wait, as `what` counts them.
    pub fn has(&self, what: Pending, batch: &BatchSettings) -> bool {
        match what {
            Pending::Owed => self.flush_owed > 0,
            Pending::FullBatches => {
                !self.encoded.is_empty() || self.queue.len() >= batch.max_export_batch_size as usize
            }
            Pending::All => !(self.queue.is_empty() && self.encoded.is_empty()),
        }
    }

    /// When the oldest queued item's delay runs out.
    pub fn next_deadline(&self, delay_ns: u64) -> Option<u64> {
        self.queue
            .front()
            .map(|item| item.queued_at().saturating_add(delay_ns))
    }

    /// How many items are encoded and how many wait unencoded (for tests).
    #[cfg(test)]
    pub fn counts(&self) -> (usize, usize) {
        (self.encoded_items, self.queue.len())
    }

    /// Marks everything waiting as owed to a flush.
    pub fn owe_all(&mut self) {
        self.flush_owed = self.queue.len() + self.encoded_items;
    }

    /// Encodes a batch if a whole one waits unencoded (while the transport is busy).
    pub fn encode_if_full(&mut self, outlet: &Outlet<'_>) {
        if self.queue.len() >= outlet.batch.max_export_batch_size as usize {
            self.encode_front(outlet);
        }
    }

    /// Encodes up to one batch from the front of the queue into `encoded`.
    fn encode_front(&mut self, outlet: &Outlet<'_>) {
        let n = self
            .queue
            .len()
            .min(outlet.batch.max_export_batch_size as usize);
        // `iter().take(n)` and `pop_front` rather than `range(..n)` and `drain(..n)`: their
        // range checks keep core's slice-index panic messages in the download (~0.5 KB gzip).
        let (body, n) = encode_request(
            outlet.resource,
            outlet.scopes,
            self.queue.iter().take(n).map(|item| &**item),
            outlet.batch.max_export_batch_bytes as usize,
            outlet.clock_correction,
        );
        for _ in 0..n {
            self.queue.pop_front();
        }
        self.encoded.push_back((body, n as u32));
        self.encoded_items += n;
    }

    /// Offers the oldest waiting batch (encoding it first if none is encoded) to `send`;
    /// it leaves only if taken. The number of items sent (0 when nothing waited), or
    /// `None` when `send` refused it.
    pub fn offer(
        &mut self,
        outlet: &Outlet<'_>,
        send: impl FnOnce(Signal, &[u8], u32) -> bool,
    ) -> Option<usize> {
        if self.encoded.is_empty() {
            if self.queue.is_empty() {
                return Some(0);
            }
            self.encode_front(outlet);
        }
        let (body, n) = self.encoded.front()?;
        if !send(T::SIGNAL, body, *n) {
            return None;
        }
        let n = *n as usize;
        self.encoded.pop_front();
        self.encoded_items -= n;
        self.flush_owed = self.flush_owed.saturating_sub(n);
        Some(n)
    }
}
