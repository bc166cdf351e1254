//! Which map file serves a script, and where the map's sources are. A script's map is
//! the file at its URL's path under the source-map directory, with `.map` added
//! (`https://app.example.com/assets/app-3f2a.js` -> `DIR/assets/app-3f2a.js.map`),
//! whatever the host; never a file outside the directory.

use std::fs::Metadata;
use std::path::{Path, PathBuf};

/// Longest URL path looked up, in bytes.
const MAX_PATH: usize = 1024;

/// An `http` or `https` script URL, split at its path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ScriptUrl<'a> {
    /// `scheme://authority`.
    origin: &'a str,
    /// From the `/` after the authority, without query or fragment.
    path: &'a str,
}

impl<'a> ScriptUrl<'a> {
    /// The parts of `url`, or `None` unless it is an `http` or `https` URL with a path.
    pub fn parse(url: &'a str) -> Option<Self> {
        let scheme_end = ["https://", "http://"]
            .into_iter()
            .find(|s| {
                url.get(..s.len())
                    .is_some_and(|p| p.eq_ignore_ascii_case(s))
            })?
            .len();
        let url = &url[..url.find(['?', '#']).unwrap_or(url.len())];
        let path_start = scheme_end + url[scheme_end..].find('/')?;
        Some(ScriptUrl {
            origin: &url[..path_start],
            path: &url[path_start..],
        })
    }

    /// The path of its map file relative to the source-map directory: its path's
    /// segments, percent-decoded, the last with `.map` added. `None` for a path that
    /// ends in `/`, is longer than 1 KiB, or has a segment that is `.` or `..` or holds
    /// `/`, `\` or NUL once decoded (or is not UTF-8). Empty segments are skipped.
    pub fn map_file(&self) -> Option<PathBuf> {
        if self.path.len() > MAX_PATH || self.path.ends_with('/') {
            return None;
        }
        let mut file = PathBuf::new();
        for segment in self.path.split('/').filter(|s| !s.is_empty()) {
            let segment = percent_decoded(segment)?;
            let unsafe_char = |c: char| matches!(c, '/' | '\\' | '\0');
            if segment == "." || segment == ".." || segment.contains(unsafe_char) {
                return None;
            }
            file.push(segment);
        }
        let mut name = file.file_name()?.to_owned();
        name.push(".map");
        file.set_file_name(name);
        Some(file)
    }

    /// A map's `source` (already prefixed with its `sourceRoot`) as a URL: sources are
    /// relative to the map, which is beside the script. A source with a scheme
    /// (`webpack://app/./src/cart.js`) stays as it is.
    pub fn resolve(&self, source: &str) -> String {
        let has_scheme = source.split_once(':').is_some_and(|(scheme, _)| {
            scheme.starts_with(|c: char| c.is_ascii_alphabetic())
                && scheme
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        });
        if has_scheme {
            return source.to_owned();
        }
        if let Some(network_path) = source.strip_prefix("//") {
            let scheme = &self.origin[..self.origin.find(':').unwrap_or(0)];
            return format!("{scheme}://{network_path}");
        }
        let joined = if source.starts_with('/') {
            source.to_owned()
        } else {
            let directory = &self.path[..=self.path.rfind('/').unwrap_or(0)];
            format!("{directory}{source}")
        };
        format!("{}{}", self.origin, without_dot_segments(&joined))
    }
}

/// `path` (from `/`) with its `.` and `..` segments applied (none climbs above `/`).
fn without_dot_segments(path: &str) -> String {
    let mut kept: Vec<&str> = Vec::new();
    let segments: Vec<&str> = path.split('/').skip(1).collect();
    for (i, segment) in segments.iter().enumerate() {
        let last = i + 1 == segments.len();
        match *segment {
            "." | ".." => {
                if *segment == ".." {
                    kept.pop();
                }
                if last {
                    kept.push("");
                }
            }
            segment => kept.push(segment),
        }
    }
    format!("/{}", kept.join("/"))
}

