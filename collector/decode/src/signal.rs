//! What OTLP's trace and logs requests share, so that each decoder reads both with one
//! piece of code: a request is a list of resource groups (`ResourceSpans`,
//! `ResourceLogs`), each a resource, a list of scope groups and a schema URL; a scope
//! group (`ScopeSpans`, `ScopeLogs`) is a scope, a list of items (spans, log records) and
//! a schema URL. The two signals give these fields the same protobuf tags (the resource
//! or scope 1, the list 2, the schema URL 3), and the same JSON keys but for the lists';
//! they differ otherwise only in their names and their items.

use crate::DecodeError;
use crate::model::{
    LogRecord, LogsRequest, Request, Resource, ResourceLogs, ResourceSpans, Scope, ScopeLogs,
    ScopeSpans, Span, Str,
};

/// One name for each level of a request.
pub(crate) struct Levels {
    /// For the request.
    pub(crate) request: &'static str,
    /// For a resource group.
    pub(crate) resource_group: &'static str,
    /// For a scope group.
    pub(crate) scope_group: &'static str,
}

/// The fields of a resource or scope group, borrowed to be decoded into.
pub(crate) struct Group<'g, 'a, Head, Item> {
    /// The resource or scope.
    pub(crate) head: &'g mut Option<Head>,
    /// The scope groups or items.
    pub(crate) list: &'g mut Vec<Item>,
    /// The schema URL.
    pub(crate) schema_url: &'g mut Str<'a>,
}

/// A signal's request, whose strings live for `'a`: its types and names, and the way to
/// its groups' fields.
pub(crate) trait Signal<'a> {
    /// `ExportTraceServiceRequest`, `ExportLogsServiceRequest`.
    type Request: Default;
    /// `ResourceSpans`, `ResourceLogs`.
    type ResourceGroup: Default;
    /// `ScopeSpans`, `ScopeLogs`.
    type ScopeGroup: Default;
    /// A span, a log record.
    type Item: Default;
    /// The protobuf names of the messages of each level (for errors).
    const MESSAGES: Levels;
    /// The OTLP JSON key of the list each level holds (`resourceSpans`, `scopeSpans`,
    /// `spans`).
    const JSON_LISTS: Levels;
    /// The error for a request of more than `limit` items.
    fn too_many(limit: usize) -> DecodeError;
    /// The request's resource groups.
    fn resource_groups(request: &mut Self::Request) -> &mut Vec<Self::ResourceGroup>;
    /// A resource group's fields.
    fn resource_group(
        group: &mut Self::ResourceGroup,
    ) -> Group<'_, 'a, Resource<'a>, Self::ScopeGroup>;
    /// A scope group's fields.
    fn scope_group(group: &mut Self::ScopeGroup) -> Group<'_, 'a, Scope<'a>, Self::Item>;
}

/// Traces: `ExportTraceServiceRequest`, items [`Span`].
pub(crate) struct Traces;

impl<'a> Signal<'a> for Traces {
    type Request = Request<'a>;
    type ResourceGroup = ResourceSpans<'a>;
    type ScopeGroup = ScopeSpans<'a>;
    type Item = Span<'a>;
    const MESSAGES: Levels = Levels {
        request: "ExportTraceServiceRequest",
        resource_group: "ResourceSpans",
        scope_group: "ScopeSpans",
    };
    const JSON_LISTS: Levels = Levels {
        request: "resourceSpans",
        resource_group: "scopeSpans",
        scope_group: "spans",
    };

    fn too_many(limit: usize) -> DecodeError {
        DecodeError::TooManySpans(limit)
    }

    fn resource_groups(request: &mut Self::Request) -> &mut Vec<Self::ResourceGroup> {
        &mut request.resource_spans
    }

    fn resource_group(
        group: &mut Self::ResourceGroup,
    ) -> Group<'_, 'a, Resource<'a>, Self::ScopeGroup> {
        Group {
            head: &mut group.resource,
            list: &mut group.scope_spans,
            schema_url: &mut group.schema_url,
        }
    }

    fn scope_group(group: &mut Self::ScopeGroup) -> Group<'_, 'a, Scope<'a>, Self::Item> {
        Group {
            head: &mut group.scope,
            list: &mut group.spans,
            schema_url: &mut group.schema_url,
        }
    }
}

/// Logs: `ExportLogsServiceRequest`, items [`LogRecord`].
pub(crate) struct Logs;

impl<'a> Signal<'a> for Logs {
    type Request = LogsRequest<'a>;
    type ResourceGroup = ResourceLogs<'a>;
    type ScopeGroup = ScopeLogs<'a>;
    type Item = LogRecord<'a>;
    const MESSAGES: Levels = Levels {
        request: "ExportLogsServiceRequest",
        resource_group: "ResourceLogs",
        scope_group: "ScopeLogs",
    };
    const JSON_LISTS: Levels = Levels {
        request: "resourceLogs",
        resource_group: "scopeLogs",
        scope_group: "logRecords",
    };

    fn too_many(limit: usize) -> DecodeError {
        DecodeError::TooManyLogRecords(limit)
    }

    fn resource_groups(request: &mut Self::Request) -> &mut Vec<Self::ResourceGroup> {
        &mut request.resource_logs
    }

    fn resource_group(
        group: &mut Self::ResourceGroup,
    ) -> Group<'_, 'a, Resource<'a>, Self::ScopeGroup> {
        Group {
            head: &mut group.resource,
            list: &mut group.scope_logs,
            schema_url: &mut group.schema_url,
        }
    }

    fn scope_group(group: &mut Self::ScopeGroup) -> Group<'_, 'a, Scope<'a>, Self::Item> {
        Group {
            head: &mut group.scope,
            list: &mut group.log_records,
            schema_url: &mut group.schema_url,
        }
    }
}
