//! Source maps for exception stack traces (`--source-maps DIR`): before a request's
//! spans or log records are validated and stored, the `exception.stacktrace` of each
//! `exception` span event and each log record is written again with the original
//! files, lines, columns and function names of the frames whose scripts have a map in
//! the directory ([`lookup`]); the trace as received is kept beside it in
//! [`MINIFIED_STACKTRACE`]. Mapping never fails a request: a frame without a usable map
//! stays as it was.
//!
//! `collector_decode::stack` reads frames, [`lookup`] finds a script's map file, [`cache`] keeps parsed
//! maps, [`mapping`] writes a stack again (pure).

mod cache;
mod lookup;
mod mapping;

use std::borrow::Cow;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use collector_decode::model::{AnyValue, KeyValue, Value};
use sourcemap::SourceMap;

use cache::{Cache, Stamp};
use lookup::ScriptUrl;

/// The attribute holding an exception's stack trace (OpenTelemetry's semantic
/// conventions): mapped in place.
pub const STACKTRACE: &str = "exception.stacktrace";

/// The attribute that keeps the stack trace as it was received, added when at least
/// one of its frames was mapped. A list that has it already (mapped by another
/// collector) is left alone.
pub const MINIFIED_STACKTRACE: &str = "exception.minified_stacktrace";

/// Longer stack traces are left as they are.
const MAX_STACK_BYTES: usize = 64 << 10;

/// Frames looked at in one stack trace (Chromium records 10 by default, Firefox up to
/// 128); the rest stay as they are.
const MAX_FRAMES: usize = 100;

/// Map files read from disk (not found in the cache) for one request; frames that need
/// more stay unmapped.
const MAX_MAPS_READ_PER_REQUEST: usize = 4;

/// A larger map file is not read.
const MAX_MAP_FILE_BYTES: u64 = 32 << 20;

/// What the parsed maps kept between requests may take in memory.
const CACHE_BYTES: usize = 128 << 20;

/// The source-map directory and the maps read from it.
pub struct SourceMaps {
    dir: PathBuf,
    cache: Cache,
}

/// What one request's mapping may do.
#[derive(Debug, Clone, Copy)]
pub struct RequestLimits {
    /// The largest attribute value accepted: a mapped trace longer than this is not used.
    pub max_value: usize,
    /// Bytes the mapped traces may add to the request in all (its decoding reserved
    /// memory per byte of its body: its body's length keeps well within).
    pub max_added: usize,
}

impl SourceMaps {
    /// Maps from `dir`, which must be a directory: `serve` refuses to start otherwise.
    pub fn new(dir: PathBuf) -> Self {
        SourceMaps {
            dir,
            cache: Cache::new(CACHE_BYTES),
        }
    }

    /// Whether `dir` can be a source-map directory; the error says why not.
    pub fn check_dir(dir: &Path) -> Result<(), String> {
        match std::fs::metadata(dir) {
            Ok(metadata) if metadata.is_dir() => Ok(()),
            Ok(_) => Err(format!("--source-maps {}: not a directory", dir.display())),
            Err(error) => Err(format!("--source-maps {}: {error}", dir.display())),
        }
    }

    /// Maps the stack traces in `lists` (the attribute lists of one request's exception
    /// events and log records) within `limits`. Reads map files: call it where blocking
    /// is fine.
    pub fn map_request<'r, 'a: 'r>(
        &self,
        lists: impl Iterator<Item = &'r mut Vec<KeyValue<'a>>>,
        limits: RequestLimits,
    ) {
        let mut loads_left = MAX_MAPS_READ_PER_REQUEST;
        let mut added_left = limits.max_added;
        let max_len = limits.max_value.min(MAX_STACK_BYTES);
        for attributes in lists {
            let added = map_attributes(attributes, |stack| {
                if stack.len() > max_len {
                    return None;
                }
                // A map that trips up the parser must not fail the request: the trace
                // then stays as received.
                let mapped = std::panic::catch_unwind(AssertUnwindSafe(|| {
                    mapping::map_stack(stack, MAX_FRAMES, |script| {
                        self.map_for(script, &mut loads_left)
                    })
                }))
                .unwrap_or_else(|_| {
                    tracing::warn!("mapping a stack trace panicked; stored as received");
                    None
                })?;
                (mapped.len() <= max_len && mapped.len() <= added_left).then_some(mapped)
            });
            added_left -= added;
        }
    }

    /// The map of `script`, if the directory has one that can be used.
    fn map_for(&self, script: &ScriptUrl<'_>, loads_left: &mut usize) -> Option<Arc<SourceMap>> {
        let relative = script.map_file()?;
        let (path, metadata) = lookup::find(&self.dir, &relative)?;
        self.cache.get(&path, Stamp::of(&metadata), loads_left, || {
            cache::read(&path, MAX_MAP_FILE_BYTES)
        })
    }
}

