//! The traced entry point: `checkout.price-cart`, recording its work through the imported
//! `tracer` and `propagation` (world `traced` of `wit/tracing.wit`).
//!
//! The spans of one call:
//!
//! ```text
//! price-cart                 cart.line_count, cart.coupon, cart.subtotal_cents, cart.total_cents
//! ├── price-line             (one per line) product.sku, cart.quantity, line.total_cents
//! │   └── catalog.lookup     product.sku, product.name, product.unit_price_cents
//! └── apply-coupon           (with a coupon) event coupon.applied or coupon.rejected
//! ```
//!
//! An unknown SKU or a zero quantity sets an error status on the spans it went through and
//! an `exception` event on `price-cart`; an unknown coupon adds a warning log record in the
//! trace. Tracing never changes the outcome: a call the tracer refuses (too many open
//! spans, shut down) only leaves its span unrecorded.
#![allow(unsafe_code)] // wit-bindgen's generated glue (canonical ABI) is unsafe by nature.

wit_bindgen::generate!({
    path: ["../../wit", "wit"],
    world: "wasm-otlp:traced-guest/traced-guest",
    // The tracing package's interfaces too (its `tracer`, `propagation` and `types`).
    generate_all,
});

use exports::wasm_otlp::traced_guest::checkout::{self, CartLine, Quote};
use wasm_otlp::tracing::propagation;
use wasm_otlp::tracing::tracer::{self, LogRecord, Parent, SpanHandle, SpanOptions};
use wasm_otlp::tracing::types::{AttributeValue, KeyValue, SpanContext, SpanKind, Status};

use crate::pricing;

/// The component's export implementation.
struct Guest;

export!(Guest);

/// OTLP `SeverityNumber` of a warning.
const SEVERITY_WARN: u8 = 13;

impl checkout::Guest for Guest {
    fn price_cart(
        lines: Vec<CartLine>,
        coupon: Option<String>,
        traceparent: Option<String>,
    ) -> Result<Quote, String> {
        // The caller's context, if it sent a valid one; else this call starts a trace.
        let extracted = traceparent
            .as_deref()
            .map(|header| propagation::extract(header, None));
        let parent = match &extracted {
            Some(Ok(context)) => Parent::Context(context.clone()),
            _ => Parent::None,
        };
        let mut attributes = vec![kv("cart.line_count", count(lines.len()))];
        if let Some(code) = &coupon {
            attributes.push(kv("cart.coupon", code.as_str()));
        }
        let root = Span::start("price-cart", parent, attributes);
        if let Some(Err(reason)) = &extracted {
            root.event(
                "traceparent.invalid",
                vec![kv("error.message", reason.as_str())],
            );
        }

        let subtotal = match price_lines(&root, &lines) {
            Ok(subtotal) => subtotal,
            Err(message) => {
                root.exception("PricingError", &message);
                root.fail(&message);
                return Err(message);
            }
        };
        let discount = coupon
            .as_deref()
            .map_or(0, |code| apply_coupon(&root, code, subtotal));
        let total = subtotal - discount;
        root.set("cart.subtotal_cents", count(subtotal));
        root.set("cart.total_cents", count(total));

        let traceparent = root
            .context()
            .and_then(|context| propagation::inject(&context))
            .map(|headers| headers.traceparent)
            .unwrap_or_default();
        Ok(Quote {
            subtotal_cents: subtotal,
            discount_cents: discount,
            total_cents: total,
            traceparent,
        })
    }
}

/// Prices every line under `root`: the subtotal, or why a line could not be priced.
fn price_lines(root: &Span, lines: &[CartLine]) -> Result<u64, String> {
    let mut subtotal: u64 = 0;
    for line in lines {
        let span = root.child(
            "price-line",
            vec![
                kv("product.sku", line.sku.as_str()),
                kv("cart.quantity", i64::from(line.quantity)),
            ],
        );
        let priced = look_up(&span, &line.sku)
            .ok_or(pricing::LineError::UnknownSku)
            .and_then(|product| pricing::line_total(product, line.quantity))
            .and_then(|total| {
                subtotal
                    .checked_add(total)
                    .map(|sum| (total, sum))
                    .ok_or(pricing::LineError::Overflow)
            });
        match priced {
            Ok((total, sum)) => {
                span.set("line.total_cents", count(total));
                subtotal = sum;
            }
            Err(error) => {
                let message = [error.describe(), ": ", &line.sku].concat();
                span.fail(&message);
                return Err(message);
            }
        }
    }
    Ok(subtotal)
}

