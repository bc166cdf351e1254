//! OTLP JSON request bodies, decoded by hand into [`crate::model`]: trace requests
//! ([`decode`]) and logs requests ([`decode_logs`]), by the same code but for their items.
//!
//! Written here rather than taken from a serde model: opentelemetry-proto's model decodes
//! `AnyValue` through `#[serde(flatten)]`, which buffers every value subtree (again at
//! each nesting level: a 4 MB body cost 2.3 GB), and allocates every string. This decoder
//! knows the OTLP schema, so it
//! - borrows every string without escapes from the body and allocates only lists;
//! - charges each value it builds (its size in memory, and any string it had to copy)
//!   against [`Limits::max_decoded_bytes`], and counts spans or log records against
//!   [`Limits::max_spans`], stopping at the first excess;
//! - caps attribute value (and log body) nesting at [`MAX_VALUE_DEPTH`] and unknown
//!   values' nesting at [`MAX_SKIP_DEPTH`], and skips unknown fields without allocating.
//!
//! It keeps the OTLP JSON rules: lowerCamelCase keys, IDs as hex, 64-bit integers as
//! numbers or decimal strings, enums (`kind`, `code`, `severityNumber`) as integers (names
//! are refused), `bytesValue` as base64, unknown fields ignored, `null` for a field
//! meaning its default.

use std::borrow::Cow;

use base64::Engine as _;

use crate::model::{
    AnyValue, Event, Id, KeyValue, Link, LogRecord, LogsRequest, MAX_VALUE_DEPTH, Request,
    Resource, Scope, Span, Status, Str, Value,
};
use crate::signal::{Group, Logs, Signal, Traces};
use crate::{DecodeError, Limits};

/// Deepest nesting of arrays and objects inside an unknown field.
pub const MAX_SKIP_DEPTH: usize = 64;

/// Decodes an OTLP JSON `ExportTraceServiceRequest`.
pub fn decode<'a>(body: &'a [u8], limits: &Limits) -> Result<Request<'a>> {
    decode_request::<Traces>(body, limits)
}

/// Decodes an OTLP JSON `ExportLogsServiceRequest` ([`Limits::max_spans`] counting its
/// log records).
pub fn decode_logs<'a>(body: &'a [u8], limits: &Limits) -> Result<LogsRequest<'a>> {
    decode_request::<Logs>(body, limits)
}

fn decode_request<'a, S: JsonSignal<'a>>(body: &'a [u8], limits: &Limits) -> Result<S::Request> {
    // JSON text is UTF-8 (RFC 8259): checked once for the whole body, which is much
    // faster than string by string; strings are then slices of it.
    let text = std::str::from_utf8(body).map_err(|e| {
        DecodeError::Malformed(format!(
            "invalid OTLP JSON: not valid UTF-8 at byte {}",
            e.valid_up_to()
        ))
    })?;
    let mut parser = Parser {
        body,
        text,
        at: 0,
        budget: limits.max_decoded_bytes,
        limits: *limits,
        items_left: limits.max_spans,
    };
    let request = parser.request::<S>()?;
    parser.space();
    if parser.at != body.len() {
        return Err(parser.error("unexpected data after the request object"));
    }
    Ok(request)
}

type Result<T> = std::result::Result<T, DecodeError>;

/// A signal as this decoder reads it: how an item is parsed.
trait JsonSignal<'a>: Signal<'a> {
    /// Parses one item (a span, a log record).
    fn item(parser: &mut Parser<'a>) -> Result<Self::Item>;
}

impl<'a> JsonSignal<'a> for Traces {
    fn item(parser: &mut Parser<'a>) -> Result<Span<'a>> {
        parser.span()
    }
}

impl<'a> JsonSignal<'a> for Logs {
    fn item(parser: &mut Parser<'a>) -> Result<LogRecord<'a>> {
        parser.log_record()
    }
}

struct Parser<'a> {
    body: &'a [u8],
    /// The body, checked UTF-8.
    text: &'a str,
    at: usize,
    /// Bytes the decoded request may still take.
    budget: usize,
    limits: Limits,
    /// Spans or log records the request may still hold.
    items_left: usize,
}

impl<'a> Parser<'a> {
    // ---- the OTLP schema: what both signals share ----

    fn request<S: JsonSignal<'a>>(&mut self) -> Result<S::Request> {
        let mut request = S::Request::default();
        let groups = S::resource_groups(&mut request);
        self.object(|p, key| {
            if key == S::JSON_LISTS.request {
                *groups = p.list(Self::resource_group::<S>)?;
            } else {
                p.skip(0)?;
            }
            Ok(())
        })?;
        Ok(request)
    }

    fn resource_group<S: JsonSignal<'a>>(&mut self) -> Result<S::ResourceGroup> {
        let mut group = S::ResourceGroup::default();
        let Group {
            head,
            list,
            schema_url,
        } = S::resource_group(&mut group);
        self.object(|p, key| {
            match key {
                "resource" => *head = p.optional(Self::resource)?,
                "schemaUrl" => *schema_url = p.string()?,
                _ if key == S::JSON_LISTS.resource_group => {
                    *list = p.list(Self::scope_group::<S>)?;
                }
                _ => p.skip(0)?,
            }
            Ok(())
        })?;
        Ok(group)
    }

