# wasm-otlp tasks. `just --list` shows them.

# Where the built component lands (README names this path).
component := "dist/wasm_otlp_tracing.wasm"
core := "target/wasm32-unknown-unknown/release/wasm_otlp_component.wasm"

# Install what a fresh machine lacks (Rust's wasm target).
setup:
    rustup target add wasm32-unknown-unknown

# Build the tracing component into dist/.
build-component: setup
    cargo build -p wasm-otlp-component --target wasm32-unknown-unknown --release
    cargo run -q -p component-pack -- {{core}} {{component}}

# Run every test: native unit tests, then the component under wasmtime.
test: build-component
    cargo test --workspace --all-targets

# Formatting and lints, native and for the wasm target.
lint: setup
    cargo fmt --all --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy -p wasm-otlp-component --target wasm32-unknown-unknown -- -D warnings

# What CI runs: lints, then every test.
ci: lint test

# Per-span cost and OTLP/JSON encoding throughput of the component under wasmtime.
bench: build-component
    cargo bench -p wasmtime-host
