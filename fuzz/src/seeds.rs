//! The committed seed corpora (`seeds/<target>/`), written here: `just fuzz-seeds`
//! (`FUZZ_WRITE_SEEDS=1 cargo test`) writes them, a plain `cargo test` checks that the
//! committed files are what this writes and that every batch is well-formed.

use std::path::Path;

use wasm_otlp_component::ids::IdGenerator;
use wasm_otlp_component::recorder::ops::{self, status, value_type};
use wasm_otlp_component::recorder::{OpBatch, apply};
use wasm_otlp_component::tracer::Tracer;

use crate::host::FuzzHost;
use crate::recorder::{Writer, raw_batch};

const TRACE: (u64, u64) = (0x4bf9_2f35_77b3_4da6, 0xa3ce_929d_0e0e_4736);
const ROOT: u64 = 0x1111_1111_1111_1111;
const CHILD: u64 = 0x2222_2222_2222_2222;

/// Writes START for `span` under `parent` (0: a root) in scope `scope`, sampled.
fn start(w: &mut Writer, span: u64, parent: u64, flags: u32, scope: u32, name: &str) {
    w.op(ops::START, span);
    w.u64(TRACE.0);
    w.u64(TRACE.1);
    w.u64(parent);
    w.words.extend([flags, 2, scope]);
    w.string(name);
    w.string("");
    w.numbers.push(1.5);
}

fn end(w: &mut Writer, span: u64, ms: f64) {
    w.op(ops::END, span);
    w.numbers.push(ms);
}

/// CONFIGURE with `sampler`, `ratio`, limits, batch settings, one resource attribute and
/// the default scope.
fn configure(w: &mut Writer, sampler: u32, ratio: f64, limits: [u32; 5], batch: [u32; 5]) {
    w.words.extend([ops::CONFIGURE, sampler]);
    w.numbers.push(ratio);
    w.words.extend(limits);
    w.words.extend(batch);
    w.words.push(1);
    w.string("service.name");
    w.words.push(value_type::STRING);
    w.string("checkout-web");
    w.string("web");
    w.string("1.0");
    w.words.push(0);
}

/// One attribute of each of the eight types.
fn every_type(w: &mut Writer, span: u64) {
    let attr = |w: &mut Writer, key: &str, kind: u32| {
        w.op(ops::ATTR, span);
        w.string(key);
        w.words.push(kind);
    };
    attr(w, "http.method", value_type::STRING);
    w.string("GET");
    attr(w, "cached", value_type::BOOL);
    w.words.push(1);
    attr(w, "bytes", value_type::S64);
    w.u64(u64::MAX);
    attr(w, "ratio", value_type::F64);
    w.string("0.25");
    attr(w, "tags", value_type::STRING_ARRAY);
    w.words.push(2);
    w.string("a\"b");
    w.string("ü😀");
    attr(w, "flags", value_type::BOOL_ARRAY);
    w.words.extend([2, 0, 1]);
    attr(w, "sizes", value_type::S64_ARRAY);
    w.words.push(2);
    w.u64(1);
    w.u64(1 << 63);
    attr(w, "ratios", value_type::F64_ARRAY);
    w.words.push(3);
    w.string("1e-7");
    w.string("-0.5");
    w.string("NaN");
}