    fn scope_group<S: JsonSignal<'a>>(&mut self) -> Result<S::ScopeGroup> {
        let mut group = S::ScopeGroup::default();
        let Group {
            head,
            list,
            schema_url,
        } = S::scope_group(&mut group);
        self.object(|p, key| {
            match key {
                "scope" => *head = p.optional(Self::scope)?,
                "schemaUrl" => *schema_url = p.string()?,
                _ if key == S::JSON_LISTS.scope_group => *list = p.list(Self::counted_item::<S>)?,
                _ => p.skip(0)?,
            }
            Ok(())
        })?;
        Ok(group)
    }

    /// An item, counted against the limit.
    fn counted_item<S: JsonSignal<'a>>(&mut self) -> Result<S::Item> {
        if self.items_left == 0 {
            return Err(S::too_many(self.limits.max_spans));
        }
        self.items_left -= 1;
        S::item(self)
    }

    fn resource(&mut self) -> Result<Resource<'a>> {
        let mut resource = Resource::default();
        self.object(|p, key| {
            match key {
                "attributes" => resource.attributes = p.attributes(0)?,
                "droppedAttributesCount" => resource.dropped_attributes_count = p.u32()?,
                _ => p.skip(0)?,
            }
            Ok(())
        })?;
        Ok(resource)
    }

    fn scope(&mut self) -> Result<Scope<'a>> {
        let mut scope = Scope::default();
        self.object(|p, key| {
            match key {
                "name" => scope.name = p.string()?,
                "version" => scope.version = p.string()?,
                "attributes" => scope.attributes = p.attributes(0)?,
                "droppedAttributesCount" => scope.dropped_attributes_count = p.u32()?,
                _ => p.skip(0)?,
            }
            Ok(())
        })?;
        Ok(scope)
    }

    // ---- traces ----

    fn span(&mut self) -> Result<Span<'a>> {
        let mut span = Span::default();
        self.object(|p, key| {
            match key {
                "traceId" => span.trace_id = p.id()?,
                "spanId" => span.span_id = p.id()?,
                "traceState" => span.trace_state = p.string()?,
                "parentSpanId" => span.parent_span_id = p.id()?,
                "flags" => span.flags = p.u32()?,
                "name" => span.name = p.string()?,
                "kind" => span.kind = p.i32()?,
                "startTimeUnixNano" => span.start_time_unix_nano = p.u64()?,
                "endTimeUnixNano" => span.end_time_unix_nano = p.u64()?,
                "attributes" => span.attributes = p.attributes(0)?,
                "droppedAttributesCount" => span.dropped_attributes_count = p.u32()?,
                "events" => span.events = p.list(Self::event)?,
                "droppedEventsCount" => span.dropped_events_count = p.u32()?,
                "links" => span.links = p.list(Self::link)?,
                "droppedLinksCount" => span.dropped_links_count = p.u32()?,
                "status" => span.status = p.optional(Self::status)?,
                _ => p.skip(0)?,
            }
            Ok(())
        })?;
        Ok(span)
    }

    fn event(&mut self) -> Result<Event<'a>> {
        let mut event = Event::default();
        self.object(|p, key| {
            match key {
                "timeUnixNano" => event.time_unix_nano = p.u64()?,
                "name" => event.name = p.string()?,
                "attributes" => event.attributes = p.attributes(0)?,
                "droppedAttributesCount" => event.dropped_attributes_count = p.u32()?,
                _ => p.skip(0)?,
            }
            Ok(())
        })?;
        Ok(event)
    }

    fn link(&mut self) -> Result<Link<'a>> {
        let mut link = Link::default();
        self.object(|p, key| {
            match key {
                "traceId" => link.trace_id = p.id()?,
                "spanId" => link.span_id = p.id()?,
                "traceState" => link.trace_state = p.string()?,
                "attributes" => link.attributes = p.attributes(0)?,
                "droppedAttributesCount" => link.dropped_attributes_count = p.u32()?,
                "flags" => link.flags = p.u32()?,
                _ => p.skip(0)?,
            }
            Ok(())
        })?;
        Ok(link)
    }

    fn status(&mut self) -> Result<Status<'a>> {
        let mut status = Status::default();
        self.object(|p, key| {
            match key {
                "message" => status.message = p.string()?,
                "code" => status.code = p.i32()?,
                _ => p.skip(0)?,
            }
            Ok(())
        })?;
        Ok(status)
    }

    // ---- logs ----

    fn log_record(&mut self) -> Result<LogRecord<'a>> {
        let mut record = LogRecord::default();
        self.object(|p, key| {
            match key {
                "timeUnixNano" => record.time_unix_nano = p.u64()?,
                "observedTimeUnixNano" => record.observed_time_unix_nano = p.u64()?,
                "severityNumber" => record.severity_number = p.i32()?,
                "severityText" => record.severity_text = p.string()?,
                "body" => record.body = p.optional(|p| p.any_value(0))?,
                "attributes" => record.attributes = p.attributes(0)?,
                "droppedAttributesCount" => record.dropped_attributes_count = p.u32()?,
                "flags" => record.flags = p.u32()?,
                "traceId" => record.trace_id = p.id()?,
                "spanId" => record.span_id = p.id()?,
                "eventName" => record.event_name = p.string()?,
                _ => p.skip(0)?,
            }
            Ok(())
        })?;
        Ok(record)
    }

    // ---- attributes and values: what both signals share ----

    /// A list of `KeyValue`s inside a value nested `depth` levels deep.
    fn attributes(&mut self, depth: usize) -> Result<Vec<KeyValue<'a>>> {
        self.list(|p| {
            let mut kv = KeyValue::default();
            p.object(|p, key| {
                match key {
                    "key" => kv.key = p.string()?,
                    "value" => kv.value = p.optional(|p| p.any_value(depth))?,
                    _ => p.skip(0)?,
                }
                Ok(())
            })?;
            Ok(kv)
        })
    }

    /// An `AnyValue` nested `depth` levels deep.
    fn any_value(&mut self, depth: usize) -> Result<AnyValue<'a>> {
        let mut value = None;
        self.object(|p, key| {
            match key {
                "stringValue" => value = Some(Value::String(p.string()?)),
                "boolValue" => value = Some(Value::Bool(p.bool()?)),
                "intValue" => value = Some(Value::Int(p.i64()?)),
                "doubleValue" => value = Some(Value::Double(p.f64()?)),
                "bytesValue" => value = Some(Value::Bytes(p.base64()?)),
                "arrayValue" | "kvlistValue" => {
                    if depth >= MAX_VALUE_DEPTH {
                        return Err(DecodeError::too_deep());
                    }
                    let array = key == "arrayValue";
                    let mut values = None;
                    p.object(|p, key| {
                        match key {
                            "values" if array => {
                                values = Some(Value::Array(p.list(|p| p.any_value(depth + 1))?));
                            }
                            "values" => values = Some(Value::Kvlist(p.attributes(depth + 1)?)),
                            _ => p.skip(0)?,
                        }
                        Ok(())
                    })?;
                    value = Some(values.unwrap_or(if array {
                        Value::Array(Vec::new())
                    } else {
                        Value::Kvlist(Vec::new())
                    }));
                }
                _ => p.skip(0)?,
            }
            Ok(())
        })?;
        Ok(AnyValue { value })
    }

    // ---- JSON structure ----

    /// Calls `field` with each key of an object, the parser at its value; `null` is an
    /// empty object.
    fn object(&mut self, mut field: impl FnMut(&mut Self, &str) -> Result<()>) -> Result<()> {
        self.space();
        if self.null()? {
            return Ok(());
        }
        self.expect(b'{', "an object")?;
        self.space();
        if self.eat(b'}') {
            return Ok(());
        }
        loop {
            self.space();
            let (raw, escaped) = self.raw_string()?;
            let key = if escaped {
                Cow::Owned(self.unescape(raw)?)
            } else {
                Cow::Borrowed(raw)
            };
            self.space();
            self.expect(b':', "':' after an object key")?;
            self.space();
            field(self, &key)?;
            self.space();
            match self.next() {
                Some(b',') => {}
                Some(b'}') => return Ok(()),
                _ => return Err(self.error_before("',' or '}' in an object")),
            }
        }
    }

    /// A list whose items `item` decodes, its memory charged against the budget; `null`
    /// is an empty list.
    fn list<T>(&mut self, mut item: impl FnMut(&mut Self) -> Result<T>) -> Result<Vec<T>> {
        self.space();
        if self.null()? {
            return Ok(Vec::new());
        }
        self.expect(b'[', "an array")?;
        self.space();
        if self.eat(b']') {
            return Ok(Vec::new());
        }
        // What is allocated is charged, before it is: room for a typical span's
        // attributes at first (one allocation, not three), then doubling.
        let mut items = Vec::new();
        loop {
            if items.len() == items.capacity() {
                let more = items.capacity().max(8);
                self.charge(more * std::mem::size_of::<T>())?;
                items.reserve_exact(more);
            }
            items.push(item(self)?);
            self.space();
            match self.next() {
                Some(b',') => {}
                Some(b']') => return Ok(items),
                _ => return Err(self.error_before("',' or ']' in an array")),
            }
        }
    }

    /// An object that may be `null` (absent).
    fn optional<T>(&mut self, value: impl FnOnce(&mut Self) -> Result<T>) -> Result<Option<T>> {
        self.space();
        if self.null()? {
            return Ok(None);
        }
        self.charge(std::mem::size_of::<T>())?;
        value(self).map(Some)
    }

    /// Skips any JSON value (an unknown field's), nested `depth` levels inside unknown
    /// values, checking its syntax and allocating nothing.
    fn skip(&mut self, depth: usize) -> Result<()> {
        if depth >= MAX_SKIP_DEPTH {
            return Err(self.error(&format!(
                "an unknown field's value is nested more than {MAX_SKIP_DEPTH} levels deep"
            )));
        }
        self.space();
        match self.peek() {
            Some(b'{') => {
                self.at += 1;
                self.space();
                if self.eat(b'}') {
                    return Ok(());
                }
                loop {
                    self.space();
                    self.raw_string()?;
                    self.space();
                    self.expect(b':', "':' after an object key")?;
                    self.skip(depth + 1)?;
                    self.space();
                    match self.next() {
                        Some(b',') => {}
                        Some(b'}') => return Ok(()),
                        _ => return Err(self.error_before("',' or '}' in an object")),
                    }
                }
            }
            Some(b'[') => {
                self.at += 1;
                self.space();
                if self.eat(b']') {
                    return Ok(());
                }
                loop {
                    self.skip(depth + 1)?;
                    self.space();
                    match self.next() {
                        Some(b',') => {}
                        Some(b']') => return Ok(()),
                        _ => return Err(self.error_before("',' or ']' in an array")),
                    }
                }
            }
            Some(b'"') => self.raw_string().map(drop),
            Some(b't' | b'f') => self.bool().map(drop),
            Some(b'n') => self.null().map(drop),
            _ => self.number().map(drop),
        }
    }

    // ---- scalars ----

    /// A string; `null` is the empty string.
    fn string(&mut self) -> Result<Str<'a>> {
        self.space();
        if self.null()? {
            return Ok(Cow::Borrowed(""));
        }
        let (raw, escaped) = self.raw_string()?;
        if !escaped {
            return Ok(Cow::Borrowed(raw));
        }
        self.charge(raw.len())?;
        self.unescape(raw).map(Cow::Owned)
    }

    /// The text between the quotes of a string (checked: no control characters, escapes
    /// well-formed) and whether it holds escapes.
    fn raw_string(&mut self) -> Result<(&'a str, bool)> {
        self.expect(b'"', "a string")?;
        let start = self.at;
        let mut escaped = false;
        loop {
            // Runs of ordinary characters, the bulk of every string, in a tight loop.
            let rest = &self.body[self.at..];
            self.at += rest
                .iter()
                .position(|&b| SPECIAL_IN_STRING[usize::from(b)])
                .unwrap_or(rest.len());
            let Some(&byte) = self.body.get(self.at) else {
                return Err(self.error("the text ends inside a string"));
            };
            match byte {
                b'"' => break,
                b'\\' => {
                    escaped = true;
                    let Some(b'"' | b'\\' | b'/' | b'b' | b'f' | b'n' | b'r' | b't' | b'u') =
                        self.body.get(self.at + 1)
                    else {
                        return Err(self.error("an invalid escape in a string"));
                    };
                    self.at += 2;
                }
                _ => return Err(self.error("a control character inside a string")),
            }
        }
        // Both ends are ASCII quotes, so both are character boundaries.
        let text = &self.text[start..self.at];
        self.at += 1;
        Ok((text, escaped))
    }

    /// Resolves the escapes of a string's text.
    fn unescape(&self, raw: &str) -> Result<String> {
        let mut out = String::with_capacity(raw.len());
        let mut chars = raw.chars();
        let bad = || self.error("an invalid escape in a string");
        while let Some(c) = chars.next() {
            if c != '\\' {
                out.push(c);
                continue;
            }
            let decoded = match chars.next().ok_or_else(bad)? {
                '"' => '"',
                '\\' => '\\',
                '/' => '/',
                'b' => '\u{8}',
                'f' => '\u{c}',
                'n' => '\n',
                'r' => '\r',
                't' => '\t',
                'u' => {
                    let high = hex4(&mut chars).ok_or_else(bad)?;
                    let code = if (0xd800..0xdc00).contains(&high) {
                        if chars.next() != Some('\\') || chars.next() != Some('u') {
                            return Err(bad());
                        }
                        let low = hex4(&mut chars).ok_or_else(bad)?;
                        if !(0xdc00..0xe000).contains(&low) {
                            return Err(bad());
                        }
                        0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
                    } else {
                        high
                    };
                    char::from_u32(code).ok_or_else(bad)?
                }
                _ => return Err(bad()),
            };
            out.push(decoded);
        }
        Ok(out)
    }

    /// A trace or span ID: a string of hex digits (empty or `null`: absent).
    fn id(&mut self) -> Result<Id> {
        let text = self.string()?;
        let hex = text.as_bytes();
        if hex.len() % 2 != 0 {
            return Err(self.error_before("an ID of an odd number of hex digits"));
        }
        let mut bytes = [0u8; 16];
        for (i, pair) in hex.chunks_exact(2).enumerate() {
            let (Some(high), Some(low)) = (hex_digit(pair[0]), hex_digit(pair[1])) else {
                return Err(self.error_before("an ID that is not hex digits"));
            };
            if let Some(byte) = bytes.get_mut(i) {
                *byte = high << 4 | low;
            }
        }
        Ok(Id::from_parts(bytes, hex.len() / 2))
    }

    /// `bytesValue`: base64 (standard alphabet, padded).
    fn base64(&mut self) -> Result<Cow<'a, [u8]>> {
        let text = self.string()?;
        self.charge(text.len())?;
        base64::engine::general_purpose::STANDARD
            .decode(text.as_bytes())
            .map(Cow::Owned)
            .map_err(|_| self.error_before("a bytesValue that is not base64"))
    }

    fn bool(&mut self) -> Result<bool> {
        self.space();
        if self.literal(b"true") {
            Ok(true)
        } else if self.literal(b"false") || self.literal(b"null") {
            Ok(false)
        } else {
            Err(self.error("expected true or false"))
        }
    }

    /// Whether a `null` is next (and consumes it).
    #[inline]
    fn null(&mut self) -> Result<bool> {
        Ok(self.literal(b"null"))
    }

    #[inline]
    fn literal(&mut self, word: &[u8]) -> bool {
        let found = self.body[self.at..].starts_with(word);
        if found {
            self.at += word.len();
        }
        found
    }

    /// The text of a JSON number, checked against JSON's grammar.
    fn number(&mut self) -> Result<&'a str> {
        let start = self.at;
        self.eat(b'-');
        let digits = |p: &mut Self| {
            let from = p.at;
            while p.peek().is_some_and(|b| b.is_ascii_digit()) {
                p.at += 1;
            }
            p.at - from
        };
        match self.peek() {
            Some(b'0') => self.at += 1,
            Some(b'1'..=b'9') => {
                digits(self);
            }
            _ => return Err(self.error("expected a value")),
        }
        if self.eat(b'.') && digits(self) == 0 {
            return Err(self.error("a number without digits after '.'"));
        }
        if self.eat(b'e') || self.eat(b'E') {
            if !self.eat(b'+') {
                self.eat(b'-');
            }
            if digits(self) == 0 {
                return Err(self.error("a number without digits in its exponent"));
            }
        }
        Ok(&self.text[start..self.at])
    }

    /// An integer: a JSON number without fraction or exponent, or a string holding
    /// one (as OTLP sends 64-bit integers); `null` is 0.
    fn integer<T: std::str::FromStr + Default>(&mut self, what: &str) -> Result<T> {
        self.space();
        let text: Str<'a> = match self.peek() {
            Some(b'"') => self.string()?,
            Some(b'n') if self.null()? => return Ok(T::default()),
            _ => Cow::Borrowed(self.number()?),
        };
        text.parse()
            .map_err(|_| self.error_before(&format!("expected {what}, got {text:?}")))
    }

    fn u64(&mut self) -> Result<u64> {
        self.integer("an unsigned 64-bit integer")
    }

    fn i64(&mut self) -> Result<i64> {
        self.integer("a 64-bit integer")
    }

    fn u32(&mut self) -> Result<u32> {
        self.integer("an unsigned 32-bit integer")
    }

    /// An enum (`kind`, `code`, `severityNumber`) or other 32-bit integer: names are
    /// refused.
    fn i32(&mut self) -> Result<i32> {
        self.integer("an integer (OTLP JSON sends enums as integers)")
    }

    /// A double: a number, `"NaN"`, `"Infinity"`, `"-Infinity"` or a string holding a
    /// number; `null` is 0.
    fn f64(&mut self) -> Result<f64> {
        self.space();
        let text: Str<'a> = match self.peek() {
            Some(b'"') => self.string()?,
            Some(b'n') if self.null()? => return Ok(0.0),
            _ => Cow::Borrowed(self.number()?),
        };
        match &*text {
            "NaN" => Ok(f64::NAN),
            "Infinity" => Ok(f64::INFINITY),
            "-Infinity" => Ok(f64::NEG_INFINITY),
            number => number
                .parse()
                .map_err(|_| self.error_before(&format!("expected a number, got {text:?}"))),
        }
    }

    // ---- bytes ----

    /// Takes `bytes` from the budget of decoded memory.
    #[inline]
    fn charge(&mut self, bytes: usize) -> Result<()> {
        match self.budget.checked_sub(bytes) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => Err(DecodeError::TooComplex(self.limits.max_decoded_bytes)),
        }
    }

    #[inline]
    fn space(&mut self) {
        while let Some(b' ' | b'\n' | b'\r' | b'\t') = self.peek() {
            self.at += 1;
        }
    }

    #[inline]
    fn peek(&self) -> Option<u8> {
        self.body.get(self.at).copied()
    }

    #[inline]
    fn next(&mut self) -> Option<u8> {
        let byte = self.peek();
        self.at += 1;
        byte
    }

    #[inline]
    fn eat(&mut self, byte: u8) -> bool {
        let found = self.peek() == Some(byte);
        if found {
            self.at += 1;
        }
        found
    }

    #[inline]
    fn expect(&mut self, byte: u8, what: &str) -> Result<()> {
        if self.eat(byte) {
            Ok(())
        } else {
            Err(self.expected(what))
        }
    }

    #[cold]
    #[inline(never)]
    fn expected(&self, what: &str) -> DecodeError {
        self.error(&format!("expected {what}"))
    }

    /// An error about the text just read.
    fn error_before(&self, what: &str) -> DecodeError {
        self.error_at(self.at.saturating_sub(1), what)
    }

    /// An error about the text at the current position.
    fn error(&self, what: &str) -> DecodeError {
        self.error_at(self.at, what)
    }

    fn error_at(&self, at: usize, what: &str) -> DecodeError {
        let at = at.min(self.body.len());
        let before = &self.body[..at];
        let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
        let column = at
            - before
                .iter()
                .rposition(|&b| b == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        DecodeError::Malformed(format!(
            "invalid OTLP JSON at line {line}, column {column}: {what}"
        ))
    }
}

