//! The batcher: full batches leave at once, partial ones after the scheduled delay (by
//! the host clock, on `tick`), flush and shutdown export the rest, a full queue drops
//! and counts, and a busy transport keeps spans queued.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use crate::common::{
    Harness, MS, batch, decode, no_trap, ok, spans_of, string_attribute, test_config,
};
use wasmtime_host::{Config, KeyValue, TracingError};

fn config_with_batch(
    max_export_batch_size: u32,
    max_queue_size: u32,
    scheduled_delay_ms: u32,
) -> Config {
    Config {
        batch: batch(
            max_export_batch_size,
            max_queue_size,
            scheduled_delay_ms,
            4096,
        ),
        ..test_config()
    }
}

fn end_spans(t: &mut Harness, count: usize) {
    for _ in 0..count {
        let span = t.start("s");
        t.end(span);
    }
}

#[test]
fn ending_the_nth_span_exports_a_batch_of_n_at_once() {
    let mut t = Harness::with_config(&config_with_batch(4, 100, 60_000));
    end_spans(&mut t, 3);
    assert!(t.payloads.is_empty(), "a partial batch waits");
    end_spans(&mut t, 1);
    let payloads = t.payloads.drain();
    assert_eq!(payloads.len(), 1);
    assert_eq!(payloads[0].count, 4);
    assert_eq!(spans_of(&decode(&payloads[0])).count(), 4);

    end_spans(&mut t, 8);
    let payloads = t.payloads.drain();
    assert_eq!(payloads.iter().map(|p| p.count).collect::<Vec<_>>(), [4, 4]);
}

#[test]
fn a_partial_batch_leaves_on_tick_once_the_scheduled_delay_has_passed() {
    let mut t = Harness::with_config(&config_with_batch(100, 1000, 1_000));
    assert_eq!(
        no_trap(t.next_deadline()),
        None,
        "nothing queued, no deadline"
    );
    let queued_at = t.clock.now();
    end_spans(&mut t, 3);
    let deadline = queued_at + 1_000 * MS;
    assert_eq!(no_trap(t.next_deadline()), Some(deadline));

    no_trap(t.tick());
    t.clock.set(deadline - 1);
    no_trap(t.tick());
    assert!(
        t.payloads.is_empty(),
        "tick before the deadline exports nothing"
    );

    t.clock.set(deadline);
    no_trap(t.tick());
    let payloads = t.payloads.drain();
    assert_eq!(payloads.len(), 1);
    assert_eq!(payloads[0].count, 3);
    assert_eq!(no_trap(t.next_deadline()), None);
}

#[test]
fn the_deadline_follows_the_oldest_queued_span() {
    let mut t = Harness::with_config(&config_with_batch(100, 1000, 1_000));
    let first = t.clock.now();
    end_spans(&mut t, 1);
    t.clock.advance(600 * MS);
    end_spans(&mut t, 1);
    assert_eq!(no_trap(t.next_deadline()), Some(first + 1_000 * MS));
    t.clock.set(first + 1_000 * MS);
    no_trap(t.tick());
    assert_eq!(
        t.payloads.drain()[0].count,
        2,
        "the whole partial batch leaves"
    );
}

#[test]
fn force_flush_exports_whatever_is_queued() {
    let mut t = Harness::with_config(&config_with_batch(10, 1000, 60_000));
    end_spans(&mut t, 25);
    assert_eq!(
        t.payloads
            .drain()
            .iter()
            .map(|p| p.count)
            .collect::<Vec<_>>(),
        [10, 10]
    );
    no_trap(t.force_flush());
    let payloads = t.payloads.drain();
    assert_eq!(payloads.len(), 1);
    assert_eq!(payloads[0].count, 5);
    no_trap(t.force_flush());
    assert!(t.payloads.is_empty(), "an empty queue sends nothing");
    assert_eq!(no_trap(t.next_deadline()), None);
}

#[test]
fn shutdown_exports_the_rest_discards_open_spans_and_refuses_new_ones() {
    let mut t = Harness::with_config(&config_with_batch(100, 1000, 60_000));
    end_spans(&mut t, 3);
    let still_open = t.start("open at shutdown");
    no_trap(t.shutdown());
    let payloads = t.payloads.drain();
    assert_eq!(payloads.iter().map(|p| p.count).sum::<u32>(), 3);

    let refused = no_trap(t.start_span("after", &wasmtime_host::SpanOptions::root()));
    assert_eq!(refused, Err(TracingError::ShutDown));
    assert!(no_trap(t.end_span(still_open, None)).is_err());
    no_trap(t.force_flush());
    assert!(t.payloads.is_empty(), "the open span was discarded");
}

/// A harness whose transport refuses payloads while the returned switch is on.
fn with_busy_transport(config: &Config) -> (Harness, Arc<AtomicBool>) {
    let busy = Arc::new(AtomicBool::new(true));
    let transport_busy = Arc::clone(&busy);
    let mut t =
        Harness::with_host(|host| host.with_sink(move |_| !transport_busy.load(Ordering::SeqCst)));
    ok(t.configure(config));
    (t, busy)
}