/// Finds `sku` in the catalogue, in a `catalog.lookup` span under `parent`.
fn look_up(parent: &Span, sku: &str) -> Option<&'static pricing::Product> {
    let span = parent.child("catalog.lookup", vec![kv("product.sku", sku)]);
    let product = pricing::product(sku);
    match product {
        Some(product) => span.set_all(vec![
            kv("product.name", product.name),
            kv("product.unit_price_cents", count(product.unit_price_cents)),
        ]),
        None => span.fail(pricing::LineError::UnknownSku.describe()),
    }
    product
}

/// Applies the coupon `code` to `subtotal` in an `apply-coupon` span under `root`: the
/// discount, 0 for a code the catalogue does not know (noted, and logged as a warning).
fn apply_coupon(root: &Span, code: &str, subtotal: u64) -> u64 {
    let span = root.child("apply-coupon", vec![kv("coupon.code", code)]);
    match pricing::coupon(code) {
        Some(coupon) => {
            let discount = pricing::discount(subtotal, coupon);
            span.event(
                "coupon.applied",
                vec![
                    kv("coupon.percent_off", i64::from(coupon.percent_off)),
                    kv("coupon.discount_cents", count(discount)),
                ],
            );
            discount
        }
        None => {
            span.event("coupon.rejected", vec![kv("coupon.code", code)]);
            span.log(
                SEVERITY_WARN,
                "warn",
                &["unknown coupon ", code, ": no discount"].concat(),
            );
            0
        }
    }
}

/// One attribute.
fn kv(key: &str, value: impl Into<AttributeValue>) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: value.into(),
    }
}

/// A count or an amount as an OTLP integer (`s64`), saturated.
fn count(n: impl TryInto<i64>) -> i64 {
    n.try_into().unwrap_or(i64::MAX)
}

impl From<&str> for AttributeValue {
    fn from(text: &str) -> Self {
        AttributeValue::String(text.into())
    }
}

impl From<i64> for AttributeValue {
    fn from(n: i64) -> Self {
        AttributeValue::S64(n)
    }
}

/// A span of this guest, ended when dropped (children before their parent). `None` when
/// the tracer refused to start it: then every method does nothing, and its children are
/// not started either (they would otherwise begin a trace of their own).
struct Span(Option<SpanHandle>);

impl Span {
    /// Starts an internal span under `parent`.
    fn start(name: &str, parent: Parent, attributes: Vec<KeyValue>) -> Span {
        let options = SpanOptions {
            kind: SpanKind::Internal,
            parent,
            attributes,
            links: Vec::new(),
            start_time: None,
            scope: 0,
        };
        Span(tracer::start_span(name, &options).ok())
    }

    /// Starts a child of this span.
    fn child(&self, name: &str, attributes: Vec<KeyValue>) -> Span {
        match self.0 {
            Some(handle) => Span::start(name, Parent::Span(handle), attributes),
            None => Span(None),
        }
    }

    /// Sets one attribute.
    fn set(&self, key: &str, value: impl Into<AttributeValue>) {
        if let Some(handle) = self.0 {
            let _ = tracer::set_attribute(handle, key, &value.into());
        }
    }

    /// Sets several attributes.
    fn set_all(&self, attributes: Vec<KeyValue>) {
        if let Some(handle) = self.0 {
            let _ = tracer::set_attributes(handle, &attributes);
        }
    }

    /// Adds an event now.
    fn event(&self, name: &str, attributes: Vec<KeyValue>) {
        if let Some(handle) = self.0 {
            let _ = tracer::add_event(handle, name, &attributes, None);
        }
    }

    /// Records an exception event (the status is set apart, by [`Span::fail`]).
    fn exception(&self, exception_type: &str, message: &str) {
        if let Some(handle) = self.0 {
            let _ = tracer::record_exception(handle, exception_type, message, "", None);
        }
    }

    /// Sets an error status.
    fn fail(&self, message: &str) {
        if let Some(handle) = self.0 {
            let _ = tracer::set_status(handle, &Status::Error(message.into()));
        }
    }

    /// Emits a log record now, in this span's trace.
    fn log(&self, severity_number: u8, severity_text: &str, body: &str) {
        let Some(context) = self.context() else {
            return;
        };
        let _ = tracer::emit_log(&LogRecord {
            time: None,
            severity_number,
            severity_text: severity_text.into(),
            body: body.into(),
            attributes: Vec::new(),
            context: Some(context),
            scope: 0,
        });
    }

    /// The span's context (for propagation and log records).
    fn context(&self) -> Option<SpanContext> {
        self.0.and_then(|handle| tracer::context_of(handle).ok())
    }
}

impl Drop for Span {
    fn drop(&mut self) {
        if let Some(handle) = self.0 {
            let _ = tracer::end_span(handle, None);
        }
    }
}