/// `segment` with its `%XX` escapes decoded; `None` if that is not UTF-8. A `%` not
/// followed by two hex digits stays as it is.
fn percent_decoded(segment: &str) -> Option<String> {
    let bytes = segment.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let escaped = (bytes[i] == b'%')
            .then(|| segment.get(i + 1..i + 3))
            .flatten()
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match escaped {
            Some(byte) => {
                decoded.push(byte);
                i += 3;
            }
            None => {
                decoded.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8(decoded).ok()
}

/// The map file `relative` under `dir`, if it is a regular file inside `dir` once every
/// symbolic link (of `dir` too) is resolved: its resolved path and metadata. `dir` is
/// resolved at every call, so pointing it at a new release (a symbolic link) takes
/// effect at once.
pub fn find(dir: &Path, relative: &Path) -> Option<(PathBuf, Metadata)> {
    let root = dir.canonicalize().ok()?;
    let path = root.join(relative).canonicalize().ok()?;
    if !path.starts_with(&root) {
        tracing::debug!(
            map = %relative.display(),
            resolved = %path.display(),
            "source map refused: outside the source-map directory"
        );
        return None;
    }
    let metadata = std::fs::metadata(&path).ok()?;
    metadata.is_file().then_some((path, metadata))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn map_file(url: &str) -> Option<String> {
        let file = ScriptUrl::parse(url)?.map_file()?;
        Some(file.to_str().unwrap().to_owned())
    }

    #[test]
    fn a_script_maps_to_its_path_under_the_directory() {
        let cases = [
            (
                "https://app.example.com/assets/app-3f2a.js",
                "assets/app-3f2a.js.map",
            ),
            ("http://127.0.0.1:8080/app.js?v=3#top", "app.js.map"),
            (
                "HTTPS://cdn.example.com/npm/@scope/pkg/index.js",
                "npm/@scope/pkg/index.js.map",
            ),
            ("https://a.test/static//js/main.js", "static/js/main.js.map"),
            ("https://a.test/my%20app/main.js", "my app/main.js.map"),
            ("https://a.test/%2e%2ejs/x%2E.js", "..js/x..js.map"),
        ];
        for (url, file) in cases {
            assert_eq!(map_file(url).as_deref(), Some(file), "{url}");
        }
    }

    #[test]
    fn nothing_outside_the_directory_and_only_web_scripts() {
        for url in [
            "https://a.test/assets/../../etc/passwd",
            "https://a.test/./app.js",
            "https://a.test/%2e%2e/secret.js",
            "https://a.test/assets/%2E%2E/%2e%2e/x.js",
            "https://a.test/a%2F..%2F..%2Fx.js",
            "https://a.test/a%5C..%5Cx.js",
            "https://a.test/a%00.js",
            "https://a.test/%ff.js",
            "https://a.test/assets/",
            "https://a.test",
            "https://a.test?x=/app.js",
            "file:///etc/passwd",
            "/etc/passwd",
            "webpack-internal:///./src/app.js",
            "chrome-extension://abc/app.js",
            "<anonymous>",
        ] {
            assert_eq!(map_file(url), None, "{url}");
        }
        let long = format!("https://a.test/{}.js", "a".repeat(MAX_PATH));
        assert_eq!(map_file(&long), None);
    }

    #[test]
    fn sources_are_relative_to_the_map_beside_the_script() {
        let script = ScriptUrl::parse("https://app.example.com/assets/js/app.js?v=1").unwrap();
        let cases = [
            ("../../src/cart.js", "https://app.example.com/src/cart.js"),
            (
                "../../../../src/cart.js",
                "https://app.example.com/src/cart.js",
            ),
            ("cart.ts", "https://app.example.com/assets/js/cart.ts"),
            (
                "./lib/../cart.ts",
                "https://app.example.com/assets/js/cart.ts",
            ),
            ("/src/cart.ts", "https://app.example.com/src/cart.ts"),
            ("//cdn.example.com/x.js", "https://cdn.example.com/x.js"),
            (
                "webpack://shop/./src/cart.js",
                "webpack://shop/./src/cart.js",
            ),
            (
                "file:///home/dev/shop/src/cart.js",
                "file:///home/dev/shop/src/cart.js",
            ),
        ];
        for (source, url) in cases {
            assert_eq!(script.resolve(source), url, "{source}");
        }
    }

    #[cfg(unix)]
    #[test]
    fn symbolic_links_out_of_the_directory_are_refused() {
        let outside = tempfile::tempdir().unwrap();
        std::fs::write(outside.path().join("secret.js.map"), "{}").unwrap();
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("assets")).unwrap();
        std::fs::write(dir.path().join("assets/app.js.map"), "{}").unwrap();
        let link = |target: &Path, name: &str| {
            std::os::unix::fs::symlink(target, dir.path().join(name)).unwrap();
        };
        link(&outside.path().join("secret.js.map"), "leak.js.map");
        link(outside.path(), "out");
        link(&dir.path().join("assets/app.js.map"), "inside.js.map");

        let found = find(dir.path(), Path::new("assets/app.js.map")).unwrap();
        assert!(found.0.ends_with("assets/app.js.map") && found.1.is_file());
        assert!(find(dir.path(), Path::new("inside.js.map")).is_some());
        assert!(find(dir.path(), Path::new("leak.js.map")).is_none());
        assert!(find(dir.path(), Path::new("out/secret.js.map")).is_none());
        assert!(find(dir.path(), Path::new("missing.js.map")).is_none());
        assert!(
            find(dir.path(), Path::new("assets")).is_none(),
            "not a file"
        );

        // The directory itself may be a link (a release switched by re-pointing it).
        let current = outside.path().join("current");
        std::os::unix::fs::symlink(dir.path(), &current).unwrap();
        assert!(find(&current, Path::new("assets/app.js.map")).is_some());
    }
}