/// The recorder target's seeds: valid batches covering every operation and attribute
/// type, as raw inputs (`recorder.rs`), and a start for its structured reading.
fn recorder() -> Vec<(&'static str, Vec<u8>)> {
    let mut seeds = Vec::new();

    // A page load and a fetch under it, ended: most of what a browser records.
    let mut w = Writer::default();
    start(&mut w, ROOT, 0, 1, 0, "page load");
    start(&mut w, CHILD, ROOT, 1, 0, "GET /api/cart é😀");
    every_type(&mut w, CHILD);
    w.op(ops::EVENT, CHILD);
    w.string("ttfb");
    w.numbers.push(2.0);
    w.words.extend([1]);
    w.string("phase");
    w.words.push(value_type::STRING);
    w.string("wait");
    w.op(ops::STATUS, CHILD);
    w.words.push(status::ERROR);
    w.string("HTTP 500");
    end(&mut w, CHILD, 3.000001);
    end(&mut w, ROOT, 4.0);
    seeds.push(("spans", w.raw_input(0)));

    // Settings: a configuration, a second scope, a span in it; a busy transport.
    let mut w = Writer::default();
    configure(&mut w, 0, 0.0, [128, 12, 128, 128, 128], [1, 0, 4, 1000, 8]);
    w.words.push(ops::SCOPE);
    w.string("fetch");
    w.string("2.0");
    w.words.push(1);
    w.string("lib");
    w.words.push(value_type::BOOL);
    w.words.push(0);
    start(&mut w, ROOT, 0, 1, 1, "GET");
    end(&mut w, ROOT, 1.0);
    configure(
        &mut w,
        3,
        0.5,
        [128, 4096, 128, 128, 128],
        [512, 60_000, 2048, 5000, 16384],
    );
    seeds.push(("settings", w.raw_input(8)));

    // Log records in a span's trace and in none, around a clock correction.
    let mut w = Writer::default();
    start(&mut w, ROOT, 0, 1, 0, "checkout");
    let log = |w: &mut Writer, span: Option<u64>, severity: u32, body: &str, ms: f64| {
        w.words.push(ops::LOG);
        match span {
            Some(span) => {
                w.u64(TRACE.0);
                w.u64(TRACE.1);
                w.u64(span);
                w.words.push(1);
            }
            None => w.words.extend([0; 7]),
        }
        w.words.extend([severity, 0]);
        w.string("error");
        w.string(body);
        w.words.push(1);
        w.string("session.id");
        w.words.push(value_type::STRING);
        w.string("5d3c0e2a9b7f41c8");
        w.numbers.push(ms);
    };
    log(&mut w, Some(ROOT), 17, "TypeError: total is undefined", 1.5);
    w.words.push(ops::CLOCK);
    w.numbers.push(-7_200_000.0);
    log(&mut w, None, 13, "slow response", 2.5);
    end(&mut w, ROOT, 3.0);
    seeds.push(("logs", w.raw_input(4)));

    // Links, a rename, an OK status and a remote parent; origin 0.
    let mut w = Writer::default();
    start(&mut w, CHILD, ROOT, 0x101, 0, "consume");
    w.op(ops::LINK, CHILD);
    w.u64(TRACE.1);
    w.u64(TRACE.0);
    w.u64(0x3333_3333_3333_3333);
    w.words.push(1);
    w.string("rojo=00f067aa0ba902b7,congo=t61rcWkgMzE");
    w.words.push(1);
    w.string("link.kind");
    w.words.push(value_type::STRING);
    w.string("follows");
    w.op(ops::NAME, CHILD);
    w.string("consume orders");
    w.op(ops::STATUS, CHILD);
    w.words.extend([status::OK, 0]);
    end(&mut w, CHILD, 9.25);
    seeds.push(("links", w.raw_input(2)));

    // Tiny limits, then a span that exceeds each of them.
    let mut w = Writer::default();
    configure(&mut w, 0, 0.0, [1, 3, 1, 1, 1], [2, 0, 2, 1, 2]);
    start(&mut w, ROOT, 0, 1, 0, "truncated name");
    every_type(&mut w, ROOT);
    for name in ["first", "second"] {
        w.op(ops::EVENT, ROOT);
        w.string(name);
        w.numbers.push(2.0);
        w.words.push(0);
        w.op(ops::LINK, ROOT);
        w.u64(TRACE.0);
        w.u64(TRACE.1);
        w.u64(CHILD);
        w.words.push(1);
        w.string("");
        w.words.push(0);
    }
    end(&mut w, ROOT, 5.0);
    seeds.push(("limits", w.raw_input(0)));

    // Many spans in a chain, ended innermost first, more than one batch's worth.
    let mut w = Writer::default();
    configure(
        &mut w,
        0,
        0.0,
        [128, 4096, 128, 128, 128],
        [16, 0, 64, 1000, 64],
    );
    for i in 1..=40u64 {
        start(&mut w, i, i - 1, 1, 0, "step");
    }
    for i in (1..=40u64).rev() {
        end(&mut w, i, i as f64);
    }
    seeds.push(("chain", w.raw_input(0)));

    // The structured reading, from a fixed pseudo-random start.
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut bytes = vec![1u8];
    bytes.extend((0..512).map(|_| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state >> 56) as u8
    }));
    seeds.push(("structured", bytes));
    seeds
}

#[test]
fn recorder_seeds_are_committed_and_well_formed() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/recorder");
    for (name, bytes) in recorder() {
        assert!(bytes.len() <= 4096, "{name}: seeds stay small");
        if bytes[0] & 1 == 0 {
            let (words, numbers, text) = raw_batch(&bytes[1..]);
            let mut tracer = Tracer::new(IdGenerator::from_seed_bytes(&[42; 32]));
            let batch = OpBatch {
                words: &words,
                numbers: &numbers,
                text,
                time_origin_unix_nanos: 0,
            };
            let outcome = apply(&mut tracer, &mut FuzzHost::default(), &batch);
            assert_eq!(outcome.malformed, None, "{name}");
            assert_eq!(outcome.first_refusal, None, "{name}");
        }
        write_or_check(&dir, name, &bytes);
    }
}

