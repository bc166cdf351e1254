//! An example guest component of world `traced` (`wit/guest.wit`): it prices shopping
//! carts (`checkout.price-cart`) and records that work as spans, events and a log record
//! through the `tracer` and `propagation` it imports. Composed with the tracing component
//! (`just compose`), those imports are answered inside the composed component, which
//! then exports both this guest's `checkout` and the tracing component's `pipeline` and
//! `setup`.
//!
//! [`pricing`] is the work itself, plain Rust tested natively; the traced entry point
//! (`bindings`) is built for WebAssembly only.

pub mod pricing;

#[cfg(target_arch = "wasm32")]
mod bindings;