#[test]
fn a_full_queue_drops_newly_ended_spans_and_counts_exactly_how_many() {
    // The queue only fills while the transport is busy: a full batch leaves at once
    // otherwise, and a batch may not be larger than the queue.
    let (mut t, busy) = with_busy_transport(&config_with_batch(8, 8, 3_600_000));
    end_spans(&mut t, 20);
    assert!(t.payloads.is_empty());
    let stats = no_trap(t.read_stats());
    assert_eq!(stats.spans_dropped_queue_full, 12);
    assert_eq!(stats.spans_ended, 20);

    busy.store(false, Ordering::SeqCst);
    no_trap(t.force_flush());
    let payloads = t.payloads.drain();
    assert_eq!(payloads.iter().map(|p| p.count).sum::<u32>(), 8);
    let stats = no_trap(t.read_stats());
    assert_eq!(stats.spans_exported, 8);
    assert_eq!(stats.payloads_sent, payloads.len() as u64);
    assert_eq!(stats.spans_dropped_queue_full, 12);
}

#[test]
fn a_batch_larger_than_the_queue_is_refused_and_nothing_changes() {
    // OpenTelemetry's rule: max-export-batch-size must not exceed max-queue-size.
    let mut t = Harness::with_config(&config_with_batch(4, 100, 60_000));
    let refused = no_trap(t.configure(&config_with_batch(4096, 8, 60_000)));
    assert!(
        matches!(refused, Err(TracingError::InvalidArgument(ref why)) if !why.is_empty()),
        "{refused:?}"
    );
    end_spans(&mut t, 4);
    assert_eq!(
        t.payloads.drain().len(),
        1,
        "the old batch size of 4 still holds"
    );
}

#[test]
fn configure_exports_queued_spans_under_the_old_resource_first() {
    let mut t = Harness::with_config(&config_with_batch(100, 1000, 60_000));
    end_spans(&mut t, 2);
    let mut renamed = config_with_batch(100, 1000, 60_000);
    renamed.resource = vec![KeyValue::new("service.name", "renamed")];
    ok(t.configure(&renamed));
    end_spans(&mut t, 1);
    no_trap(t.force_flush());

    let payloads = t.payloads.drain();
    let services: Vec<(String, usize)> = payloads
        .iter()
        .map(|payload| {
            let request = decode(payload);
            let resource = request.resource_spans[0]
                .resource
                .clone()
                .unwrap_or_default();
            let name = string_attribute(&resource.attributes, "service.name").to_owned();
            (name, spans_of(&request).count())
        })
        .collect();
    assert_eq!(
        services,
        [("wasm-otlp-tests".to_owned(), 2), ("renamed".to_owned(), 1)]
    );
}

#[test]
fn a_busy_transport_keeps_spans_queued_until_a_later_tick() {
    let (mut t, busy) = with_busy_transport(&config_with_batch(4, 100, 1_000));

    end_spans(&mut t, 4);
    assert!(t.payloads.is_empty(), "the busy transport took nothing");
    let stats = no_trap(t.read_stats());
    assert_eq!((stats.spans_exported, stats.payloads_sent), (0, 0));

    busy.store(false, Ordering::SeqCst);
    no_trap(t.tick());
    let payloads = t.payloads.drain();
    assert_eq!(
        payloads.iter().map(|p| p.count).sum::<u32>(),
        4,
        "the refused batch is offered again on tick"
    );
    let stats = no_trap(t.read_stats());
    assert_eq!((stats.spans_exported, stats.payloads_sent), (4, 1));
}

#[test]
fn force_flush_after_a_busy_spell_sends_batches_of_at_most_the_batch_size() {
    let (mut t, busy) = with_busy_transport(&config_with_batch(4, 10, 1_000));
    end_spans(&mut t, 15);
    assert_eq!(no_trap(t.read_stats()).spans_dropped_queue_full, 5);

    busy.store(false, Ordering::SeqCst);
    no_trap(t.force_flush());
    let payloads = t.payloads.drain();
    assert_eq!(payloads.iter().map(|p| p.count).sum::<u32>(), 10);
    assert!(
        payloads.iter().all(|p| p.count <= 4),
        "batches of at most 4"
    );
}

#[test]
fn a_byte_bound_keeps_every_payload_within_it_and_loses_no_span() {
    let mut config = config_with_batch(100, 1000, 60_000);
    config.batch.max_export_batch_bytes = 2_000;
    let mut t = Harness::with_config(&config);
    end_spans(&mut t, 250);
    no_trap(t.force_flush());
    let payloads = t.payloads.drain();
    assert!(payloads.len() > 2, "{} payloads", payloads.len());
    let mut total = 0;
    for payload in &payloads {
        assert!(payload.body.len() <= 2_000, "{} bytes", payload.body.len());
        assert_eq!(spans_of(&decode(payload)).count(), payload.count as usize);
        total += payload.count;
    }
    assert_eq!(total, 250);
}