/// Replaces the string value of [`STACKTRACE`] in `attributes` with what `map` makes of
/// it, keeping the value received as [`MINIFIED_STACKTRACE`]; returns the bytes added
/// (the mapped trace's length, 0 when nothing changed).
fn map_attributes(
    attributes: &mut Vec<KeyValue<'_>>,
    map: impl FnOnce(&str) -> Option<String>,
) -> usize {
    if attributes.iter().any(|kv| kv.key == MINIFIED_STACKTRACE) {
        return 0;
    }
    let Some(value) = attributes.iter_mut().find_map(|kv| match &mut kv.value {
        Some(AnyValue {
            value: Some(Value::String(value)),
        }) if kv.key == STACKTRACE => Some(value),
        _ => None,
    }) else {
        return 0;
    };
    let Some(mapped) = map(value) else {
        return 0;
    };
    let added = mapped.len();
    let received = std::mem::replace(value, Cow::Owned(mapped));
    attributes.push(KeyValue {
        key: Cow::Borrowed(MINIFIED_STACKTRACE),
        value: Some(AnyValue {
            value: Some(Value::String(received)),
        }),
    });
    added
}

#[cfg(test)]
mod tests {
    use super::*;

    const SCRIPT_URL: &str = "https://shop.example.com/assets/app.min.js";
    const FIXTURE: &str = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/minified-app/assets"
    );

    fn string(key: &'static str, value: &str) -> KeyValue<'static> {
        KeyValue {
            key: Cow::Borrowed(key),
            value: Some(AnyValue {
                value: Some(Value::String(Cow::Owned(value.to_owned()))),
            }),
        }
    }

    fn get<'v>(attributes: &'v [KeyValue<'_>], key: &str) -> Option<&'v str> {
        attributes
            .iter()
            .find(|kv| kv.key == key)
            .and_then(|kv| match &kv.value {
                Some(AnyValue {
                    value: Some(Value::String(s)),
                }) => Some(&**s),
                _ => None,
            })
    }

    /// The fixture's map deployed in a fresh directory as `assets/app.min.js.map`.
    fn deployed() -> (tempfile::TempDir, SourceMaps) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("assets")).unwrap();
        std::fs::copy(
            format!("{FIXTURE}/app.min.js.map"),
            dir.path().join("assets/app.min.js.map"),
        )
        .unwrap();
        let maps = SourceMaps::new(dir.path().to_owned());
        (dir, maps)
    }

    const GENEROUS: RequestLimits = RequestLimits {
        max_value: 1 << 20,
        max_added: 1 << 20,
    };

    #[test]
    fn the_mapped_trace_replaces_the_received_one_which_is_kept_beside_it() {
        let mut attributes = vec![string("exception.type", "Error"), string(STACKTRACE, "min")];
        let added = map_attributes(&mut attributes, |stack| Some(format!("{stack} mapped")));
        assert_eq!(added, "min mapped".len());
        assert_eq!(get(&attributes, STACKTRACE), Some("min mapped"));
        assert_eq!(get(&attributes, MINIFIED_STACKTRACE), Some("min"));
        assert_eq!(attributes.len(), 3);
    }

    #[test]
    fn nothing_changes_unless_a_string_trace_was_mapped_here_first() {
        let untouched = |mut attributes: Vec<KeyValue<'static>>| {
            let before = attributes.clone();
            assert_eq!(map_attributes(&mut attributes, |_| Some("x".into())), 0);
            assert_eq!(attributes, before);
        };
        untouched(vec![string("exception.message", "m")]);
        untouched(vec![
            string(STACKTRACE, "s"),
            string(MINIFIED_STACKTRACE, "m"),
        ]);
        untouched(vec![KeyValue {
            key: Cow::Borrowed(STACKTRACE),
            value: Some(AnyValue {
                value: Some(Value::Int(3)),
            }),
        }]);
        let mut unmapped = vec![string(STACKTRACE, "s")];
        assert_eq!(map_attributes(&mut unmapped, |_| None), 0);
        assert_eq!(unmapped, vec![string(STACKTRACE, "s")]);
    }

    #[test]
    fn a_request_is_mapped_from_the_directory() {
        let (_dir, maps) = deployed();
        let stack =
            format!("RangeError: x\n    at n ({SCRIPT_URL}:1:45)\n    at r ({SCRIPT_URL}:1:137)");
        let mut event = vec![string(STACKTRACE, &stack)];
        let mut record = vec![string(
            STACKTRACE,
            "n@https://shop.example.com/nowhere.js:1:45",
        )];
        maps.map_request([&mut event, &mut record].into_iter(), GENEROUS);
        assert_eq!(
            get(&event, STACKTRACE),
            Some(
                "RangeError: x\n    at applyDiscount (https://shop.example.com/src/cart.js:3:11)\n    \
                 at r (https://shop.example.com/src/checkout.js:4:17)"
            )
        );
        assert_eq!(get(&event, MINIFIED_STACKTRACE), Some(&*stack));
        assert_eq!(record.len(), 1, "no map for that script: unchanged");
    }

    #[test]
    fn traces_too_long_or_beyond_the_request_allowance_stay() {
        let (_dir, maps) = deployed();
        let stack = format!("    at n ({SCRIPT_URL}:1:45)");
        let mapped_len = "    at n (https://shop.example.com/src/cart.js:3:11)".len();
        let run = |limits| {
            let mut lists = [
                vec![string(STACKTRACE, &stack)],
                vec![string(STACKTRACE, &stack)],
            ];
            maps.map_request(lists.iter_mut(), limits);
            lists.map(|list| list.len() == 2)
        };
        assert_eq!(run(GENEROUS), [true, true]);
        let one = RequestLimits {
            max_added: mapped_len,
            ..GENEROUS
        };
        assert_eq!(
            run(one),
            [true, false],
            "the allowance is spent by the first"
        );
        let short = RequestLimits {
            max_value: mapped_len - 1,
            ..GENEROUS
        };
        assert_eq!(
            run(short),
            [false, false],
            "a mapped trace must fit an attribute value"
        );
        let long = format!("{stack}\n{}", " ".repeat(MAX_STACK_BYTES));
        let mut list = vec![string(STACKTRACE, &long)];
        maps.map_request(std::iter::once(&mut list), GENEROUS);
        assert_eq!(list.len(), 1, "longer than MAX_STACK_BYTES");
    }

    #[test]
    fn a_broken_map_leaves_frames_unmapped_and_a_fixed_one_is_read_again() {
        let (dir, maps) = deployed();
        let path = dir.path().join("assets/app.min.js.map");
        let good = std::fs::read(&path).unwrap();
        std::fs::write(&path, b"{\"version\":3,").unwrap();
        let stack = format!("    at n ({SCRIPT_URL}:1:45)");
        let mut list = vec![string(STACKTRACE, &stack)];
        maps.map_request(std::iter::once(&mut list), GENEROUS);
        assert_eq!(list.len(), 1);
        std::fs::write(&path, good).unwrap(); // another size: read again
        maps.map_request(std::iter::once(&mut list), GENEROUS);
        assert_eq!(list.len(), 2);
    }

    #[test]
    fn the_directory_must_be_one() {
        let (dir, _) = deployed();
        assert_eq!(SourceMaps::check_dir(dir.path()), Ok(()));
        let file = dir.path().join("assets/app.min.js.map");
        assert!(
            SourceMaps::check_dir(&file)
                .unwrap_err()
                .contains("not a directory")
        );
        assert!(SourceMaps::check_dir(&dir.path().join("missing")).is_err());
    }
}
