//! OTLP protobuf request bodies, decoded by hand into [`crate::model`]: trace requests
//! ([`decode`]) and logs requests ([`decode_logs`]), by the same code but for their items.
//!
//! Written here rather than decoded by prost into opentelemetry-proto's messages and
//! viewed as the model: those messages own a `String` or `Vec` per field, and allocating
//! and freeing them was the largest cost of a protobuf request under load. This decoder
//! knows the OTLP trace and logs schemas, so it
//! - borrows every string (once checked to be UTF-8) and every bytes value from the body,
//!   and allocates only the model's lists, each at once with room for exactly its items
//!   (counted by a walk of the message's own fields before it is decoded);
//! - charges each list against [`Limits::max_decoded_bytes`] before allocating it, so
//!   that a body of many tiny messages (2 bytes on the wire, up to a few hundred in
//!   memory) is refused ([`DecodeError::TooComplex`]) before they are built; and counts
//!   the spans (or log records) of the request against [`Limits::max_spans`] before
//!   decoding anything;
//! - accepts and refuses what prost with opentelemetry-proto's messages, then the view
//!   of them as the model, accept and refuse, and decodes to the same model:
//!   - a non-repeated scalar, string or bytes field that appears more than once keeps
//!     its last value; a repeated field appends; a non-repeated message field that
//!     appears again is merged into the first (its lists appended, its scalars
//!     overwritten), and so is an `arrayValue` or `kvlistValue` following one of the
//!     same kind in an `AnyValue` (another kind of value replaces it);
//!   - unknown fields of every wire type are skipped, groups included (matched to their
//!     end, as prost does); a known field with another wire type than the schema's, a
//!     string that is not UTF-8, a truncated field, a varint over 10 bytes or 64 bits,
//!     a field number 0 or over 2^29 - 1, or wire type 4, 6 or 7 where a field starts
//!     are malformed;
//!   - messages (and groups) nested deeper than prost's recursion limit of 100 are
//!     malformed, and so are attribute values (and log bodies) nested deeper than
//!     [`MAX_VALUE_DEPTH`] that are still there once the body is decoded (a later value
//!     of the same `AnyValue` may replace them);
//!   - the profiles-only `KeyValue.key_strindex` and `AnyValue.string_value_strindex`
//!     (an empty value) and `Resource.entity_refs` are checked and dropped;
//!   - enums and `int32` are the low 32 bits of their varint, `int64` its 64 bits as
//!     two's complement, `bool` true for any non-zero varint, `fixed64` and `double`
//!     little-endian.
//!
//! `tests/reference.rs` checks all of this against prost on random requests, random
//! fields and mutated bodies.

use std::borrow::Cow;
use std::mem::size_of;

use crate::model::{
    AnyValue, Event, Id, KeyValue, Link, LogRecord, LogsRequest, MAX_VALUE_DEPTH, Request,
    Resource, Scope, Span, Status, Str, Value,
};
use crate::signal::{Group, Levels, Logs, Signal, Traces};
use crate::{DecodeError, Limits};

/// prost's recursion limit: the request's fields are read at depth 0, a message nested
/// in a message read at depth `d` at depth `d + 1`, and none deeper than this (unknown
/// fields and groups in a message at this depth included).
const RECURSION_LIMIT: usize = 100;

type Result<T> = std::result::Result<T, DecodeError>;

/// Decodes a protobuf `ExportTraceServiceRequest`, borrowing its strings and bytes from
/// `bytes`; refuses it before decoding when it holds more spans than `limits` allow, and
/// as soon as its lists would take more memory than they allow.
pub fn decode<'a>(bytes: &'a [u8], limits: &Limits) -> Result<Request<'a>> {
    decode_request::<Traces>(bytes, limits)
}

/// Decodes a protobuf `ExportLogsServiceRequest` as [`decode`] does a trace request,
/// [`Limits::max_spans`] counting its log records.
pub fn decode_logs<'a>(bytes: &'a [u8], limits: &Limits) -> Result<LogsRequest<'a>> {
    decode_request::<Logs>(bytes, limits)
}

fn decode_request<'a, S: ProtobufSignal<'a>>(
    bytes: &'a [u8],
    limits: &Limits,
) -> Result<S::Request> {
    // Count first: an empty span or log record is 2 bytes on the wire but hundreds in
    // memory.
    if count_items(bytes, &S::MESSAGES)? > limits.max_spans {
        return Err(S::too_many(limits.max_spans));
    }
    let mut decoder = Decoder {
        body: bytes,
        budget: limits.max_decoded_bytes,
        max_decoded_bytes: limits.max_decoded_bytes,
    };
    let mut request = S::Request::default();
    decoder.request::<S>(&mut request)?;
    Ok(request)
}

/// Counts the items (spans, log records) of a protobuf request whose messages are named
/// `messages` by walking the fields of its first three levels, without decoding them;
/// an error where that walk finds the body malformed (where prost would too). Both
/// signals hold their resource groups, scope groups and items as field 2 (1 in the
/// request).
fn count_items(body: &[u8], messages: &Levels) -> Result<usize> {
    let mut count = 0;
    let base = body.as_ptr() as usize;
    let mut request = Fields::new(body, base, 0, messages.request);
    while let Some(field) = request.next()? {
        if field.tag != 1 {
            continue;
        }
        let resource_group = request.message(&field)?;
        let mut resource_group = Fields::new(resource_group, base, 1, messages.resource_group);
        while let Some(field) = resource_group.next()? {
            if field.tag != 2 {
                continue;
            }
            let scope_group = resource_group.message(&field)?;
            let mut scope_group = Fields::new(scope_group, base, 2, messages.scope_group);
            while let Some(field) = scope_group.next()? {
                if field.tag == 2 {
                    scope_group.message(&field)?;
                    count += 1;
                }
            }
        }
    }
    Ok(count)
}

// ---- the wire format ----

/// A field's value as the wire holds it.
#[derive(Debug, Clone, Copy)]
enum Wire<'a> {
    /// Wire type 0.
    Varint(u64),
    /// Wire type 1, little-endian.
    Fixed64(u64),
    /// Wire type 2.
    Len(&'a [u8]),
    /// Wire type 3: a group, already skipped (it is never a known field).
    Group,
    /// Wire type 5, little-endian.
    Fixed32(u32),
}

