//! Parsed source maps kept between requests, bounded by the memory they take: a map is
//! read again when its file changes (modification time or size), the least recently
//! used go first when the bound is reached, and a file that cannot be used is
//! remembered as such until it changes (so a broken map costs one read, not one per
//! request).

use std::collections::HashMap;
use std::fs::Metadata;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::SystemTime;

use sourcemap::{DecodedMap, RawToken, SourceMap};

/// A map file's version: its modification time and size.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    modified: Option<SystemTime>,
    len: u64,
}

impl Stamp {
    /// The version `metadata` describes.
    pub fn of(metadata: &Metadata) -> Stamp {
        Stamp {
            modified: metadata.modified().ok(),
            len: metadata.len(),
        }
    }
}

/// Parsed maps by file, within a bound.
pub struct Cache {
    max_bytes: usize,
    state: Mutex<State>,
}

#[derive(Default)]
struct State {
    entries: HashMap<PathBuf, Entry>,
    /// The weights of the entries, added up.
    bytes: usize,
    /// Counts uses, to find the least recently used entry.
    clock: u64,
}

struct Entry {
    stamp: Stamp,
    /// `None`: the file could not be read or parsed (logged once).
    map: Option<Arc<SourceMap>>,
    weight: usize,
    used: u64,
}

impl Cache {
    /// Keeps parsed maps weighing at most `max_bytes` in all ([`weight`]).
    pub fn new(max_bytes: usize) -> Cache {
        Cache {
            max_bytes,
            state: Mutex::default(),
        }
    }

    /// The map of the file at `path` in version `stamp`: kept from before, or made by
    /// `load` (outside the lock) if `loads_left` allows one more (it is counted down);
    /// `None` if it cannot be had.
    pub fn get(
        &self,
        path: &Path,
        stamp: Stamp,
        loads_left: &mut usize,
        load: impl FnOnce() -> Result<SourceMap, String>,
    ) -> Option<Arc<SourceMap>> {
        {
            let mut state = self.lock();
            state.clock += 1;
            let now = state.clock;
            if let Some(entry) = state.entries.get_mut(path)
                && entry.stamp == stamp
            {
                entry.used = now;
                return entry.map.clone();
            }
        }
        if *loads_left == 0 {
            tracing::debug!(map = %path.display(), "source map not read: enough maps read for this request");
            return None;
        }
        *loads_left -= 1;
        let map = match load() {
            Ok(map) => Some(Arc::new(map)),
            Err(error) => {
                tracing::debug!(map = %path.display(), %error, "source map unusable");
                None
            }
        };
        let weight = map.as_deref().map_or(0, weight) + path.as_os_str().len() + 64;
        let mut state = self.lock();
        if let Some(old) = state.entries.remove(path) {
            state.bytes -= old.weight;
        }
        if weight <= self.max_bytes {
            while state.bytes + weight > self.max_bytes {
                state.evict_least_recently_used();
            }
            let used = state.clock;
            state.bytes += weight;
            let entry = Entry {
                stamp,
                map: map.clone(),
                weight,
                used,
            };
            state.entries.insert(path.to_owned(), entry);
        }
        map
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        // The state stays consistent whatever panicked while it was held.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    fn evict_least_recently_used(&mut self) {
        let oldest = self
            .entries
            .iter()
            .min_by_key(|(_, entry)| entry.used)
            .map(|(path, _)| path.clone());
        if let Some(entry) = oldest.and_then(|path| self.entries.remove(&path)) {
            self.bytes -= entry.weight;
        }
    }
}

/// About what a parsed map takes in memory: its tokens, names and sources (its sources'
/// contents are dropped when read).
fn weight(map: &SourceMap) -> usize {
    let strings: usize = map.names().chain(map.sources()).map(|s| s.len() + 16).sum();
    map.get_token_count() as usize * size_of::<RawToken>() + strings
}

/// Reads and parses the map file at `path`, if it has at most `max_len` bytes. An index
/// map (with sections) is flattened; the sources' contents, which mapping does not use,
/// are dropped.
pub fn read(path: &Path, max_len: u64) -> Result<SourceMap, String> {
    let file = std::fs::File::open(path).map_err(|e| e.to_string())?;
    let mut bytes = Vec::new();
    file.take(max_len + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| e.to_string())?;
    if bytes.len() as u64 > max_len {
        return Err(format!("larger than {max_len} bytes"));
    }
    parse(&bytes)
}

