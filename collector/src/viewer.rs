//! The built-in viewer: its page and static assets (`viewer/`, embedded in the binary),
//! each with its `Content-Type`, the page with a strict `Content-Security-Policy` (no
//! inline scripts or styles; the page only talks to this origin).

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

/// The `Content-Security-Policy` of the page and its assets.
pub const CONTENT_SECURITY_POLICY: &str = "default-src 'self'; script-src 'self'; \
     style-src 'self'; img-src 'self' data:; connect-src 'self'; object-src 'none'; \
     base-uri 'none'; frame-ancestors 'none'";

/// The files: URL path, content type, contents.
const ASSETS: &[(&str, &str, &str)] = &[
    (
        "/viewer/viewer.css",
        "text/css; charset=utf-8",
        include_str!("viewer/viewer.css"),
    ),
    (
        "/viewer/logs.js",
        "text/javascript; charset=utf-8",
        include_str!("viewer/logs.js"),
    ),
    (
        "/viewer/logsearch.js",
        "text/javascript; charset=utf-8",
        include_str!("viewer/logsearch.js"),
    ),
    (
        "/viewer/main.js",
        "text/javascript; charset=utf-8",
        include_str!("viewer/main.js"),
    ),
    (
        "/viewer/search.js",
        "text/javascript; charset=utf-8",
        include_str!("viewer/search.js"),
    ),
    (
        "/viewer/session.js",
        "text/javascript; charset=utf-8",
        include_str!("viewer/session.js"),
    ),
    (
        "/viewer/trace.js",
        "text/javascript; charset=utf-8",
        include_str!("viewer/trace.js"),
    ),
    (
        "/viewer/util.js",
        "text/javascript; charset=utf-8",
        include_str!("viewer/util.js"),
    ),
];

/// `GET /` and `GET /viewer/*` (state-free; merged into the server's router).
pub fn routes<S: Clone + Send + Sync + 'static>() -> Router<S> {
    let mut router = Router::new().route("/", get(page));
    for &(path, content_type, body) in ASSETS {
        router = router.route(path, get(move || async move { asset(content_type, body) }));
    }
    router
}

/// `GET /`: the page (the scripts it loads do the rest).
pub async fn page() -> Response {
    asset(
        "text/html; charset=utf-8",
        include_str!("viewer/index.html"),
    )
}

fn asset(content_type: &'static str, body: &'static str) -> Response {
    let mut response = body.into_response();
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(CONTENT_SECURITY_POLICY),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    response
}