/// The bytes that end a run of ordinary characters in a string: the closing quote, a
/// backslash, and the control characters JSON forbids there.
static SPECIAL_IN_STRING: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 0x20 {
        table[byte] = true;
        byte += 1;
    }
    table[b'"' as usize] = true;
    table[b'\\' as usize] = true;
    table
};

fn hex_digit(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Four hex digits of a `\u` escape.
fn hex4(chars: &mut std::str::Chars<'_>) -> Option<u32> {
    let mut code = 0;
    for _ in 0..4 {
        code = code << 4 | chars.next()?.to_digit(16)?;
    }
    Some(code)
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: Limits = Limits {
        max_spans: 10,
        max_decoded_bytes: 1 << 20,
    };

    const SPAN_JSON: &str = r#"{
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "eee19b7ec3c1b174",
        "parentSpanId": "",
        "name": "GET /",
        "kind": 3,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": 1700000000500000000,
        "attributes": [{"key": "http.request.method", "value": {"stringValue": "GET"}},
                       {"key": "http.response.status_code", "value": {"intValue": "200"}}],
        "status": {"code": 2, "message": "boom"},
        "someFutureField": {"nested": [1, 2.5e3, "x", true, null, {}]}
    }"#;

    fn request_json(spans: usize) -> String {
        let spans = vec![SPAN_JSON; spans].join(",");
        format!(
            r#"{{"resourceSpans":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"web"}}}}]}},
                "scopeSpans":[{{"scope":{{"name":"fetch","version":"1"}},"spans":[{spans}],"unknown":1}}]}}],
                "extra":"ignored"}}"#
        )
    }

    fn decode_str(text: &str) -> std::result::Result<Request<'_>, DecodeError> {
        decode(text.as_bytes(), &LIMITS)
    }

    fn malformed(text: &str) -> String {
        match decode_str(text) {
            Err(DecodeError::Malformed(message)) => message,
            other => panic!("expected a malformed error for {text}, got {other:?}"),
        }
    }

    /// A request whose one span has these attributes (JSON text).
    fn with_attributes(attributes: &str) -> String {
        format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{{"name":"a","attributes":[{attributes}]}}]}}]}}]}}"#
        )
    }

    fn first_span<'r, 'a>(request: &'r Request<'a>) -> &'r Span<'a> {
        &request.resource_spans[0].scope_spans[0].spans[0]
    }

    #[test]
    fn hex_ids_int64_strings_and_numbers_and_unknown_fields() {
        let text = request_json(2);
        let request = decode_str(&text).unwrap();
        let span = &request.resource_spans[0].scope_spans[0].spans[1];
        assert_eq!(span.trace_id.len(), 16);
        assert_eq!(
            span.span_id.as_bytes(),
            [0xee, 0xe1, 0x9b, 0x7e, 0xc3, 0xc1, 0xb1, 0x74]
        );
        assert!(span.parent_span_id.is_empty());
        assert_eq!(span.start_time_unix_nano, 1_700_000_000_000_000_000);
        assert_eq!(span.end_time_unix_nano, 1_700_000_000_500_000_000);
        assert_eq!(span.kind, 3);
        assert_eq!(span.status.as_ref().unwrap().code, 2);
        assert_eq!(
            span.attributes[1].value.as_ref().unwrap().value,
            Some(Value::Int(200))
        );
        let scope = request.resource_spans[0].scope_spans[0]
            .scope
            .as_ref()
            .unwrap();
        assert_eq!(scope.name, "fetch");
        // Strings without escapes are borrowed from the body.
        assert!(matches!(span.name, Cow::Borrowed("GET /")));
    }

    #[test]
    fn every_value_type() {
        let text = with_attributes(
            r#"{"key":"s","value":{"stringValue":"caf\u00e9 \ud83d\ude00 \"q\" \\ \/ \n"}},
               {"key":"b","value":{"boolValue":true}},
               {"key":"i","value":{"intValue":-9223372036854775808}},
               {"key":"d","value":{"doubleValue":-1.5e-7}},
               {"key":"n","value":{"doubleValue":"NaN"}},
               {"key":"x","value":{"bytesValue":"AAEC/w=="}},
               {"key":"a","value":{"arrayValue":{"values":[{"intValue":"1"},{}]}}},
               {"key":"m","value":{"kvlistValue":{"values":[{"key":"k","value":{"boolValue":false}}]}}},
               {"key":"e","value":{}},
               {"key":"none"}"#,
        );
        let request = decode_str(&text).unwrap();
        let values: Vec<_> = first_span(&request)
            .attributes
            .iter()
            .map(|kv| kv.value.as_ref().and_then(|v| v.value.clone()))
            .collect();
        assert_eq!(
            values[0],
            Some(Value::String("café 😀 \"q\" \\ / \n".into()))
        );
        assert_eq!(values[1], Some(Value::Bool(true)));
        assert_eq!(values[2], Some(Value::Int(i64::MIN)));
        assert_eq!(values[3], Some(Value::Double(-1.5e-7)));
        assert!(matches!(values[4], Some(Value::Double(d)) if d.is_nan()));
        assert_eq!(values[5], Some(Value::Bytes(vec![0, 1, 2, 255].into())));
        assert_eq!(
            values[6],
            Some(Value::Array(vec![
                AnyValue {
                    value: Some(Value::Int(1))
                },
                AnyValue { value: None }
            ]))
        );
        assert!(matches!(&values[7], Some(Value::Kvlist(kvs)) if kvs[0].key == "k"));
        assert_eq!(values[8], None);
        assert!(first_span(&request).attributes[9].value.is_none());
    }

    #[test]
    fn null_means_the_default() {
        let text = r#"{"resourceSpans":[{"resource":null,"scopeSpans":[{"scope":null,"spans":[
            {"name":null,"traceId":null,"kind":null,"attributes":null,"status":null,"flags":null}]}]}]}"#;
        let request = decode_str(text).unwrap();
        assert!(request.resource_spans[0].resource.is_none());
        let span = first_span(&request);
        assert_eq!(
            (span.name.as_ref(), span.kind, span.trace_id.len()),
            ("", 0, 0)
        );
        assert!(decode_str("null").unwrap().resource_spans.is_empty());
    }

    #[test]
    fn the_span_limit_is_exact() {
        assert!(decode(request_json(10).as_bytes(), &LIMITS).is_ok());
        assert_eq!(
            decode(request_json(11).as_bytes(), &LIMITS),
            Err(DecodeError::TooManySpans(10))
        );
    }

    #[test]
    fn malformed_input_says_where() {
        let message = malformed("{\"resourceSpans\": [");
        assert!(message.contains("line 1, column 20"), "{message}");
        let message = malformed("{\n  \"resourceSpans\": [}\n");
        assert!(message.contains("line 2"), "{message}");
        let enum_name = request_json(1).replace("\"kind\": 3", "\"kind\": \"SPAN_KIND_CLIENT\"");
        assert!(malformed(&enum_name).contains("enums as integers"));
        for bad in [
            "",
            "[]",
            "{} {}",
            "{\"resourceSpans\":[],}",
            "{\"a\":01}",
            "{\"a\":1.}",
            "{\"a\":-}",
            "{\"a\":\"\\x\"}",
            "{\"a\":\"tab\there\"}",
            "{\"a\":tru}",
            &with_attributes(r#"{"key":"k","value":{"stringValue":"\ud83d"}}"#),
            &with_attributes(r#"{"key":"k","value":{"bytesValue":"***"}}"#),
            &with_attributes(r#"{"key":"k","value":{"intValue":1.5}}"#),
            &with_attributes(r#"{"key":"k","value":{"intValue":"9223372036854775808"}}"#),
            &request_json(1).replace("eee19b7ec3c1b174", "eee19b7ec3c1b17"),
            &request_json(1).replace("eee19b7ec3c1b174", "eee19b7ec3c1b17g"),
            &request_json(1).replace("\"kind\": 3", "\"kind\": 3000000000"),
        ] {
            malformed(bad);
        }
        // Invalid UTF-8, even inside an unknown field.
        let mut bytes = br#"{"x":"ab"}"#.to_vec();
        bytes[6] = 0xff;
        assert!(matches!(
            decode(&bytes, &LIMITS),
            Err(DecodeError::Malformed(_))
        ));
    }

    #[test]
    fn over_long_ids_keep_their_length() {
        let text = request_json(1).replace("eee19b7ec3c1b174", &"ab".repeat(40));
        assert_eq!(first_span(&decode_str(&text).unwrap()).span_id.len(), 40);
    }

    #[test]
    fn deep_values_are_refused_and_unknown_ones_skipped_without_recursion_limits_hit() {
        let nest = |depth: usize| {
            let open = r#"{"arrayValue":{"values":["#.repeat(depth);
            let close = "]}}".repeat(depth);
            with_attributes(&format!(
                r#"{{"key":"k","value":{open}{{"intValue":1}}{close}}}"#
            ))
        };
        assert!(decode_str(&nest(MAX_VALUE_DEPTH)).is_ok());
        assert!(malformed(&nest(MAX_VALUE_DEPTH + 1)).contains("nested more than"));
        let skipped =
            |depth: usize| format!(r#"{{"x":{}1{}}}"#, "[".repeat(depth), "]".repeat(depth));
        assert!(decode_str(&skipped(MAX_SKIP_DEPTH - 1)).is_ok());
        assert!(malformed(&skipped(100_000)).contains("nested more than"));
    }

    #[test]
    fn the_deepest_accepted_values_decode_again_from_protobuf() {
        use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
        use prost::Message;
        let open = r#"{"kvlistValue":{"values":[{"key":"k","value":"#.repeat(MAX_VALUE_DEPTH);
        let close = "}]}}".repeat(MAX_VALUE_DEPTH);
        let text = with_attributes(&format!(
            r#"{{"key":"k","value":{open}{{"intValue":1}}{close}}}"#
        ));
        let request = decode_str(&text).unwrap();
        let bytes = request.to_proto().encode_to_vec();
        assert!(ExportTraceServiceRequest::decode(&bytes[..]).is_ok());
    }

    #[test]
    fn many_tiny_values_hit_the_memory_budget() {
        // 30,000 integers in an attribute: a few bytes each on the wire.
        let values = vec![r#"{"intValue":1}"#; 30_000].join(",");
        let text = with_attributes(&format!(
            r#"{{"key":"k","value":{{"arrayValue":{{"values":[{values}]}}}}}}"#
        ));
        let for_body = Limits::for_body(crate::Format::Json, text.len(), 10);
        let empty = vec!["{}"; 30_000].join(",");
        let bare = with_attributes(&format!(
            r#"{{"key":"k","value":{{"kvlistValue":{{"values":[{empty}]}}}}}}"#
        ));
        let for_bare = Limits::for_body(crate::Format::Json, bare.len(), 10);
        assert_eq!(
            decode(bare.as_bytes(), &for_bare),
            Err(DecodeError::TooComplex(for_bare.max_decoded_bytes))
        );
        assert!(decode(text.as_bytes(), &for_body).is_ok());
        // The same values in an unknown field cost nothing: they are skipped.
        let ints = vec!["1"; 30_000].join(",");
        let text = with_attributes(&format!(r#"{{"key":"k","value":{{"future":[{ints}]}}}}"#));
        assert!(
            decode(
                text.as_bytes(),
                &Limits::for_body(crate::Format::Json, text.len(), 10)
            )
            .is_ok()
        );
        // Copied (escaped) strings are charged by their length.
        let escaped = format!(
            r#"{{"key":"k","value":{{"stringValue":"\n{}"}}}}"#,
            "x".repeat(200_000)
        );
        let small = Limits {
            max_spans: 10,
            max_decoded_bytes: 100_000,
        };
        assert!(matches!(
            decode(with_attributes(&escaped).as_bytes(), &small),
            Err(DecodeError::TooComplex(100_000))
        ));
    }

    #[test]
    fn ordinary_spans_fit_the_default_ratio() {
        let text = request_json(10);
        assert!(
            decode(
                text.as_bytes(),
                &Limits::for_body(crate::Format::Json, text.len(), 10)
            )
            .is_ok()
        );
        let minimal = r#"{"traceId":"5b8efff798038103d269b633813fc60c","spanId":"eee19b7ec3c1b174","name":"a","startTimeUnixNano":1,"endTimeUnixNano":2}"#;
        let text = format!(
            r#"{{"resourceSpans":[{{"scopeSpans":[{{"spans":[{}]}}]}}]}}"#,
            [minimal; 10].join(",")
        );
        assert!(
            decode(
                text.as_bytes(),
                &Limits::for_body(crate::Format::Json, text.len(), 10)
            )
            .is_ok()
        );
    }

    const LOG_RECORD_JSON: &str = r#"{
        "timeUnixNano": "1700000000000000000",
        "observedTimeUnixNano": 1700000000000000001,
        "severityNumber": 17,
        "severityText": "error",
        "body": {"kvlistValue": {"values": [{"key": "message", "value": {"stringValue": "boom"}}]}},
        "attributes": [{"key": "exception.type", "value": {"stringValue": "TypeError"}}],
        "droppedAttributesCount": 2,
        "flags": 1,
        "traceId": "5b8efff798038103d269b633813fc60c",
        "spanId": "",
        "eventName": "browser.error",
        "someFutureField": [1, {"x": null}]
    }"#;

    fn logs_json(records: usize) -> String {
        let records = vec![LOG_RECORD_JSON; records].join(",");
        format!(
            r#"{{"resourceLogs":[{{"resource":{{"attributes":[{{"key":"service.name","value":{{"stringValue":"web"}}}}]}},
                "scopeLogs":[{{"scope":{{"name":"errors"}},"logRecords":[{records}],"schemaUrl":"s"}}],
                "resourceSpans":"ignored"}}]}}"#
        )
    }

    #[test]
    fn log_records_decode_as_spans_do() {
        let text = logs_json(2);
        let request = decode_logs(text.as_bytes(), &LIMITS).unwrap();
        let scope_logs = &request.resource_logs[0].scope_logs[0];
        assert_eq!(scope_logs.scope.as_ref().unwrap().name, "errors");
        assert_eq!(scope_logs.schema_url, "s");
        let record = &scope_logs.log_records[1];
        assert_eq!(record.time_unix_nano, 1_700_000_000_000_000_000);
        assert_eq!(record.observed_time_unix_nano, 1_700_000_000_000_000_001);
        assert_eq!(record.severity_number, 17);
        assert_eq!((record.dropped_attributes_count, record.flags), (2, 1));
        assert_eq!(record.trace_id.len(), 16);
        assert!(record.span_id.is_empty());
        assert!(matches!(record.event_name, Cow::Borrowed("browser.error")));
        assert!(matches!(
            &record.body,
            Some(AnyValue { value: Some(Value::Kvlist(kvs)) }) if kvs[0].key == "message"
        ));
        assert_eq!(record.attributes[0].key, "exception.type");
        // A trace decoder reads a logs body as a request without spans, and the other
        // way round.
        assert!(decode_str(&text).unwrap().resource_spans.is_empty());
        let traces = request_json(1);
        assert!(
            decode_logs(traces.as_bytes(), &LIMITS)
                .unwrap()
                .resource_logs
                .is_empty()
        );
    }

    #[test]
    fn log_records_follow_the_same_rules() {
        let decode_text = |text: &str| decode_logs(text.as_bytes(), &LIMITS).map(|_| ());
        assert_eq!(decode_text(&logs_json(10)), Ok(()));
        assert_eq!(
            decode_text(&logs_json(11)),
            Err(DecodeError::TooManyLogRecords(10))
        );
        let message = |text: &str| match decode_text(text) {
            Err(DecodeError::Malformed(message)) => message,
            other => panic!("expected a malformed error for {text}, got {other:?}"),
        };
        // Enums as integers, as for spans' kind.
        let named = logs_json(1).replace(
            "\"severityNumber\": 17",
            "\"severityNumber\": \"SEVERITY_NUMBER_ERROR\"",
        );
        assert!(message(&named).contains("enums as integers"));
        let odd_id = logs_json(1).replace("\"spanId\": \"\"", "\"spanId\": \"abc\"");
        assert!(message(&odd_id).contains("odd number"));
        let body = |depth: usize| {
            let open = r#"{"arrayValue":{"values":["#.repeat(depth);
            let close = "]}}".repeat(depth);
            format!(
                r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{{"body":{open}{{"intValue":1}}{close}}}]}}]}}]}}"#
            )
        };
        assert_eq!(decode_text(&body(MAX_VALUE_DEPTH)), Ok(()));
        assert!(message(&body(MAX_VALUE_DEPTH + 1)).contains("nested more than"));
        // `null` is the default, here too.
        let nulls = r#"{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":null,"severityNumber":null,"traceId":null}]}]}]}"#;
        let request = decode_logs(nulls.as_bytes(), &LIMITS).unwrap();
        assert_eq!(
            request.resource_logs[0].scope_logs[0].log_records[0],
            LogRecord::default()
        );
        // Many empty records hit the memory budget as empty spans do.
        let empty = vec!["{}"; 30_000].join(",");
        let text = format!(r#"{{"resourceLogs":[{{"scopeLogs":[{{"logRecords":[{empty}]}}]}}]}}"#);
        let for_body = Limits::for_body(crate::Format::Json, text.len(), 100_000);
        assert_eq!(
            decode_logs(text.as_bytes(), &for_body),
            Err(DecodeError::TooComplex(for_body.max_decoded_bytes))
        );
        let ordinary = logs_json(10);
        let for_body = Limits::for_body(crate::Format::Json, ordinary.len(), 10);
        assert!(decode_logs(ordinary.as_bytes(), &for_body).is_ok());
    }
}