/// Parses a map (regular or index), keeping what mapping needs.
pub fn parse(bytes: &[u8]) -> Result<SourceMap, String> {
    let mut map = match sourcemap::decode_slice(bytes).map_err(|e| e.to_string())? {
        DecodedMap::Regular(map) => map,
        DecodedMap::Index(index) => index.flatten().map_err(|e| e.to_string())?,
        DecodedMap::Hermes(_) => return Err("a Hermes map, not a browser script's".to_owned()),
    };
    for source in 0..map.get_source_count() {
        map.set_source_contents(source, None);
    }
    Ok(map)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn stamp(len: u64) -> Stamp {
        Stamp {
            modified: Some(SystemTime::UNIX_EPOCH + Duration::from_secs(len)),
            len,
        }
    }

    /// A map of one token, from a source named `source`.
    fn map(source: &str) -> Result<SourceMap, String> {
        let json =
            format!(r#"{{"version":3,"sources":["{source}"],"names":[],"mappings":"AAAA"}}"#);
        parse(json.as_bytes())
    }

    fn get(cache: &Cache, path: &str, version: u64, loads: &mut u32) -> Option<String> {
        let mut left = 10;
        let map = cache.get(Path::new(path), stamp(version), &mut left, || {
            *loads += 1;
            map(&format!("{path}@{version}"))
        })?;
        Some(map.get_source(0)?.to_owned())
    }

    #[test]
    fn a_map_is_read_once_until_its_file_changes() {
        let cache = Cache::new(1 << 20);
        let mut loads = 0;
        assert_eq!(
            get(&cache, "a.js.map", 1, &mut loads).as_deref(),
            Some("a.js.map@1")
        );
        assert_eq!(
            get(&cache, "a.js.map", 1, &mut loads).as_deref(),
            Some("a.js.map@1")
        );
        assert_eq!(loads, 1);
        assert_eq!(
            get(&cache, "a.js.map", 2, &mut loads).as_deref(),
            Some("a.js.map@2")
        );
        assert_eq!(loads, 2);
    }

    #[test]
    fn an_unusable_map_is_remembered_until_it_changes() {
        let cache = Cache::new(1 << 20);
        let mut loads = 0;
        let mut left = 10;
        for _ in 0..3 {
            let got = cache.get(Path::new("bad.js.map"), stamp(1), &mut left, || {
                loads += 1;
                parse(b"{not json")
            });
            assert!(got.is_none());
        }
        assert_eq!(loads, 1);
    }

    #[test]
    fn the_least_recently_used_maps_go_when_the_bound_is_reached() {
        let one = weight(&map("a@1").unwrap()) + "a".len() + 64;
        let cache = Cache::new(2 * one);
        let mut loads = 0;
        get(&cache, "a", 1, &mut loads);
        get(&cache, "b", 1, &mut loads);
        get(&cache, "a", 1, &mut loads); // b is now the least recently used
        get(&cache, "c", 1, &mut loads);
        assert_eq!(loads, 3);
        get(&cache, "a", 1, &mut loads);
        get(&cache, "c", 1, &mut loads);
        assert_eq!(loads, 3, "a and c kept");
        get(&cache, "b", 1, &mut loads);
        assert_eq!(loads, 4, "b was evicted");
        assert!(cache.lock().bytes <= 2 * one);
    }

    #[test]
    fn loads_are_counted_and_a_map_larger_than_the_cache_is_used_but_not_kept() {
        let cache = Cache::new(10);
        let mut left = 1;
        let first = cache.get(Path::new("a"), stamp(1), &mut left, || map("a"));
        assert!(first.is_some());
        assert_eq!((left, cache.lock().entries.len()), (0, 0));
        let second = cache.get(Path::new("b"), stamp(1), &mut left, || map("b"));
        assert!(second.is_none(), "no loads left");
    }

    #[test]
    fn reading_refuses_large_files_and_drops_sources_content() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("app.js.map");
        let json = r#"{"version":3,"sources":["a.js"],"sourcesContent":["let a = 1;"],"names":[],"mappings":"AAAA"}"#;
        std::fs::write(&path, json).unwrap();
        let map = read(&path, json.len() as u64).unwrap();
        assert_eq!(map.get_source(0), Some("a.js"));
        assert_eq!(map.get_source_contents(0), None);
        let refused = read(&path, json.len() as u64 - 1).unwrap_err();
        assert!(refused.contains("larger than"), "{refused}");
    }

    #[test]
    fn index_maps_are_flattened() {
        let index = r#"{"version":3,"sections":[
            {"offset":{"line":0,"column":0},"map":{"version":3,"sources":["a.js"],"names":[],"mappings":"AAAA"}},
            {"offset":{"line":1,"column":0},"map":{"version":3,"sources":["b.js"],"names":[],"mappings":"AAAA"}}
        ]}"#;
        let map = parse(index.as_bytes()).unwrap();
        assert_eq!(map.lookup_token(1, 0).unwrap().get_source(), Some("b.js"));
    }
}
