//! The traced entry point: `inventory.reserve`, recording its work through [`crate::sdk`].
//!
//! The spans of one call:
//!
//! ```text
//! inventory.reserve   (server) product.sku, reserve.quantity, reserve.remaining; event reservation.made
//! ├── stock.lookup    product.sku, stock.on_hand, stock.unit_weight_kg, stock.warehouses, stock.location
//! └── stock.update    (when the reservation is made) stock.remaining, stock.low
//! ```
//!
//! The attributes use each JSON shape `wasi:otel` carries: strings, integers, a double,
//! booleans, an array and a map. A refused reservation sets an error status and an
//! `exception` event on `inventory.reserve` and emits a warning log record; stock left
//! under its reorder level emits an info log record.
#![allow(unsafe_code)] // wit-bindgen's generated glue (canonical ABI) is unsafe by nature.

wit_bindgen::generate!({
    path: ["../../wit", "wit"],
    world: "wasm-otlp:otel-guest/otel-guest",
    // The imported packages' interfaces too (`wasi:otel`, `wasi:clocks`).
    generate_all,
});

use std::cell::RefCell;

use exports::wasm_otlp::otel_guest::inventory::{self, Reservation};
use wasi::otel::tracing::SpanKind;

use crate::json;
use crate::sdk::{Span, kv};
use crate::stock::{Refusal, Warehouse};

/// The component's export implementation.
struct Guest;

export!(Guest);

/// OTLP `SeverityNumber`s.
const SEVERITY_INFO: u8 = 9;
const SEVERITY_WARN: u8 = 13;

thread_local! {
    /// The instance's stock, kept between calls.
    static WAREHOUSE: RefCell<Warehouse> = RefCell::new(Warehouse::default());
}

impl inventory::Guest for Guest {
    fn reserve(sku: String, quantity: u32) -> Result<Reservation, String> {
        let mut root = Span::start("inventory.reserve", SpanKind::Server);
        root.set("product.sku", json::string(&sku));
        root.set("reserve.quantity", quantity.to_string());
        look_up(&sku);
        let reserved = WAREHOUSE.with(|w| w.borrow_mut().reserve(&sku, quantity));
        let outcome = match reserved {
            Ok(remaining) => {
                update(&sku, remaining, &root);
                root.set("reserve.remaining", remaining.to_string());
                root.event(
                    "reservation.made",
                    vec![kv("reserve.quantity", quantity.to_string())],
                );
                Ok(Reservation {
                    sku,
                    reserved: quantity,
                    remaining,
                })
            }
            Err(refusal) => {
                let message = [refusal.describe(), ": ", &sku].concat();
                root.fail(refusal_type(refusal), &message);
                root.log(
                    SEVERITY_WARN,
                    "WARN",
                    &["reservation refused: ", &message].concat(),
                );
                Err(message)
            }
        };
        root.end();
        outcome
    }
}

/// Looks `sku` up in a `stock.lookup` span under the current one.
fn look_up(sku: &str) {
    let mut span = Span::start("stock.lookup", SpanKind::Internal);
    span.set("product.sku", json::string(sku));
    let item = WAREHOUSE.with(|w| w.borrow().item(sku).cloned());
    match item {
        Some(item) => {
            span.set("stock.on_hand", item.on_hand.to_string());
            span.set("stock.unit_weight_kg", item.unit_weight_kg.to_string());
            span.set("stock.warehouses", json::strings(item.warehouses));
            span.set("stock.location", json::map(item.location));
        }
        None => span.fail("UnknownSku", Refusal::UnknownSku.describe()),
    }
    span.end();
}

/// Records the new stock level in a `stock.update` span, with an info log record in
/// `root`'s trace when it fell under the reorder level.
fn update(sku: &str, remaining: u32, root: &Span) {
    let mut span = Span::start("stock.update", SpanKind::Internal);
    let low = WAREHOUSE.with(|w| {
        w.borrow()
            .item(sku)
            .is_some_and(|i| remaining < i.reorder_level)
    });
    span.set("stock.remaining", remaining.to_string());
    span.set("stock.low", low.to_string());
    span.end();
    if low {
        root.log(
            SEVERITY_INFO,
            "INFO",
            &[
                "stock of ",
                sku,
                " is low: ",
                &remaining.to_string(),
                " left",
            ]
            .concat(),
        );
    }
}

/// The `exception.type` of a refusal.
fn refusal_type(refusal: Refusal) -> &'static str {
    match refusal {
        Refusal::UnknownSku => "UnknownSku",
        Refusal::ZeroQuantity => "ZeroQuantity",
        Refusal::Insufficient => "InsufficientStock",
    }
}
