//! Stored encodings back to OTLP messages: spans and log records, each kept with the
//! encodings of its resource and scope (childless `ResourceSpans`/`ScopeSpans`, whose
//! fields and tags `ResourceLogs`/`ScopeLogs` share), grouped again by resource and scope.

use std::collections::HashMap;
use std::collections::hash_map::Entry;

use opentelemetry_proto::tonic::logs::v1::{LogRecord, LogsData, ResourceLogs, ScopeLogs};
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, TracesData};
use prost::Message;

/// An OTLP data message: items in scopes in resources.
pub trait Layout: Default {
    /// `ResourceSpans` or `ResourceLogs`.
    type Resource: Message + Default;
    /// `ScopeSpans` or `ScopeLogs`.
    type Scope: Message + Default;
    /// `Span` or `LogRecord`.
    type Item: Message + Default;
    /// The resources.
    fn resources(&mut self) -> &mut Vec<Self::Resource>;
    /// A resource's scopes.
    fn scopes(resource: &mut Self::Resource) -> &mut Vec<Self::Scope>;
    /// A scope's items.
    fn items(scope: &mut Self::Scope) -> &mut Vec<Self::Item>;
}

impl Layout for TracesData {
    type Resource = ResourceSpans;
    type Scope = ScopeSpans;
    type Item = Span;
    fn resources(&mut self) -> &mut Vec<ResourceSpans> {
        &mut self.resource_spans
    }
    fn scopes(resource: &mut ResourceSpans) -> &mut Vec<ScopeSpans> {
        &mut resource.scope_spans
    }
    fn items(scope: &mut ScopeSpans) -> &mut Vec<Span> {
        &mut scope.spans
    }
}

impl Layout for LogsData {
    type Resource = ResourceLogs;
    type Scope = ScopeLogs;
    type Item = LogRecord;
    fn resources(&mut self) -> &mut Vec<ResourceLogs> {
        &mut self.resource_logs
    }
    fn scopes(resource: &mut ResourceLogs) -> &mut Vec<ScopeLogs> {
        &mut resource.scope_logs
    }
    fn items(scope: &mut ScopeLogs) -> &mut Vec<LogRecord> {
        &mut scope.log_records
    }
}

/// Encoded items with their resources and scopes, each distinct resource or scope
/// encoding kept once.
#[derive(Debug, Default)]
pub struct Encoded {
    parts: Vec<Vec<u8>>,
    part_index: HashMap<Vec<u8>, usize>,
}

/// One item: its resource and scope (numbers from [`Encoded::part`]) and its encoding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncodedItem {
    /// The resource's number.
    pub resource: usize,
    /// The scope's number.
    pub scope: usize,
    /// The item's protobuf encoding.
    pub body: Vec<u8>,
}

impl Encoded {
    /// The number of a resource or scope encoding (the same for equal encodings).
    pub fn part(&mut self, body: &[u8]) -> usize {
        if let Some(&index) = self.part_index.get(body) {
            return index;
        }
        self.parts.push(body.to_vec());
        self.part_index.insert(body.to_vec(), self.parts.len() - 1);
        self.parts.len() - 1
    }

    /// The items as an OTLP message, grouped by resource then scope in order of first
    /// appearance, items in the order given.
    pub fn build<'a, L: Layout>(
        &self,
        items: impl IntoIterator<Item = &'a EncodedItem>,
    ) -> anyhow::Result<L> {
        let mut data = L::default();
        // resource part -> (index in data, scope part -> index in its scopes)
        let mut places: HashMap<usize, (usize, HashMap<usize, usize>)> = HashMap::new();
        for item in items {
            let (resource_index, scopes) = match places.entry(item.resource) {
                Entry::Occupied(entry) => entry.into_mut(),
                Entry::Vacant(entry) => {
                    let resources = data.resources();
                    resources.push(L::Resource::decode(&self.parts[item.resource][..])?);
                    entry.insert((resources.len() - 1, HashMap::new()))
                }
            };
            let resource = &mut data.resources()[*resource_index];
            let scope_index = match scopes.entry(item.scope) {
                Entry::Occupied(entry) => *entry.get(),
                Entry::Vacant(entry) => {
                    let list = L::scopes(resource);
                    list.push(L::Scope::decode(&self.parts[item.scope][..])?);
                    *entry.insert(list.len() - 1)
                }
            };
            L::items(&mut L::scopes(resource)[scope_index]).push(L::Item::decode(&item.body[..])?);
        }
        Ok(data)
    }
}
