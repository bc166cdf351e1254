//! A stack trace written again through source maps: each frame of a script that has a
//! map points at the original file, line and column instead, and takes its function's
//! original name when the map names it. Pure: the maps come from the caller.
//!
//! A frame's position in a minified script is where the function was when the error
//! was made (its throw, or its call of the next frame up); the map's name there is the
//! identifier at that place, so a function's original name is the name at its caller's
//! position: the frame below it, when that frame's position is exactly a mapped
//! identifier (a call `n(...)` points at `n`). The outermost frame, and one called by
//! the browser or by code without a map, keeps its name.

use std::ops::Deref;

use sourcemap::SourceMap;

use super::lookup::ScriptUrl;
use collector_decode::stack::{Frame, Location, renamed};

/// Where a frame's position is in the original sources.
#[derive(Debug)]
struct Original {
    /// The source file, as a URL when the map names it relative to itself.
    file: String,
    line: u32,
    column: u32,
    /// The original name of the identifier exactly at the position (for a call: the
    /// function called), if the map has one.
    called: Option<String>,
}

/// `stack` with every frame that `map_for` finds a map for mapped, looking at its first
/// `max_frames` frames only; `None` if no frame was mapped. A frame whose position the
/// map does not cover stays as it was.
pub fn map_stack<M: Deref<Target = SourceMap>>(
    stack: &str,
    max_frames: usize,
    mut map_for: impl FnMut(&ScriptUrl<'_>) -> Option<M>,
) -> Option<String> {
    let lines: Vec<&str> = stack.split('\n').collect();
    // The map of each script URL of this stack (`None`: it has none).
    let mut maps: Vec<(&str, Option<M>)> = Vec::new();
    let mut frames_seen = 0;
    let mapped: Vec<Option<(Frame<'_>, Original)>> = lines
        .iter()
        .map(|line| {
            let frame = Frame::parse(line).filter(|_| frames_seen < max_frames)?;
            frames_seen += 1;
            let script = ScriptUrl::parse(frame.url)?;
            let known = maps.iter().position(|(url, _)| *url == frame.url);
            let index = known.unwrap_or_else(|| {
                maps.push((frame.url, map_for(&script)));
                maps.len() - 1
            });
            let original = original(maps[index].1.as_deref()?, &script, &frame)?;
            Some((frame, original))
        })
        .collect();
    if mapped.iter().all(Option::is_none) {
        return None;
    }
    let mut out = String::with_capacity(stack.len() + stack.len() / 2);
    for (i, line) in lines.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let Some((frame, original)) = &mapped[i] else {
            out.push_str(line);
            continue;
        };
        let caller = mapped.get(i + 1).and_then(Option::as_ref);
        let name =
            caller.and_then(|(_, caller)| renamed(frame.function, caller.called.as_deref()?));
        let location = Location {
            file: &original.file,
            line: original.line,
            column: original.column,
        };
        frame.write(
            name.as_deref().unwrap_or(frame.function),
            location,
            &mut out,
        );
    }
    Some(out)
}

/// Where `frame` (in `script`) points in the sources of `map`, if the map covers its
/// line up to its column.
fn original(map: &SourceMap, script: &ScriptUrl<'_>, frame: &Frame<'_>) -> Option<Original> {
    let (line, column) = (frame.line - 1, frame.column - 1);
    let token = map.lookup_token(line, column)?;
    if token.get_dst_line() != line {
        return None;
    }
    let called = (token.get_dst_col() == column)
        .then(|| token.get_name())
        .flatten()
        .map(str::to_owned);
    Some(Original {
        file: script.resolve(token.get_source()?),
        line: token.get_src_line().checked_add(1)?,
        column: token.get_src_col().checked_add(1)?,
        called,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ingest::source_maps::cache;

    /// A script built by esbuild from two modules (`tests/fixtures/minified-app/`), and
    /// its map.
    const SCRIPT: &str = include_str!("../../../tests/fixtures/minified-app/assets/app.min.js");
    const MAP: &[u8] = include_bytes!("../../../tests/fixtures/minified-app/assets/app.min.js.map");
    const URL: &str = "https://shop.example.com/assets/app.min.js";

    /// The 1-based line and column in SCRIPT where `text` starts.
    fn position_of(text: &str) -> (u32, u32) {
        let offset = SCRIPT
            .find(text)
            .unwrap_or_else(|| panic!("{text:?} not in the script"));
        let before = &SCRIPT[..offset];
        let line = before.matches('\n').count() + 1;
        let column = offset - before.rfind('\n').map_or(0, |n| n + 1) + 1;
        (line as u32, column as u32)
    }

    fn map() -> SourceMap {
        cache::parse(MAP).unwrap()
    }

    /// Maps `stack` with the fixture's map for URL and no map for other scripts.
    fn mapped(stack: &str) -> Option<String> {
        let map = map();
        let url = ScriptUrl::parse(URL).unwrap();
        map_stack(stack, 100, |script| (*script == url).then_some(&map))
    }

    /// A Chromium stack through the fixture: `pay` calls `checkout` calls
    /// `applyDiscount`, which throws; the page's handler called `pay`.
    fn chromium_stack() -> String {
        let at = |text| {
            let (line, column) = position_of(text);
            format!("{URL}:{line}:{column}")
        };
        format!(
            "RangeError: unknown discount code BOGUS\n    at n ({})\n    at r ({})\n    at Object.u [as pay] ({})\n    at HTMLButtonElement.<anonymous> (https://shop.example.com/page.js:3:5)",
            at("new RangeError"),
            at("n(t,o)}"),
            at("r({total:10},t)"),
        )
    }

    #[test]
    fn the_fixture_positions_are_the_ones_node_reports() {
        // As `node` prints them for `shop.pay("BOGUS")` (the HTTP test runs it).
        assert_eq!(position_of("new RangeError"), (1, 45));
        assert_eq!(position_of("n(t,o)}"), (1, 137));
        assert_eq!(position_of("r({total:10},t)"), (1, 166));
    }

    #[test]
    fn chromium_frames_get_original_files_lines_columns_and_names() {
        assert_eq!(
            mapped(&chromium_stack()).unwrap(),
            "RangeError: unknown discount code BOGUS\n\
             \x20   at applyDiscount (https://shop.example.com/src/cart.js:3:11)\n\
             \x20   at checkout (https://shop.example.com/src/checkout.js:4:17)\n\
             \x20   at Object.u [as pay] (https://shop.example.com/src/checkout.js:9:10)\n\
             \x20   at HTMLButtonElement.<anonymous> (https://shop.example.com/page.js:3:5)"
        );
    }

    #[test]
    fn firefox_frames_too() {
        let stack = format!(
            "n@{URL}:1:45\r\nr@{URL}:1:137\r\nu@{URL}:1:166\r\n@https://shop.example.com/page.js:3:5\r\n"
        );
        assert_eq!(
            mapped(&stack).unwrap(),
            "applyDiscount@https://shop.example.com/src/cart.js:3:11\r\n\
             checkout@https://shop.example.com/src/checkout.js:4:17\r\n\
             u@https://shop.example.com/src/checkout.js:9:10\r\n\
             @https://shop.example.com/page.js:3:5\r\n"
        );
    }

    #[test]
    fn a_name_comes_only_from_the_line_right_below() {
        // The executor of `new Promise` is called by the engine, not by `r`.
        let stack = format!(
            "    at n ({URL}:1:45)\n    at new Promise (<anonymous>)\n    at r ({URL}:1:137)"
        );
        assert_eq!(
            mapped(&stack).unwrap(),
            "    at n (https://shop.example.com/src/cart.js:3:11)\n\
             \x20   at new Promise (<anonymous>)\n\
             \x20   at r (https://shop.example.com/src/checkout.js:4:17)"
        );
    }

    #[test]
    fn positions_the_map_does_not_cover_and_other_scripts_stay() {
        // Line 2 is the `sourceMappingURL` comment: no mapping there.
        let stack = format!(
            "Error: x\n    at f ({URL}:2:1)\n    at g (https://other.example.com/app.js:1:45)\n    at {URL}:9:1"
        );
        assert_eq!(mapped(&stack), None);
        assert_eq!(mapped(""), None);
        assert_eq!(mapped("just text\nand more"), None);
    }

    #[test]
    fn only_the_first_frames_are_looked_at_and_each_script_once() {
        let map = map();
        let mut lookups = 0;
        let stack = chromium_stack();
        let first_only = map_stack(&stack, 1, |_| {
            lookups += 1;
            Some(&map)
        })
        .unwrap();
        let lines: Vec<&str> = first_only.lines().collect();
        assert_eq!(
            lines[1],
            "    at n (https://shop.example.com/src/cart.js:3:11)"
        );
        assert_eq!(lines[2..], stack.lines().collect::<Vec<_>>()[2..]);
        assert_eq!(lookups, 1);

        lookups = 0;
        map_stack(&stack, 100, |_| {
            lookups += 1;
            Some(&map)
        });
        assert_eq!(lookups, 2, "the fixture's script and page.js, once each");
    }
}