/// Writes a seed (`FUZZ_WRITE_SEEDS` set), else checks that the committed file holds it.
fn write_or_check(dir: &Path, name: &str, bytes: &[u8]) {
    let path = dir.join(name);
    if std::env::var_os("FUZZ_WRITE_SEEDS").is_some() {
        std::fs::create_dir_all(dir).unwrap();
        std::fs::write(&path, bytes).unwrap();
    } else {
        let committed = std::fs::read(&path).unwrap_or_default();
        assert!(
            committed == bytes,
            "{}: run `just fuzz-seeds`",
            path.display()
        );
    }
}

/// Seeds of the OTLP targets: a browser-like trace request of every value type (escapes,
/// non-ASCII, nested values, events, links) and a logs request of every field, each as
/// JSON, as protobuf, and both gzipped.
fn otlp() -> Vec<(&'static str, String, Vec<u8>)> {
    use prost::Message;
    let traces = r#"{"resourceSpans":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"checkout-web"}},
  {"key":"telemetry.sdk.language","value":{"stringValue":"webjs"}}]},
 "scopeSpans":[{"scope":{"name":"fetch","version":"1.0"},"spans":[
  {"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7","parentSpanId":"",
   "name":"GET /api/cart","kind":3,"flags":257,"traceState":"vendor=a",
   "startTimeUnixNano":"1764000000000000000","endTimeUnixNano":1764000000250000000,
   "attributes":[
    {"key":"url.full","value":{"stringValue":"https://shop.example.com/api/cart?q=caf\u00e9 \ud83d\ude00 \"x\""}},
    {"key":"http.response.status_code","value":{"intValue":"200"}},
    {"key":"ratio","value":{"doubleValue":0.25}},
    {"key":"nan","value":{"doubleValue":"NaN"}},
    {"key":"ok","value":{"boolValue":true}},
    {"key":"raw","value":{"bytesValue":"AAEC/w=="}},
    {"key":"list","value":{"arrayValue":{"values":[{"intValue":1},{"stringValue":"two"},{}]}}},
    {"key":"map","value":{"kvlistValue":{"values":[{"key":"k","value":{"arrayValue":{"values":[{"boolValue":false}]}}}]}}}],
   "events":[{"timeUnixNano":"1764000000100000000","name":"exception","attributes":[
    {"key":"exception.message","value":{"stringValue":"boom\n  at f (app.js:1:2)"}}]}],
   "links":[{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","attributes":[]}],
   "status":{"code":2,"message":"failed"},
   "futureField":{"nested":[1,2.5e3,null,"x"]}},
  {"traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b8","parentSpanId":"00f067aa0ba902b7",
   "name":"child","startTimeUnixNano":1764000000010000000,"endTimeUnixNano":"1764000000020000000","status":null}]}]}]}"#;
    let logs = r#"{"resourceLogs":[{"resource":{"attributes":[
  {"key":"service.name","value":{"stringValue":"checkout-web"}}]},
 "scopeLogs":[{"scope":{"name":"console","version":"1.0"},"logRecords":[
  {"timeUnixNano":"1764000000000000000","observedTimeUnixNano":1764000000000000001,
   "severityNumber":17,"severityText":"error",
   "body":{"kvlistValue":{"values":[
    {"key":"message","value":{"stringValue":"boom caf\u00e9 \ud83d\ude00 \"x\"\n  at f (app.js:1:2)"}},
    {"key":"args","value":{"arrayValue":{"values":[{"intValue":"1"},{"doubleValue":"NaN"},{"bytesValue":"AAEC/w=="},{}]}}}]}},
   "attributes":[{"key":"exception.type","value":{"stringValue":"TypeError"}},
    {"key":"handled","value":{"boolValue":false}}],
   "droppedAttributesCount":1,"flags":1,
   "traceId":"4bf92f3577b34da6a3ce929d0e0e4736","spanId":"00f067aa0ba902b7",
   "eventName":"browser.error","futureField":{"nested":[1,2.5e3,null,"x"]}},
  {"timeUnixNano":1764000000500000000,"severityNumber":9,"body":{"stringValue":"page shown"},
   "traceId":"","spanId":"","eventName":null}],"schemaUrl":"https://opentelemetry.io/schemas/1.26.0"}]}]}"#;
    let unlimited = collector_decode::Limits {
        max_spans: usize::MAX,
        max_decoded_bytes: usize::MAX,
    };
    let traces_pb = collector_decode::json::decode(traces.as_bytes(), &unlimited)
        .unwrap()
        .to_proto()
        .encode_to_vec();
    let logs_pb = collector_decode::json::decode_logs(logs.as_bytes(), &unlimited)
        .unwrap()
        .to_proto()
        .encode_to_vec();
    let gzip = |bytes: &[u8]| {
        let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        std::io::Write::write_all(&mut encoder, bytes).unwrap();
        encoder.finish().unwrap()
    };
    [("request", traces, traces_pb), ("logs", logs, logs_pb)]
        .into_iter()
        .flat_map(|(name, json, protobuf)| {
            [
                (
                    "otlp_json",
                    format!("{name}.json"),
                    json.as_bytes().to_vec(),
                ),
                ("otlp_protobuf", format!("{name}.pb"), protobuf.clone()),
                (
                    "otlp_gzip",
                    format!("{name}.json.gz"),
                    gzip(json.as_bytes()),
                ),
                ("otlp_gzip", format!("{name}.pb.gz"), gzip(&protobuf)),
            ]
        })
        .collect()
}

