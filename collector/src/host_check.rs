//! Which `Host` names the collector answers to: a defence against DNS rebinding, where a
//! web page on any site points its own host name at 127.0.0.1 and then reads and writes
//! the developer's traces as a same-origin page (CORS does not apply to it). By default
//! only loopback names and the `--listen` address are served; `--allowed-hosts` adds
//! names, `*` turns the check off. Other names get 421 Misdirected Request.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

/// Names served whatever the settings: the loopback ones.
pub const LOOPBACK_HOSTS: [&str; 3] = ["localhost", "127.0.0.1", "[::1]"];

/// The host names one collector answers to.
#[derive(Debug, Clone)]
pub struct AllowedHosts {
    /// Lowercase names without ports (IPv6 in brackets); empty when any name is allowed.
    names: Vec<String>,
}

impl AllowedHosts {
    /// Loopback, the listen address and `extra` (`*` among them: any name).
    pub fn new(listen: SocketAddr, extra: &[String]) -> Self {
        if extra.iter().any(|name| name.trim() == "*") {
            return Self { names: Vec::new() };
        }
        let listen = match listen {
            SocketAddr::V4(v4) => v4.ip().to_string(),
            SocketAddr::V6(v6) => format!("[{}]", v6.ip()),
        };
        let mut names: Vec<String> = LOOPBACK_HOSTS.iter().map(|s| s.to_string()).collect();
        names.push(listen);
        names.extend(
            extra
                .iter()
                .map(|name| name.trim().to_ascii_lowercase())
                .filter(|n| !n.is_empty()),
        );
        Self { names }
    }

    /// Whether a `Host` header value (`name[:port]`) names this collector.
    pub fn allows(&self, host: &str) -> bool {
        if self.names.is_empty() {
            return true;
        }
        let name = host_name(host).to_ascii_lowercase();
        self.names.contains(&name)
    }
}

/// The name part of a `Host` value: without its port, IPv6 literals keeping their brackets.
fn host_name(host: &str) -> &str {
    let host = host.trim();
    if host.starts_with('[') {
        return host.find(']').map_or(host, |end| &host[..=end]);
    }
    match host.rsplit_once(':') {
        Some((name, port)) if port.bytes().all(|b| b.is_ascii_digit()) => name,
        _ => host,
    }
}

/// Middleware: a request whose `Host` is not allowed gets 421 with a message.
pub async fn check(
    State(allowed): State<Arc<AllowedHosts>>,
    request: Request,
    next: Next,
) -> Response {
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .unwrap_or("");
    if allowed.allows(host) {
        return next.run(request).await;
    }
    let error = if host.is_empty() {
        "a Host header is required".to_string()
    } else {
        format!(
            "this collector does not answer to the host name {:?}: it serves localhost, 127.0.0.1, [::1] and its --listen address; add names with --allowed-hosts (or WASM_OTLP_ALLOWED_HOSTS)",
            host_name(host)
        )
    };
    (
        StatusCode::MISDIRECTED_REQUEST,
        axum::Json(serde_json::json!({ "error": error })),
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(listen: &str, extra: &[&str]) -> AllowedHosts {
        AllowedHosts::new(
            listen.parse().unwrap(),
            &extra.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
        )
    }

    #[test]
    fn loopback_and_the_listen_address_are_served_on_any_port() {
        let allowed = hosts("192.168.1.5:4318", &[]);
        for ok in [
            "localhost",
            "localhost:4318",
            "LOCALHOST:80",
            "127.0.0.1:4318",
            "[::1]:4318",
            "[::1]",
            "192.168.1.5:4318",
        ] {
            assert!(allowed.allows(ok), "{ok}");
        }
        for refused in [
            "attacker.example",
            "attacker.example:4318",
            "localhost.attacker.example",
            "127.0.0.2",
            "",
            "[::2]:4318",
            "localhost:x",
        ] {
            assert!(!allowed.allows(refused), "{refused}");
        }
    }

    #[test]
    fn names_can_be_added_or_the_check_turned_off() {
        let allowed = hosts("0.0.0.0:4318", &["Collector.Internal", " "]);
        assert!(allowed.allows("collector.internal:4318"));
        assert!(!allowed.allows("other.internal"));
        assert!(hosts("[::]:4318", &["*"]).allows("anything.example"));
        assert!(hosts("[::1]:4318", &[]).allows("[::1]:4318"));
    }
}