impl Wire<'_> {
    fn name(self) -> &'static str {
        match self {
            Wire::Varint(_) => "a varint",
            Wire::Fixed64(_) => "a 64-bit value",
            Wire::Len(_) => "a length-delimited value",
            Wire::Group => "a group",
            Wire::Fixed32(_) => "a 32-bit value",
        }
    }
}

/// A field of a message.
#[derive(Debug, Clone, Copy)]
struct Field<'a> {
    /// Its number.
    tag: u32,
    wire: Wire<'a>,
}

/// The fields of one message, read in turn.
struct Fields<'a> {
    /// What is left of the message.
    rest: &'a [u8],
    /// Where the body starts in memory, to say where an error is.
    base: usize,
    /// How deep the message is nested (the request is at 0).
    depth: usize,
    /// The message's name, for errors.
    message: &'static str,
}

impl<'a> Fields<'a> {
    /// The fields of `message`, which lies in a body starting at `base` (its address).
    fn new(message: &'a [u8], base: usize, depth: usize, name: &'static str) -> Self {
        Fields {
            rest: message,
            base,
            depth,
            message: name,
        }
    }

    /// The next field, its value read (a group skipped); `None` at the message's end.
    #[inline(always)]
    fn next(&mut self) -> Result<Option<Field<'a>>> {
        if self.rest.is_empty() {
            return Ok(None);
        }
        let (tag, wire_type) = self.key()?;
        let wire = match wire_type {
            0 => Wire::Varint(self.varint()?),
            1 => Wire::Fixed64(u64::from_le_bytes(self.take()?)),
            2 => Wire::Len(self.payload()?),
            3 => {
                self.skip_group(tag, RECURSION_LIMIT.saturating_sub(self.depth))?;
                Wire::Group
            }
            5 => Wire::Fixed32(u32::from_le_bytes(self.take()?)),
            _ => return Err(self.error("an end of group without its start")),
        };
        Ok(Some(Field { tag, wire }))
    }

    /// A field's key: its number and wire type (0 to 5).
    #[inline(always)]
    fn key(&mut self) -> Result<(u32, u8)> {
        let key = self.varint()?;
        match u32::try_from(key) {
            Ok(key) if key >> 3 != 0 && key & 7 <= 5 => Ok((key >> 3, (key & 7) as u8)),
            _ => Err(self.bad_key(key)),
        }
    }

    /// A varint of at most 10 bytes and 64 bits, as prost reads them.
    #[inline(always)]
    fn varint(&mut self) -> Result<u64> {
        if let [byte, rest @ ..] = self.rest
            && *byte < 0x80
        {
            self.rest = rest;
            return Ok(u64::from(*byte));
        }
        self.long_varint()
    }

    /// A varint of more than one byte (or none).
    #[inline(never)]
    fn long_varint(&mut self) -> Result<u64> {
        let mut value = 0u64;
        for (i, &byte) in self.rest.iter().take(10).enumerate() {
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte < 0x80 {
                if i == 9 && byte > 1 {
                    break;
                }
                self.rest = &self.rest[i + 1..];
                return Ok(value);
            }
        }
        Err(self.error(if self.rest.len() < 10 {
            "a truncated varint"
        } else {
            "a varint over 64 bits"
        }))
    }

    /// The next `N` bytes.
    #[inline(always)]
    fn take<const N: usize>(&mut self) -> Result<[u8; N]> {
        match self.rest.split_first_chunk::<N>() {
            Some((bytes, rest)) => {
                self.rest = rest;
                Ok(*bytes)
            }
            None => Err(self.error("a truncated fixed-size value")),
        }
    }

    /// A length-delimited value.
    #[inline(always)]
    fn payload(&mut self) -> Result<&'a [u8]> {
        let len = self.varint()?;
        match usize::try_from(len) {
            Ok(len) if len <= self.rest.len() => {
                let (payload, rest) = self.rest.split_at(len);
                self.rest = rest;
                Ok(payload)
            }
            _ => Err(self.too_long(len)),
        }
    }

    /// Skips the rest of a group numbered `tag` (its fields, up to its end) as prost
    /// does: `budget` is what is left of the recursion limit, and each field of the group
    /// takes one.
    fn skip_group(&mut self, tag: u32, budget: usize) -> Result<()> {
        if budget == 0 {
            return Err(self.too_deep());
        }
        loop {
            if self.rest.is_empty() {
                return Err(self.error("a group without its end"));
            }
            let (inner, wire_type) = self.key()?;
            if wire_type == 4 {
                if inner != tag {
                    return Err(self.error("the end of another group"));
                }
                return Ok(());
            }
            if budget == 1 {
                return Err(self.too_deep());
            }
            match wire_type {
                0 => {
                    self.varint()?;
                }
                1 => {
                    self.take::<8>()?;
                }
                2 => {
                    self.payload()?;
                }
                3 => self.skip_group(inner, budget - 1)?,
                _ => {
                    self.take::<4>()?;
                }
            }
        }
    }

    // ---- values of known fields, and unknown fields ----

    /// A `string` field's value.
    #[inline(always)]
    fn string(&self, field: &Field<'a>) -> Result<Str<'a>> {
        let bytes = self.bytes(field)?;
        match std::str::from_utf8(bytes) {
            Ok(text) => Ok(Cow::Borrowed(text)),
            Err(_) => Err(self.not_utf8(field)),
        }
    }

    /// A `bytes` field's value.
    #[inline(always)]
    fn bytes(&self, field: &Field<'a>) -> Result<&'a [u8]> {
        match field.wire {
            Wire::Len(bytes) => Ok(bytes),
            _ => Err(self.wrong_wire_type(field, "a length-delimited value")),
        }
    }

    /// A message field's value, which is read one level deeper.
    #[inline(always)]
    fn message(&self, field: &Field<'a>) -> Result<&'a [u8]> {
        match field.wire {
            Wire::Len(payload) if self.depth < RECURSION_LIMIT => Ok(payload),
            Wire::Len(_) => Err(self.too_deep()),
            _ => Err(self.wrong_wire_type(field, "a length-delimited value")),
        }
    }

    /// A varint field's value (`uint64`; `int64`, `uint32`, `int32`, enums and `bool`
    /// are cast from it as prost casts them).
    #[inline(always)]
    fn varint_value(&self, field: &Field<'a>) -> Result<u64> {
        match field.wire {
            Wire::Varint(value) => Ok(value),
            _ => Err(self.wrong_wire_type(field, "a varint")),
        }
    }

    /// A `fixed64` or `double` field's bits.
    #[inline(always)]
    fn fixed64(&self, field: &Field<'a>) -> Result<u64> {
        match field.wire {
            Wire::Fixed64(value) => Ok(value),
            _ => Err(self.wrong_wire_type(field, "a 64-bit value")),
        }
    }

    /// A `fixed32` field's value.
    #[inline(always)]
    fn fixed32(&self, field: &Field<'a>) -> Result<u32> {
        match field.wire {
            Wire::Fixed32(value) => Ok(value),
            _ => Err(self.wrong_wire_type(field, "a 32-bit value")),
        }
    }

    /// An unknown field, already skipped: prost refuses it only beyond its recursion
    /// limit.
    #[inline(always)]
    fn unknown(&self) -> Result<()> {
        if self.depth < RECURSION_LIMIT {
            Ok(())
        } else {
            Err(self.too_deep())
        }
    }

    // ---- errors (where: the byte after the field or value at fault) ----

    #[cold]
    #[inline(never)]
    fn error(&self, what: &str) -> DecodeError {
        let at = self.rest.as_ptr() as usize - self.base;
        DecodeError::Malformed(format!(
            "invalid OTLP protobuf: {what} before byte {at} (in a {} message)",
            self.message
        ))
    }

    #[cold]
    #[inline(never)]
    fn bad_key(&self, key: u64) -> DecodeError {
        self.error(&format!(
            "invalid field key {key} (field {}, wire type {})",
            key >> 3,
            key & 7
        ))
    }

    #[cold]
    #[inline(never)]
    fn too_long(&self, len: u64) -> DecodeError {
        self.error(&format!("a length of {len} bytes past the message's end"))
    }

    #[cold]
    #[inline(never)]
    fn too_deep(&self) -> DecodeError {
        self.error(&format!(
            "messages nested more than {RECURSION_LIMIT} levels deep"
        ))
    }

    #[cold]
    #[inline(never)]
    fn not_utf8(&self, field: &Field<'a>) -> DecodeError {
        self.error(&format!(
            "{}.{} is a string that is not valid UTF-8",
            self.message, field.tag
        ))
    }

    #[cold]
    #[inline(never)]
    fn wrong_wire_type(&self, field: &Field<'a>, expected: &str) -> DecodeError {
        self.error(&format!(
            "{}.{} is {} where {expected} was expected",
            self.message,
            field.tag,
            field.wire.name()
        ))
    }
}

// ---- the OTLP schema ----

/// A signal as this decoder reads it: how an item is decoded.
trait ProtobufSignal<'a>: Signal<'a> {
    /// Decodes (merges) an item's message, at `depth`, into `item`.
    fn item(
        decoder: &mut Decoder<'a>,
        payload: &'a [u8],
        depth: usize,
        item: &mut Self::Item,
    ) -> Result<()>;
}

impl<'a> ProtobufSignal<'a> for Traces {
    fn item(
        decoder: &mut Decoder<'a>,
        payload: &'a [u8],
        depth: usize,
        span: &mut Span<'a>,
    ) -> Result<()> {
        decoder.span(payload, depth, span)
    }
}

impl<'a> ProtobufSignal<'a> for Logs {
    fn item(
        decoder: &mut Decoder<'a>,
        payload: &'a [u8],
        depth: usize,
        record: &mut LogRecord<'a>,
    ) -> Result<()> {
        decoder.log_record(payload, depth, record)
    }
}

/// Decodes a body into the model, charging its lists against a budget.
struct Decoder<'a> {
    body: &'a [u8],
    /// Bytes the decoded request may still take.
    budget: usize,
    max_decoded_bytes: usize,
}

impl<'a> Decoder<'a> {
    fn fields(&self, payload: &'a [u8], depth: usize, message: &'static str) -> Fields<'a> {
        Fields::new(payload, self.body.as_ptr() as usize, depth, message)
    }

    // ---- what both signals share ----

    fn request<S: ProtobufSignal<'a>>(&mut self, request: &mut S::Request) -> Result<()> {
        let payload = self.body;
        let groups = S::resource_groups(request);
        let [count] = self.count(payload, 0, [1]);
        self.reserve(groups, count)?;
        let mut fields = self.fields(payload, 0, S::MESSAGES.request);
        while let Some(field) = fields.next()? {
            match field.tag {
                1 => {
                    let payload = fields.message(&field)?;
                    let group = self.push(groups)?;
                    self.resource_group::<S>(payload, 1, group)?;
                }
                _ => fields.unknown()?,
            }
        }
        Ok(())
    }

    fn resource_group<S: ProtobufSignal<'a>>(
        &mut self,
        payload: &'a [u8],
        depth: usize,
        group: &mut S::ResourceGroup,
    ) -> Result<()> {
        let Group {
            head,
            list,
            schema_url,
        } = S::resource_group(group);
        let [count] = self.count(payload, depth, [2]);
        self.reserve(list, count)?;
        let mut fields = self.fields(payload, depth, S::MESSAGES.resource_group);
        while let Some(field) = fields.next()? {
            match field.tag {
                1 => {
                    let payload = fields.message(&field)?;
                    let resource = head.get_or_insert_with(Resource::default);
                    self.resource(payload, depth + 1, resource)?;
                }
                2 => {
                    let payload = fields.message(&field)?;
                    let scope_group = self.push(list)?;
                    self.scope_group::<S>(payload, depth + 1, scope_group)?;
                }
                3 => *schema_url = fields.string(&field)?,
                _ => fields.unknown()?,
            }
        }
        Ok(())
    }

    fn resource(
        &mut self,
        payload: &'a [u8],
        depth: usize,
        resource: &mut Resource<'a>,
    ) -> Result<()> {
        let [count] = self.count(payload, depth, [1]);
        self.reserve(&mut resource.attributes, count)?;
        let mut fields = self.fields(payload, depth, "Resource");
        while let Some(field) = fields.next()? {
            match field.tag {
                1 => {
                    let payload = fields.message(&field)?;
                    self.attribute(&mut resource.attributes, payload, depth + 1)?;
                }
                2 => resource.dropped_attributes_count = fields.varint_value(&field)? as u32,
                3 => {
                    let payload = fields.message(&field)?;
                    self.entity_ref(payload, depth + 1)?;
                }
                _ => fields.unknown()?,
            }
        }
        Ok(())
    }

    /// Checks an `EntityRef` (which the model does not keep) as prost would decode it.
    fn entity_ref(&mut self, payload: &'a [u8], depth: usize) -> Result<()> {
        let mut fields = self.fields(payload, depth, "EntityRef");
        while let Some(field) = fields.next()? {
            match field.tag {
                // schema_url, type, id_keys (repeated), description_keys (repeated).
                1..=4 => {
                    fields.string(&field)?;
                }
                _ => fields.unknown()?,
            }
        }
        Ok(())
    }

    fn scope_group<S: ProtobufSignal<'a>>(
        &mut self,
        payload: &'a [u8],
        depth: usize,
        group: &mut S::ScopeGroup,
    ) -> Result<()> {
        let Group {
            head,
            list,
            schema_url,
        } = S::scope_group(group);
        let [count] = self.count(payload, depth, [2]);
        self.reserve(list, count)?;
        let mut fields = self.fields(payload, depth, S::MESSAGES.scope_group);
        while let Some(field) = fields.next()? {
            match field.tag {
                1 => {
                    let payload = fields.message(&field)?;
                    let scope = head.get_or_insert_with(Scope::default);
                    self.scope(payload, depth + 1, scope)?;
                }
                2 => {
                    let payload = fields.message(&field)?;
                    let item = self.push(list)?;
                    S::item(self, payload, depth + 1, item)?;
                }
                3 => *schema_url = fields.string(&field)?,
                _ => fields.unknown()?,
            }
        }
        Ok(())
    }

    fn scope(&mut self, payload: &'a [u8], depth: usize, scope: &mut Scope<'a>) -> Result<()> {
        let [count] = self.count(payload, depth, [3]);
        self.reserve(&mut scope.attributes, count)?;
        let mut fields = self.fields(payload, depth, "InstrumentationScope");
        while let Some(field) = fields.next()? {
            match field.tag {
                1 => scope.name = fields.string(&field)?,
                2 => scope.version = fields.string(&field)?,
                3 => {
                    let payload = fields.message(&field)?;
                    self.attribute(&mut scope.attributes, payload, depth + 1)?;
                }
                4 => scope.dropped_attributes_count = fields.varint_value(&field)? as u32,
                _ => fields.unknown()?,
            }
        }
        Ok(())
    }

    // ---- traces ----

    fn span(&mut self, payload: &'a [u8], depth: usize, span: &mut Span<'a>) -> Result<()> {
        let [attributes, events, links] = self.count(payload, depth, [9, 11, 13]);
        self.reserve(&mut span.attributes, attributes)?;
        self.reserve(&mut span.events, events)?;
        self.reserve(&mut span.links, links)?;
        let mut fields = self.fields(payload, depth, "Span");
        while let Some(field) = fields.next()? {
            match field.tag {
                1 => span.trace_id = Id::new(fields.bytes(&field)?),
                2 => span.span_id = Id::new(fields.bytes(&field)?),
                3 => span.trace_state = fields.string(&field)?,
                4 => span.parent_span_id = Id::new(fields.bytes(&field)?),
                5 => span.name = fields.string(&field)?,
                6 => span.kind = fields.varint_value(&field)? as i32,
                7 => span.start_time_unix_nano = fields.fixed64(&field)?,
                8 => span.end_time_unix_nano = fields.fixed64(&field)?,
                9 => {
                    let payload = fields.message(&field)?;
                    self.attribute(&mut span.attributes, payload, depth + 1)?;
                }
                10 => span.dropped_attributes_count = fields.varint_value(&field)? as u32,
                11 => {
                    let payload = fields.message(&field)?;
                    let event = self.push(&mut span.events)?;
                    self.event(payload, depth + 1, event)?;
                }
                12 => span.dropped_events_count = fields.varint_value(&field)? as u32,
                13 => {
                    let payload = fields.message(&field)?;
                    let link = self.push(&mut span.links)?;
                    self.link(payload, depth + 1, link)?;
                }
                14 => span.dropped_links_count = fields.varint_value(&field)? as u32,
                15 => {
                    let payload = fields.message(&field)?;
                    let status = span.status.get_or_insert_with(Status::default);
                    self.status(payload, depth + 1, status)?;
                }
                16 => span.flags = fields.fixed32(&field)?,
                _ => fields.unknown()?,
            }
        }
        Ok(())
    }

    fn event(&mut self, payload: &'a [u8], depth: usize, event: &mut Event<'a>) -> Result<()> {
        let [count] = self.count(payload, depth, [3]);
        self.reserve(&mut event.attributes, count)?;
        let mut fields = self.fields(payload, depth, "Span.Event");
        while let Some(field) = fields.next()? {
            match field.tag {
                1 => event.time_unix_nano = fields.fixed64(&field)?,
                2 => event.name = fields.string(&field)?,
                3 => {
                    let payload = fields.message(&field)?;
                    self.attribute(&mut event.attributes, payload, depth + 1)?;
                }
                4 => event.dropped_attributes_count = fields.varint_value(&field)? as u32,
                _ => fields.unknown()?,
            }
        }
        Ok(())
    }

    fn link(&mut self, payload: &'a [u8], depth: usize, link: &mut Link<'a>) -> Result<()> {
        let [count] = self.count(payload, depth, [4]);
        self.reserve(&mut link.attributes, count)?;
        let mut fields = self.fields(payload, depth, "Span.Link");
        while let Some(field) = fields.next()? {
            match field.tag {
                1 => link.trace_id = Id::new(fields.bytes(&field)?),
                2 => link.span_id = Id::new(fields.bytes(&field)?),
                3 => link.trace_state = fields.string(&field)?,
                4 => {
                    let payload = fields.message(&field)?;
                    self.attribute(&mut link.attributes, payload, depth + 1)?;
                }
                5 => link.dropped_attributes_count = fields.varint_value(&field)? as u32,
                6 => link.flags = fields.fixed32(&field)?,
                _ => fields.unknown()?,
            }
        }
        Ok(())
    }

    fn status(&mut self, payload: &'a [u8], depth: usize, status: &mut Status<'a>) -> Result<()> {
        let mut fields = self.fields(payload, depth, "Status");
        while let Some(field) = fields.next()? {
            match field.tag {
                2 => status.message = fields.string(&field)?,
                3 => status.code = fields.varint_value(&field)? as i32,
                _ => fields.unknown()?,
            }
        }
        Ok(())
    }

    // ---- logs ----

    fn log_record(
        &mut self,
        payload: &'a [u8],
        depth: usize,
        record: &mut LogRecord<'a>,
    ) -> Result<()> {
        let [count] = self.count(payload, depth, [6]);
        self.reserve(&mut record.attributes, count)?;
        // Whether the body holds a value nested too deep: as an attribute's value, an
        // error only if still there at the end (a later body merged in may replace it).
        let mut body_too_deep = false;
        let mut fields = self.fields(payload, depth, "LogRecord");
        while let Some(field) = fields.next()? {
            match field.tag {
                1 => record.time_unix_nano = fields.fixed64(&field)?,
                2 => record.severity_number = fields.varint_value(&field)? as i32,
                3 => record.severity_text = fields.string(&field)?,
                5 => {
                    let payload = fields.message(&field)?;
                    let body = record.body.get_or_insert_with(AnyValue::default);
                    self.any_value(payload, depth + 1, 0, body, &mut body_too_deep)?;
                }
                6 => {
                    let payload = fields.message(&field)?;
                    self.attribute(&mut record.attributes, payload, depth + 1)?;
                }
                7 => record.dropped_attributes_count = fields.varint_value(&field)? as u32,
                8 => record.flags = fields.fixed32(&field)?,
                9 => record.trace_id = Id::new(fields.bytes(&field)?),
                10 => record.span_id = Id::new(fields.bytes(&field)?),
                11 => record.observed_time_unix_nano = fields.fixed64(&field)?,
                12 => record.event_name = fields.string(&field)?,
                _ => fields.unknown()?,
            }
        }
        if body_too_deep {
            return Err(DecodeError::too_deep());
        }
        Ok(())
    }

    // ---- attributes and values: what both signals share ----

    /// Appends an attribute (a `KeyValue` at `depth`) to `attributes`; refuses it if its
    /// value is nested too deep.
    fn attribute(
        &mut self,
        attributes: &mut Vec<KeyValue<'a>>,
        payload: &'a [u8],
        depth: usize,
    ) -> Result<()> {
        let kv = self.push(attributes)?;
        if self.key_value(payload, depth, 0, kv)? {
            return Err(DecodeError::too_deep());
        }
        Ok(())
    }

    // Attribute values: each function returns (or `any_value` updates) whether what it
    // decoded holds an `arrayValue` or `kvlistValue` nested deeper than MAX_VALUE_DEPTH.
    // That is an error only if it is still there at the end: a later value of an
    // `AnyValue` replaces it, as it does in prost's message. `value_depth` counts
    // attribute value levels (0: an attribute's value), `depth` messages.

    /// A `KeyValue` whose value is `value_depth` levels deep.
    fn key_value(
        &mut self,
        payload: &'a [u8],
        depth: usize,
        value_depth: usize,
        kv: &mut KeyValue<'a>,
    ) -> Result<bool> {
        let mut too_deep = false;
        let mut fields = self.fields(payload, depth, "KeyValue");
        while let Some(field) = fields.next()? {
            match field.tag {
                1 => kv.key = fields.string(&field)?,
                2 => {
                    let payload = fields.message(&field)?;
                    let value = kv.value.get_or_insert_with(AnyValue::default);
                    self.any_value(payload, depth + 1, value_depth, value, &mut too_deep)?;
                }
                // key_strindex (profiles only).
                3 => {
                    fields.varint_value(&field)?;
                }
                _ => fields.unknown()?,
            }
        }
        Ok(too_deep)
    }

    /// Merges an `AnyValue` `value_depth` levels deep into `any`; `too_deep` is whether
    /// `any` holds a value nested too deep, before and after.
    fn any_value(
        &mut self,
        payload: &'a [u8],
        depth: usize,
        value_depth: usize,
        any: &mut AnyValue<'a>,
        too_deep: &mut bool,
    ) -> Result<()> {
        let mut fields = self.fields(payload, depth, "AnyValue");
        while let Some(field) = fields.next()? {
            let value = match field.tag {
                1 => Value::String(fields.string(&field)?),
                2 => Value::Bool(fields.varint_value(&field)? != 0),
                3 => Value::Int(fields.varint_value(&field)? as i64),
                4 => Value::Double(f64::from_bits(fields.fixed64(&field)?)),
                5 => {
                    let payload = fields.message(&field)?;
                    // Another arrayValue merges into this one.
                    let mut values = match any.value.take() {
                        Some(Value::Array(values)) => values,
                        _ => {
                            *too_deep = false;
                            Vec::new()
                        }
                    };
                    let deeper =
                        self.array_value(payload, depth + 1, value_depth + 1, &mut values)?;
                    *too_deep |= deeper || value_depth >= MAX_VALUE_DEPTH;
                    any.value = Some(Value::Array(values));
                    continue;
                }
                6 => {
                    let payload = fields.message(&field)?;
                    let mut values = match any.value.take() {
                        Some(Value::Kvlist(values)) => values,
                        _ => {
                            *too_deep = false;
                            Vec::new()
                        }
                    };
                    let deeper =
                        self.key_value_list(payload, depth + 1, value_depth + 1, &mut values)?;
                    *too_deep |= deeper || value_depth >= MAX_VALUE_DEPTH;
                    any.value = Some(Value::Kvlist(values));
                    continue;
                }
                7 => Value::Bytes(Cow::Borrowed(fields.bytes(&field)?)),
                // string_value_strindex (profiles only): an empty value here.
                8 => {
                    fields.varint_value(&field)?;
                    any.value = None;
                    *too_deep = false;
                    continue;
                }
                _ => {
                    fields.unknown()?;
                    continue;
                }
            };
            any.value = Some(value);
            *too_deep = false;
        }
        Ok(())
    }

    /// The values of an `ArrayValue`, `value_depth` levels deep, appended to `values`.
    fn array_value(
        &mut self,
        payload: &'a [u8],
        depth: usize,
        value_depth: usize,
        values: &mut Vec<AnyValue<'a>>,
    ) -> Result<bool> {
        let [count] = self.count(payload, depth, [1]);
        self.reserve(values, count)?;
        let mut too_deep = false;
        let mut fields = self.fields(payload, depth, "ArrayValue");
        while let Some(field) = fields.next()? {
            match field.tag {
                1 => {
                    let payload = fields.message(&field)?;
                    let value = self.push(values)?;
                    let mut deeper = false;
                    self.any_value(payload, depth + 1, value_depth, value, &mut deeper)?;
                    too_deep |= deeper;
                }
                _ => fields.unknown()?,
            }
        }
        Ok(too_deep)
    }

    /// The pairs of a `KeyValueList`, their values `value_depth` levels deep, appended
    /// to `values`.
    fn key_value_list(
        &mut self,
        payload: &'a [u8],
        depth: usize,
        value_depth: usize,
        values: &mut Vec<KeyValue<'a>>,
    ) -> Result<bool> {
        let [count] = self.count(payload, depth, [1]);
        self.reserve(values, count)?;
        let mut too_deep = false;
        let mut fields = self.fields(payload, depth, "KeyValueList");
        while let Some(field) = fields.next()? {
            match field.tag {
                1 => {
                    let payload = fields.message(&field)?;
                    let kv = self.push(values)?;
                    too_deep |= self.key_value(payload, depth + 1, value_depth, kv)?;
                }
                _ => fields.unknown()?,
            }
        }
        Ok(too_deep)
    }

    // ---- memory ----

    /// How many length-delimited fields of each number in `tags` the message holds, as
    /// far as it is well-formed (decoding it then fails where it is not).
    fn count<const N: usize>(&self, payload: &'a [u8], depth: usize, tags: [u32; N]) -> [usize; N] {
        let mut counts = [0; N];
        let mut fields = self.fields(payload, depth, "");
        while let Ok(Some(field)) = fields.next() {
            if let Wire::Len(_) = field.wire {
                for (count, tag) in counts.iter_mut().zip(tags) {
                    if field.tag == tag {
                        *count += 1;
                    }
                }
            }
        }
        counts
    }

    /// Makes room in `list` for `additional` more items, charging the memory first:
    /// exactly that much room for a new list; a list that grows again (a merged message,
    /// or a count the decoding exceeds) at least doubles, so that growing stays linear.
    fn reserve<T>(&mut self, list: &mut Vec<T>, additional: usize) -> Result<()> {
        let needed = list.len().saturating_add(additional);
        let capacity = list.capacity();
        if needed > capacity {
            let new_capacity = if capacity == 0 {
                needed
            } else {
                needed.max(capacity.saturating_mul(2))
            };
            self.charge((new_capacity - capacity).saturating_mul(size_of::<T>()))?;
            list.reserve_exact(new_capacity - list.len());
        }
        Ok(())
    }

    /// Appends an empty item to `list` and returns it to be decoded into.
    #[inline]
    fn push<'l, T: Default>(&mut self, list: &'l mut Vec<T>) -> Result<&'l mut T> {
        if list.len() == list.capacity() {
            self.reserve(list, 1)?;
        }
        let index = list.len();
        list.push(T::default());
        Ok(&mut list[index])
    }

    /// Takes `bytes` from the budget of decoded memory.
    fn charge(&mut self, bytes: usize) -> Result<()> {
        match self.budget.checked_sub(bytes) {
            Some(left) => {
                self.budget = left;
                Ok(())
            }
            None => Err(DecodeError::TooComplex(self.max_decoded_bytes)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{ResourceSpans, ScopeSpans};
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
    use opentelemetry_proto::tonic::common::v1 as common;
    use opentelemetry_proto::tonic::logs::v1 as logs;
    use opentelemetry_proto::tonic::trace::v1 as trace;
    use prost::Message;

    fn limits(max_spans: usize, max_decoded_bytes: usize) -> Limits {
        Limits {
            max_spans,
            max_decoded_bytes,
        }
    }

    fn request(spans: usize) -> ExportTraceServiceRequest {
        ExportTraceServiceRequest {
            resource_spans: vec![trace::ResourceSpans {
                scope_spans: vec![trace::ScopeSpans {
                    spans: vec![
                        trace::Span {
                            trace_id: vec![1; 16],
                            span_id: vec![2; 8],
                            name: "GET /".into(),
                            ..trace::Span::default()
                        };
                        spans
                    ],
                    ..trace::ScopeSpans::default()
                }],
                ..trace::ResourceSpans::default()
            }],
        }
    }

    /// A length-delimited field.
    fn len_field(tag: u32, payload: &[u8]) -> Vec<u8> {
        let mut out = Vec::new();
        prost::encoding::encode_key(tag, prost::encoding::WireType::LengthDelimited, &mut out);
        prost::encoding::encode_varint(payload.len() as u64, &mut out);
        out.extend_from_slice(payload);
        out
    }

    /// A request of one span whose fields are `span`.
    fn with_span(span: &[u8]) -> Vec<u8> {
        len_field(1, &len_field(2, &len_field(2, span)))
    }

    fn malformed(bytes: &[u8]) -> String {
        match decode(bytes, &limits(10, 1 << 20)) {
            Err(DecodeError::Malformed(message)) => message,
            other => panic!("expected a malformed error, got {other:?}"),
        }
    }

    #[test]
    fn round_trip_and_span_count() {
        let bytes = request(5).encode_to_vec();
        assert_eq!(count_items(&bytes, &Traces::MESSAGES), Ok(5));
        assert_eq!(
            decode(&bytes, &limits(5, 1 << 20)).unwrap().to_proto(),
            request(5)
        );
        assert_eq!(
            decode(&bytes, &limits(4, 1 << 20)),
            Err(DecodeError::TooManySpans(4))
        );
        assert!(
            decode(&[], &limits(4, 1 << 20))
                .unwrap()
                .resource_spans
                .is_empty()
        );
    }

    #[test]
    fn strings_and_bytes_are_borrowed() {
        let mut span = len_field(5, b"GET /");
        span.extend(len_field(1, &[7; 16]));
        let kv = [len_field(1, b"k"), len_field(2, &len_field(7, b"raw"))].concat();
        span.extend(len_field(9, &kv));
        let body = with_span(&span);
        let request = decode(&body, &limits(1, 1 << 20)).unwrap();
        let span = &request.resource_spans[0].scope_spans[0].spans[0];
        assert!(matches!(span.name, Cow::Borrowed("GET /")));
        assert_eq!(span.trace_id, Id::new(&[7; 16]));
        let kv = &span.attributes[0];
        assert!(matches!(kv.key, Cow::Borrowed("k")));
        assert!(matches!(
            kv.value,
            Some(AnyValue {
                value: Some(Value::Bytes(Cow::Borrowed(b"raw")))
            })
        ));
    }

    #[test]
    fn empty_spans_are_counted_before_decoding() {
        // 100,000 empty spans: 2 bytes each on the wire.
        let spans = [0x12, 0x00].repeat(100_000);
        let bytes = len_field(1, &len_field(2, &spans));
        assert_eq!(count_items(&bytes, &Traces::MESSAGES), Ok(100_000));
        assert_eq!(
            decode(&bytes, &limits(10_000, 1 << 30)),
            Err(DecodeError::TooManySpans(10_000))
        );
        assert_eq!(
            decode(&bytes, &limits(100_000, 1 << 30)).map(|_| ()),
            Ok(())
        );
    }

    #[test]
    fn bodies_of_many_tiny_messages_are_refused_before_decoding() {
        // 200,000 empty links in one span: 2 bytes each on the wire, 100 or more in memory.
        let mut span = len_field(1, &[1; 16]);
        span.extend([0x6a, 0x00].repeat(200_000));
        let bytes = with_span(&span);
        let for_body = Limits::for_body(crate::Format::Protobuf, bytes.len(), 10);
        assert!(for_body.max_decoded_bytes < 200_000 * size_of::<Link>());
        assert_eq!(
            decode(&bytes, &for_body),
            Err(DecodeError::TooComplex(for_body.max_decoded_bytes))
        );
        // With room for exactly its lists, the same body decodes; a byte less, it does not.
        let lists = size_of::<ResourceSpans>()
            + size_of::<ScopeSpans>()
            + size_of::<Span>()
            + 200_000 * size_of::<Link>();
        let request = decode(&bytes, &limits(10, lists)).unwrap();
        assert_eq!(
            request.resource_spans[0].scope_spans[0].spans[0]
                .links
                .len(),
            200_000
        );
        assert_eq!(
            decode(&bytes, &limits(10, lists - 1)),
            Err(DecodeError::TooComplex(lists - 1))
        );
    }

    #[test]
    fn ordinary_spans_fit_the_default_ratio() {
        // Spans with many short boolean attributes: the densest ordinary protobuf.
        let mut request = request(50);
        for span in &mut request.resource_spans[0].scope_spans[0].spans {
            span.attributes = (0..20)
                .map(|i| common::KeyValue {
                    key: format!("k{i}"),
                    value: Some(common::AnyValue {
                        value: Some(common::any_value::Value::BoolValue(true)),
                    }),
                    ..common::KeyValue::default()
                })
                .collect();
        }
        let bytes = request.encode_to_vec();
        assert!(
            decode(
                &bytes,
                &Limits::for_body(crate::Format::Protobuf, bytes.len(), 100)
            )
            .is_ok()
        );
    }

    #[test]
    fn malformed_bodies_are_reported() {
        let message = malformed(b"{\"json\":1}");
        assert!(message.starts_with("invalid OTLP protobuf"), "{message}");
        assert!(count_items(&[0x0a, 0x05, 0x12], &Traces::MESSAGES).is_err());
        // A span name that is not UTF-8, a name that is a varint, a truncated timestamp.
        let message = malformed(&with_span(&len_field(5, b"\xff")));
        assert!(
            message.contains("Span.5") && message.contains("UTF-8"),
            "{message}"
        );
        let message = malformed(&with_span(&[0x28, 0x01]));
        assert!(message.contains("a varint where"), "{message}");
        let message = malformed(&with_span(&[0x39, 1, 2, 3]));
        assert!(message.contains("truncated"), "{message}");
    }

    #[test]
    fn deep_values_are_refused_unless_replaced() {
        // An attribute whose value is `depth` arrays deep, then `then` (more AnyValue
        // fields, merged into the outermost value).
        let nest = |depth: usize, then: &[u8]| {
            let mut value = vec![0x18, 0x01]; // intValue 1
            for _ in 0..depth {
                value = len_field(5, &len_field(1, &value));
            }
            value.extend_from_slice(then);
            let kv = [len_field(1, b"k"), len_field(2, &value)].concat();
            with_span(&len_field(9, &kv))
        };
        let ok = |bytes: &[u8]| decode(bytes, &limits(1, 1 << 20)).map(|_| ());
        assert_eq!(ok(&nest(MAX_VALUE_DEPTH, &[])), Ok(()));
        assert_eq!(
            ok(&nest(MAX_VALUE_DEPTH + 1, &[])),
            Err(DecodeError::too_deep())
        );
        // Replaced by a later value (a string), the deep array is gone: accepted, as
        // prost's message viewed as the model is.
        let replaced = nest(MAX_VALUE_DEPTH + 1, &len_field(1, b"x"));
        let request = decode(&replaced, &limits(1, 1 << 20)).unwrap();
        let value = &request.resource_spans[0].scope_spans[0].spans[0].attributes[0].value;
        assert_eq!(
            value.as_ref().unwrap().value,
            Some(Value::String(Cow::Borrowed("x")))
        );
        // Merged with another array, it is still there.
        let merged = nest(MAX_VALUE_DEPTH + 1, &len_field(5, &[]));
        assert_eq!(ok(&merged), Err(DecodeError::too_deep()));
        // Beyond prost's recursion limit (100 messages), even a replaced value is refused.
        let message = malformed(&nest(60, &len_field(1, b"x")));
        assert!(message.contains("nested more than 100"), "{message}");
    }

    #[test]
    fn merges_as_prost_does() {
        // A status in two parts, and a second span name: the last name, both parts.
        let mut span = len_field(5, b"first");
        span.extend(len_field(15, &len_field(2, b"failed")));
        span.extend(len_field(5, b"second"));
        span.extend(len_field(15, &[0x18, 0x02]));
        let body = with_span(&span);
        let request = decode(&body, &limits(1, 1 << 20)).unwrap();
        let span = &request.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.name, "second");
        assert_eq!(
            span.status,
            Some(Status {
                message: Cow::Borrowed("failed"),
                code: 2
            })
        );
        // Two arrayValues in one AnyValue: one array of both values.
        let one = len_field(5, &len_field(1, &[0x18, 0x01]));
        let two = len_field(5, &len_field(1, &[0x10, 0x05]));
        let kv = [len_field(1, b"k"), len_field(2, &[one, two].concat())].concat();
        let body = with_span(&len_field(9, &kv));
        let request = decode(&body, &limits(1, 1 << 20)).unwrap();
        let value = &request.resource_spans[0].scope_spans[0].spans[0].attributes[0].value;
        assert_eq!(
            value.as_ref().unwrap().value,
            Some(Value::Array(vec![
                AnyValue {
                    value: Some(Value::Int(1))
                },
                AnyValue {
                    value: Some(Value::Bool(true))
                }
            ]))
        );
    }

    #[test]
    fn unknown_fields_and_groups_are_skipped() {
        // Field 20 as a varint, a fixed64, a fixed32, bytes and a group holding a field
        // and a nested group; then the span's name.
        let mut span = vec![0xa0, 0x01, 0x05];
        span.extend([0xa1, 0x01, 1, 2, 3, 4, 5, 6, 7, 8]);
        span.extend([0xa5, 0x01, 1, 2, 3, 4]);
        span.extend([0xa2, 0x01, 0x02, 0xff, 0xff]);
        span.extend([0xa3, 0x01, 0x08, 0x01, 0x1b, 0x1c, 0xa4, 0x01]);
        span.extend(len_field(5, b"after"));
        let body = with_span(&span);
        let request = decode(&body, &limits(1, 1 << 20)).unwrap();
        assert_eq!(
            request.resource_spans[0].scope_spans[0].spans[0].name,
            "after"
        );
        // A group ended by another group's end, an end without a start.
        assert!(malformed(&with_span(&[0xa3, 0x01, 0xac, 0x01])).contains("another group"));
        assert!(malformed(&with_span(&[0xa4, 0x01])).contains("end of group"));
    }

    #[test]
    fn scalars_as_prost_casts_them() {
        // kind: a varint over 32 bits keeps its low 32; flags and times little-endian.
        let mut span = vec![0x30];
        prost::encoding::encode_varint(u64::MAX, &mut span);
        span.extend([0x85, 0x01, 0x01, 0x01, 0, 0]);
        span.extend([0x39, 8, 7, 6, 5, 4, 3, 2, 1]);
        let kv = [len_field(1, b"k"), len_field(2, &[0x10, 0x02])].concat();
        span.extend(len_field(9, &kv));
        let body = with_span(&span);
        let request = decode(&body, &limits(1, 1 << 20)).unwrap();
        let span = &request.resource_spans[0].scope_spans[0].spans[0];
        assert_eq!(span.kind, -1);
        assert_eq!(span.flags, 0x101);
        assert_eq!(span.start_time_unix_nano, 0x0102030405060708);
        assert_eq!(
            span.attributes[0].value.as_ref().unwrap().value,
            Some(Value::Bool(true))
        );
        // A varint's 10th byte may hold only the 64th bit.
        let mut over = vec![0x30];
        over.extend([0xff; 9]);
        over.push(0x02);
        assert!(malformed(&with_span(&over)).contains("64 bits"));
    }

    /// A logs request of one record whose fields are `record`.
    fn with_record(record: &[u8]) -> Vec<u8> {
        len_field(1, &len_field(2, &len_field(2, record)))
    }

    fn logs_request(records: usize) -> ExportLogsServiceRequest {
        ExportLogsServiceRequest {
            resource_logs: vec![logs::ResourceLogs {
                scope_logs: vec![logs::ScopeLogs {
                    log_records: vec![
                        logs::LogRecord {
                            time_unix_nano: 1,
                            observed_time_unix_nano: 2,
                            severity_number: 9,
                            body: Some(common::AnyValue {
                                value: Some(common::any_value::Value::StringValue("hi".into())),
                            }),
                            trace_id: vec![1; 16],
                            span_id: vec![2; 8],
                            event_name: "e".into(),
                            ..logs::LogRecord::default()
                        };
                        records
                    ],
                    ..logs::ScopeLogs::default()
                }],
                ..logs::ResourceLogs::default()
            }],
        }
    }

    #[test]
    fn log_records_round_trip_and_are_counted_first() {
        let bytes = logs_request(5).encode_to_vec();
        assert_eq!(count_items(&bytes, &Logs::MESSAGES), Ok(5));
        let request = decode_logs(&bytes, &limits(5, 1 << 20)).unwrap();
        assert_eq!(request.to_proto(), logs_request(5));
        let record = &request.resource_logs[0].scope_logs[0].log_records[0];
        assert!(matches!(record.event_name, Cow::Borrowed("e")));
        assert_eq!(
            decode_logs(&bytes, &limits(4, 1 << 20)),
            Err(DecodeError::TooManyLogRecords(4))
        );
        // 100,000 empty records: 2 bytes each on the wire.
        let records = [0x12, 0x00].repeat(100_000);
        let bytes = len_field(1, &len_field(2, &records));
        assert_eq!(
            decode_logs(&bytes, &limits(10_000, 1 << 30)),
            Err(DecodeError::TooManyLogRecords(10_000))
        );
        // The messages' names in errors are the logs ones.
        let message = match decode_logs(&with_record(&len_field(12, b"\xff")), &limits(1, 1 << 20))
        {
            Err(DecodeError::Malformed(message)) => message,
            other => panic!("expected a malformed error, got {other:?}"),
        };
        assert!(message.contains("LogRecord.12"), "{message}");
    }

    #[test]
    fn log_bodies_merge_and_are_refused_too_deep_unless_replaced() {
        // A body `depth` arrays deep, then `then` (more AnyValue fields), then `after`
        // (more fields of the record).
        let nest = |depth: usize, then: &[u8], after: &[u8]| {
            let mut value = vec![0x18, 0x01]; // intValue 1
            for _ in 0..depth {
                value = len_field(5, &len_field(1, &value));
            }
            value.extend_from_slice(then);
            with_record(&[len_field(5, &value), after.to_vec()].concat())
        };
        let ok = |bytes: &[u8]| decode_logs(bytes, &limits(1, 1 << 20)).map(|_| ());
        assert_eq!(ok(&nest(MAX_VALUE_DEPTH, &[], &[])), Ok(()));
        assert_eq!(
            ok(&nest(MAX_VALUE_DEPTH + 1, &[], &[])),
            Err(DecodeError::too_deep())
        );
        // Replaced by a later value in the same body message, or by a second body
        // message (merged into the first, as prost merges an optional message).
        let string = len_field(1, b"x");
        for bytes in [
            nest(MAX_VALUE_DEPTH + 1, &string, &[]),
            nest(MAX_VALUE_DEPTH + 1, &[], &len_field(5, &string)),
        ] {
            let request = decode_logs(&bytes, &limits(1, 1 << 20)).unwrap();
            let record = &request.resource_logs[0].scope_logs[0].log_records[0];
            assert_eq!(
                record.body.as_ref().unwrap().value,
                Some(Value::String(Cow::Borrowed("x")))
            );
        }
    }
}