#[test]
fn otlp_seeds_are_committed_and_decode() {
    for (target, name, bytes) in otlp() {
        // Each decodes: the targets start from accepted requests.
        let limits = collector_decode::Limits {
            max_spans: 100,
            max_decoded_bytes: 1 << 20,
        };
        let logs = name.starts_with("logs");
        match target {
            "otlp_json" if logs => {
                assert!(collector_decode::json::decode_logs(&bytes, &limits).is_ok())
            }
            "otlp_json" => assert!(collector_decode::json::decode(&bytes, &limits).is_ok()),
            "otlp_protobuf" if logs => {
                assert!(collector_decode::protobuf::decode_logs(&bytes, &limits).is_ok())
            }
            "otlp_protobuf" => {
                assert!(collector_decode::protobuf::decode(&bytes, &limits).is_ok())
            }
            _ => assert!(collector_decode::gzip::gunzip(&bytes, 1 << 20).is_ok()),
        }
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("seeds")
            .join(target);
        write_or_check(&dir, &name, &bytes);
    }
}

/// Stack traces as Chromium, Firefox and Safari write them, with lines that are not frames.
fn stack_traces() -> Vec<(&'static str, &'static str)> {
    vec![
        (
            "chromium",
            "TypeError: Cannot read properties of undefined (reading 'price')\n    \
             at n (https://shop.example.com/assets/app.min.js:1:92)\n    \
             at async Object.c [as run] (https://shop.example.com/assets/app.min.js:2:9)\n    \
             at new t (https://shop.example.com/assets/app.min.js:1:5)\n    \
             at https://shop.example.com/assets/app.min.js:1:146\n    \
             at eval (eval at f (https://shop.example.com/a.js:1:2), <anonymous>:1:1)\n    \
             at Array.map (<anonymous>)",
        ),
        (
            "firefox",
            "n@https://shop.example.com/assets/app.min.js:1:92\n\
             c/<@https://cdn.example.com/npm/@scope/pkg.js:3:10\n\
             @https://shop.example.com/assets/app.min.js:1:146\n",
        ),
        (
            "safari",
            "n@https://shop.example.com/assets/app.min.js:1:92\r\n\
             checkout@https://shop.example.com/assets/app.min.js:4:17\r\n\
             global code@https://shop.example.com/:12:3\r\n\
             [native code]",
        ),
    ]
}

#[test]
fn stack_trace_seeds_are_committed_and_hold_frames() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/stack_trace");
    for (name, trace) in stack_traces() {
        let frames = trace
            .split('\n')
            .filter(|line| collector_decode::stack::Frame::parse(line).is_some())
            .count();
        assert!(frames >= 3, "{name}: {frames} frames");
        crate::stack::stack_trace(trace.as_bytes());
        write_or_check(&dir, name, trace.as_bytes());
    }
}

/// `wasi:otel` attribute values of every JSON shape the reader maps.
fn otel_values() -> Vec<(&'static str, &'static str)> {
    vec![
        ("string", r#""GET /cart \"quoted\" \u00e9\ud83d\ude00""#),
        ("int", "-9223372036854775808"),
        ("double", "0.25e-3"),
        ("bool", "true"),
        ("arrays", r#"[["a", "b"], [1, 2.5], [true], []]"#),
        (
            "map",
            r#"{"user": {"id": 7, "roles": ["admin", null]}, "ok": false}"#,
        ),
        (
            "bytes",
            r#""data:application/octet-stream;base64,AAECAw==""#,
        ),
        (
            "mixed",
            r#"[1, "x", null, {"k": [[]], "k": 2}, "data:application/octet-stream;base64,AA=="]"#,
        ),
    ]
}

#[test]
fn otel_value_seeds_are_committed_and_read() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("seeds/otel_value");
    for (name, json) in otel_values() {
        assert!(
            wasm_otlp_component::otel::value::read(json).is_some(),
            "{name}: the seed reads as a value"
        );
        crate::otel::otel_value(json.as_bytes());
        write_or_check(&dir, name, json.as_bytes());
    }
}
